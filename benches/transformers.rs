//! Every served transformer in a Pipeline before a LogisticRegression
//! (`tests/python/transformers/bench_transformers.py`: splines, discretizers, quantile and
//! power transforms, decompositions, kernel approximations, random projections, feature
//! selectors, imputers, encoders, scalers, manifold embeddings, ...): `predict_proba` on one
//! row and on 10,000, from the rows as numbers, as `pipeline.predict_proba(x)` is from an
//! array, beside the figures that script prints for scikit-learn and ONNX Runtime.
//!
//! `cargo bench --bench transformers [-- NAME]`; `load-tests/transformers.sh` runs both sides
//! interleaved and prints the ratios.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use skserve::commands::parse_csv;
use skserve::model::Model;

/// The Pipelines of `bench_transformers.py`, made on demand in `target/transformers-bench`
/// (`SKSERVE_TRANSFORMERS_BENCH` names another directory).
fn bench_dir() -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::var_os("SKSERVE_TRANSFORMERS_BENCH").map_or_else(
        || PathBuf::from(root).join("target/transformers-bench"),
        PathBuf::from,
    );
    if !dir.join("bench.json").exists() {
        let status = std::process::Command::new(format!("{root}/target/sk1.9-venv/bin/python"))
            .arg(format!(
                "{root}/tests/python/transformers/bench_transformers.py"
            ))
            .arg(&dir)
            .status()
            .expect("cannot run bench_transformers.py (ensure_pipelines.sh makes its venv)");
        assert!(status.success(), "bench_transformers.py failed");
    }
    dir
}

/// One Pipeline of the manifest, and the kind of rows it is given (`rows.csv`, ...).
#[derive(serde::Deserialize)]
struct Case {
    name: String,
    rows: String,
}

fn transformer_benches(c: &mut Criterion) {
    let dir = bench_dir();
    let cases: Vec<Case> =
        serde_json::from_slice(&std::fs::read(dir.join("bench.json")).unwrap()).unwrap();
    for case in cases {
        let bytes = std::fs::read(dir.join(format!("{}.pkl", case.name))).unwrap();
        let model = Model::from_bytes(&bytes)
            .unwrap_or_else(|error| panic!("{} is not served: {error}", case.name));
        let text = std::fs::read_to_string(dir.join(format!("{}.csv", case.rows))).unwrap();
        let all = parse_csv(&text, model.n_features()).unwrap();
        let one = &all[..model.n_features()];
        for (n, rows) in [(1, one), (10_000, &all[..])] {
            c.bench_function(
                &format!("transformers {} predict_proba {n} row(s)", case.name),
                |b| b.iter(|| model.predict_proba(&model.rows(black_box(rows)).unwrap())),
            );
        }
    }
}

criterion_group!(benches, transformer_benches);
criterion_main!(benches);

//! Loader and prediction speed, to set beside scikit-learn's figures from the same machine in
//! the same run: the challenge model (`tests/python/sklearn_bench.py`), and the challenge data
//! as a `ColumnTransformer(OneHotEncoder) + LogisticRegression` Pipeline and a scaler + Ridge
//! Pipeline on one row and on 10,000 (`tests/python/pipelines/bench_pipelines.py`). Each
//! Pipeline figure is `Model::features` (every step before the estimator) and `predict` from
//! an already-built frame, as `pipeline.predict(df)` is from an already-built DataFrame.
//!
//! The tree models of `tests/python/trees/bench_trees.py` (a 100-tree RandomForest of depth 10
//! and a 100-iteration HistGradientBoosting), `predict_proba` on one row and on 10,000, beside
//! the scikit-learn figures that script prints.
//!
//! XGBoost and LightGBM (`tests/python/gbm/bench_gbm.py fit`: 100 trees of depth 6, 100 trees
//! of 31 leaves, 20 columns with missing values): probabilities on one row (a new row each
//! call) and on 10,000, beside the figures `bench_gbm.py time` prints for the libraries' own
//! predictors, ONNX Runtime and TL2cgen (`load-tests/gbm.sh` runs both sides).
//!
//! The families beyond linear models and trees (`tests/python/families/bench_families.py`: an
//! SVC, k-neighbours, naive Bayes, an MLP, discriminant analysis, Bayesian ridge, an isolation
//! forest, k-means, a Gaussian mixture, kernel ridge, a Gaussian process, stacking, bagging,
//! transformers in Pipelines, and TF-IDF + LogisticRegression of about 50,000 terms): the
//! output that script times, on one row (one document) and on 10,000, from the rows as
//! numbers (the documents as a frame), as `model.predict_proba(x)` is from an array.
//!
//! Loading: the challenge model, the 100-tree forest and the HistGradientBoosting model above,
//! and the largest file of the tree matrices (`tests/python/trees/ensure_trees.sh`).
//!
//! Model health's count of one request against the challenge model's profile (made by the
//! profile maker from the challenge data), for one row and a batch of 100: what the request
//! path pays for it (`load-tests/health.sh` measures the same end to end).
//!
//! `cargo bench --bench model`; `load-tests/pipelines.sh` runs both sides interleaved.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use skserve::commands::parse_csv;
use skserve::health::profile::ProfileMaker;
use skserve::health::tracker::Tracker;
use skserve::inference::{Context, Input, Request, Seen, SeenInput, infer};
use skserve::model::{Absent, Cell, ColumnKind, Dtype, Features, Frame, Method, Model};
use skserve::registry::{LoadedModel, ProfileStatus};

fn model_benches(c: &mut Criterion) {
    let root = env!("CARGO_MANIFEST_DIR");
    let bytes = std::fs::read(format!("{root}/model-files/pickle_model.pkl")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let text = std::fs::read_to_string(format!("{root}/model-files/x_test.csv")).unwrap();
    let all = parse_csv(&text, model.n_features()).unwrap();
    let one = &all[..model.n_features()];

    c.bench_function("load pickle_model.pkl", |b| {
        b.iter(|| Model::from_bytes(black_box(&bytes)).unwrap())
    });
    c.bench_function("predict_proba 1 row", |b| {
        b.iter(|| model.predict_proba(&model.rows(black_box(one)).unwrap()))
    });
    c.bench_function("predict_proba 22508 rows", |b| {
        b.iter(|| model.predict_proba(&model.rows(black_box(&all)).unwrap()))
    });
}

/// The Pipelines of `tests/python/pipelines/make_challenge.py`, made on demand.
fn challenge_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SKSERVE_PIPELINES_DIR") {
        return PathBuf::from(dir).join("challenge");
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/pipelines/ensure_pipelines.sh"
    );
    let out = std::process::Command::new("bash")
        .arg(script)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("cannot run ensure_pipelines.sh");
    assert!(
        out.status.success(),
        "ensure_pipelines.sh failed (it needs Python 3.11 and PyPI)"
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join("challenge")
}

/// The first `n` rows of a CSV with a header, as the model's frame.
fn frame(model: &Model, path: &PathBuf, n: usize) -> Frame {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.take(n).map(|l| l.split(',').collect()).collect();
    let mut builder = model.frame_builder(rows.len());
    for (at, name) in header.iter().enumerate() {
        let column = builder.column(name).unwrap();
        let text = model.input().columns[column].kind == ColumnKind::Text;
        for (row, fields) in rows.iter().enumerate() {
            let field = fields[at];
            let cell = match (field.is_empty(), text) {
                (true, _) => Cell::Missing,
                (false, true) => Cell::Text(field),
                (false, false) => Cell::Number(field.parse().unwrap()),
            };
            builder.set(row, column, cell).unwrap();
        }
    }
    builder.finish(Absent::Refused).unwrap()
}

fn pipeline_benches(c: &mut Criterion) {
    let dir = challenge_dir();
    for (name, file, rows) in [
        (
            "challenge pipeline",
            "challenge_pipeline.pkl",
            "challenge_rows.csv",
        ),
        ("ridge pipeline", "ridge_pipeline.pkl", "ridge_rows.csv"),
    ] {
        let model = Model::from_bytes(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        for n in [1, 10_000] {
            let frame = frame(&model, &dir.join(rows), n);
            c.bench_function(&format!("{name} predict {n} row(s)"), |b| {
                b.iter(|| {
                    let features = model.features(black_box(&frame)).unwrap();
                    model.predict(&features)
                })
            });
        }
    }
}

/// The models of `tests/python/trees/bench_trees.py`, made on demand in `target/sk-trees/bench`.
fn tree_bench_dir() -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(root).join("target/sk-trees/bench");
    if !dir.join("hist.pkl").exists() {
        let status = std::process::Command::new(format!("{root}/target/sk1.9-venv/bin/python"))
            .arg(format!("{root}/tests/python/trees/bench_trees.py"))
            .arg(&dir)
            .status()
            .expect("cannot run bench_trees.py (ensure_pipelines.sh makes its venv)");
        assert!(status.success(), "bench_trees.py failed");
    }
    dir
}

fn tree_benches(c: &mut Criterion) {
    let dir = tree_bench_dir();
    let text = std::fs::read_to_string(dir.join("rows.csv")).unwrap();
    for name in ["forest", "hist"] {
        let bytes = std::fs::read(dir.join(format!("{name}.pkl"))).unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let all = parse_csv(&text, model.n_features()).unwrap();
        let one = &all[..model.n_features()];
        c.bench_function(&format!("tree {name} predict_proba 1 row"), |b| {
            b.iter(|| model.predict_proba(&model.rows(black_box(one)).unwrap()))
        });
        // The same row every call lets the processor learn every turn; traffic is not that kind.
        let mut rows = all.chunks_exact(model.n_features()).cycle();
        c.bench_function(
            &format!("tree {name} predict_proba 1 row, a new row each call"),
            |b| {
                b.iter(|| {
                    let row = rows.next().expect("a cycle");
                    model.predict_proba(&model.rows(black_box(row)).unwrap())
                })
            },
        );
        c.bench_function(&format!("tree {name} predict_proba 10000 rows"), |b| {
            b.iter(|| model.predict_proba(&model.rows(black_box(&all)).unwrap()))
        });
    }
}

/// The models of `tests/python/gbm/bench_gbm.py fit`, made on demand in `target/gbm-bench`
/// (`load-tests/gbm.sh` makes its venv).
fn gbm_bench_dir() -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(root).join("target/gbm-bench");
    if !dir.join("lgb.txt").exists() {
        // The venv `load-tests/gbm.sh` makes, made the same way (a no-op once it is there).
        let made = std::process::Command::new("bash")
            .arg(format!("{root}/tests/python/setup_venv.sh"))
            .arg(format!("{root}/target/gbm-bench-venv"))
            .arg(format!(
                "{root}/tests/python/gbm/requirements-gbm-bench.txt"
            ))
            .arg("xgboost,lightgbm,onnxmltools,onnxruntime,treelite,tl2cgen")
            .env(
                "PYTHON",
                std::env::var("PYTHON").unwrap_or_else(|_| "python3.11".into()),
            )
            .status()
            .expect("cannot run tests/python/setup_venv.sh");
        assert!(
            made.success(),
            "the benchmark venv of XGBoost and LightGBM failed"
        );
        let status = std::process::Command::new(format!("{root}/target/gbm-bench-venv/bin/python"))
            .arg(format!("{root}/tests/python/gbm/bench_gbm.py"))
            .arg("fit")
            .arg(&dir)
            .status()
            .expect("cannot run bench_gbm.py");
        assert!(status.success(), "bench_gbm.py fit failed");
    }
    dir
}

fn gbm_benches(c: &mut Criterion) {
    let dir = gbm_bench_dir();
    let text = std::fs::read_to_string(dir.join("rows.csv")).unwrap();
    for (name, file) in [("xgb", "xgb.json"), ("lgb", "lgb.txt")] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let all = parse_csv(&text, model.n_features()).unwrap();
        let mut rows = all.chunks_exact(model.n_features()).cycle();
        c.bench_function(&format!("gbm {name} predict_proba 1 row"), |b| {
            b.iter(|| {
                let row = rows.next().expect("a cycle");
                model.predict_proba(&model.rows(black_box(row)).unwrap())
            })
        });
        c.bench_function(&format!("gbm {name} predict_proba 10000 rows"), |b| {
            b.iter(|| model.predict_proba(&model.rows(black_box(&all)).unwrap()))
        });
    }
}

/// The largest model file of the tree matrices (`SKSERVE_TREES_DIR`, else `target/sk-trees`),
/// the benchmark's own models aside.
fn largest_matrix_model() -> PathBuf {
    let root = std::env::var_os("SKSERVE_TREES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/sk-trees"),
        PathBuf::from,
    );
    let mut dirs = vec![root.clone()];
    let mut largest: Option<(u64, PathBuf)> = None;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let size = entry.metadata().unwrap().len();
            if path.is_dir() {
                if !path.ends_with("bench") {
                    dirs.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|e| e == "pkl" || e == "joblib")
                && largest.as_ref().is_none_or(|(most, _)| size > *most)
            {
                largest = Some((size, path));
            }
        }
    }
    largest
        .unwrap_or_else(|| panic!("no model under {} (ensure_trees.sh)", root.display()))
        .1
}

fn load_benches(c: &mut Criterion) {
    let dir = tree_bench_dir();
    for (name, path) in [
        ("forest.pkl", dir.join("forest.pkl")),
        ("hist.pkl", dir.join("hist.pkl")),
        ("the largest matrix model", largest_matrix_model()),
    ] {
        let bytes = std::fs::read(&path).unwrap();
        eprintln!("load {name}: {} ({} bytes)", path.display(), bytes.len());
        c.bench_function(&format!("load {name}"), |b| {
            b.iter(|| Model::from_bytes(black_box(&bytes)).unwrap())
        });
    }
}

fn health_benches(c: &mut Criterion) {
    let root = env!("CARGO_MANIFEST_DIR");
    let bytes = std::fs::read(format!("{root}/model-files/pickle_model.pkl")).unwrap();
    let loaded = LoadedModel::from_bytes("pickle_model", &bytes, "pickle_model.pkl", None).unwrap();
    let text = std::fs::read_to_string(format!("{root}/model-files/x_test.csv")).unwrap();
    let all = parse_csv(&text, loaded.model().n_features()).unwrap();
    let maker = ProfileMaker::new(10);
    let context = Context {
        observer: &maker,
        ..Context::unbounded()
    };
    let input = Input::Rows {
        values: all.clone(),
        dtype: Dtype::F64,
    };
    infer(&loaded, Request::new(input), &context).unwrap();
    let profile = maker.profile(&loaded).unwrap();
    let loaded = loaded.with_profile(ProfileStatus::Loaded {
        profile: Arc::new(profile),
        location: "x_test.csv".into(),
        same_version: true,
    });
    let tracker = Tracker::new(&loaded, 0);
    let model = loaded.model();
    let n_features = model.n_features();
    for n in [1, 100] {
        let values = &all[..n * n_features];
        let predicted = model.predict(&model.rows(values).unwrap());
        let seen = Seen {
            model: &loaded,
            input: SeenInput::Rows { values, n_features },
            predicted: Some(&predicted),
            n_rows: n,
        };
        c.bench_function(&format!("health count {n} row(s)"), |b| {
            b.iter(|| tracker.count(black_box(&seen)))
        });
    }
}

/// The models of `tests/python/families/bench_families.py`, made on demand in
/// `target/sk-families/bench`.
fn family_bench_dir() -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = PathBuf::from(root).join("target/sk-families/bench");
    if !dir.join("bench.json").exists() {
        let status = std::process::Command::new(format!("{root}/target/sk1.9-venv/bin/python"))
            .arg(format!("{root}/tests/python/families/bench_families.py"))
            .arg(&dir)
            .status()
            .expect("cannot run bench_families.py (ensure_pipelines.sh makes its venv)");
        assert!(status.success(), "bench_families.py failed");
    }
    dir
}

#[derive(serde::Deserialize)]
struct FamilyBench {
    name: String,
    output: String,
    input: String,
}

#[derive(serde::Deserialize)]
struct Documents {
    scored: Vec<String>,
}

/// `documents` as the frame of a model of one text column.
fn documents_frame(model: &Model, documents: &[String]) -> Frame {
    let mut builder = model.frame_builder(documents.len());
    for (row, document) in documents.iter().enumerate() {
        builder.set(row, 0, Cell::Text(document)).unwrap();
    }
    builder.finish(Absent::Refused).unwrap()
}

fn family_benches(c: &mut Criterion) {
    let dir = family_bench_dir();
    let cases: Vec<FamilyBench> =
        serde_json::from_slice(&std::fs::read(dir.join("bench.json")).unwrap()).unwrap();
    let text = std::fs::read_to_string(dir.join("rows.csv")).unwrap();
    let documents: Documents =
        serde_json::from_slice(&std::fs::read(dir.join("documents.json")).unwrap()).unwrap();
    // One document of a few sentences, as bench_families.py sends it.
    let one_document = [documents.scored[0].clone()];
    for case in cases {
        let bytes = std::fs::read(dir.join(format!("{}.pkl", case.name))).unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let method = Method::parse(&case.output).unwrap();
        // predict is a label or a value; every other output a matrix of numbers.
        let answer = |features: Features<'_>| match method {
            Method::Predict => {
                black_box(model.predict(&features));
            }
            _ => {
                black_box(model.values(method, &features).unwrap());
            }
        };
        let name = format!("families {} {}", case.name, case.output);
        if case.input == "documents" {
            for (n, batch) in [(1, &one_document[..]), (10_000, &documents.scored[..])] {
                let frame = documents_frame(&model, batch);
                c.bench_function(&format!("{name} {n} document(s)"), |b| {
                    b.iter(|| answer(model.features(black_box(&frame)).unwrap()))
                });
            }
        } else {
            let all = parse_csv(&text, model.n_features()).unwrap();
            let one = &all[..model.n_features()];
            for (n, rows) in [(1, one), (10_000, &all[..])] {
                c.bench_function(&format!("{name} {n} row(s)"), |b| {
                    b.iter(|| answer(model.rows(black_box(rows)).unwrap()))
                });
            }
        }
    }
}

criterion_group!(
    benches,
    health_benches,
    model_benches,
    pipeline_benches,
    tree_benches,
    gbm_benches,
    family_benches,
    load_benches
);
criterion_main!(benches);

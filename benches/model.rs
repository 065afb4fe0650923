//! Loader and prediction speed on the challenge model, to set beside scikit-learn's figures
//! from `tests/python/sklearn_bench.py` (same data, same machine, same run).
//!
//! `cargo bench --bench model`

use criterion::{Criterion, criterion_group, criterion_main};
use skserve::commands::parse_csv;
use skserve::model::Model;
use std::hint::black_box;

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

criterion_group!(benches, model_benches);
criterion_main!(benches);

//! The data the tests send and compare with: the seed's example row, scikit-learn's own answers
//! for the challenge data (`model-files/x_test.csv`, `expected_test.csv`), model files (the
//! challenge model, fixtures made by scikit-learn 1.3.2, a hostile pickle), request bodies, and
//! float comparison.

use std::path::PathBuf;

use serde_json::{Value, json};

#[path = "../../common/made_by.rs"]
mod made_by;
use made_by::made_by;

/// The README's request: the seed's example row.
pub const README_X: &str =
    "[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A model of the scikit-learn 1.3.2 fixture set, by file name.
pub fn fixture_model(file: &str) -> PathBuf {
    let path = repo()
        .join("tests/fixtures/legacy/sk1.3.2-np1.26/models")
        .join(file);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

pub fn challenge_model() -> Vec<u8> {
    std::fs::read(repo().join("model-files/pickle_model.pkl")).unwrap()
}

/// Another model of the same 37 features (scikit-learn 1.3.2, joblib).
pub fn other_challenge_model() -> Vec<u8> {
    std::fs::read(fixture_model(
        "challenge-int-LogisticRegression__joblib-zlib.joblib",
    ))
    .unwrap()
}

/// A model of 12 features.
pub fn twelve_feature_model() -> Vec<u8> {
    std::fs::read(fixture_model(
        "multiclass-float-LogisticRegression__pickle-p2.pkl",
    ))
    .unwrap()
}

pub fn hostile_model() -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures/hostile/builtins_open_global.pkl")).unwrap()
}

/// Rows of `model-files/x_test.csv`.
pub fn x_test(n: usize) -> Vec<Vec<f64>> {
    read_csv("model-files/x_test.csv", n)
}

/// `(label, predict_proba[:, 1])` per row, as scikit-learn answered (`expected_test.csv`).
pub fn expected_test(n: usize) -> Vec<(i64, f64)> {
    read_csv("model-files/expected_test.csv", n)
        .into_iter()
        .map(|row| (row[0] as i64, row[1]))
        .collect()
}

fn read_csv(path: &str, n: usize) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(repo().join(path)).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .take(n)
        .map(|line| {
            line.trim_end_matches('\r')
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), n, "{path} has fewer than {n} rows");
    rows
}

/// Relative closeness, for probabilities compared with scikit-learn's.
pub fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-12 * expected.abs().max(f64::MIN_POSITIVE);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} differs from scikit-learn's {expected}"
    );
}

/// A JSON error answer (`{"error": "..."}`) whose message contains `text`.
pub fn assert_error_contains(body: &Value, text: &str) {
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error: {body}"));
    assert!(message.contains(text), "{message:?} does not say {text:?}");
}

/// A V2 inference request for rows, shape `[N, F]`.
pub fn v2_request(rows: &[Vec<f64>]) -> Value {
    serde_json::json!({
        "inputs": [{
            "name": "x",
            "shape": [rows.len(), rows[0].len()],
            "datatype": "FP64",
            "data": rows,
        }]
    })
}

/// The Pipelines scikit-learn fitted for the tests (`tests/python/pipelines/
/// ensure_pipelines.sh`; `tests/run.sh` runs it and sets `SKSERVE_PIPELINES_DIR`): the
/// matrices of each version and the challenge data as a Pipeline.
pub fn pipelines_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        made_by(
            "SKSERVE_PIPELINES_DIR",
            "tests/python/pipelines/ensure_pipelines.sh",
        )
    })
    .clone()
}

/// The tree models scikit-learn fitted for the tests (`tests/python/trees/ensure_trees.sh`;
/// `tests/run.sh` runs it and sets `SKSERVE_TREES_DIR`), one matrix per version.
pub fn trees_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| made_by("SKSERVE_TREES_DIR", "tests/python/trees/ensure_trees.sh"))
        .clone()
}

/// The models trained as a user trains them, and their libraries' answers
/// (`tests/python/gbm/ensure_user_models.sh`; with `SKSERVE_GBM_USER_DIR` set, that directory).
pub fn user_models() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        made_by(
            "SKSERVE_GBM_USER_DIR",
            "tests/python/gbm/ensure_user_models.sh",
        )
    })
    .clone()
}

/// A model of the scikit-learn 1.9 tree matrix by its id (`random_forest_two_labels`), the
/// rows of its own threshold input (`edges_<id>.csv`, numeric columns) and scikit-learn's
/// answers on them as float64.
pub fn matrix_tree(id: &str) -> (PathBuf, Vec<Vec<f64>>, Value) {
    let dir = trees_dir().join("sk1.9");
    let text = std::fs::read_to_string(dir.join(format!("inputs/edges_{id}.csv"))).unwrap();
    let rows = text
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .map(|v| v.parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("expected/{id}.json"))).unwrap(),
    )
    .unwrap();
    let answers = expected["variants"][format!("edges_{id}-float64")].clone();
    (
        dir.join(format!("models/{id}__pickle-p5.pkl")),
        rows,
        json!({ "classes": expected["classes"], "answers": answers }),
    )
}

/// `ColumnTransformer(OneHotEncoder) + LogisticRegression` over OPERA, TIPOVUELO and MES.
pub fn challenge_pipeline() -> PathBuf {
    pipelines_dir().join("challenge/challenge_pipeline.pkl")
}

/// `SimpleImputer + StandardScaler + Ridge` over the numbers `a`…`h`.
pub fn ridge_pipeline() -> PathBuf {
    pipelines_dir().join("challenge/ridge_pipeline.pkl")
}

/// A model of the scikit-learn 1.9 Pipeline matrix, by its id (`ct_ohe_error_perceptron`).
pub fn matrix_pipeline(id: &str) -> PathBuf {
    pipelines_dir().join(format!("sk1.9/models/{id}__pickle-p5.pkl"))
}

/// The first `n` rows of a CSV with a header, as JSON objects (numbers where a field parses
/// as one, `null` where it is empty).
pub fn named_rows(file: &str, n: usize) -> Vec<serde_json::Map<String, Value>> {
    let text = std::fs::read_to_string(pipelines_dir().join("challenge").join(file)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .take(n)
        .map(|line| {
            header
                .iter()
                .zip(line.split(','))
                .map(|(name, field)| {
                    let value = if field.is_empty() {
                        Value::Null
                    } else if let Ok(v) = field.parse::<i64>() {
                        v.into()
                    } else if let Ok(v) = field.parse::<f64>() {
                        v.into()
                    } else {
                        field.into()
                    };
                    ((*name).to_owned(), value)
                })
                .collect()
        })
        .collect()
}

/// scikit-learn's answers for the challenge Pipeline (label, probability of that label) or
/// the Ridge pipeline (one value), row by row.
pub fn pipeline_expected(file: &str, n: usize) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(pipelines_dir().join("challenge").join(file)).unwrap();
    text.lines()
        .take(n)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// Writes a file beside `path` and renames it over `path`, as deployments replace files.
pub fn replace_file(path: &std::path::Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

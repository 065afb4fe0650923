//! The text and transformer matrices against scikit-learn 1.1, 1.3 and 1.9
//! (`tests/python/text/make_text.py`, `tests/python/transformers/make_transformers.py`,
//! `tests/python/transformers/make_preprocessing.py`):
//! every model in every container, alone (its `transform`) and in Pipelines, on documents
//! with accents, emoji, non-Latin scripts and an empty string, and on real numeric data.
//! Labels identical; probabilities, decision values, predicted and transformed values within
//! 1e-9 relative; where scikit-learn refuses a row, skserve refuses it too. The
//! decomposition matrix (`tests/python/transformers/make_decomposition.py`) adds FastICA,
//! KernelPCA, FactorAnalysis, SparsePCA and `score_samples`; the random projection and kernel
//! approximation matrix (`make_projections.py`), the spline matrix (`make_splines.py`) and the
//! matrix of DictVectorizer and FeatureHasher on rows of named features
//! (`tests/python/text/make_dicts.py`) are checked the same way. Hostile transformer,
//! decomposition, projection, spline and dict files are refused naming the attribute.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use skserve::model::{Absent, Cell, Frame, InputError, Method, Model, Prediction};

use crate::helpers::{check_each_version, close, read_json, repo, skserve, transformer_matrices};

const REL: f64 = 1e-9;
/// Values below this compare absolutely (sums that cancel).
const FLOOR: f64 = 1e-6;

#[derive(Debug, Deserialize)]
struct Manifest {
    sklearn_version: String,
    numpy_version: String,
    inputs: HashMap<String, String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    file: String,
    format: String,
    estimator: String,
    expected: String,
}

#[derive(Debug, Deserialize)]
struct Expected {
    chain: String,
    classes: Option<serde_json::Value>,
    answers: HashMap<String, Answers>,
}

#[derive(Debug, Deserialize)]
struct Answers {
    predict: Option<serde_json::Value>,
    predict_proba: Option<serde_json::Value>,
    decision_function: Option<serde_json::Value>,
    transform: Option<serde_json::Value>,
    score_samples: Option<serde_json::Value>,
    row_errors: Option<Vec<Option<String>>>,
}

/// An input of the matrix: documents, or named columns of rows.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    Documents {
        documents: Vec<String>,
    },
    /// Rows of named features, each the object a client sends.
    Mappings {
        mappings: Vec<serde_json::Map<String, serde_json::Value>>,
    },
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<serde_json::Value>>,
    },
}

impl Input {
    fn len(&self) -> usize {
        match self {
            Self::Documents { documents } => documents.len(),
            Self::Mappings { mappings } => mappings.len(),
            Self::Rows { rows, .. } => rows.len(),
        }
    }

    /// The frame a client would send for `rows`: documents into the model's text column,
    /// or every model column by name (null missing).
    fn frame(&self, model: &Model, rows: &[usize]) -> Result<Frame, InputError> {
        let mut builder = model.frame_builder(rows.len());
        match self {
            Self::Documents { documents } => {
                for (i, &row) in rows.iter().enumerate() {
                    builder.set(i, 0, Cell::Text(&documents[row]))?;
                }
            }
            Self::Mappings { mappings } => {
                for (i, &row) in rows.iter().enumerate() {
                    for (name, value) in &mappings[row] {
                        let feature = builder.column(name)?;
                        match value {
                            serde_json::Value::Array(items) => builder.set_texts(
                                i,
                                feature,
                                items.iter().map(|s| s.as_str().expect("a string")),
                            )?,
                            serde_json::Value::String(s) => {
                                builder.set(i, feature, Cell::Text(s))?
                            }
                            serde_json::Value::Null => builder.set(i, feature, Cell::Missing)?,
                            v => builder.set(
                                i,
                                feature,
                                Cell::Number(v.as_f64().expect("a number")),
                            )?,
                        }
                    }
                }
            }
            Self::Rows {
                columns,
                rows: data,
            } => {
                for (index, column) in model.input().columns.iter().enumerate() {
                    let at = columns
                        .iter()
                        .position(|c| *c == column.name)
                        .unwrap_or_else(|| panic!("the input has no column {}", column.name));
                    for (i, &row) in rows.iter().enumerate() {
                        let cell = match &data[row][at] {
                            serde_json::Value::Null => Cell::Missing,
                            serde_json::Value::String(s) => Cell::Text(s),
                            v => Cell::Number(v.as_f64().expect("a number")),
                        };
                        builder.set(i, index, cell)?;
                    }
                }
            }
        }
        builder.finish(Absent::Refused)
    }
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_text() {
    check_family(&transformer_matrices().join("text"), 500);
}

/// DictVectorizer and FeatureHasher, alone and before LogisticRegression, SGDClassifier and
/// MultinomialNB (`tests/python/text/make_dicts.py`).
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_dict_vectorizer_and_feature_hasher() {
    check_family(&transformer_matrices().join("dicts"), 200);
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_decomposition_and_row_transformers() {
    check_family(&transformer_matrices().join("dense"), 450);
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_power_quantile_kernel_and_target_encoders() {
    check_family(&transformer_matrices().join("prep"), 370);
}

/// FastICA, KernelPCA, FactorAnalysis, SparsePCA, MiniBatchSparsePCA and PCA's
/// `score_samples`, alone and in Pipelines (`tests/python/transformers/make_decomposition.py`).
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_fastica_kernel_pca_factor_analysis_sparse_pca() {
    check_family(&transformer_matrices().join("decomposition"), 500);
}

/// Random projections and kernel approximation, alone and in Pipelines
/// (`tests/python/transformers/make_projections.py`).
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_random_projections_and_kernel_approximation() {
    check_family(&transformer_matrices().join("projection"), 850);
}

/// SplineTransformer with every extrapolation, degrees 0 to 5, knots uniform, quantile and
/// given, alone and in Pipelines (`tests/python/transformers/make_splines.py`), on rows
/// inside, on the knots of and beyond the fitted range.
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_splines() {
    check_family(&transformer_matrices().join("spline"), 780);
}

/// `skserve predict` takes a CSV column of quoted documents without a header (commas, quotes,
/// emoji, an empty document) and answers scikit-learn's labels and probabilities.
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn the_command_line_takes_a_column_of_documents() {
    let dir = transformer_matrices().join("text/sk1.9");
    let Input::Documents { documents } = read_json(&dir.join("inputs/scored.json")) else {
        panic!("the scored input holds documents");
    };
    let expected: Expected = read_json(&dir.join("expected/tfidf_logistic_multi.json"));
    let answers = &expected.answers["scored"];
    let labels = answers.predict.as_ref().and_then(|v| v.as_array()).unwrap();
    let proba = answers
        .predict_proba
        .as_ref()
        .and_then(|v| v.as_array())
        .unwrap();
    let csv: String = documents
        .iter()
        .map(|d| format!("\"{}\"\n", d.replace('"', "\"\"")))
        .collect();
    let mut child = skserve()
        .args(["predict", "--input", "-", "--model"])
        .arg(dir.join("models/tfidf_logistic_multi__joblib.joblib"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), csv.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), documents.len(), "{printed}");
    for (row, line) in lines.iter().enumerate() {
        let (label, score) = line.split_once(',').unwrap();
        assert_eq!(label, labels[row].as_str().unwrap(), "row {row}");
        let best = proba[row]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .fold(f64::MIN, f64::max);
        let score: f64 = score.parse().unwrap();
        assert!(close(score, best, REL, 0.0), "row {row}: {score} vs {best}");
    }
}

/// Real transformers with one attribute edited (`tests/python/transformers/
/// make_malformed_transformers.py`), and the decompositions whose `transform` is an
/// optimisation: each refused at load naming the step and the attribute or the reason, with
/// exit status 2.
#[test]
fn every_malformed_transformer_is_refused_naming_what() {
    let classes = [
        "PCA",
        "IncrementalPCA",
        "TruncatedSVD",
        "Normalizer",
        "Binarizer",
        "PolynomialFeatures",
        "KBinsDiscretizer",
        "NMF",
        "LatentDirichletAllocation",
        "MiniBatchNMF",
        "DictionaryLearning",
        "MiniBatchDictionaryLearning",
        "SparseCoder",
        "TfidfTransformer",
        "CountVectorizer",
    ];
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_transformers"),
        40,
        &classes,
    );
}

/// Real PowerTransformers, QuantileTransformers, KernelCenterers and TargetEncoders with one
/// attribute edited (`tests/python/transformers/make_malformed_preprocessing.py`), alone and
/// in a Pipeline: each refused at load naming the step and the attribute, with exit status 2.
#[test]
fn every_malformed_preprocessing_transformer_is_refused_naming_the_attribute() {
    let classes = [
        "PowerTransformer",
        "QuantileTransformer",
        "KernelCenterer",
        "TargetEncoder",
    ];
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_preprocessing"),
        50,
        &classes,
    );
}

/// Real SplineTransformers with one attribute edited (`tests/python/transformers/
/// make_malformed_splines.py`): knots out of order or not finite, coefficients of the wrong
/// shape or not the identity, a degree negative or huge, another scipy class in `bsplines_`,
/// alone and in a Pipeline: each refused at load naming the step and the attribute, with exit
/// status 2.
#[test]
fn every_malformed_spline_is_refused_naming_the_attribute() {
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_splines"),
        48,
        &["SplineTransformer"],
    );
}

/// Real FastICA, KernelPCA, FactorAnalysis, SparsePCA, MiniBatchSparsePCA and PCA models with
/// one attribute edited (`tests/python/transformers/make_malformed_decomposition.py`), and a
/// KernelPCA on a precomputed kernel: each refused at load naming the class and the
/// attribute or the reason, with exit status 2.
#[test]
fn every_malformed_decomposition_is_refused_naming_what() {
    let classes = [
        "FastICA",
        "KernelPCA",
        "FactorAnalysis",
        "SparsePCA",
        "MiniBatchSparsePCA",
        "PCA",
    ];
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_decomposition"),
        50,
        &classes,
    );
}

/// Real DictVectorizers and FeatureHashers with one attribute edited (`tests/python/
/// transformers/make_malformed_dicts.py`), alone and first in a Pipeline: each refused at load
/// naming the step and the attribute, with exit status 2.
#[test]
fn every_malformed_dict_vectorizer_and_feature_hasher_is_refused_naming_the_attribute() {
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_dicts"),
        30,
        &["DictVectorizer", "FeatureHasher"],
    );
}

/// Real random projections and kernel approximations with one attribute edited
/// (`tests/python/transformers/make_malformed_projections.py`), alone and in Pipelines: each
/// refused at load naming the step and the attribute, with exit status 2.
#[test]
fn every_malformed_projection_is_refused_naming_the_attribute() {
    let classes = [
        "GaussianRandomProjection",
        "SparseRandomProjection",
        "Nystroem",
        "RBFSampler",
        "SkewedChi2Sampler",
        "AdditiveChi2Sampler",
        "PolynomialCountSketch",
    ];
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_projections"),
        40,
        &classes,
    );
}

/// Checks every version's matrix under `root`: one each of 1.1, 1.3 and 1.9, at least
/// `at_least` cases in all.
pub fn check_family(root: &Path, at_least: usize) {
    check_each_version(root, at_least, check_matrix);
}

fn check_matrix(dir: &Path) -> (String, usize) {
    let manifest: Manifest = read_json(&dir.join("manifest.json"));
    let inputs: HashMap<&str, Input> = manifest
        .inputs
        .iter()
        .map(|(name, file)| (name.as_str(), read_json(&dir.join(file))))
        .collect();
    let mut failures = Vec::new();
    for case in &manifest.cases {
        let expected: Expected = read_json(&dir.join(&case.expected));
        if let Err(why) = check_case(dir, case, &expected, &inputs) {
            failures.push(format!("{} [{}]: {why}", case.file, case.format));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from scikit-learn {} / numpy {}:\n{}",
        failures.len(),
        manifest.cases.len(),
        manifest.sklearn_version,
        manifest.numpy_version,
        failures.join("\n")
    );
    eprintln!(
        "{}: {} cases match scikit-learn {} / numpy {}",
        dir.display(),
        manifest.cases.len(),
        manifest.sklearn_version,
        manifest.numpy_version
    );
    (manifest.sklearn_version, manifest.cases.len())
}

fn check_case(
    dir: &Path,
    case: &Case,
    expected: &Expected,
    inputs: &HashMap<&str, Input>,
) -> Result<(), String> {
    let bytes = std::fs::read(dir.join(&case.file)).map_err(|e| e.to_string())?;
    let model = Model::from_bytes(&bytes).map_err(|e| e.explain(&case.file))?;
    if model.estimator() != case.estimator {
        return Err(format!(
            "estimator {} != {}",
            model.estimator(),
            case.estimator
        ));
    }
    if model.chain() != expected.chain {
        return Err(format!("chain {} != {}", model.chain(), expected.chain));
    }
    if let (Some(classes), Some(want)) = (model.classes_json(), &expected.classes)
        && classes != *want
    {
        return Err(format!("classes {classes} != {want}"));
    }
    for (name, answers) in &expected.answers {
        let input = &inputs[name.as_str()];
        let check = || -> Result<(), String> {
            if let Some(row_errors) = &answers.row_errors {
                return check_refusals(&model, input, row_errors);
            }
            let all: Vec<usize> = (0..input.len()).collect();
            let frame = input.frame(&model, &all).map_err(|e| e.to_string())?;
            let features = model.features(&frame).map_err(|e| e.to_string())?;
            if let Some(want) = &answers.predict {
                compare_prediction(&model, &model.predict(&features), want)?;
            }
            let proba = model.predict_proba(&features);
            compare(
                "predict_proba",
                proba.as_ref(),
                answers.predict_proba.as_ref(),
                1e-300,
            )?;
            let (predicted, one_pass) = model.predict_with_proba(&features);
            if model.predicts() && (predicted != model.predict(&features) || one_pass != proba) {
                return Err("predict_with_proba differs from predict and predict_proba".into());
            }
            compare(
                "decision_function",
                model.decision_function(&features).as_ref(),
                answers.decision_function.as_ref(),
                FLOOR,
            )?;
            let transformed = model.values(Method::Transform, &features);
            if expected.chain.ends_with("PolynomialCountSketch") {
                return compare_within_row("transform", transformed.as_ref(), &answers.transform);
            }
            compare(
                "transform",
                transformed.as_ref(),
                answers.transform.as_ref(),
                FLOOR,
            )?;
            // Asked of scikit-learn only by the decomposition matrix.
            match &answers.score_samples {
                Some(want) => compare(
                    "score_samples",
                    model.values(Method::ScoreSamples, &features).as_ref(),
                    Some(want),
                    FLOOR,
                ),
                None => Ok(()),
            }
        };
        check().map_err(|why| format!("{name}: {why}"))?;
    }
    Ok(())
}

/// Where scikit-learn refused the batch: each row it refuses alone is refused, the others
/// served.
fn check_refusals(
    model: &Model,
    input: &Input,
    row_errors: &[Option<String>],
) -> Result<(), String> {
    let mut refused = 0;
    for (row, error) in row_errors.iter().enumerate() {
        let result = input.frame(model, &[row]).and_then(|f| model.features(&f));
        match (result, error) {
            (Err(_), Some(_)) => refused += 1,
            (Ok(_), None) => {}
            (Ok(_), Some(error)) => {
                return Err(format!("row {row} was served; scikit-learn: {error}"));
            }
            (Err(e), None) => {
                return Err(format!(
                    "row {row} was refused ({e}); scikit-learn served it"
                ));
            }
        }
    }
    if refused == 0 {
        return Err("scikit-learn refused the batch but no row alone".into());
    }
    Ok(())
}

fn compare_prediction(
    model: &Model,
    got: &Prediction,
    want: &serde_json::Value,
) -> Result<(), String> {
    match got {
        Prediction::Classes(indices) => {
            let classes = model.classes().ok_or("no classes")?;
            let labels: Vec<serde_json::Value> = indices
                .iter()
                .map(|&i| classes.label(i).to_json())
                .collect();
            let want = want.as_array().ok_or("predict is not a list")?;
            if labels.len() != want.len() {
                return Err("row counts differ".into());
            }
            match (0..labels.len()).find(|&i| labels[i] != want[i]) {
                Some(i) => Err(format!("row {i}: label {} != {}", labels[i], want[i])),
                None => Ok(()),
            }
        }
        Prediction::Values(values) => compare("predict", Some(values), Some(want), FLOOR),
        Prediction::MultiClasses(_) => Err("several outputs are not in this matrix".into()),
    }
}

fn flatten(value: &serde_json::Value, out: &mut Vec<f64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        v => out.push(v.as_f64().unwrap_or(f64::NAN)),
    }
}

/// PolynomialCountSketch's values are a circular convolution that scikit-learn takes through
/// FFTs, whose rounding is bounded by the row's largest value rather than each value's own
/// (a bucket whose exact value is 1e-12 comes out of the FFT as 3e-5 beside values of 1e12):
/// each value is compared within 1e-9 of its row's largest.
fn compare_within_row(
    what: &str,
    got: Option<&ndarray::Array2<f64>>,
    want: &Option<serde_json::Value>,
) -> Result<(), String> {
    let (Some(got), Some(serde_json::Value::Array(rows))) = (got, want) else {
        return compare(what, got, want.as_ref(), FLOOR);
    };
    if got.nrows() != rows.len() {
        return Err(format!("{what}: {} rows != {}", got.nrows(), rows.len()));
    }
    for (i, (row, want)) in got.rows().into_iter().zip(rows).enumerate() {
        let mut expected = Vec::new();
        flatten(want, &mut expected);
        let largest = expected.iter().fold(FLOOR, |m, v| m.max(v.abs()));
        let one_row = ndarray::Array2::from_shape_vec((1, row.len()), row.to_vec())
            .map_err(|e| e.to_string())?;
        compare(
            &format!("{what} row {i}"),
            Some(&one_row),
            Some(want),
            largest,
        )?;
    }
    Ok(())
}

fn compare(
    what: &str,
    got: Option<&ndarray::Array2<f64>>,
    want: Option<&serde_json::Value>,
    floor: f64,
) -> Result<(), String> {
    match (got, want) {
        (None, None) => Ok(()),
        (Some(got), Some(want)) => {
            let mut expected = Vec::new();
            flatten(want, &mut expected);
            let got: Vec<f64> = got.iter().copied().collect();
            if got.len() != expected.len() {
                return Err(format!(
                    "{what}: {} values != {}",
                    got.len(),
                    expected.len()
                ));
            }
            let agree = |a: f64, b: f64| (a.is_nan() && b.is_nan()) || close(a, b, REL, floor);
            match (0..got.len()).find(|&i| !agree(got[i], expected[i])) {
                Some(i) => Err(format!("{what}[{i}]: {} != {}", got[i], expected[i])),
                None => Ok(()),
            }
        }
        (got, _) => Err(format!("{what} present: {} vs scikit-learn", got.is_some())),
    }
}

//! The only place that knows pickles and scikit-learn: [`Model::from_bytes`] turns a pickle or
//! joblib file into a validated linear classifier without executing anything, and [`inspect`]
//! audits any file, loadable or not.
//!
//! # Layout
//! - `joblib`: compression containers around the pickle stream.
//! - `pickle`: the restricted pickle VM, its opcodes by name.
//! - `allow`: the allow-list of globals.
//! - `value`: what the VM builds (scalars, an arena of nodes, numpy arrays and dtypes).
//! - `numpy`: decoding arrays and dtypes from their pickled form.
//! - `sklearn`: reading a fitted estimator from unpickled values.
//! - `linear`: the arithmetic of linear classifiers.

pub mod allow;
pub mod joblib;
pub mod linear;
pub mod numpy;
pub mod pickle;
pub mod sklearn;
pub mod value;

pub use allow::SkClass;
pub use joblib::Container;
pub use linear::{LinearClassifier, ProbaRule};
pub use pickle::{GlobalRef, PickleError};
pub use sklearn::{Classes, Label};

/// Why a model file could not be loaded. Every variant is a property of the file, never of
/// the machine: the caller decides how to report it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// The file names something that could run code.
    #[error("{0}")]
    Refused(PickleError),
    /// The bytes are not a well-formed pickle or joblib file.
    #[error("{0}")]
    Malformed(String),
    /// A well-formed file whose estimator skserve does not serve, or cannot use.
    #[error("{0}")]
    Unsupported(String),
}

impl LoadError {
    /// The sentence a person reads, naming the file: `refusing to load model.pkl: it references …`.
    pub fn explain(&self, file: &str) -> String {
        match self {
            // A scikit-learn class we do not serve is refused like any other global, but the
            // person reading wants to know which estimators would work.
            Self::Refused(PickleError::Refused(name)) if name.starts_with("sklearn.") => {
                format!("refusing to load {file}: {self} (skserve serves {SUPPORTED_ESTIMATORS})")
            }
            Self::Refused(_) => format!("refusing to load {file}: {self}"),
            _ => format!("cannot load {file}: {self}"),
        }
    }
}

impl From<PickleError> for LoadError {
    fn from(e: PickleError) -> Self {
        match e {
            PickleError::Malformed { .. } => Self::Malformed(e.to_string()),
            _ => Self::Refused(e),
        }
    }
}

/// Estimators skserve serves, for error messages.
pub const SUPPORTED_ESTIMATORS: &str =
    "LogisticRegression, SGDClassifier, LinearSVC, RidgeClassifier(CV) and Perceptron";

/// A loaded, validated model, ready to predict. Cheap to share behind an `Arc`.
#[derive(Clone, Debug)]
pub struct Model {
    estimator: sklearn::Estimator,
    container: Container,
    protocol: u8,
}

/// A caller's rows that failed validation against a model. Rows and columns are numbered
/// from 1, as a person counts them in an error message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("row {row} has {got} values, expected {expected} features")]
    WrongWidth {
        row: usize,
        got: usize,
        expected: usize,
    },
    #[error("row {row}, column {column}: {value} is not a finite number")]
    NotFinite {
        row: usize,
        column: usize,
        value: f64,
    },
    #[error("no rows to predict")]
    Empty,
}

/// Rows validated against a model: the right width, every value finite.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    values: &'a [f64],
    n_features: usize,
}

impl<'a> Rows<'a> {
    pub fn len(&self) -> usize {
        self.values.len() / self.n_features
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn iter(&self) -> std::slice::ChunksExact<'a, f64> {
        self.values.chunks_exact(self.n_features)
    }
}

impl Model {
    /// Loads a pickle or joblib file (any compression) without executing it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        let container = Container::detect(bytes).map_err(LoadError::Malformed)?;
        let stream = container.open(bytes).map_err(LoadError::Malformed)?;
        let unpickled = pickle::unpickle(&stream, pickle::Mode::Load, &mut Vec::new())?;
        let estimator = sklearn::read_estimator(&unpickled.heap, unpickled.root)
            .map_err(LoadError::Unsupported)?;
        Ok(Self {
            estimator,
            container,
            protocol: unpickled.protocol,
        })
    }

    pub fn estimator(&self) -> SkClass {
        self.estimator.class
    }

    pub fn n_features(&self) -> usize {
        self.estimator.linear.n_features
    }

    pub fn classes(&self) -> &Classes {
        &self.estimator.classes
    }

    /// Feature names stored with the model (`feature_names_in_`), if it was fitted on a frame.
    pub fn feature_names(&self) -> Option<&[String]> {
        self.estimator.feature_names.as_deref()
    }

    pub fn sklearn_version(&self) -> Option<&str> {
        self.estimator.sklearn_version.as_deref()
    }

    pub fn has_predict_proba(&self) -> bool {
        self.estimator.linear.proba != ProbaRule::None
    }

    pub fn linear(&self) -> &LinearClassifier {
        &self.estimator.linear
    }

    pub fn container(&self) -> Container {
        self.container
    }

    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    /// Validates flattened row-major values as rows of this model's width.
    pub fn rows<'a>(&self, values: &'a [f64]) -> Result<Rows<'a>, InputError> {
        let n_features = self.n_features();
        if values.is_empty() {
            return Err(InputError::Empty);
        }
        if !values.len().is_multiple_of(n_features) {
            return Err(InputError::WrongWidth {
                row: values.len() / n_features + 1,
                got: values.len() % n_features,
                expected: n_features,
            });
        }
        // A branch-free pass over every value (it vectorises), then a search only on failure.
        let all_finite = values
            .chunks(64)
            .all(|chunk| chunk.iter().fold(true, |ok, v| ok & v.is_finite()));
        if !all_finite && let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(InputError::NotFinite {
                row: i / n_features + 1,
                column: i % n_features + 1,
                value: values[i],
            });
        }
        Ok(Rows { values, n_features })
    }

    /// `decision_function`: `rows × n_outputs` values, flattened (one column for binary models).
    pub fn decision_function(&self, rows: Rows<'_>) -> Vec<f64> {
        let linear = &self.estimator.linear;
        let mut out = vec![0.0; rows.len() * linear.n_outputs];
        for (row, decision) in rows.iter().zip(out.chunks_exact_mut(linear.n_outputs)) {
            linear.decision_row(row, decision);
        }
        out
    }

    /// The class index of the first row, without allocating (the seed's one-row request).
    pub fn predict_first(&self, rows: Rows<'_>) -> usize {
        let row = rows.iter().next().expect("validated rows are never empty");
        self.estimator.linear.predict_row(row)
    }

    /// `predict`: the index into [`Model::classes`] of each row's class.
    pub fn predict(&self, rows: Rows<'_>) -> Vec<usize> {
        let linear = &self.estimator.linear;
        let mut decision = vec![0.0; linear.n_outputs];
        rows.iter()
            .map(|row| {
                linear.decision_row(row, &mut decision);
                linear.class_index(&decision)
            })
            .collect()
    }

    /// `predict_proba`: `rows × n_classes` probabilities, flattened; `None` when the estimator
    /// has none (as scikit-learn raises AttributeError).
    pub fn predict_proba(&self, rows: Rows<'_>) -> Option<Vec<f64>> {
        let linear = &self.estimator.linear;
        if linear.proba == ProbaRule::None {
            return None;
        }
        let decision = self.decision_function(rows);
        let mut out = vec![0.0; rows.len() * linear.n_classes];
        linear.proba_rows(&decision, &mut out);
        Some(out)
    }

    /// Each row's class index and its score: the largest probability when the model has
    /// `predict_proba`, else its decision value (the largest over classes when several).
    pub fn predict_scored(&self, rows: Rows<'_>) -> Vec<(usize, f64)> {
        let linear = &self.estimator.linear;
        let mut decision = vec![0.0; linear.n_outputs];
        let mut proba = vec![0.0; linear.n_classes];
        rows.iter()
            .map(|row| {
                linear.decision_row(row, &mut decision);
                let class = linear.class_index(&decision);
                let score = if linear.proba_row(&decision, &mut proba) {
                    proba.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                } else {
                    decision.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                };
                (class, score)
            })
            .collect()
    }
}

/// What `skserve inspect` reports of a file.
#[derive(Debug, serde::Serialize)]
pub struct Inspection {
    /// `pickle` or `joblib`.
    pub format: &'static str,
    pub compression: Option<Container>,
    pub protocol: Option<u8>,
    pub loadable: bool,
    pub error: Option<String>,
    pub estimator: Option<String>,
    pub sklearn_version: Option<String>,
    pub n_features_in: Option<usize>,
    pub classes: Option<serde_json::Value>,
    pub feature_names: Option<Vec<String>>,
    pub predict_proba: Option<ProbaRule>,
    /// Every global the file references, in order of first use, each allowed or refused.
    pub globals: Vec<GlobalRef>,
}

/// Audits `bytes` without executing anything; works on refused and broken files too.
pub fn inspect(bytes: &[u8], file: &str) -> Inspection {
    let container = Container::detect(bytes);
    let mut globals = Vec::new();
    let mut protocol = None;
    if let Ok(stream) = container.clone().and_then(|c| c.open(bytes)) {
        if let Ok(audited) = pickle::unpickle(&stream, pickle::Mode::Audit, &mut globals) {
            protocol = Some(audited.protocol);
        } else if let [pickle::opcodes::PROTO, p, ..] = stream[..] {
            protocol = Some(p);
        }
    }
    let mut seen = std::collections::HashSet::new();
    globals.retain(|g| seen.insert(g.name.clone()));
    let joblib = globals
        .iter()
        .any(|g| g.name.ends_with("NumpyArrayWrapper"));
    let compression = container.ok().filter(|c| *c != Container::Plain);
    let loaded = Model::from_bytes(bytes);
    let model = loaded.as_ref().ok();
    Inspection {
        format: if joblib || compression.is_some() {
            "joblib"
        } else {
            "pickle"
        },
        compression,
        protocol,
        loadable: model.is_some(),
        error: loaded.as_ref().err().map(|e| e.explain(file)),
        estimator: model.map(|m| m.estimator().name().to_owned()),
        sklearn_version: model.and_then(|m| m.sklearn_version().map(str::to_owned)),
        n_features_in: model.map(Model::n_features),
        classes: model.map(|m| m.classes().to_json()),
        feature_names: model.and_then(|m| m.feature_names().map(<[String]>::to_vec)),
        predict_proba: model.map(|m| m.linear().proba),
        globals,
    }
}

/// A float as Python's `repr` writes it (`1.0`, `0.1`, `1e-07`, `inf`).
pub fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let debug = format!("{v:?}");
    match debug.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = exponent
                .strip_prefix('-')
                .map_or(("+", exponent), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => debug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_matches_repr() {
        for (v, repr) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (0.43884413297560365, "0.43884413297560365"),
            (-0.0, "-0.0"),
        ] {
            assert_eq!(python_float(v), repr);
        }
    }
}

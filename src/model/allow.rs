//! The allow-list: the only globals a model file may name, and what each one means to the VM.
//!
//! Every entry is interpreted as data (an array, a dtype, an inert estimator object); nothing
//! here is ever called. Adding a name is a security decision: an entry must be a pure data
//! constructor or a class whose instances skserve reads as plain attributes.

use std::fmt;

/// A scikit-learn class skserve knows how to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkClass {
    LogisticRegression,
    SgdClassifier,
    LinearSvc,
    RidgeClassifier,
    RidgeClassifierCv,
    Perceptron,
    /// RidgeClassifier keeps its `classes_` inside a LabelBinarizer.
    LabelBinarizer,
}

impl SkClass {
    pub fn name(self) -> &'static str {
        match self {
            Self::LogisticRegression => "LogisticRegression",
            Self::SgdClassifier => "SGDClassifier",
            Self::LinearSvc => "LinearSVC",
            Self::RidgeClassifier => "RidgeClassifier",
            Self::RidgeClassifierCv => "RidgeClassifierCV",
            Self::Perceptron => "Perceptron",
            Self::LabelBinarizer => "LabelBinarizer",
        }
    }
}

/// What an allowed global stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Callable {
    /// `numpy.core.multiarray._reconstruct`: an empty array that BUILD fills.
    NumpyReconstruct,
    /// `numpy.core.numeric._frombuffer`: protocol 5's array from a byte buffer.
    NumpyFrombuffer,
    /// `numpy.core.multiarray.scalar`: a numpy scalar from a dtype and its bytes.
    NumpyScalar,
    NumpyNdarray,
    NumpyDtype,
    /// `_codecs.encode(str, 'latin1')`: how protocol 2 carries `bytes`.
    CodecsEncode,
    /// joblib's `NumpyArrayWrapper`: the array's bytes follow its BUILD in the stream.
    JoblibArrayWrapper,
    Class(SkClass),
    /// SGD's loss objects (`Hinge`, `CyHalfBinomialLoss`, …): kept as their name, never called.
    LossMarker(String),
    /// A name that is not allowed; only ever created while auditing.
    Refused(String),
}

impl Callable {
    pub fn name(&self) -> String {
        match self {
            Self::NumpyReconstruct => "numpy.core.multiarray._reconstruct".into(),
            Self::NumpyFrombuffer => "numpy.core.numeric._frombuffer".into(),
            Self::NumpyScalar => "numpy.core.multiarray.scalar".into(),
            Self::NumpyNdarray => "numpy.ndarray".into(),
            Self::NumpyDtype => "numpy.dtype".into(),
            Self::CodecsEncode => "_codecs.encode".into(),
            Self::JoblibArrayWrapper => "joblib.numpy_pickle.NumpyArrayWrapper".into(),
            Self::Class(c) => c.name().into(),
            Self::LossMarker(name) | Self::Refused(name) => name.clone(),
        }
    }
}

impl fmt::Display for Callable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Loss classes SGDClassifier and Perceptron pickle along with themselves.
const SGD_LOSSES: &[&str] = &[
    "Hinge",
    "Log",
    "LogLoss",
    "ModifiedHuber",
    "SquaredHinge",
    "SquaredLoss",
    "Huber",
    "EpsilonInsensitive",
    "SquaredEpsilonInsensitive",
];

/// The Cython losses of `sklearn._loss._loss` (SGD's log loss since scikit-learn 1.6).
const CY_LOSSES: &[&str] = &[
    "CyHalfBinomialLoss",
    "CyHalfMultinomialLoss",
    "CyHalfSquaredError",
    "CyAbsoluteError",
    "CyHuberLoss",
    "CyHalfPoissonLoss",
    "CyHalfGammaLoss",
    "CyHalfTweedieLoss",
    "CyHalfTweedieLossIdentity",
    "CyExponentialLoss",
    "CyPinballLoss",
];

/// Resolves `module.name` against the allow-list; `None` means refused.
pub fn resolve(module: &str, name: &str) -> Option<Callable> {
    use Callable::*;
    let numpy_core = matches!(module, "numpy.core.multiarray" | "numpy._core.multiarray");
    let numpy_numeric = matches!(module, "numpy.core.numeric" | "numpy._core.numeric");
    let class = |c| Some(Class(c));
    match (module, name) {
        (_, "_reconstruct") if numpy_core => Some(NumpyReconstruct),
        (_, "scalar") if numpy_core => Some(NumpyScalar),
        (_, "_frombuffer") if numpy_numeric => Some(NumpyFrombuffer),
        ("numpy", "ndarray") => Some(NumpyNdarray),
        ("numpy", "dtype") => Some(NumpyDtype),
        ("_codecs", "encode") => Some(CodecsEncode),
        ("joblib.numpy_pickle" | "sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper") => {
            Some(JoblibArrayWrapper)
        }
        (
            "sklearn.linear_model._logistic" | "sklearn.linear_model.logistic",
            "LogisticRegression",
        ) => class(SkClass::LogisticRegression),
        (
            "sklearn.linear_model._stochastic_gradient"
            | "sklearn.linear_model.stochastic_gradient",
            "SGDClassifier",
        ) => class(SkClass::SgdClassifier),
        ("sklearn.svm._classes" | "sklearn.svm.classes", "LinearSVC") => class(SkClass::LinearSvc),
        ("sklearn.linear_model._ridge" | "sklearn.linear_model.ridge", "RidgeClassifier") => {
            class(SkClass::RidgeClassifier)
        }
        ("sklearn.linear_model._ridge" | "sklearn.linear_model.ridge", "RidgeClassifierCV") => {
            class(SkClass::RidgeClassifierCv)
        }
        ("sklearn.linear_model._perceptron" | "sklearn.linear_model.perceptron", "Perceptron") => {
            class(SkClass::Perceptron)
        }
        ("sklearn.preprocessing._label" | "sklearn.preprocessing.label", "LabelBinarizer") => {
            class(SkClass::LabelBinarizer)
        }
        ("sklearn.linear_model._sgd_fast" | "sklearn.linear_model.sgd_fast", loss)
            if SGD_LOSSES.contains(&loss) =>
        {
            Some(LossMarker(format!("{module}.{name}")))
        }
        ("sklearn._loss._loss", loss) if CY_LOSSES.contains(&loss) => {
            Some(LossMarker(format!("{module}.{name}")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_running_names_are_refused() {
        for (module, name) in [
            ("posix", "system"),
            ("os", "system"),
            ("builtins", "eval"),
            ("builtins", "getattr"),
            ("subprocess", "Popen"),
            ("functools", "partial"),
            ("numpy", "load"),
            ("numpy.core.multiarray", "system"),
            (
                "sklearn.linear_model._logistic",
                "_logistic_regression_path",
            ),
        ] {
            assert_eq!(resolve(module, name), None, "{module}.{name}");
        }
    }

    #[test]
    fn both_numpy_spellings_resolve() {
        for module in ["numpy.core.multiarray", "numpy._core.multiarray"] {
            assert_eq!(
                resolve(module, "_reconstruct"),
                Some(Callable::NumpyReconstruct)
            );
        }
        for module in ["numpy.core.numeric", "numpy._core.numeric"] {
            assert_eq!(
                resolve(module, "_frombuffer"),
                Some(Callable::NumpyFrombuffer)
            );
        }
    }
}

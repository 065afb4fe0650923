//! The allow-list: the only globals a model file may name, and what each one means to the VM.
//!
//! Every entry is interpreted as data (an array, a dtype, a slice, an estimator object whose
//! state is read attribute by attribute, or an inert marker); nothing here is ever called.
//! Adding a name is a security decision: an entry must be a pure data constructor, a class
//! whose instances skserve reads field by field and validates, or a marker kept only as its
//! name (a loss, a link, a scorer, a CV splitter, a random state or distribution a search was
//! configured with), which no reader ever looks inside.
//!
//! Names are matched exactly: a name must be a plain identifier. Protocols 4 and 5 resolve a
//! dotted name (`accuracy_score.__globals__`, `f2py.crackfortran.codecs.register_error`) by
//! walking attributes from the module, which would reach far past what the list names, so
//! no rule, not even a suffix rule (`*_score`), admits one.

use std::fmt;

pub use super::sk_class::SkClass;

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
    /// `builtins.bytes()` without arguments: how protocol 2 writes empty bytes (the data of
    /// an empty array, such as a tree's bitsets when it has no categorical split).
    EmptyBytes,
    /// `builtins.bytearray(bytes)` (or `(str, 'latin-1')` in protocol 2): how protocols
    /// before 5 carry a `bytearray`, such as the model an XGBoost `Booster` pickles.
    ByteArray,
    /// `collections.OrderedDict` or `collections.defaultdict` called: an empty dict that
    /// SETITEMS fills (a defaultdict's factory is kept as nothing: no reader ever calls it).
    /// LightGBM's wrappers keep their evaluation results in them.
    Dict(&'static str),
    /// joblib's `NumpyArrayWrapper`: the array's bytes follow its BUILD in the stream.
    JoblibArrayWrapper,
    /// `builtins.slice(start, stop, step)`: ColumnTransformer's column ranges.
    Slice,
    /// `builtins.set(items)` and `builtins.frozenset(items)`: how protocols 2 and 3 write a
    /// set (a vectorizer's stop words).
    Set,
    /// `functools.partial`, allowed only around `sklearn.utils.validation.check_array`: how
    /// HistGradientBoosting's own preprocessor validates its numeric columns. A partial of
    /// anything else is refused when it is built.
    Partial,
    /// `newObj(cls)` of the neighbour trees and distance metrics (`sklearn.neighbors._kd_tree`,
    /// `_ball_tree`, `sklearn.metrics._dist_metrics`): an empty instance of `cls`, an allowed
    /// class or marker, that BUILD fills.
    NewObj,
    Class(SkClass),
    /// `sklearn.utils._bunch.Bunch`: a dict with attribute access, how a meta-estimator keeps
    /// `named_estimators_` beside `estimators_`. Built as a plain dict, never read.
    Bunch,
    /// Kept as its name, never called and never read: losses (`Hinge`, `CyHalfPoissonLoss`),
    /// links, numpy scalar types (`numpy.float64` as an encoder's `dtype`), the numpy ufuncs a
    /// FunctionTransformer names (computed by skserve, never called), and what a search
    /// was configured with (scorers, CV splitters, random states, distributions, the masked
    /// arrays of `cv_results_`).
    Inert(String),
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
            Self::EmptyBytes => "builtins.bytes".into(),
            Self::ByteArray => "builtins.bytearray".into(),
            Self::Dict(name) => format!("collections.{name}"),
            Self::JoblibArrayWrapper => "joblib.numpy_pickle.NumpyArrayWrapper".into(),
            Self::Slice => "builtins.slice".into(),
            Self::Set => "builtins.set".into(),
            Self::Partial => "functools.partial".into(),
            Self::NewObj => "newObj".into(),
            Self::Class(c) => c.name().into(),
            Self::Bunch => "sklearn.utils._bunch.Bunch".into(),
            Self::Inert(name) | Self::Refused(name) => name.clone(),
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
    // Modules are matched exactly below; names by rules too (`*_score`).
    if !is_identifier(name.as_bytes()) {
        return None;
    }
    let numpy_core = matches!(module, "numpy.core.multiarray" | "numpy._core.multiarray");
    let numpy_numeric = matches!(module, "numpy.core.numeric" | "numpy._core.numeric");
    match (module, name) {
        (_, "_reconstruct") if numpy_core => Some(NumpyReconstruct),
        (_, "scalar") if numpy_core => Some(NumpyScalar),
        (_, "_frombuffer") if numpy_numeric => Some(NumpyFrombuffer),
        ("numpy", "ndarray") => Some(NumpyNdarray),
        ("numpy", "dtype") => Some(NumpyDtype),
        ("_codecs", "encode") => Some(CodecsEncode),
        ("builtins" | "__builtin__", "bytes") => Some(EmptyBytes),
        ("builtins" | "__builtin__", "bytearray") => Some(ByteArray),
        ("collections", "OrderedDict") => Some(Dict("OrderedDict")),
        ("collections", "defaultdict") => Some(Dict("defaultdict")),
        ("joblib.numpy_pickle" | "sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper") => {
            Some(JoblibArrayWrapper)
        }
        ("builtins" | "__builtin__", "slice") => Some(Slice),
        ("builtins" | "__builtin__", "set" | "frozenset") => Some(Set),
        ("functools", "partial") => Some(Partial),
        (
            "sklearn.neighbors._kd_tree"
            | "sklearn.neighbors._ball_tree"
            | "sklearn.metrics._dist_metrics",
            "newObj",
        ) => Some(NewObj),
        ("sklearn.utils._bunch", "Bunch") => Some(Bunch),
        _ if is_inert(module, name) => Some(Inert(format!("{module}.{name}"))),
        _ => SkClass::resolve(module, name).map(Class),
    }
}

/// The classes of `sklearn.metrics._dist_metrics` (named with a `64` suffix since 1.3).
pub const DISTANCE_METRICS: &[&str] = &[
    "EuclideanDistance",
    "SEuclideanDistance",
    "ManhattanDistance",
    "ChebyshevDistance",
    "MinkowskiDistance",
    "MahalanobisDistance",
    "HammingDistance",
    "CanberraDistance",
    "BrayCurtisDistance",
    "JaccardDistance",
    "MatchingDistance",
    "DiceDistance",
    "KulsinskiDistance",
    "RogersTanimotoDistance",
    "RussellRaoDistance",
    "SokalMichenerDistance",
    "SokalSneathDistance",
    "HaversineDistance",
];

/// numpy's scalar types, which an encoder's `dtype` parameter names.
const NUMPY_TYPES: &[&str] = &[
    "float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint64", "uint32",
    "uint16", "uint8", "bool_", "object_", "str_", "longlong", "intc",
];

/// The numpy ufuncs a FunctionTransformer or a TransformedTargetRegressor may name, kept as
/// names: `preprocessing::ufunc` computes each itself (and says why these).
pub const NUMPY_UFUNCS: &[&str] = &[
    "log",
    "log1p",
    "log2",
    "log10",
    "exp",
    "exp2",
    "expm1",
    "sqrt",
    "cbrt",
    "arcsinh",
    "fabs",
    "square",
    "absolute",
    "sign",
    "negative",
    "reciprocal",
];

/// The numpy reductions a FeatureAgglomeration may pool with, kept as names:
/// `manifold::agglomeration` computes each itself (`amax`, `amin`: numpy 1's names).
pub const NUMPY_REDUCTIONS: &[&str] = &["mean", "median", "max", "amax", "min", "amin"];

/// What a search was configured with and a fitted model carries along unread.
const SEARCH_INERT: &[(&str, &[&str])] = &[
    (
        "sklearn.metrics._scorer",
        &[
            "_PassthroughScorer",
            "_passthrough_scorer",
            "_Scorer",
            "_PredictScorer",
            "_ProbaScorer",
            "_ThresholdScorer",
            "_MultimetricScorer",
            // TunedThresholdClassifierCV's scorer of every threshold (its threshold is
            // `best_threshold_`).
            "_CurveScorer",
        ],
    ),
    // What a scorer records of the metadata it routes.
    (
        "sklearn.utils._metadata_requests",
        &["MetadataRequest", "MethodMetadataRequest"],
    ),
    // The score functions a univariate selector was fitted with (its mask follows from
    // `scores_` and `pvalues_`).
    (
        "sklearn.feature_selection._univariate_selection",
        &[
            "f_classif",
            "f_regression",
            "chi2",
            "r_regression",
            "f_oneway",
        ],
    ),
    (
        "sklearn.feature_selection._mutual_info",
        &["mutual_info_classif", "mutual_info_regression"],
    ),
    (
        "sklearn.model_selection._split",
        &[
            "KFold",
            "StratifiedKFold",
            "RepeatedKFold",
            "RepeatedStratifiedKFold",
            "ShuffleSplit",
            "StratifiedShuffleSplit",
            "GroupKFold",
            "TimeSeriesSplit",
            "LeaveOneOut",
            "PredefinedSplit",
        ],
    ),
    (
        "numpy.random._pickle",
        &[
            "__randomstate_ctor",
            "__bit_generator_ctor",
            "__generator_ctor",
        ],
    ),
    ("numpy.random._mt19937", &["MT19937"]),
    // How a skops archive names a random state or generator (a pickle names their
    // constructors, above).
    ("numpy.random.mtrand", &["RandomState"]),
    ("numpy.random._generator", &["Generator"]),
    ("numpy.random._pcg64", &["PCG64"]),
    (
        "numpy.random.bit_generator",
        &["SeedSequence", "__pyx_unpickle_SeedSequence"],
    ),
    ("numpy.ma.core", &["_mareconstruct", "MaskedArray"]),
    ("numpy.ma", &["MaskedArray"]),
    (
        "scipy.stats._distn_infrastructure",
        &["rv_continuous_frozen", "rv_discrete_frozen", "rv_frozen"],
    ),
    (
        "sklearn._loss.link",
        &[
            "Interval",
            "IdentityLink",
            "LogLink",
            "LogitLink",
            "HalfLogitLink",
            "MultinomialLogit",
        ],
    ),
    (
        "sklearn._loss.loss",
        &[
            "HalfSquaredError",
            "AbsoluteError",
            "PinballLoss",
            "HuberLoss",
            "HalfPoissonLoss",
            "HalfGammaLoss",
            "HalfTweedieLoss",
            "HalfTweedieLossIdentity",
            "HalfBinomialLoss",
            "HalfMultinomialLoss",
            "ExponentialLoss",
        ],
    ),
    // GradientBoosting's losses before scikit-learn 1.4 (`loss` says which).
    (
        "sklearn.ensemble._gb_losses",
        &[
            "BinomialDeviance",
            "MultinomialDeviance",
            "ExponentialLoss",
            "LeastSquaresError",
            "LeastAbsoluteError",
            "HuberLossFunction",
            "QuantileLossFunction",
        ],
    ),
    // MLP keeps its optimizer's state for warm starts; predictions read only the weights.
    (
        "sklearn.neural_network._stochastic_optimizers",
        &["SGDOptimizer", "AdamOptimizer"],
    ),
    // What HistGradientBoosting's preprocessor validates numeric columns with (inside a
    // `functools.partial`, see `Callable::Partial`).
    ("sklearn.utils.validation", &["check_array"]),
    // BisectingKMeans names the function it bisected with; Birch keeps the tree of
    // subclusters it was fitted through (its `subcluster_centers_` say all `predict` needs).
    (
        "sklearn.cluster._kmeans",
        &["_kmeans_single_lloyd", "_kmeans_single_elkan"],
    ),
    ("sklearn.cluster._birch", &["_CFNode", "_CFSubcluster"]),
    // The array constructor recent scipy releases (1.17 of the matrix) keep in a BSpline's
    // `_asarray`; `crate::model::bspline` checks it is this one and never uses it.
    ("scipy._lib.array_api_compat.numpy._aliases", &["asarray"]),
];

/// A Python identifier as the pickler writes one: ASCII letters, digits and `_`, not starting
/// with a digit. No name on the list is spelt otherwise.
fn is_identifier(text: &[u8]) -> bool {
    match text {
        [first, rest @ ..] => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        [] => false,
    }
}

/// Markers: kept as their name, never called, never read (see [`Callable::Inert`]).
fn is_inert(module: &str, name: &str) -> bool {
    match module {
        "sklearn.linear_model._sgd_fast" | "sklearn.linear_model.sgd_fast" => {
            SGD_LOSSES.contains(&name)
        }
        // Cython classes pickle through a module-level `__pyx_unpickle_<Class>`.
        "sklearn._loss._loss" => {
            CY_LOSSES.contains(&name)
                || name
                    .strip_prefix("__pyx_unpickle_")
                    .is_some_and(|class| CY_LOSSES.contains(&class))
        }
        "numpy" => {
            NUMPY_TYPES.contains(&name)
                || NUMPY_UFUNCS.contains(&name)
                || NUMPY_REDUCTIONS.contains(&name)
        }
        // Where numpy 1 and the first numpy 2 releases pickle their ufuncs from.
        "numpy.core._multiarray_umath"
        | "numpy._core._multiarray_umath"
        | "numpy.core.umath"
        | "numpy._core.umath" => NUMPY_UFUNCS.contains(&name),
        // A neighbour tree's distance metric (its kind and parameters are read from the
        // estimator's `effective_metric_` and checked against its name).
        "sklearn.metrics._dist_metrics" => DISTANCE_METRICS
            .iter()
            .any(|m| name.strip_suffix("64").unwrap_or(name) == *m),
        // The score functions a named scorer refers to.
        "sklearn.metrics._regression"
        | "sklearn.metrics._classification"
        | "sklearn.metrics._ranking" => {
            name.ends_with("_score") || name.ends_with("_error") || name.ends_with("_loss")
        }
        // scipy.stats distribution generators (`uniform_gen`, `reciprocal_gen`, …).
        "scipy.stats._continuous_distns" | "scipy.stats._discrete_distns" => name.ends_with("_gen"),
        _ => SEARCH_INERT
            .iter()
            .any(|(m, names)| *m == module && names.contains(&name)),
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

    /// Every name the list admits, one per rule: the match arms of [`resolve`], each
    /// estimator, each marker, and an example of each suffix and prefix rule.
    fn every_rule() -> Vec<(String, String)> {
        let mut rules: Vec<(String, String)> = [
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),
            ("builtins", "bytes"),
            ("__builtin__", "bytes"),
            ("joblib.numpy_pickle", "NumpyArrayWrapper"),
            ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"),
            ("sklearn.linear_model._logistic", "LogisticRegression"),
            ("sklearn.linear_model.logistic", "LogisticRegression"),
            ("sklearn.linear_model._stochastic_gradient", "SGDClassifier"),
            ("sklearn.linear_model.stochastic_gradient", "SGDClassifier"),
            ("sklearn.svm._classes", "LinearSVC"),
            ("sklearn.svm.classes", "LinearSVC"),
            ("sklearn.linear_model._ridge", "RidgeClassifier"),
            ("sklearn.linear_model.ridge", "RidgeClassifierCV"),
            ("sklearn.linear_model._perceptron", "Perceptron"),
            ("sklearn.linear_model.perceptron", "Perceptron"),
            ("sklearn.preprocessing._label", "LabelBinarizer"),
            ("sklearn.preprocessing.label", "LabelBinarizer"),
            ("builtins", "slice"),
            ("__builtin__", "slice"),
            ("functools", "partial"),
            ("sklearn.linear_model._sgd_fast", "Hinge"),
            ("sklearn.linear_model.sgd_fast", "Log"),
            ("sklearn._loss._loss", "__pyx_unpickle_CyHalfBinomialLoss"),
            ("sklearn.metrics._regression", "r2_score"),
            ("sklearn.metrics._regression", "mean_squared_error"),
            ("sklearn.metrics._classification", "log_loss"),
            ("sklearn.metrics._ranking", "roc_auc_score"),
            ("scipy.stats._continuous_distns", "uniform_gen"),
            ("scipy.stats._discrete_distns", "randint_gen"),
        ]
        .iter()
        .map(|(m, n)| ((*m).to_owned(), (*n).to_owned()))
        .collect();
        for &class in SkClass::ALL {
            rules.extend(
                class
                    .modules()
                    .iter()
                    .map(|m| ((*m).to_owned(), class.name().to_owned())),
            );
        }
        for (module, names) in SEARCH_INERT {
            rules.extend(
                names
                    .iter()
                    .map(|n| ((*module).to_owned(), (*n).to_owned())),
            );
        }
        rules.extend(
            SGD_LOSSES
                .iter()
                .map(|n| ("sklearn.linear_model._sgd_fast".to_owned(), (*n).to_owned())),
        );
        rules.extend(
            CY_LOSSES
                .iter()
                .map(|n| ("sklearn._loss._loss".to_owned(), (*n).to_owned())),
        );
        rules.extend(
            NUMPY_TYPES
                .iter()
                .map(|n| ("numpy".to_owned(), (*n).to_owned())),
        );
        rules
    }

    #[test]
    fn every_rule_admits_its_own_name() {
        for (module, name) in every_rule() {
            assert!(resolve(&module, &name).is_some(), "{module}.{name}");
        }
    }

    #[test]
    fn every_rule_refuses_dotted_and_lookalike_names() {
        for (module, name) in every_rule() {
            let names = [
                format!("{name}.__globals__"),
                format!("{name}.__call__"),
                format!("{name}.__reduce__.__globals__.os.system"),
                format!("__class__.{name}"),
                format!("x.{name}"),
                format!("{name}."),
                format!(".{name}"),
                format!("{name} "),
                format!(" {name}"),
                format!("{name}\0"),
                format!("{name}\t"),
                // A Cyrillic 'а' for the first Latin 'a' or 'e', where the name has one.
                name.replacen('a', "\u{430}", 1),
                name.replacen('e', "\u{435}", 1),
            ];
            for dotted in names.iter().filter(|n| **n != name) {
                assert_eq!(resolve(&module, dotted), None, "{module} . {dotted:?}");
            }
            let modules = [
                format!("{module}.{name}"),
                format!("{module}."),
                format!("{module} "),
                format!("x.{module}"),
                format!("{module}..x"),
                module.replace('.', ".."),
            ];
            for lookalike in modules.iter().filter(|m| **m != module) {
                assert_eq!(resolve(lookalike, &name), None, "{lookalike:?} . {name}");
            }
        }
    }

    #[test]
    fn suffix_rules_admit_only_plain_names() {
        // The file that reached codecs.register_error through scikit-learn's metrics module.
        for module in [
            "sklearn.metrics._regression",
            "sklearn.metrics._classification",
            "sklearn.metrics._ranking",
        ] {
            assert_eq!(
                resolve(module, "f2py.crackfortran.codecs.register_error"),
                None
            );
            assert_eq!(resolve(module, "np.testing.build_err_msg.__error"), None);
            assert!(resolve(module, "balanced_accuracy_score").is_some());
        }
        for module in [
            "scipy.stats._continuous_distns",
            "scipy.stats._discrete_distns",
        ] {
            assert_eq!(resolve(module, "np.random.default_rng.__gen"), None);
        }
        assert_eq!(
            resolve(
                "sklearn._loss._loss",
                "__pyx_unpickle_CyHalfBinomialLoss.__globals__"
            ),
            None
        );
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

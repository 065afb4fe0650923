//! The classes a model file may hold, each with the modules it has lived in across versions:
//! one table, from which the enum [`SkClass`], its names, and the allow-list's class rule are
//! all made, so that a class is added in exactly one line.
//!
//! A class listed here is one whose pickled state some room reads field by field and checks
//! (`crate::model::catalog` says which room). It is matched by its exact module and name,
//! never by a prefix or a suffix. What must not live here: non-class globals (numpy's array
//! constructors, inert markers): those are `allow`'s.

/// Declares [`SkClass`] from `Variant = "ClassName" in ["module", ...]` entries.
macro_rules! sk_classes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal in [$($module:literal),+ $(,)?] ),+ $(,)?) => {
        /// A scikit-learn (or companion library) class skserve knows how to read.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum SkClass {
            $( $(#[$doc])* $variant ),+
        }

        impl SkClass {
            /// Every class, in the table's order.
            pub const ALL: &'static [SkClass] = &[$(SkClass::$variant),+];

            /// The class's name as Python spells it (`LogisticRegression`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// The modules a pickle may name it from, newest first.
            pub fn modules(self) -> &'static [&'static str] {
                match self {
                    $(Self::$variant => &[$($module),+]),+
                }
            }
        }
    };
}

impl SkClass {
    /// The class `module.name` names exactly, if it is one of the table's.
    pub fn resolve(module: &str, name: &str) -> Option<SkClass> {
        Self::ALL
            .iter()
            .copied()
            .find(|class| class.name() == name && class.modules().contains(&module))
    }
}

sk_classes! {
    // linear_model
    LogisticRegression = "LogisticRegression"
        in ["sklearn.linear_model._logistic", "sklearn.linear_model.logistic"],
    SgdClassifier = "SGDClassifier"
        in ["sklearn.linear_model._stochastic_gradient", "sklearn.linear_model.stochastic_gradient"],
    LinearSvc = "LinearSVC" in ["sklearn.svm._classes", "sklearn.svm.classes"],
    RidgeClassifier = "RidgeClassifier"
        in ["sklearn.linear_model._ridge", "sklearn.linear_model.ridge"],
    RidgeClassifierCv = "RidgeClassifierCV"
        in ["sklearn.linear_model._ridge", "sklearn.linear_model.ridge"],
    Perceptron = "Perceptron"
        in ["sklearn.linear_model._perceptron", "sklearn.linear_model.perceptron"],
    LinearRegression = "LinearRegression"
        in ["sklearn.linear_model._base", "sklearn.linear_model.base"],
    Ridge = "Ridge" in ["sklearn.linear_model._ridge", "sklearn.linear_model.ridge"],
    RidgeCv = "RidgeCV" in ["sklearn.linear_model._ridge", "sklearn.linear_model.ridge"],
    Lasso = "Lasso" in ["sklearn.linear_model._coordinate_descent"],
    LassoCv = "LassoCV" in ["sklearn.linear_model._coordinate_descent"],
    ElasticNet = "ElasticNet" in ["sklearn.linear_model._coordinate_descent"],
    ElasticNetCv = "ElasticNetCV" in ["sklearn.linear_model._coordinate_descent"],
    SgdRegressor = "SGDRegressor" in ["sklearn.linear_model._stochastic_gradient"],
    HuberRegressor = "HuberRegressor" in ["sklearn.linear_model._huber"],
    LinearSvr = "LinearSVR" in ["sklearn.svm._classes"],
    PoissonRegressor = "PoissonRegressor"
        in ["sklearn.linear_model._glm.glm", "sklearn.linear_model._glm._newton_solver"],
    GammaRegressor = "GammaRegressor" in ["sklearn.linear_model._glm.glm"],
    TweedieRegressor = "TweedieRegressor" in ["sklearn.linear_model._glm.glm"],

    // preprocessing
    /// RidgeClassifier keeps its `classes_` inside a LabelBinarizer.
    LabelBinarizer = "LabelBinarizer"
        in ["sklearn.preprocessing._label", "sklearn.preprocessing.label"],
    StandardScaler = "StandardScaler" in ["sklearn.preprocessing._data"],
    MinMaxScaler = "MinMaxScaler" in ["sklearn.preprocessing._data"],
    RobustScaler = "RobustScaler" in ["sklearn.preprocessing._data"],
    MaxAbsScaler = "MaxAbsScaler" in ["sklearn.preprocessing._data"],
    OneHotEncoder = "OneHotEncoder" in ["sklearn.preprocessing._encoders"],
    OrdinalEncoder = "OrdinalEncoder" in ["sklearn.preprocessing._encoders"],
    FunctionTransformer = "FunctionTransformer"
        in ["sklearn.preprocessing._function_transformer"],

    // impute
    SimpleImputer = "SimpleImputer" in ["sklearn.impute._base"],
    MissingIndicator = "MissingIndicator" in ["sklearn.impute._base"],

    // compose, pipeline and model selection
    Pipeline = "Pipeline" in ["sklearn.pipeline"],
    ColumnTransformer = "ColumnTransformer" in ["sklearn.compose._column_transformer"],
    GridSearchCv = "GridSearchCV" in ["sklearn.model_selection._search"],
    RandomizedSearchCv = "RandomizedSearchCV" in ["sklearn.model_selection._search"],

    // tree and ensemble
    DecisionTreeClassifier = "DecisionTreeClassifier" in ["sklearn.tree._classes"],
    DecisionTreeRegressor = "DecisionTreeRegressor" in ["sklearn.tree._classes"],
    ExtraTreeClassifier = "ExtraTreeClassifier" in ["sklearn.tree._classes"],
    ExtraTreeRegressor = "ExtraTreeRegressor" in ["sklearn.tree._classes"],
    RandomForestClassifier = "RandomForestClassifier" in ["sklearn.ensemble._forest"],
    RandomForestRegressor = "RandomForestRegressor" in ["sklearn.ensemble._forest"],
    ExtraTreesClassifier = "ExtraTreesClassifier" in ["sklearn.ensemble._forest"],
    ExtraTreesRegressor = "ExtraTreesRegressor" in ["sklearn.ensemble._forest"],
    GradientBoostingClassifier = "GradientBoostingClassifier" in ["sklearn.ensemble._gb"],
    GradientBoostingRegressor = "GradientBoostingRegressor" in ["sklearn.ensemble._gb"],
    HistGradientBoostingClassifier = "HistGradientBoostingClassifier"
        in ["sklearn.ensemble._hist_gradient_boosting.gradient_boosting"],
    HistGradientBoostingRegressor = "HistGradientBoostingRegressor"
        in ["sklearn.ensemble._hist_gradient_boosting.gradient_boosting"],
    /// `sklearn.tree._tree.Tree`: a fitted tree's nodes and values.
    Tree = "Tree" in ["sklearn.tree._tree"],
    /// HistGradientBoosting's trees: nodes and categorical bitsets.
    TreePredictor = "TreePredictor" in ["sklearn.ensemble._hist_gradient_boosting.predictor"],
    /// HistGradientBoosting's binning, where its known categories live.
    BinMapper = "_BinMapper" in ["sklearn.ensemble._hist_gradient_boosting.binning"],

    // dummy
    /// GradientBoosting's default `init_` estimators.
    DummyClassifier = "DummyClassifier" in ["sklearn.dummy"],
    DummyRegressor = "DummyRegressor" in ["sklearn.dummy"],

    // meta-estimators: ensembles of any served estimators, multiclass and multi-output
    // wrappers, calibration, target transforms, thresholds
    AdaBoostClassifier = "AdaBoostClassifier" in ["sklearn.ensemble._weight_boosting"],
    AdaBoostRegressor = "AdaBoostRegressor" in ["sklearn.ensemble._weight_boosting"],
    BaggingClassifier = "BaggingClassifier" in ["sklearn.ensemble._bagging"],
    BaggingRegressor = "BaggingRegressor" in ["sklearn.ensemble._bagging"],
    VotingClassifier = "VotingClassifier" in ["sklearn.ensemble._voting"],
    VotingRegressor = "VotingRegressor" in ["sklearn.ensemble._voting"],
    StackingClassifier = "StackingClassifier" in ["sklearn.ensemble._stacking"],
    StackingRegressor = "StackingRegressor" in ["sklearn.ensemble._stacking"],
    CalibratedClassifierCv = "CalibratedClassifierCV" in ["sklearn.calibration"],
    /// One fold of CalibratedClassifierCV: a classifier and a calibrator per class.
    CalibratedClassifier = "_CalibratedClassifier" in ["sklearn.calibration"],
    SigmoidCalibration = "_SigmoidCalibration" in ["sklearn.calibration"],
    TemperatureScaling = "_TemperatureScaling" in ["sklearn.calibration"],
    IsotonicRegression = "IsotonicRegression" in ["sklearn.isotonic"],
    OneVsRestClassifier = "OneVsRestClassifier" in ["sklearn.multiclass"],
    OneVsOneClassifier = "OneVsOneClassifier" in ["sklearn.multiclass"],
    OutputCodeClassifier = "OutputCodeClassifier" in ["sklearn.multiclass"],
    /// What OneVsRest and OutputCode fit for a column that never varied.
    ConstantPredictor = "_ConstantPredictor" in ["sklearn.multiclass"],
    MultiOutputClassifier = "MultiOutputClassifier" in ["sklearn.multioutput"],
    MultiOutputRegressor = "MultiOutputRegressor" in ["sklearn.multioutput"],
    ClassifierChain = "ClassifierChain" in ["sklearn.multioutput"],
    RegressorChain = "RegressorChain" in ["sklearn.multioutput"],
    TransformedTargetRegressor = "TransformedTargetRegressor" in ["sklearn.compose._target"],
    SelfTrainingClassifier = "SelfTrainingClassifier"
        in ["sklearn.semi_supervised._self_training"],
    FixedThresholdClassifier = "FixedThresholdClassifier"
        in ["sklearn.model_selection._classification_threshold"],
    TunedThresholdClassifierCv = "TunedThresholdClassifierCV"
        in ["sklearn.model_selection._classification_threshold"],
    /// A fitted estimator marked as not to be refitted (`cv="prefit"`'s successor).
    FrozenEstimator = "FrozenEstimator" in ["sklearn.frozen._frozen"],
    FeatureUnion = "FeatureUnion" in ["sklearn.pipeline"],

    // feature selection
    VarianceThreshold = "VarianceThreshold" in ["sklearn.feature_selection._variance_threshold"],
    SelectKBest = "SelectKBest" in ["sklearn.feature_selection._univariate_selection"],
    SelectPercentile = "SelectPercentile" in ["sklearn.feature_selection._univariate_selection"],
    SelectFpr = "SelectFpr" in ["sklearn.feature_selection._univariate_selection"],
    SelectFdr = "SelectFdr" in ["sklearn.feature_selection._univariate_selection"],
    SelectFwe = "SelectFwe" in ["sklearn.feature_selection._univariate_selection"],
    GenericUnivariateSelect = "GenericUnivariateSelect"
        in ["sklearn.feature_selection._univariate_selection"],
    SelectFromModel = "SelectFromModel" in ["sklearn.feature_selection._from_model"],
    Rfe = "RFE" in ["sklearn.feature_selection._rfe"],
    Rfecv = "RFECV" in ["sklearn.feature_selection._rfe"],
    SequentialFeatureSelector = "SequentialFeatureSelector"
        in ["sklearn.feature_selection._sequential"],

    // labels: the encoders of targets, served alone on one column and read inside the
    // meta-estimators that keep them
    LabelEncoder = "LabelEncoder" in ["sklearn.preprocessing._label"],
    MultiLabelBinarizer = "MultiLabelBinarizer" in ["sklearn.preprocessing._label"],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_modules_resolve_exactly() {
        for &class in SkClass::ALL {
            for module in class.modules() {
                assert_eq!(SkClass::resolve(module, class.name()), Some(class));
                // A dotted lookalike, a prefix or a suffix of a listed name is not the class.
                let dotted = format!("{}.os", class.name());
                assert_eq!(SkClass::resolve(module, &dotted), None);
                let prefixed = format!("{module}.x");
                assert_eq!(SkClass::resolve(&prefixed, class.name()), None);
            }
        }
    }

    #[test]
    fn every_class_has_a_name_of_its_own_in_each_module() {
        let mut seen = std::collections::HashSet::new();
        for &class in SkClass::ALL {
            for module in class.modules() {
                assert!(
                    seen.insert((*module, class.name())),
                    "{module}.{} is listed twice",
                    class.name()
                );
            }
        }
    }
}

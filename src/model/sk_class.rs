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

    // linear_model, the rest
    QuantileRegressor = "QuantileRegressor" in ["sklearn.linear_model._quantile"],
    BayesianRidge = "BayesianRidge" in ["sklearn.linear_model._bayes"],
    ArdRegression = "ARDRegression" in ["sklearn.linear_model._bayes"],
    TheilSenRegressor = "TheilSenRegressor" in ["sklearn.linear_model._theil_sen"],
    RansacRegressor = "RANSACRegressor" in ["sklearn.linear_model._ransac"],
    PassiveAggressiveClassifier = "PassiveAggressiveClassifier"
        in ["sklearn.linear_model._passive_aggressive"],
    PassiveAggressiveRegressor = "PassiveAggressiveRegressor"
        in ["sklearn.linear_model._passive_aggressive"],
    LogisticRegressionCv = "LogisticRegressionCV" in ["sklearn.linear_model._logistic"],
    Lars = "Lars" in ["sklearn.linear_model._least_angle"],
    LarsCv = "LarsCV" in ["sklearn.linear_model._least_angle"],
    LassoLars = "LassoLars" in ["sklearn.linear_model._least_angle"],
    LassoLarsCv = "LassoLarsCV" in ["sklearn.linear_model._least_angle"],
    LassoLarsIc = "LassoLarsIC" in ["sklearn.linear_model._least_angle"],
    OrthogonalMatchingPursuit = "OrthogonalMatchingPursuit" in ["sklearn.linear_model._omp"],
    OrthogonalMatchingPursuitCv = "OrthogonalMatchingPursuitCV" in ["sklearn.linear_model._omp"],
    SgdOneClassSvm = "SGDOneClassSVM" in ["sklearn.linear_model._stochastic_gradient"],
    MultiTaskLasso = "MultiTaskLasso" in ["sklearn.linear_model._coordinate_descent"],
    MultiTaskElasticNet = "MultiTaskElasticNet" in ["sklearn.linear_model._coordinate_descent"],
    MultiTaskLassoCv = "MultiTaskLassoCV" in ["sklearn.linear_model._coordinate_descent"],
    MultiTaskElasticNetCv = "MultiTaskElasticNetCV"
        in ["sklearn.linear_model._coordinate_descent"],

    // cross_decomposition
    PlsRegression = "PLSRegression" in ["sklearn.cross_decomposition._pls"],
    PlsCanonical = "PLSCanonical" in ["sklearn.cross_decomposition._pls"],
    Cca = "CCA" in ["sklearn.cross_decomposition._pls"],
    PlsSvd = "PLSSVD" in ["sklearn.cross_decomposition._pls"],

    // outlier detection
    IsolationForest = "IsolationForest" in ["sklearn.ensemble._iforest"],
    EllipticEnvelope = "EllipticEnvelope" in ["sklearn.covariance._elliptic_envelope"],

    // cluster
    KMeans = "KMeans" in ["sklearn.cluster._kmeans"],
    MiniBatchKMeans = "MiniBatchKMeans" in ["sklearn.cluster._kmeans"],
    BisectingKMeans = "BisectingKMeans" in ["sklearn.cluster._bisect_k_means"],
    /// BisectingKMeans's hierarchy of bisections: each node's center and children.
    BisectingTree = "_BisectingTree" in ["sklearn.cluster._bisect_k_means"],
    Birch = "Birch" in ["sklearn.cluster._birch"],
    AffinityPropagation = "AffinityPropagation" in ["sklearn.cluster._affinity_propagation"],
    MeanShift = "MeanShift" in ["sklearn.cluster._mean_shift"],

    // mixture
    GaussianMixture = "GaussianMixture" in ["sklearn.mixture._gaussian_mixture"],
    BayesianGaussianMixture = "BayesianGaussianMixture"
        in ["sklearn.mixture._bayesian_mixture"],

    // kernel models and Gaussian processes
    KernelRidge = "KernelRidge" in ["sklearn.kernel_ridge"],
    GaussianProcessRegressor = "GaussianProcessRegressor"
        in ["sklearn.gaussian_process._gpr", "sklearn.gaussian_process.gpr"],
    GaussianProcessClassifier = "GaussianProcessClassifier"
        in ["sklearn.gaussian_process._gpc", "sklearn.gaussian_process.gpc"],
    /// GaussianProcessClassifier's binary Laplace approximation, one per class pair or class.
    BinaryGpcLaplace = "_BinaryGaussianProcessClassifierLaplace"
        in ["sklearn.gaussian_process._gpc", "sklearn.gaussian_process.gpc"],
    /// How GaussianProcessClassifier holds a multiclass model's binary ones.
    OneVsRestClassifier = "OneVsRestClassifier" in ["sklearn.multiclass"],
    OneVsOneClassifier = "OneVsOneClassifier" in ["sklearn.multiclass"],
    RbfKernel = "RBF" in ["sklearn.gaussian_process.kernels"],
    MaternKernel = "Matern" in ["sklearn.gaussian_process.kernels"],
    RationalQuadraticKernel = "RationalQuadratic" in ["sklearn.gaussian_process.kernels"],
    ExpSineSquaredKernel = "ExpSineSquared" in ["sklearn.gaussian_process.kernels"],
    DotProductKernel = "DotProduct" in ["sklearn.gaussian_process.kernels"],
    WhiteKernel = "WhiteKernel" in ["sklearn.gaussian_process.kernels"],
    ConstantKernel = "ConstantKernel" in ["sklearn.gaussian_process.kernels"],
    SumKernel = "Sum" in ["sklearn.gaussian_process.kernels"],
    ProductKernel = "Product" in ["sklearn.gaussian_process.kernels"],
    ExponentiationKernel = "Exponentiation" in ["sklearn.gaussian_process.kernels"],
    PairwiseKernel = "PairwiseKernel" in ["sklearn.gaussian_process.kernels"],
    CompoundKernel = "CompoundKernel" in ["sklearn.gaussian_process.kernels"],
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

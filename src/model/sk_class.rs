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
    HalvingGridSearchCv = "HalvingGridSearchCV"
        in ["sklearn.model_selection._search_successive_halving"],
    HalvingRandomSearchCv = "HalvingRandomSearchCV"
        in ["sklearn.model_selection._search_successive_halving"],

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
    RandomTreesEmbedding = "RandomTreesEmbedding" in ["sklearn.ensemble._forest"],
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

    // svm
    Svc = "SVC" in ["sklearn.svm._classes", "sklearn.svm.classes"],
    NuSvc = "NuSVC" in ["sklearn.svm._classes", "sklearn.svm.classes"],
    Svr = "SVR" in ["sklearn.svm._classes", "sklearn.svm.classes"],
    NuSvr = "NuSVR" in ["sklearn.svm._classes", "sklearn.svm.classes"],
    OneClassSvm = "OneClassSVM" in ["sklearn.svm._classes", "sklearn.svm.classes"],

    // neighbors
    KNeighborsClassifier = "KNeighborsClassifier" in ["sklearn.neighbors._classification"],
    RadiusNeighborsClassifier = "RadiusNeighborsClassifier"
        in ["sklearn.neighbors._classification"],
    KNeighborsRegressor = "KNeighborsRegressor" in ["sklearn.neighbors._regression"],
    RadiusNeighborsRegressor = "RadiusNeighborsRegressor" in ["sklearn.neighbors._regression"],
    NearestCentroid = "NearestCentroid" in ["sklearn.neighbors._nearest_centroid"],
    LocalOutlierFactor = "LocalOutlierFactor" in ["sklearn.neighbors._lof"],
    KNeighborsTransformer = "KNeighborsTransformer" in ["sklearn.neighbors._graph"],
    RadiusNeighborsTransformer = "RadiusNeighborsTransformer" in ["sklearn.neighbors._graph"],
    NeighborhoodComponentsAnalysis = "NeighborhoodComponentsAnalysis"
        in ["sklearn.neighbors._nca"],
    /// LabelSpreading's `knn` kernel keeps the NearestNeighbors it searched with.
    NearestNeighbors = "NearestNeighbors" in ["sklearn.neighbors._unsupervised"],
    /// A neighbour search's tree: its points, index permutation, nodes and bounds.
    KdTree = "KDTree" in ["sklearn.neighbors._kd_tree"],
    BallTree = "BallTree" in ["sklearn.neighbors._ball_tree"],

    // semi_supervised
    LabelPropagation = "LabelPropagation" in ["sklearn.semi_supervised._label_propagation"],
    LabelSpreading = "LabelSpreading" in ["sklearn.semi_supervised._label_propagation"],

    // naive_bayes
    GaussianNb = "GaussianNB" in ["sklearn.naive_bayes"],
    MultinomialNb = "MultinomialNB" in ["sklearn.naive_bayes"],
    ComplementNb = "ComplementNB" in ["sklearn.naive_bayes"],
    BernoulliNb = "BernoulliNB" in ["sklearn.naive_bayes"],
    CategoricalNb = "CategoricalNB" in ["sklearn.naive_bayes"],

    // neural_network
    MlpClassifier = "MLPClassifier" in ["sklearn.neural_network._multilayer_perceptron"],
    MlpRegressor = "MLPRegressor" in ["sklearn.neural_network._multilayer_perceptron"],
    BernoulliRbm = "BernoulliRBM" in ["sklearn.neural_network._rbm"],

    // discriminant_analysis
    LinearDiscriminantAnalysis = "LinearDiscriminantAnalysis"
        in ["sklearn.discriminant_analysis"],
    QuadraticDiscriminantAnalysis = "QuadraticDiscriminantAnalysis"
        in ["sklearn.discriminant_analysis"],

    // text (feature_extraction)
    CountVectorizer = "CountVectorizer" in ["sklearn.feature_extraction.text"],
    TfidfVectorizer = "TfidfVectorizer" in ["sklearn.feature_extraction.text"],
    TfidfTransformer = "TfidfTransformer" in ["sklearn.feature_extraction.text"],
    HashingVectorizer = "HashingVectorizer" in ["sklearn.feature_extraction.text"],
    DictVectorizer = "DictVectorizer" in ["sklearn.feature_extraction._dict_vectorizer"],
    FeatureHasher = "FeatureHasher" in ["sklearn.feature_extraction._hash"],

    // transformers of rows (preprocessing)
    Normalizer = "Normalizer" in ["sklearn.preprocessing._data", "sklearn.preprocessing.data"],
    Binarizer = "Binarizer" in ["sklearn.preprocessing._data", "sklearn.preprocessing.data"],
    PolynomialFeatures = "PolynomialFeatures"
        in ["sklearn.preprocessing._polynomial", "sklearn.preprocessing._data"],
    KBinsDiscretizer = "KBinsDiscretizer" in ["sklearn.preprocessing._discretization"],
    SplineTransformer = "SplineTransformer" in ["sklearn.preprocessing._polynomial"],

    // transformers of distributions and kernels, and the target encoder (preprocessing)
    PowerTransformer = "PowerTransformer" in ["sklearn.preprocessing._data"],
    QuantileTransformer = "QuantileTransformer" in ["sklearn.preprocessing._data"],
    KernelCenterer = "KernelCenterer" in ["sklearn.preprocessing._data"],
    TargetEncoder = "TargetEncoder" in ["sklearn.preprocessing._target_encoder"],

    // decomposition
    Pca = "PCA" in ["sklearn.decomposition._pca", "sklearn.decomposition.pca"],
    IncrementalPca = "IncrementalPCA" in ["sklearn.decomposition._incremental_pca"],
    TruncatedSvd = "TruncatedSVD" in ["sklearn.decomposition._truncated_svd"],
    FastIca = "FastICA" in ["sklearn.decomposition._fastica"],
    KernelPca = "KernelPCA" in ["sklearn.decomposition._kernel_pca"],
    FactorAnalysis = "FactorAnalysis" in ["sklearn.decomposition._factor_analysis"],
    SparsePca = "SparsePCA" in ["sklearn.decomposition._sparse_pca"],
    MiniBatchSparsePca = "MiniBatchSparsePCA" in ["sklearn.decomposition._sparse_pca"],
    /// Refused with the reason: `transform` is an optimisation.
    Nmf = "NMF" in ["sklearn.decomposition._nmf"],
    MiniBatchNmf = "MiniBatchNMF" in ["sklearn.decomposition._nmf"],
    Lda = "LatentDirichletAllocation" in ["sklearn.decomposition._lda"],
    DictionaryLearning = "DictionaryLearning" in ["sklearn.decomposition._dict_learning"],
    MiniBatchDictionaryLearning = "MiniBatchDictionaryLearning"
        in ["sklearn.decomposition._dict_learning"],
    SparseCoder = "SparseCoder" in ["sklearn.decomposition._dict_learning"],

    // answered from the fitted rows: imputation by neighbours, densities, feature pooling,
    // manifold embeddings
    KnnImputer = "KNNImputer" in ["sklearn.impute._knn"],
    KernelDensity = "KernelDensity" in ["sklearn.neighbors._kde"],
    FeatureAgglomeration = "FeatureAgglomeration"
        in ["sklearn.cluster._agglomerative", "sklearn.cluster.hierarchical"],
    Isomap = "Isomap" in ["sklearn.manifold._isomap", "sklearn.manifold.isomap"],
    LocallyLinearEmbedding = "LocallyLinearEmbedding"
        in ["sklearn.manifold._locally_linear", "sklearn.manifold.locally_linear"],

    // sparse matrices (scipy), as fitted estimators hold them
    CsrMatrix = "csr_matrix" in ["scipy.sparse._csr", "scipy.sparse.csr"],
    CsrArray = "csr_array" in ["scipy.sparse._csr"],

    // splines (scipy), as a fitted SplineTransformer holds them: read, never served alone
    BSpline = "BSpline" in ["scipy.interpolate._bsplines"],

    // xgboost
    XgbClassifier = "XGBClassifier" in ["xgboost.sklearn"],
    XgbRegressor = "XGBRegressor" in ["xgboost.sklearn"],
    XgbRfClassifier = "XGBRFClassifier" in ["xgboost.sklearn"],
    XgbRfRegressor = "XGBRFRegressor" in ["xgboost.sklearn"],
    XgbRanker = "XGBRanker" in ["xgboost.sklearn"],
    /// A wrapper's booster (its model as bytes), and what a model file holds.
    XgbBooster = "Booster" in ["xgboost.core"],

    // lightgbm
    LgbmClassifier = "LGBMClassifier" in ["lightgbm.sklearn"],
    LgbmRegressor = "LGBMRegressor" in ["lightgbm.sklearn"],
    LgbmRanker = "LGBMRanker" in ["lightgbm.sklearn"],
    /// A wrapper's booster (its model as text), and what a model file holds.
    LgbmBooster = "Booster" in ["lightgbm.basic"],

    // compose: scikit-learn 1.5 and 1.6 keep a ColumnTransformer's remainder columns in a
    // list of their own (its `data`)
    RemainderColsList = "_RemainderColsList" in ["sklearn.compose._column_transformer"],

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

    // random projections and kernel approximation
    GaussianRandomProjection = "GaussianRandomProjection" in ["sklearn.random_projection"],
    SparseRandomProjection = "SparseRandomProjection" in ["sklearn.random_projection"],
    Nystroem = "Nystroem" in ["sklearn.kernel_approximation"],
    RbfSampler = "RBFSampler" in ["sklearn.kernel_approximation"],
    SkewedChi2Sampler = "SkewedChi2Sampler" in ["sklearn.kernel_approximation"],
    AdditiveChi2Sampler = "AdditiveChi2Sampler" in ["sklearn.kernel_approximation"],
    PolynomialCountSketch = "PolynomialCountSketch" in ["sklearn.kernel_approximation"],

    // iterative imputation (`sklearn.experimental.enable_iterative_imputer`)
    IterativeImputer = "IterativeImputer" in ["sklearn.impute._iterative"],
    /// One step of IterativeImputer's `imputation_sequence_`: a namedtuple of the feature it
    /// imputes, the features it reads, and the fitted estimator.
    ImputerTriplet = "_ImputerTriplet" in ["sklearn.impute._iterative"],
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

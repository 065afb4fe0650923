//! The only place that knows model files and scikit-learn: [`Model::from_bytes`] turns a file
//! into a validated model (an estimator alone, a Pipeline of transformers ending in one, or
//! transformers alone) without executing anything, whatever its format, and [`inspect`]
//! audits any file, loadable or not. Every protocol hands a model the same typed, named input
//! ([`input::Frame`]).
//!
//! # Layout
//! - `budget`: the memory one load may hold (`--max-model-bytes`), charged before it is taken.
//! - `format`: the seam of model files: each format recognised by its bytes, loaded, audited
//!   (pickles and joblib files in `format::pickled`).
//! - `joblib`: compression containers around the pickle stream.
//! - `pickle`: the restricted pickle VM, its opcodes by name.
//! - `allow`: the allow-list of globals; `sk_class`: the classes in it, one table.
//! - `value`: what the VM builds (scalars, an arena of nodes, numpy arrays and dtypes).
//! - `numpy`: decoding arrays and dtypes from their pickled form.
//! - `state`: reading an object's fitted state; errors name the step and the attribute.
//! - `input`: the typed input (columns of numbers or strings, missing values) and its errors;
//!   `mapping`: rows of named features (what DictVectorizer and FeatureHasher take).
//! - `classes`: class labels.
//! - `sparse`: sparse rows (what text vectorizers give) and their arithmetic; `scipy`: the
//!   sparse matrices a fitted estimator holds; `bspline`: scipy's B-splines (a
//!   SplineTransformer's), read and evaluated by de Boor's recursion.
//! - `estimator`: the interface of every step ([`estimator::Transformer`],
//!   [`estimator::Predictor`]), the outputs a model may give ([`Method`]) and the data between
//!   steps.
//! - `linear`, `preprocessing`, `tree`, `compose`, `meta`, `selection`, `svm`, `neighbors`, `naive_bayes`,
//!   `neural_network`, `discriminant_analysis`, `semi_supervised`, `cluster`, `mixture`, `manifold`,
//!   `covariance`, `cross_decomposition`, `gaussian`, `text`, `decomposition`, `approximation`, `iterative`:
//!   the rooms, one family of classes each (`fitted`, `pairwise`, `projection`, `special`,
//!   `sparse` and `scipy` are what several of them share); `xgboost` and `lightgbm`: the rooms of those
//!   libraries' wrappers, which also read their own model files (through `format`).
//! - `catalog`: which room reads which class, and the list of classes served.
//! - `category_codes`: the categories XGBoost and LightGBM keep, as a model's first step.
//! - `inspect`: what `skserve inspect` reports of a file.
//! - `pyfmt`: numbers as Python prints them.
//! - `simd`: hot loops run with the processor's widest vector instructions, chosen at run time.

pub mod allow;
pub mod approximation;
pub mod bspline;
pub mod budget;
pub mod catalog;
pub mod category_codes;
pub mod classes;
pub mod cluster;
pub mod compose;
pub mod covariance;
pub mod cross_decomposition;
pub mod decomposition;
pub mod discriminant_analysis;
pub mod estimator;
pub mod fitted;
pub mod format;
pub mod gaussian;
pub mod input;
pub mod inspect;
pub mod iterative;
pub mod joblib;
pub mod lightgbm;
pub mod linear;
pub mod manifold;
pub mod mapping;
pub mod meta;
pub mod mixture;
pub mod naive_bayes;
pub mod neighbors;
pub mod neural_network;
pub mod numpy;
pub mod pairwise;
pub mod pickle;
pub mod preprocessing;
pub mod projection;
pub mod pyfmt;
pub mod scipy;
pub mod selection;
pub mod semi_supervised;
pub mod simd;
pub mod sk_class;
pub mod sparse;
pub mod special;
pub mod state;
pub mod svm;
pub mod text;
pub mod tree;
pub mod value;
pub mod xgboost;

use ndarray::{Array2, ArrayView2};

pub use allow::SkClass;
pub use budget::{Budget, LoadLimits, TooLarge};
pub use classes::{Classes, Label};
pub use estimator::{Attribution, Method, Prediction, Target};
pub use format::Origin;
pub use input::{
    Absent, Cell, Column, ColumnKind, Dtype, Frame, FrameBuilder, InputError, InputSchema,
};
pub use inspect::{Inspection, inspect, inspect_within};
pub use joblib::Container;
pub use linear::{LinearClassifier, ProbaRule};
pub use mapping::{FeatureValue, Mapping};
pub use pickle::{GlobalRef, PickleError};
pub use pyfmt::{python_float, python_float_or_int};

use estimator::{Data, Needs, Predictor, Problem, Refusal, Transformer, all_within};

/// Why a model file could not be loaded. Every variant is a property of the file, never of
/// the machine: the caller decides how to report it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// The file names something that could run code.
    #[error("{0}")]
    Refused(PickleError),
    /// The bytes are not a well-formed pickle or joblib file, or an estimator's state is not
    /// what scikit-learn would have saved.
    #[error("{0}")]
    Malformed(String),
    /// A well-formed file whose estimator skserve does not serve, or cannot use.
    #[error("{0}")]
    Unsupported(String),
    /// A file that needs more memory than the loading budget allows.
    #[error("{0}")]
    TooLarge(TooLarge),
}

impl LoadError {
    /// The sentence a person reads, naming the file: `refusing to load model.pkl: it references …`.
    pub fn explain(&self, file: &str) -> String {
        match self {
            // A scikit-learn class we do not serve is refused like any other global, but the
            // person reading wants to know which estimators would work.
            Self::Refused(refused) if names_sklearn(refused) => {
                format!(
                    "refusing to load {file}: {self} (skserve serves {})",
                    catalog::supported()
                )
            }
            Self::Refused(_) => format!("refusing to load {file}: {self}"),
            _ => format!("cannot load {file}: {self}"),
        }
    }
}

/// Whether a refusal names a scikit-learn class (one skserve does not serve).
fn names_sklearn(refused: &PickleError) -> bool {
    match refused {
        PickleError::Refused(name) => name.starts_with("sklearn."),
        PickleError::RefusedNames(names) => names.iter().any(|n| n.starts_with("sklearn.")),
        _ => false,
    }
}

impl From<PickleError> for LoadError {
    fn from(e: PickleError) -> Self {
        match e {
            PickleError::Malformed { .. } => Self::Malformed(e.to_string()),
            PickleError::TooLarge(too_large) => Self::TooLarge(too_large),
            _ => Self::Refused(e),
        }
    }
}

/// Outputs scikit-learn has that skserve refuses, each with the reason: (the last step's
/// class, the output, why).
pub const WITHHELD: &[(&str, Method, &str)] = &[(
    "BernoulliRBM",
    Method::ScoreSamples,
    "BernoulliRBM's score_samples flips one randomly chosen unit of each row with numpy's \
     global generator, so its answer is not a function of the row and cannot be reproduced",
)];

/// A loaded, validated model, ready to predict. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Model {
    /// The steps before the final estimator, with their names (`preprocess > cat`).
    transformers: Vec<(String, Box<dyn Transformer>)>,
    predictor: Box<dyn Predictor>,
    /// The class of the object the file holds (`Pipeline`, `GridSearchCV`, `Ridge`).
    root: SkClass,
    /// `GridSearchCV>ColumnTransformer>LogisticRegression`.
    chain: String,
    input: InputSchema,
    /// The categories each input column takes, where an encoder knows them.
    categories: Vec<Option<Vec<String>>>,
    /// For each feature the final estimator sees, the input column it comes from.
    sources: Vec<usize>,
    /// The names of the features the final estimator sees (`cat__OPERA_Grupo LATAM`).
    feature_names: Vec<String>,
    structure: serde_json::Value,
    sklearn_version: Option<String>,
    /// What the final estimator answers, `predict` first unless it only transforms.
    methods: Vec<Method>,
    origin: Origin,
}

/// The matrix the final estimator sees, validated: rows × features, every value finite (or
/// missing where the estimator accepts it).
#[derive(Clone, Debug)]
pub struct Features<'a> {
    x: Matrix<'a>,
}

/// Borrowed from the request where the estimator reads it as sent, else computed; sparse as a
/// vectorizer gave it.
#[derive(Clone, Debug)]
enum Matrix<'a> {
    Borrowed(ArrayView2<'a, f64>),
    Owned(Array2<f64>),
    Sparse(sparse::Csr),
}

/// The features as the estimator is handed them.
#[derive(Clone, Copy, Debug)]
pub enum Rows<'a> {
    Dense(ArrayView2<'a, f64>),
    Sparse(&'a sparse::Csr),
}

impl Features<'_> {
    pub fn len(&self) -> usize {
        match self.rows() {
            Rows::Dense(x) => x.nrows(),
            Rows::Sparse(x) => x.n_rows(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn rows(&self) -> Rows<'_> {
        match &self.x {
            Matrix::Borrowed(x) => Rows::Dense(x.view()),
            Matrix::Owned(x) => Rows::Dense(x.view()),
            Matrix::Sparse(x) => Rows::Sparse(x),
        }
    }

    /// The same features, owning their values.
    pub fn into_owned(self) -> Features<'static> {
        match self.x {
            Matrix::Owned(x) => Features {
                x: Matrix::Owned(x),
            },
            Matrix::Borrowed(x) => Features {
                x: Matrix::Owned(x.to_owned()),
            },
            Matrix::Sparse(x) => Features {
                x: Matrix::Sparse(x),
            },
        }
    }

    /// Row `i`, dense.
    fn row(&self, i: usize) -> ndarray::CowArray<'_, f64, ndarray::Ix1> {
        match self.rows() {
            Rows::Dense(x) => x.index_axis_move(ndarray::Axis(0), i).into(),
            Rows::Sparse(x) => x.dense_rows(i..i + 1).row(0).to_owned().into(),
        }
    }
}

/// One row explained: each feature's part in the value the estimator computed, and the same
/// summed by the client's column.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub attribution: Attribution,
    /// The value of each feature the estimator saw.
    pub values: Vec<f64>,
    /// For each feature, the input column it comes from.
    pub sources: Vec<usize>,
}

impl From<TooLarge> for LoadError {
    fn from(e: TooLarge) -> Self {
        Self::TooLarge(e)
    }
}

/// What the model keeps for each column it takes: its name twice (as a column and as a
/// feature), its source, kind and categories, and its place in the structure `inspect`
/// prints. Charged before a model of so many columns is assembled.
pub(crate) const BYTES_PER_INPUT_COLUMN: usize = 512;

/// The name `inspect` and messages give the one input of a model whose rows are mappings of
/// named features; requests name the features themselves.
pub const MAPPING_COLUMN: &str = "features";

impl Model {
    /// Loads a model file of any format skserve reads (`format::FORMATS`), told apart by its
    /// bytes, without executing anything, within the default loading budget.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LoadError> {
        Self::from_bytes_within(bytes, LoadLimits::default())
    }

    /// [`Model::from_bytes`] holding at most `limits.max_model_bytes` at once (the file, its
    /// stream, its values, the model); a file that needs more is refused with
    /// [`LoadError::TooLarge`].
    pub fn from_bytes_within(bytes: &[u8], limits: LoadLimits) -> Result<Self, LoadError> {
        let budget = Budget::new(limits);
        budget.charge(bytes.len(), || "the file".to_owned())?;
        format::detect(bytes)?.load(bytes, &budget)
    }

    /// The model a format read: its steps, the column names it was fitted with, the class the
    /// file holds, and where it came from. Checks that each step takes what the one before it
    /// gives, and works out what each input column must be.
    pub(crate) fn assemble(
        model: compose::Model,
        names: Option<Vec<String>>,
        root: SkClass,
        sklearn_version: Option<String>,
        origin: Origin,
    ) -> Result<Self, LoadError> {
        let compose::Model {
            transformers,
            predictor,
            wrappers,
        } = model;
        let n_inputs = transformers
            .first()
            .map_or(predictor.n_features_in(), |(_, t)| t.n_features_in());
        let mut sources: Vec<usize> = (0..n_inputs).collect();
        let mut width = n_inputs;
        for (name, t) in &transformers {
            if t.n_features_in() != width {
                return Err(LoadError::Malformed(format!(
                    "step {name} ({}) takes {} features but is given {width}",
                    t.class(),
                    t.n_features_in()
                )));
            }
            sources = t.sources().iter().map(|&s| sources[s]).collect();
            width = sources.len();
        }
        if predictor.n_features_in() != width {
            return Err(LoadError::Malformed(format!(
                "{} takes {} features but the steps before it give {width}",
                predictor.class(),
                predictor.n_features_in()
            )));
        }
        // XGBoost's and LightGBM's boosters keep the names they were fitted with themselves,
        // which are the client's where the steps before them keep every column in place.
        let in_place =
            sources.len() == n_inputs && sources.iter().enumerate().all(|(i, &s)| i == s);
        let names = names.or_else(|| in_place.then(|| predictor.feature_names()).flatten());
        // What each input column must be: numbers into the estimator, back through the steps.
        let mut needs = vec![Needs::Kind(ColumnKind::Number); width];
        for (_, t) in transformers.iter().rev() {
            needs = compose::needs_before(t.as_ref(), &needs);
        }
        // Rows of named features (a DictVectorizer first) are sent by the features' names.
        let mapping = needs == [Needs::Kind(ColumnKind::Mapping)];
        let named = mapping || names.as_ref().is_some_and(|n| n.len() == n_inputs);
        let input_names: Vec<String> = match names {
            _ if mapping => vec![MAPPING_COLUMN.to_owned()],
            Some(names) if names.len() == n_inputs => names,
            _ => (0..n_inputs).map(|i| format!("x{i}")).collect(),
        };
        let columns = input_names
            .iter()
            .zip(&needs)
            .map(|(name, need)| input::InputColumn {
                name: name.clone(),
                kind: match need {
                    Needs::Kind(kind) => *kind,
                    Needs::AsOutput => ColumnKind::Number,
                },
            })
            .collect();
        let categories = (0..n_inputs)
            .map(|i| transformers.first().and_then(|(_, t)| t.categories(i)))
            .collect();
        let mut feature_names = input_names.clone();
        let mut steps = Vec::new();
        for (name, t) in &transformers {
            let mut d = t.describe(&feature_names);
            if let Some(obj) = d.as_object_mut() {
                obj.insert("step".into(), name.clone().into());
            }
            steps.push(d);
            feature_names = t.feature_names_out(&feature_names);
        }
        let mut last = predictor.describe();
        if let Some(obj) = last.as_object_mut() {
            obj.insert("features".into(), feature_names.clone().into());
        }
        steps.push(last);
        let mut chain: Vec<String> = wrappers.iter().map(|w| (*w).to_owned()).collect();
        for (_, t) in &transformers {
            chain.extend(t.chain());
        }
        // A model of transformers only ends in its transformers; a final estimator that
        // answers something else without predicting (a density's `score_samples`), or that
        // transforms and scores (PCA with its `score_samples`), is named.
        if predictor.predicts()
            || !predictor.methods().contains(&Method::Transform)
            || predictor.as_transformer().is_some()
        {
            chain.push(predictor.class().to_owned());
        }
        let methods = predictor.methods();
        Ok(Self {
            structure: serde_json::json!({ "wrappers": wrappers, "steps": steps }),
            transformers,
            predictor,
            root,
            chain: chain.join(">"),
            input: InputSchema { columns, named },
            categories,
            sources,
            feature_names,
            sklearn_version,
            methods,
            origin,
        })
    }

    /// The class the file holds: `Pipeline`, `GridSearchCV`, `LogisticRegression`.
    pub fn estimator(&self) -> &'static str {
        self.root.name()
    }

    /// The final estimator.
    pub fn predictor(&self) -> &dyn Predictor {
        self.predictor.as_ref()
    }

    /// Every class from the outside in, joined by `>`: `ColumnTransformer>LogisticRegression`.
    pub fn chain(&self) -> &str {
        &self.chain
    }

    /// The columns the model takes.
    pub fn input(&self) -> &InputSchema {
        &self.input
    }

    /// For a model of rows of named features: the features a request may name, each with what
    /// it takes (`Transformer::named_features`); `None` for any other model.
    pub fn named_features(&self) -> Option<Vec<(String, ColumnKind)>> {
        self.input.mapping_column()?;
        self.transformers.first()?.1.named_features()
    }

    /// The categories each input column takes, where an encoder knows them (for messages).
    pub fn categories(&self) -> &[Option<Vec<String>>] {
        &self.categories
    }

    /// The range input column `column` took in training, where the first step keeps it (a
    /// MinMaxScaler reading the column as sent).
    pub fn fitted_range(&self, column: usize) -> Option<(f64, f64)> {
        self.transformers.first()?.1.fitted_range(column)
    }

    /// Whether training saw a missing value in input column `column`, where the first step
    /// knows it (an encoder, a MissingIndicator reading the column as sent).
    pub fn fitted_missing(&self, column: usize) -> Option<bool> {
        self.transformers.first()?.1.fitted_missing(column)
    }

    /// A builder of named input for `n_rows` rows.
    pub fn frame_builder(&self, n_rows: usize) -> FrameBuilder<'_> {
        FrameBuilder::new(&self.input, &self.categories, n_rows)
    }

    /// The number of input columns.
    pub fn n_features(&self) -> usize {
        self.input.len()
    }

    /// Whether it has steps before the final estimator.
    pub fn is_pipeline(&self) -> bool {
        !self.transformers.is_empty()
    }

    pub fn target(&self) -> Target<'_> {
        self.predictor.target()
    }

    /// The classes of a classifier of one output; `None` for a regressor, or for a
    /// classifier of several outputs ([`Model::output_classes`]).
    pub fn classes(&self) -> Option<&Classes> {
        match self.predictor.target() {
            Target::Classes(classes) => Some(classes),
            Target::MultiClasses(_) | Target::Values { .. } => None,
        }
    }

    /// The classes of each output of a classifier (one output, or several); `None` for a
    /// regressor.
    pub fn output_classes(&self) -> Option<&[Classes]> {
        match self.predictor.target() {
            Target::Classes(classes) => Some(std::slice::from_ref(classes)),
            Target::MultiClasses(outputs) => Some(outputs),
            Target::Values { .. } => None,
        }
    }

    /// The classes as JSON: a list of labels, or a list of them per output.
    pub fn classes_json(&self) -> Option<serde_json::Value> {
        match self.predictor.target() {
            Target::Classes(classes) => Some(classes.to_json()),
            Target::MultiClasses(outputs) => Some(outputs.iter().map(Classes::to_json).collect()),
            Target::Values { .. } => None,
        }
    }

    /// The model's own column names (`feature_names_in_`), if it was fitted on a frame.
    pub fn feature_names(&self) -> Option<Vec<String>> {
        self.input
            .named
            .then(|| self.input.columns.iter().map(|c| c.name.clone()).collect())
    }

    /// The names of the features the final estimator sees.
    pub fn estimator_feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// For each feature the final estimator sees, the input column it comes from.
    pub fn sources(&self) -> &[usize] {
        &self.sources
    }

    pub fn sklearn_version(&self) -> Option<&str> {
        self.sklearn_version.as_deref()
    }

    pub fn has_predict_proba(&self) -> bool {
        self.predictor.has_predict_proba()
    }

    /// The kind of file it came from and how it was wrapped.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The serving platform V2 metadata names: the library whose estimator answers.
    pub fn platform(&self) -> &'static str {
        self.predictor.platform()
    }

    /// What it answers: `predict` first unless it only transforms, then the numeric outputs.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// Why it does not answer `method`, where scikit-learn has it but skserve refuses it
    /// (see [`WITHHELD`]).
    pub fn withheld(&self, method: Method) -> Option<&'static str> {
        let last = self.chain.rsplit('>').next().unwrap_or_default();
        WITHHELD
            .iter()
            .find(|(class, m, _)| *class == last && *m == method)
            .map(|(_, _, why)| *why)
    }

    /// Whether it answers `method`.
    pub fn has(&self, method: Method) -> bool {
        self.methods.contains(&method)
    }

    /// Whether it predicts at all (a model of transformers only answers `transform`).
    pub fn predicts(&self) -> bool {
        self.has(Method::Predict)
    }

    /// How many columns `method` gives per row.
    pub fn width(&self, method: Method) -> usize {
        self.predictor.width(method)
    }

    /// The values of a numeric method, rows × [`Model::width`]; `None` when the model does not
    /// answer it (or for `predict`, which is [`Model::predict`]).
    pub fn values(&self, method: Method, features: &Features<'_>) -> Option<Array2<f64>> {
        if method == Method::Predict || !self.has(method) {
            return None;
        }
        match features.rows() {
            Rows::Dense(x) => self.predictor.values(method, x),
            Rows::Sparse(x) => self.predictor.values_sparse(method, x),
        }
    }

    /// The structure `inspect` prints: every step with its columns and categories.
    pub fn structure(&self) -> &serde_json::Value {
        &self.structure
    }

    /// Positional rows of numbers (row-major, float64), as a 2-D tensor, the seed's form or a
    /// headerless CSV send them. A bare estimator reads them as they are; a Pipeline takes them
    /// only when every column it takes is numeric. `NaN` is a missing value.
    pub fn rows<'a>(&self, values: &'a [f64]) -> Result<Features<'a>, InputError> {
        self.rows_typed(values, Dtype::F64)
    }

    /// [`Model::rows`] for values of another numeric type (a float32 tensor).
    pub fn rows_typed<'a>(
        &self,
        values: &'a [f64],
        dtype: Dtype,
    ) -> Result<Features<'a>, InputError> {
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
        // For an estimator reading float32, values beyond its range fail the pass too.
        let limit = if self.predictor.float32_input() {
            f64::from(f32::MAX)
        } else {
            f64::MAX
        };
        let all_finite = all_within(values, limit);
        if !all_finite && let Some(i) = values.iter().position(|v| v.is_infinite()) {
            return Err(InputError::NotFinite {
                row: i / n_features + 1,
                column: i % n_features + 1,
                value: values[i],
            });
        }
        if !self.transformers.is_empty() {
            if self.input.text_column().is_some() {
                return Err(InputError::TextNeeded);
            }
            if self.input.mapping_column().is_some() {
                return Err(InputError::MappingsNeeded);
            }
            if !self.input.all_numeric() {
                return Err(InputError::NamedColumnsNeeded {
                    columns: self.input.described(),
                });
            }
            // Every column numeric: the steps take the rows as one matrix, as a Pipeline takes
            // an array, with no frame of columns in between.
            let x = ArrayView2::from_shape((values.len() / n_features, n_features), values)
                .expect("the length is a multiple of the width");
            return self.transformed(Data::Numbers {
                values: x.to_owned(),
                dtype,
            });
        }
        let x = ArrayView2::from_shape((values.len() / n_features, n_features), values)
            .expect("the length is a multiple of the width");
        let x = if dtype == Dtype::F32 {
            Matrix::Owned(x.mapv(|v| dtype.round(v)))
        } else {
            Matrix::Borrowed(x)
        };
        let features = Features { x };
        if !all_finite && let Rows::Dense(x) = features.rows() {
            self.check_missing(x)?;
        }
        if let Rows::Dense(x) = features.rows()
            && let Some(refusal) = self.predictor.refusal(x)
        {
            return Err(self.input_error(refusal, &self.sources));
        }
        Ok(features)
    }

    /// Runs the steps before the final estimator on typed input.
    pub fn features<'a>(&self, frame: &Frame) -> Result<Features<'a>, InputError> {
        if frame.n_rows == 0 {
            return Err(InputError::Empty);
        }
        if frame.columns.len() != self.n_features() {
            return Err(InputError::WrongWidth {
                row: 1,
                got: frame.columns.len(),
                expected: self.n_features(),
            });
        }
        self.transformed(Data::Frame(frame.clone()))
    }

    /// Runs the steps before the final estimator on `data`, as wide as the model's input, and
    /// validates what the estimator is given.
    fn transformed<'a>(&self, mut data: Data) -> Result<Features<'a>, InputError> {
        for (k, (_, t)) in self.transformers.iter().enumerate() {
            data = t
                .transform(data)
                .map_err(|refusal| self.input_error(refusal, &self.sources_before(k)))?;
        }
        if let Data::Sparse { values, .. } = data {
            if let Some((row, feature, value)) = values.first_not_finite() {
                return Err(InputError::NotFiniteIn {
                    row: row + 1,
                    column: self.input.columns[self.sources[feature]].name.clone(),
                    value: python_float(value),
                });
            }
            if let Some(refusal) = self.predictor.refusal_sparse(&values) {
                return Err(self.input_error(refusal, &self.sources));
            }
            return Ok(Features {
                x: Matrix::Sparse(values),
            });
        }
        let (x, _) = data
            .into_numbers(self.predictor.class())
            .map_err(|refusal| self.input_error(refusal, &self.sources))?;
        self.check_missing(x.view())?;
        if let Some(refusal) = self.predictor.refusal(x.view()) {
            return Err(self.input_error(refusal, &self.sources));
        }
        Ok(Features {
            x: Matrix::Owned(x),
        })
    }

    /// For each input of transformer `k`, the input column it comes from (worked out only
    /// for a refusal, so that the rows that pass pay nothing for it).
    fn sources_before(&self, k: usize) -> Vec<usize> {
        let mut sources: Vec<usize> = (0..self.n_features()).collect();
        for (_, t) in &self.transformers[..k] {
            sources = t.sources().iter().map(|&s| sources[s]).collect();
        }
        sources
    }

    /// Refuses missing and infinite values the final estimator cannot take (and, for one
    /// reading float32, values beyond its range), naming the input column they came from.
    fn check_missing(&self, x: ArrayView2<'_, f64>) -> Result<(), InputError> {
        let float32 = self.predictor.float32_input();
        let limit = if float32 {
            f64::from(f32::MAX)
        } else {
            f64::MAX
        };
        // A branch-free pass that vectorises; the search below only when it fails.
        if let Some(values) = x.as_slice()
            && all_within(values, limit)
        {
            return Ok(());
        }
        for ((row, feature), &v) in x.indexed_iter() {
            let too_large = float32 && v.is_finite() && v.abs() > f64::from(f32::MAX);
            if v.is_finite() && !too_large {
                continue;
            }
            let column = self.input.columns[self.sources[feature]].name.clone();
            if too_large {
                return Err(InputError::TooLargeForFloat32 {
                    row: row + 1,
                    column,
                    value: python_float(v),
                    step: self.predictor.class().to_owned(),
                });
            }
            if v.is_nan() {
                if self.predictor.accepts_missing() {
                    continue;
                }
                return Err(InputError::MissingValue {
                    row: row + 1,
                    column,
                    step: self.predictor.class().to_owned(),
                });
            }
            return Err(InputError::NotFiniteIn {
                row: row + 1,
                column,
                value: python_float(v),
            });
        }
        Ok(())
    }

    fn input_error(&self, refusal: Refusal, sources: &[usize]) -> InputError {
        let column = self.input.columns[sources[refusal.feature]].name.clone();
        let row = refusal.row + 1;
        match refusal.problem {
            Problem::Missing { step } => InputError::MissingValue { row, column, step },
            Problem::Text { step } => InputError::TextReachesNumbers { row, column, step },
            Problem::Inexact { step, reason } => InputError::Inexact {
                row,
                column,
                step,
                reason,
            },
            Problem::UnknownCategory { value, allowed } => InputError::UnknownCategory {
                row,
                column,
                value,
                allowed,
            },
            Problem::NoAnswer { step, reason } => InputError::NoAnswer { row, step, reason },
            Problem::OutOfRange { step, reason } => InputError::OutOfRange {
                row,
                column,
                step,
                reason,
            },
        }
    }

    /// `predict`.
    pub fn predict(&self, features: &Features<'_>) -> Prediction {
        match features.rows() {
            Rows::Dense(x) => self.predictor.predict(x),
            Rows::Sparse(x) => self.predictor.predict_sparse(x),
        }
    }

    /// `predict_proba`, `rows × n_classes`; `None` when the estimator has none (as
    /// scikit-learn raises AttributeError).
    pub fn predict_proba(&self, features: &Features<'_>) -> Option<Array2<f64>> {
        match features.rows() {
            Rows::Dense(x) => self.predictor.predict_proba(x),
            Rows::Sparse(x) => self.predictor.values_sparse(Method::PredictProba, x),
        }
    }

    /// `predict` and `predict_proba` together, from one pass over the rows where the estimator
    /// allows it; the probabilities are `None` as [`Model::predict_proba`]'s are.
    pub fn predict_with_proba(&self, features: &Features<'_>) -> (Prediction, Option<Array2<f64>>) {
        match features.rows() {
            Rows::Dense(x) => self.predictor.predict_with_proba(x),
            Rows::Sparse(x) => self.predictor.predict_with_proba_sparse(x),
        }
    }

    /// `decision_function`, `rows × n_outputs` (one column for binary classifiers).
    pub fn decision_function(&self, features: &Features<'_>) -> Option<Array2<f64>> {
        match features.rows() {
            Rows::Dense(x) => self.predictor.decision_function(x),
            Rows::Sparse(x) => self.predictor.values_sparse(Method::DecisionFunction, x),
        }
    }

    /// Why [`Model::explain`] gives nothing for this model, where it can say.
    pub fn unexplained_because(&self) -> Option<String> {
        if let Some((name, t)) = self.transformers.iter().find(|(_, t)| t.mixes_features()) {
            return Some(format!(
                "step {name} ({}) mixes the columns, so no feature's part can be traced to one",
                t.class()
            ));
        }
        self.predictor.unexplained_because()
    }

    /// Row `row` taken apart feature by feature, given the class predicted for it.
    pub fn explain(
        &self,
        features: &Features<'_>,
        row: usize,
        predicted: Option<usize>,
    ) -> Option<Explained> {
        if self.transformers.iter().any(|(_, t)| t.mixes_features()) {
            return None;
        }
        let x = features.row(row);
        let attribution = self.predictor.attribution(x.view(), predicted)?;
        Some(Explained {
            attribution,
            values: x.to_vec(),
            sources: self.sources.clone(),
        })
    }
}

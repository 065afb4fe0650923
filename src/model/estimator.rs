//! The one interface of every fitted step: [`Transformer`] for the steps that turn data into
//! data (scalers, encoders, imputers, ColumnTransformer, Pipeline), [`Predictor`] for the
//! final estimator (linear models here; trees plug in the same way), and the [`Data`] that
//! flows between them: a numeric matrix (ndarray, rows × features), a sparse one (what the
//! text vectorizers give), or, while strings are still about, a [`Frame`] of typed columns.
//!
//! A step refuses a value it cannot take with a [`Refusal`] naming its own input feature; the
//! model maps that feature back to the client's column (`Model::features`). Nothing here reads
//! pickles: the rooms (`linear`, `preprocessing`, `compose`) read their classes and build these.

use std::fmt;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use super::classes::Classes;
use super::input::{Cell, Column, ColumnKind, Dtype, Frame};
use super::sparse::Csr;

/// What flows between steps.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// Every column numeric: rows × features, `NaN` where a value is missing.
    Numbers { values: Array2<f64>, dtype: Dtype },
    /// Columns of their own kinds, strings among them (a DataFrame with object columns).
    Frame(Frame),
    /// Every column numeric, most values zero and not stored (a vectorizer's counts).
    Sparse { values: Csr, dtype: Dtype },
}

impl Data {
    pub fn n_rows(&self) -> usize {
        match self {
            Self::Numbers { values, .. } => values.nrows(),
            Self::Frame(frame) => frame.n_rows,
            Self::Sparse { values, .. } => values.n_rows(),
        }
    }

    pub fn n_columns(&self) -> usize {
        match self {
            Self::Numbers { values, .. } => values.ncols(),
            Self::Frame(frame) => frame.columns.len(),
            Self::Sparse { values, .. } => values.n_cols(),
        }
    }

    /// One value, as encoders and imputers read them.
    pub fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        match self {
            Self::Numbers { values, .. } => {
                let v = values[[row, column]];
                if v.is_nan() {
                    Cell::Missing
                } else {
                    Cell::Number(v)
                }
            }
            Self::Frame(frame) => frame.columns[column].cell(row),
            Self::Sparse { values, .. } => Cell::Number(values.get(row, column)),
        }
    }

    /// The first value (row by row) that [`Data::cell`] reads as missing, as (row, feature).
    pub fn first_missing(&self) -> Option<(usize, usize)> {
        if let Self::Numbers { values, .. } = self
            && let Some(flat) = values.as_slice()
            && flat.iter().fold(true, |ok, v| ok & !v.is_nan())
        {
            return None;
        }
        (0..self.n_rows()).find_map(|row| {
            (0..self.n_columns())
                .find(|&feature| matches!(self.cell(row, feature), Cell::Missing))
                .map(|feature| (row, feature))
        })
    }

    /// The numeric type of a column (`None` for strings).
    pub fn dtype_of(&self, column: usize) -> Option<Dtype> {
        match self {
            Self::Numbers { dtype, .. } | Self::Sparse { dtype, .. } => Some(*dtype),
            Self::Frame(frame) => match &frame.columns[column] {
                Column::Numbers { dtype, .. } => Some(*dtype),
                Column::Texts(_) | Column::Mappings(_) => None,
            },
        }
    }

    /// The data as a numeric matrix, as `check_array` makes one: every column numeric, the
    /// dtype their common type. A string column is refused on its first row.
    pub fn into_numbers(self, step: &str) -> Result<(Array2<f64>, Dtype), Refusal> {
        match self {
            Self::Numbers { values, dtype } => Ok((values, dtype)),
            Self::Sparse { values, dtype } => Ok((values.to_dense(), dtype)),
            Self::Frame(frame) => {
                let mut dtype: Option<Dtype> = None;
                let mut values = Array2::zeros((frame.n_rows, frame.columns.len()));
                for (j, column) in frame.columns.iter().enumerate() {
                    match column {
                        Column::Numbers {
                            values: v,
                            dtype: d,
                        } => {
                            dtype = Some(dtype.map_or(*d, |t| t.promote(*d)));
                            values
                                .column_mut(j)
                                .iter_mut()
                                .zip(v)
                                .for_each(|(o, x)| *o = *x);
                        }
                        Column::Texts(texts) => {
                            // A column of nothing but missing values is what pandas would
                            // hold as float NaN: numeric.
                            if let Some(row) = texts.iter().position(Option::is_some) {
                                return Err(Refusal {
                                    row,
                                    feature: j,
                                    problem: Problem::Text {
                                        step: step.to_owned(),
                                    },
                                });
                            }
                            values.column_mut(j).fill(f64::NAN);
                            dtype = Some(dtype.map_or(Dtype::F64, |t| t.promote(Dtype::F64)));
                        }
                        Column::Mappings(_) => {
                            return Err(Refusal {
                                row: 0,
                                feature: j,
                                problem: Problem::Text {
                                    step: step.to_owned(),
                                },
                            });
                        }
                    }
                }
                Ok((values, dtype.unwrap_or(Dtype::F64)))
            }
        }
    }

    /// The numeric matrix a float step works on (`check_array(dtype=FLOAT_DTYPES)`).
    pub fn into_floats(self, step: &str) -> Result<(Array2<f64>, Dtype), Refusal> {
        let (values, dtype) = self.into_numbers(step)?;
        Ok((values, dtype.as_float()))
    }

    /// The columns at `indices`, in that order (a ColumnTransformer's selection).
    pub fn select(&self, indices: &[usize]) -> Data {
        match self {
            Self::Numbers { values, dtype } => {
                // Row by row, so that the result is row-major as the steps after read it.
                let mut out = Vec::with_capacity(values.nrows() * indices.len());
                for row in values.rows() {
                    out.extend(indices.iter().map(|&i| row[i]));
                }
                Self::Numbers {
                    values: Array2::from_shape_vec((values.nrows(), indices.len()), out)
                        .expect("one value per row and index"),
                    dtype: *dtype,
                }
            }
            Self::Frame(frame) => Self::Frame(Frame {
                n_rows: frame.n_rows,
                columns: indices.iter().map(|&i| frame.columns[i].clone()).collect(),
            }),
            Self::Sparse { values, dtype } => Self::Sparse {
                values: values.select_columns(indices),
                dtype: *dtype,
            },
        }
    }

    /// Blocks side by side (`np.hstack`): a matrix when every block is numeric (sparse when
    /// one of them is, as `scipy.sparse.hstack`), else a frame.
    pub fn hstack(parts: Vec<Data>, n_rows: usize) -> Data {
        if parts.len() == 1 {
            return parts.into_iter().next().expect("one part");
        }
        let numeric = parts.iter().all(|p| !matches!(p, Self::Frame(_)));
        if numeric && parts.iter().any(|p| matches!(p, Self::Sparse { .. })) {
            let mut dtype: Option<Dtype> = None;
            let blocks: Vec<Csr> = parts
                .into_iter()
                .map(|part| match part {
                    Self::Sparse { values, dtype: d } => {
                        dtype = Some(dtype.map_or(d, |t| t.promote(d)));
                        values
                    }
                    Self::Numbers { values, dtype: d } => {
                        dtype = Some(dtype.map_or(d, |t| t.promote(d)));
                        Csr::from_dense(values.view())
                    }
                    Self::Frame(_) => unreachable!("every part is numeric"),
                })
                .collect();
            return Self::Sparse {
                values: Csr::hstack(&blocks, n_rows),
                dtype: dtype.unwrap_or(Dtype::F64),
            };
        }
        if parts.iter().all(|p| matches!(p, Self::Numbers { .. })) {
            let width = parts.iter().map(Data::n_columns).sum();
            let mut values = Array2::zeros((n_rows, width));
            let mut dtype: Option<Dtype> = None;
            let mut at = 0;
            for part in parts {
                if let Self::Numbers {
                    values: v,
                    dtype: d,
                } = part
                {
                    let w = v.ncols();
                    values
                        .slice_axis_mut(Axis(1), ndarray::Slice::from(at..at + w))
                        .assign(&v);
                    at += w;
                    dtype = Some(dtype.map_or(d, |t| t.promote(d)));
                }
            }
            return Self::Numbers {
                values,
                dtype: dtype.unwrap_or(Dtype::F64),
            };
        }
        let mut columns = Vec::new();
        for part in parts {
            let part = match part {
                Self::Sparse { values, dtype } => Self::Numbers {
                    values: values.to_dense(),
                    dtype,
                },
                other => other,
            };
            match part {
                Self::Frame(frame) => columns.extend(frame.columns),
                Self::Sparse { .. } => unreachable!("made dense above"),
                Self::Numbers { values, dtype } => {
                    columns.extend(values.columns().into_iter().map(|c| Column::Numbers {
                        values: c.to_vec(),
                        dtype,
                    }))
                }
            }
        }
        Self::Frame(Frame { n_rows, columns })
    }
}

/// Whether every value is finite and at most `limit` in magnitude (NaN fails): a branch-free
/// pass that vectorises, for the common case where nothing is wrong.
pub fn all_within(values: &[f64], limit: f64) -> bool {
    values
        .chunks(64)
        .all(|chunk| chunk.iter().fold(true, |ok, v| ok & (v.abs() <= limit)))
}

/// The first value of `x` (row by row) that is NaN or infinite, as (row, feature).
pub fn first_not_finite(x: ArrayView2<'_, f64>) -> Option<(usize, usize)> {
    if let Some(values) = x.as_slice()
        && all_within(values, f64::MAX)
    {
        return None;
    }
    x.indexed_iter()
        .find(|(_, v)| !v.is_finite())
        .map(|(at, _)| at)
}

/// `a`'s rows then `b`'s.
fn stack_rows(a: Array2<f64>, b: Array2<f64>) -> Array2<f64> {
    ndarray::concatenate(Axis(0), &[a.view(), b.view()]).expect("same width")
}

/// The values of consecutive blocks of rows, one after the other (`None` if any is).
fn concat_values(parts: impl Iterator<Item = Option<Array2<f64>>>) -> Option<Array2<f64>> {
    let mut out: Option<Array2<f64>> = None;
    for part in parts {
        let part = part?;
        out = Some(match out {
            None => part,
            Some(all) => stack_rows(all, part),
        });
    }
    out
}

/// A value a step cannot take, at its own input `feature` (from 0) and `row` (from 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    pub row: usize,
    pub feature: usize,
    pub problem: Problem,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// A missing value reached a step that needs a value (`step` names it).
    Missing { step: String },
    /// A string reached a step that takes numbers.
    Text { step: String },
    /// A category the encoder did not see in training, under `handle_unknown="error"`.
    UnknownCategory { value: String, allowed: String },
    /// A row the estimator has no answer for (`step` names it, `reason` says why), as
    /// scikit-learn raises on it.
    NoAnswer { step: String, reason: String },
    /// A value the step cannot transform exactly as scikit-learn would (a document whose
    /// tokens the pattern cannot cut as Python's `re` cuts them), refused rather than
    /// approximated.
    Inexact { step: String, reason: String },
    /// A value outside the range a step was fitted on, where it was fitted to refuse one
    /// (`step` names it, `reason` says the value and the range), as scikit-learn raises on it.
    OutOfRange { step: String, reason: String },
}

/// What a step needs of one of its input features.
#[derive(Clone, Debug, PartialEq)]
pub enum Needs {
    /// Decided by this step: numbers or strings.
    Kind(ColumnKind),
    /// Whatever the steps after need of the output features it becomes (identity-like steps:
    /// `passthrough`, `FunctionTransformer()`).
    AsOutput,
}

/// A fitted transformer.
pub trait Transformer: fmt::Debug + Send + Sync {
    /// The scikit-learn class, `StandardScaler`.
    fn class(&self) -> &'static str;
    fn n_features_in(&self) -> usize;
    /// For each output feature, the input feature it is computed from.
    fn sources(&self) -> Vec<usize>;
    /// The output features' names given the input features' (`get_feature_names_out`).
    fn feature_names_out(&self, input: &[String]) -> Vec<String>;
    /// What each input feature must be.
    fn needs(&self) -> Vec<Needs>;
    /// The categories an input feature takes, for messages and `inspect`.
    fn categories(&self, _feature: usize) -> Option<Vec<String>> {
        None
    }
    /// For a step of rows of named features ([`ColumnKind::Mapping`]): the features a request
    /// may name, each with what it takes (V2 metadata lists them).
    fn named_features(&self) -> Option<Vec<(String, ColumnKind)>> {
        None
    }
    /// The range of values an input feature took in training, where the step keeps it
    /// (MinMaxScaler's `data_min_` and `data_max_`): model health counts a value outside it.
    fn fitted_range(&self, _feature: usize) -> Option<(f64, f64)> {
        None
    }
    /// Whether training saw a missing value in an input feature, where the step knows it (an
    /// encoder's missing category, a MissingIndicator's `features_`): model health counts a
    /// missing value where training had none.
    fn fitted_missing(&self, _feature: usize) -> Option<bool> {
        None
    }
    fn transform(&self, data: Data) -> Result<Data, Refusal>;
    /// Whether an output mixes several inputs (a projection): its `sources` then name only
    /// one of them, and an explanation by the client's columns cannot pass through it.
    fn mixes_features(&self) -> bool {
        false
    }
    /// `inverse_transform` of numbers (a TransformedTargetRegressor's predictions), rows ×
    /// its output features in, rows × its input features out; `None` when it has none.
    fn inverse_transform(&self, _values: Array2<f64>) -> Option<Array2<f64>> {
        None
    }
    /// The classes it is built of, outermost first (`ColumnTransformer`, or the steps of a
    /// Pipeline), for the estimator chain.
    fn chain(&self) -> Vec<String> {
        vec![self.class().to_owned()]
    }
    /// What `inspect` shows of it.
    fn describe(&self, input: &[String]) -> serde_json::Value;
}

/// What a final estimator predicts.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Classes(&'a Classes),
    /// A classifier of several outputs (`classes_` a list): each output's classes.
    MultiClasses(&'a [Classes]),
    /// `n_outputs` values per row; `one_d` when scikit-learn returns a 1-D array.
    Values {
        n_outputs: usize,
        one_d: bool,
    },
}

/// `predict`'s answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Prediction {
    /// An index into the classes for each row.
    Classes(Vec<usize>),
    /// Rows × outputs of a classifier of several outputs: each an index into its output's
    /// classes.
    MultiClasses(Array2<usize>),
    /// Rows × outputs.
    Values(Array2<f64>),
}

impl Prediction {
    /// Predictions of consecutive blocks of rows, one after the other.
    pub fn concat(parts: Vec<Prediction>) -> Prediction {
        let mut parts = parts.into_iter();
        let Some(first) = parts.next() else {
            return Prediction::Classes(Vec::new());
        };
        parts.fold(first, |all, next| match (all, next) {
            (Self::Classes(mut a), Self::Classes(b)) => {
                a.extend(b);
                Self::Classes(a)
            }
            (Self::MultiClasses(a), Self::MultiClasses(b)) => Self::MultiClasses(
                ndarray::concatenate(Axis(0), &[a.view(), b.view()]).expect("same outputs"),
            ),
            (Self::Values(a), Self::Values(b)) => Self::Values(stack_rows(a, b)),
            (all, _) => unreachable!("one predictor predicts one kind: {all:?}"),
        })
    }

    pub fn n_rows(&self) -> usize {
        match self {
            Self::Classes(indices) => indices.len(),
            Self::MultiClasses(indices) => indices.nrows(),
            Self::Values(values) => values.nrows(),
        }
    }
}

/// One row's prediction taken apart feature by feature: `output = base + Σ contributions`.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution {
    /// The class whose decision value is explained (for a binary classifier, the second).
    pub explained_class: Option<usize>,
    /// The intercept (linear models) or the expected value (trees).
    pub base: f64,
    /// One per feature the estimator sees.
    pub contributions: Vec<f64>,
    /// The weight of each feature, where the estimator has weights.
    pub weights: Option<Vec<f64>>,
    /// The value explained: the decision function, or a regressor's value before its link.
    pub output: f64,
}

/// What a request may ask of a model: each output named as the scikit-learn method that
/// computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// `predict`: labels for a classifier, values for a regressor, -1/1 for an outlier
    /// detector.
    Predict,
    /// `predict_proba`: rows × classes (each output's classes side by side for several).
    PredictProba,
    /// `decision_function`: rows × 1 for a binary classifier or an outlier detector, rows ×
    /// classes otherwise.
    DecisionFunction,
    /// `score_samples`: one score per row (outlier detectors, density models).
    ScoreSamples,
    /// `transform`: the features the model maps a row to (clusters' distances, components).
    Transform,
    /// `predict(X, return_std=True)[1]`: the standard deviation of a Bayesian or Gaussian
    /// process regressor's prediction.
    PredictStd,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Method::Predict,
        Method::PredictProba,
        Method::DecisionFunction,
        Method::ScoreSamples,
        Method::Transform,
        Method::PredictStd,
    ];

    /// The output's name, as the protocols and the metadata give it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Predict => "predict",
            Self::PredictProba => "predict_proba",
            Self::DecisionFunction => "decision_function",
            Self::ScoreSamples => "score_samples",
            Self::Transform => "transform",
            Self::PredictStd => "predict_std",
        }
    }

    /// The method an output name asks for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fitted final estimator.
pub trait Predictor: fmt::Debug + Send + Sync {
    fn class(&self) -> &'static str;
    fn n_features_in(&self) -> usize;
    fn target(&self) -> Target<'_>;
    /// What it answers, in the order metadata lists them: [`Method::Predict`] first unless it
    /// only transforms, then the numeric outputs it has.
    fn methods(&self) -> Vec<Method>;
    /// The values of a numeric method (any of [`Predictor::methods`] but `Predict`), rows ×
    /// [`Predictor::width`]; `None` for a method it does not have. New methods need only this;
    /// `predict_proba` and `decision_function` are reached through their own functions.
    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::PredictProba => self.predict_proba(x),
            Method::DecisionFunction => self.decision_function(x),
            Method::Predict | Method::ScoreSamples | Method::Transform | Method::PredictStd => None,
        }
    }
    /// How many columns `method` gives per row. The default follows the target; an estimator
    /// whose `transform` (or anything else) differs says so.
    fn width(&self, method: Method) -> usize {
        let classes = |target: Target<'_>| match target {
            Target::Classes(classes) => classes.len(),
            Target::MultiClasses(outputs) => outputs.iter().map(Classes::len).sum(),
            Target::Values { n_outputs, .. } => n_outputs,
        };
        match (method, self.target()) {
            (Method::Predict, Target::Classes(_)) => 1,
            (Method::Predict, Target::MultiClasses(outputs)) => outputs.len(),
            (Method::Predict | Method::PredictStd, Target::Values { n_outputs, .. }) => n_outputs,
            (Method::PredictProba, target) => classes(target),
            (Method::DecisionFunction, Target::Classes(c)) if c.len() == 2 => 1,
            (Method::DecisionFunction, target) => classes(target),
            (Method::ScoreSamples | Method::PredictStd, _) => 1,
            (Method::Transform, _) => 0,
        }
    }
    /// Whether it predicts at all: `false` for a model of transformers only, which answers
    /// `transform`.
    fn predicts(&self) -> bool {
        true
    }
    /// Whether a missing value may reach it (HistGradientBoosting, trees with a missing-value
    /// direction); linear models refuse one.
    fn accepts_missing(&self) -> bool {
        false
    }
    /// Whether it reads its input as float32 (`check_array(dtype=np.float32)`, as trees do),
    /// so that a value beyond float32's range is refused as scikit-learn refuses it.
    fn float32_input(&self) -> bool {
        false
    }
    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction;
    /// `rows × n_classes`, or `None` when scikit-learn has no `predict_proba` for it. A
    /// classifier of several outputs puts each output's classes side by side, in order (the
    /// `np.hstack` of the list scikit-learn returns).
    fn predict_proba(&self, _x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        None
    }
    /// `rows × n_outputs` (one column for binary classifiers), or `None` without one.
    fn decision_function(&self, _x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        None
    }
    fn has_predict_proba(&self) -> bool {
        false
    }
    /// `predict` and `predict_proba` of the same rows, for a request that asks for both. An
    /// estimator that derives both from one pass over the rows answers from that one pass.
    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        (self.predict(x), self.predict_proba(x))
    }
    /// `predict` of sparse rows. The default makes them dense a block of rows at a time; an
    /// estimator that reads sparse rows as they are (the linear models) overrides it.
    fn predict_sparse(&self, x: &Csr) -> Prediction {
        Prediction::concat(
            x.dense_blocks()
                .map(|rows| self.predict(x.dense_rows(rows).view()))
                .collect(),
        )
    }
    /// [`Predictor::values`] of sparse rows, dense a block at a time unless overridden.
    fn values_sparse(&self, method: Method, x: &Csr) -> Option<Array2<f64>> {
        concat_values(
            x.dense_blocks()
                .map(|rows| self.values(method, x.dense_rows(rows).view())),
        )
    }
    /// [`Predictor::predict_with_proba`] of sparse rows, dense a block at a time unless
    /// overridden.
    fn predict_with_proba_sparse(&self, x: &Csr) -> (Prediction, Option<Array2<f64>>) {
        let mut predictions = Vec::new();
        let mut proba = Some(Vec::new());
        for rows in x.dense_blocks() {
            let (p, q) = self.predict_with_proba(x.dense_rows(rows).view());
            predictions.push(p);
            proba = proba.zip(q).map(|(mut all, q)| {
                all.push(Some(q));
                all
            });
        }
        (
            Prediction::concat(predictions),
            proba.and_then(|parts| concat_values(parts.into_iter())),
        )
    }
    /// One row taken apart feature by feature, given the class predicted for it; `None` when
    /// it cannot be explained exactly.
    fn attribution(
        &self,
        _row: ArrayView1<'_, f64>,
        _predicted: Option<usize>,
    ) -> Option<Attribution> {
        None
    }
    /// The first value of `x` it cannot take (a category beyond those CategoricalNB counted),
    /// refused as scikit-learn raises on it; `None` when it takes every value.
    fn refusal(&self, _x: ArrayView2<'_, f64>) -> Option<Refusal> {
        None
    }
    /// [`Predictor::refusal`] of sparse rows, dense a block at a time: sparse rows are
    /// refused where the same rows dense would be.
    fn refusal_sparse(&self, x: &Csr) -> Option<Refusal> {
        x.dense_blocks().find_map(|rows| {
            let start = rows.start;
            self.refusal(x.dense_rows(rows).view())
                .map(|refusal| Refusal {
                    row: refusal.row + start,
                    ..refusal
                })
        })
    }
    /// Why [`Predictor::attribution`] gives nothing for it, for the refusal of an
    /// explanation; `None` leaves the general sentence.
    fn unexplained_because(&self) -> Option<String> {
        None
    }
    /// The same fitted estimator as a transformer, for one that is both (a
    /// LinearDiscriminantAnalysis, an RFE keeping the columns it selected): what a Pipeline
    /// uses when it is not the last step; `None` for an estimator that only predicts.
    fn as_transformer(&self) -> Option<Box<dyn Transformer>> {
        None
    }
    /// The library whose estimator this is, as V2 metadata's `platform` names it.
    fn platform(&self) -> &'static str {
        "sklearn"
    }
    /// The column names it was fitted with, where it keeps them itself (XGBoost's and
    /// LightGBM's boosters) rather than in `feature_names_in_`.
    fn feature_names(&self) -> Option<Vec<String>> {
        None
    }
    /// What `inspect` shows of it.
    fn describe(&self) -> serde_json::Value;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A predictor that only knows dense rows: the sum of each row.
    #[derive(Debug)]
    struct RowSums;

    impl Predictor for RowSums {
        fn class(&self) -> &'static str {
            "RowSums"
        }
        fn n_features_in(&self) -> usize {
            3
        }
        fn target(&self) -> Target<'_> {
            Target::Values {
                n_outputs: 1,
                one_d: true,
            }
        }
        fn methods(&self) -> Vec<Method> {
            vec![Method::Predict]
        }
        fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
            Prediction::Values(x.sum_axis(Axis(1)).insert_axis(Axis(1)))
        }
        fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
            Some(x.to_owned())
        }
        /// Refuses the first row whose sum is negative.
        fn refusal(&self, x: ArrayView2<'_, f64>) -> Option<Refusal> {
            let row = x.rows().into_iter().position(|r| r.sum() < 0.0)?;
            Some(Refusal {
                row,
                feature: 0,
                problem: Problem::NoAnswer {
                    step: "RowSums".into(),
                    reason: "a negative sum".into(),
                },
            })
        }
        fn describe(&self) -> serde_json::Value {
            serde_json::Value::Null
        }
    }

    #[test]
    fn sparse_rows_are_refused_where_the_same_rows_dense_are() {
        let mut x = Array2::zeros((5000, 3));
        x[[4321, 1]] = -1.0;
        x[[4500, 2]] = -2.0;
        let refused = RowSums.refusal_sparse(&Csr::from_dense(x.view()));
        assert_eq!(refused, RowSums.refusal(x.view()));
        assert_eq!(refused.map(|r| r.row), Some(4321));
        x[[4321, 1]] = 0.0;
        x[[4500, 2]] = 0.0;
        assert_eq!(RowSums.refusal_sparse(&Csr::from_dense(x.view())), None);
    }

    #[test]
    fn a_dense_predictor_takes_sparse_rows_through_the_default() {
        let x = ndarray::array![[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [0.0, -4.0, 0.5]];
        let sparse = Csr::from_dense(x.view());
        assert_eq!(RowSums.predict_sparse(&sparse), RowSums.predict(x.view()));
        assert_eq!(
            RowSums.values_sparse(Method::DecisionFunction, &sparse),
            Some(x.clone())
        );
        assert_eq!(RowSums.values_sparse(Method::PredictProba, &sparse), None);
        let (p, q) = RowSums.predict_with_proba_sparse(&sparse);
        assert_eq!(p, RowSums.predict(x.view()));
        assert_eq!(q, None);
    }

    #[test]
    fn sparse_blocks_stack_side_by_side() {
        let dense = Data::Numbers {
            values: ndarray::array![[1.0], [2.0]],
            dtype: Dtype::F32,
        };
        let sparse = Data::Sparse {
            values: Csr::from_dense(ndarray::array![[0.0, 3.0], [0.0, 0.0]].view()),
            dtype: Dtype::F64,
        };
        let stacked = Data::hstack(vec![dense, sparse], 2);
        let Data::Sparse { values, dtype } = stacked else {
            panic!("{stacked:?}")
        };
        assert_eq!(dtype, Dtype::F64);
        assert_eq!(
            values.to_dense(),
            ndarray::array![[1.0, 0.0, 3.0], [2.0, 0.0, 0.0]]
        );
    }
}

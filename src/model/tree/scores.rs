//! How a boosting model's raw scores (`rows × k`, row-major, one column per tree of an
//! iteration) become `predict`, `predict_proba`, `decision_function` and the column `explain`
//! takes apart: shared by GradientBoosting and HistGradientBoosting, whose links differ but
//! whose shapes do not. Each model says how it sums its trees and what its link is
//! ([`RawScores`]); the answers are shaped here once.
//!
//! What must not live here: any link or loss (each estimator's own [`RawScores`]).

use ndarray::{Array2, ArrayView2};

use crate::model::classes::Classes;
use crate::model::estimator::Prediction;

/// A boosting model as its raw scores: how rows become `k` raw values each, and how one row's
/// values become a class, probabilities or a regressor's prediction.
pub trait RawScores {
    /// Raw values per row: one for regressors and binary classifiers, one per class otherwise.
    fn k(&self) -> usize;
    /// `None` for a regressor.
    fn classes(&self) -> Option<&Classes>;
    /// `rows × k`, row-major.
    fn raw(&self, x: ArrayView2<'_, f64>) -> Vec<f64>;
    /// The class `predict` chooses from one row's raw values.
    fn class_of(&self, raw: &[f64]) -> usize;
    /// One row's probabilities (`n_classes` long) from its raw values.
    fn proba_row(&self, raw: &[f64], out: &mut [f64]);
    /// A regressor's prediction from its raw value: the inverse of its link.
    fn value_of(&self, raw: f64) -> f64;
}

/// `predict`: a class per row, or a regressor's values as one column.
pub fn predict(model: &impl RawScores, x: ArrayView2<'_, f64>) -> Prediction {
    labelled(model, model.raw(x))
}

/// `predict_proba`, `None` for a regressor.
pub fn predict_proba(model: &impl RawScores, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    let classes = model.classes()?;
    Some(probabilities(
        &model.raw(x),
        model.k(),
        classes.len(),
        |r, o| model.proba_row(r, o),
    ))
}

/// `decision_function`, `None` for a regressor.
pub fn decision_function(model: &impl RawScores, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    model.classes()?;
    Some(decision(model.raw(x), model.k()))
}

/// `predict` and `predict_proba` from one sum of the trees.
pub fn predict_with_proba(
    model: &impl RawScores,
    x: ArrayView2<'_, f64>,
) -> (Prediction, Option<Array2<f64>>) {
    let raw = model.raw(x);
    let proba = model
        .classes()
        .map(|classes| probabilities(&raw, model.k(), classes.len(), |r, o| model.proba_row(r, o)));
    (labelled(model, raw), proba)
}

fn labelled(model: &impl RawScores, raw: Vec<f64>) -> Prediction {
    let k = model.k();
    match model.classes() {
        Some(_) => Prediction::Classes(raw.chunks_exact(k).map(|r| model.class_of(r)).collect()),
        None => {
            let rows = raw.len();
            let values = raw.into_iter().map(|v| model.value_of(v)).collect();
            Prediction::Values(Array2::from_shape_vec((rows, 1), values).expect("rows × 1"))
        }
    }
}

/// `rows × n_classes` probabilities, `proba_row` turning each row of `k` raw scores into
/// `n_classes` probabilities.
pub fn probabilities(
    raw: &[f64],
    k: usize,
    n_classes: usize,
    proba_row: impl Fn(&[f64], &mut [f64]),
) -> Array2<f64> {
    let rows = raw.len() / k;
    let mut out = Array2::zeros((rows, n_classes));
    let flat = out.as_slice_mut().expect("a new array is contiguous");
    for (r, o) in raw.chunks_exact(k).zip(flat.chunks_exact_mut(n_classes)) {
        proba_row(r, o);
    }
    out
}

/// The raw scores as `decision_function` returns them.
pub fn decision(raw: Vec<f64>, k: usize) -> Array2<f64> {
    let rows = raw.len() / k;
    Array2::from_shape_vec((rows, k), raw).expect("rows × k")
}

/// The raw column `explain` takes apart and the class it belongs to: a binary classifier's
/// single column (the second class), the predicted class's for multiclass, a regressor's
/// value. `None` when a multiclass row comes without its predicted class.
pub fn explained_column(
    classifier: bool,
    k: usize,
    predicted: Option<usize>,
) -> Option<(usize, Option<usize>)> {
    match (classifier, k) {
        (true, 1) => Some((0, Some(1))),
        (true, _) => Some((predicted?, predicted)),
        (false, _) => Some((0, None)),
    }
}

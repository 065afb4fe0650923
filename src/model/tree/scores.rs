//! How a boosting model's raw scores (`rows × k`, row-major, one column per tree of an
//! iteration) become `predict_proba`, `decision_function` and the column `explain` takes
//! apart: shared by GradientBoosting and HistGradientBoosting, whose links differ but whose
//! shapes do not.
//!
//! What must not live here: any link or loss (each estimator's own `proba_row`).

use ndarray::Array2;

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

//! Linear classifiers (LogisticRegression, SGDClassifier, LinearSVC, RidgeClassifier(CV),
//! Perceptron) as a [`Predictor`], and their arithmetic, as scikit-learn's `LinearClassifierMixin` does it:
//! `decision_function = X @ coef_.T + intercept_`, `predict` by sign (binary) or first argmax,
//! and the three ways scikit-learn turns decisions into probabilities.
//!
//! Rows arrive as slices, already validated (finite, right width); nothing here allocates per
//! row.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::math::{dot, exp, wide};
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Refusal, Target};
use crate::model::sparse::Csr;

/// How `predict_proba` is derived from the decision values, or that there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbaRule {
    /// No `predict_proba` (hinge losses, LinearSVC, RidgeClassifier, Perceptron).
    None,
    /// `_predict_proba_lr`: logistic sigmoid per class, rows normalised when multiclass.
    OneVsRest,
    /// Softmax over classes; a binary model takes the softmax of `[-d, d]`.
    Multinomial,
    /// SGD's modified Huber: `(clip(d, -1, 1) + 1) / 2`, normalised when multiclass.
    ModifiedHuber,
}

/// Weights of a fitted linear classifier.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearClassifier {
    /// `coef_`, `n_outputs × n_features`, row-major.
    pub coef: Vec<f64>,
    /// `intercept_`, one per output.
    pub intercept: Vec<f64>,
    pub n_features: usize,
    /// Decision values per row: 1 for binary models, the class count otherwise.
    pub n_outputs: usize,
    pub n_classes: usize,
    pub proba: ProbaRule,
}

impl LinearClassifier {
    /// Decision values of one row into `out` (`n_outputs` long).
    #[inline(always)]
    pub fn decision_row(&self, row: &[f64], out: &mut [f64]) {
        for ((o, weights), b) in out
            .iter_mut()
            .zip(self.coef.chunks_exact(self.n_features))
            .zip(&self.intercept)
        {
            *o = dot(row, weights) + b;
        }
    }

    /// Decision values of sparse row `i` into `out`: scipy's `X @ coef_.T`, then the
    /// intercept.
    #[inline]
    pub fn decision_sparse_row(&self, x: &Csr, i: usize, out: &mut [f64]) {
        x.row_dot(i, &self.coef, out);
        for (o, b) in out.iter_mut().zip(&self.intercept) {
            *o += b;
        }
    }

    /// Decision values of every sparse row, `rows × n_outputs`.
    pub fn decision_sparse(&self, x: &Csr) -> Array2<f64> {
        let mut out = Array2::zeros((x.n_rows(), self.n_outputs));
        let flat = out.as_slice_mut().expect("a new array is contiguous");
        for (i, o) in flat.chunks_exact_mut(self.n_outputs).enumerate() {
            self.decision_sparse_row(x, i, o);
        }
        out
    }

    /// Class index `predict` chooses from one row's decision values.
    #[inline]
    pub fn class_index(&self, decision: &[f64]) -> usize {
        if self.n_outputs == 1 {
            usize::from(decision[0] > 0.0)
        } else {
            // numpy's argmax: the first maximum wins.
            let mut best = 0;
            for (i, &d) in decision.iter().enumerate().skip(1) {
                if d > decision[best] {
                    best = i;
                }
            }
            best
        }
    }

    /// Probabilities of one row (`n_classes` long) from its decision values; false when the
    /// model has no `predict_proba`.
    #[inline]
    pub fn proba_row(&self, decision: &[f64], out: &mut [f64]) -> bool {
        match (self.proba, self.n_outputs) {
            (ProbaRule::None, _) => return false,
            (ProbaRule::OneVsRest, 1) => {
                let p = expit(decision[0]);
                out[0] = 1.0 - p;
                out[1] = p;
            }
            (ProbaRule::OneVsRest, _) => {
                for (o, &d) in out.iter_mut().zip(decision) {
                    *o = expit(d);
                }
                uniform_or_normalise(out);
            }
            (ProbaRule::Multinomial, 1) => softmax(&[-decision[0], decision[0]], out),
            (ProbaRule::Multinomial, _) => softmax(decision, out),
            (ProbaRule::ModifiedHuber, 1) => {
                let p = (decision[0].clamp(-1.0, 1.0) + 1.0) / 2.0;
                out[0] = 1.0 - p;
                out[1] = p;
            }
            (ProbaRule::ModifiedHuber, _) => {
                for (o, &d) in out.iter_mut().zip(decision) {
                    *o = (d.clamp(-1.0, 1.0) + 1.0) / 2.0;
                }
                uniform_or_normalise(out);
            }
        }
        true
    }
}

impl LinearClassifier {
    /// Probabilities of many rows from their decision values (`rows × n_outputs` in,
    /// `rows × n_classes` out): the same arithmetic as [`Self::proba_row`], arranged so the
    /// common binary case runs as one vectorised loop.
    pub fn proba_rows(&self, decision: &[f64], out: &mut [f64]) {
        if self.n_outputs == 1 && self.proba == ProbaRule::OneVsRest {
            wide(
                #[inline(always)]
                || {
                    for (pair, &d) in out.chunks_exact_mut(2).zip(decision) {
                        let p = expit(d);
                        pair[0] = 1.0 - p;
                        pair[1] = p;
                    }
                },
            );
            return;
        }
        if self.n_outputs > 1 && self.proba == ProbaRule::Multinomial {
            // softmax of every row, each step over the whole block so that `exp` runs as
            // one vectorised loop: the same operations on each value as `softmax`.
            let k = self.n_outputs;
            wide(
                #[inline(always)]
                || {
                    for (d, o) in decision.chunks_exact(k).zip(out.chunks_exact_mut(k)) {
                        let max = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        o.iter_mut().zip(d).for_each(|(o, &d)| *o = d - max);
                    }
                    out.iter_mut().for_each(|o| *o = exp(*o));
                    out.chunks_exact_mut(k).for_each(normalise);
                },
            );
            return;
        }
        for (d, o) in decision
            .chunks_exact(self.n_outputs)
            .zip(out.chunks_exact_mut(self.n_classes))
        {
            self.proba_row(d, o);
        }
    }
}

/// scipy's `expit`, the same formula (`1 / (1 + exp(-x))`).
#[inline(always)]
fn expit(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// In-place row normalisation, as `prob /= prob.sum(axis=1)`.
#[inline(always)]
fn normalise(row: &mut [f64]) {
    let sum: f64 = row.iter().sum();
    row.iter_mut().for_each(|p| *p /= sum);
}

/// Row normalisation where a row of zeros becomes uniform, as scikit-learn does for
/// modified Huber and (since 1.8) one-vs-rest rows whose sigmoids all underflow.
#[inline]
fn uniform_or_normalise(row: &mut [f64]) {
    if row.iter().sum::<f64>() == 0.0 {
        row.fill(1.0 / row.len() as f64);
    } else {
        normalise(row);
    }
}

/// scikit-learn's `softmax`: subtract the maximum, exponentiate, divide by the sum.
#[inline]
fn softmax(decision: &[f64], out: &mut [f64]) {
    let max = decision.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (o, &d) in out.iter_mut().zip(decision) {
        *o = exp(d - max);
    }
    normalise(out);
}

/// A fitted linear classifier: its weights, its classes and how it was saved.
#[derive(Clone, Debug, PartialEq)]
pub struct Classifier {
    pub class: SkClass,
    pub weights: LinearClassifier,
    pub classes: Classes,
}

/// Calls `f` with each row of `x` as a slice, copying only rows that are not contiguous.
#[inline(always)]
pub(super) fn for_each_row(x: ArrayView2<'_, f64>, mut f: impl FnMut(usize, &[f64])) {
    let mut buffer = Vec::new();
    for (i, row) in x.rows().into_iter().enumerate() {
        match row.as_slice() {
            Some(slice) => f(i, slice),
            None => {
                buffer.clear();
                buffer.extend(row.iter().copied());
                f(i, &buffer);
            }
        }
    }
}

impl Predictor for Classifier {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.weights.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        if self.weights.proba == ProbaRule::None {
            vec![Method::Predict, Method::DecisionFunction]
        } else {
            vec![
                Method::Predict,
                Method::PredictProba,
                Method::DecisionFunction,
            ]
        }
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let w = &self.weights;
        // Most models have a handful of outputs: their scratch row lives on the stack.
        let mut on_stack = [0.0; 8];
        let mut on_heap = Vec::new();
        let decision = if w.n_outputs <= on_stack.len() {
            &mut on_stack[..w.n_outputs]
        } else {
            on_heap.resize(w.n_outputs, 0.0);
            &mut on_heap[..]
        };
        let mut out = Vec::with_capacity(x.nrows());
        wide(
            #[inline(always)]
            || {
                for_each_row(x, |_, row| {
                    w.decision_row(row, decision);
                    out.push(w.class_index(decision));
                })
            },
        );
        Prediction::Classes(out)
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let w = &self.weights;
        let mut out = Array2::zeros((x.nrows(), w.n_outputs));
        let flat = out.as_slice_mut().expect("a new array is contiguous");
        wide(
            #[inline(always)]
            || {
                for_each_row(x, |i, row| {
                    w.decision_row(row, &mut flat[i * w.n_outputs..(i + 1) * w.n_outputs]);
                })
            },
        );
        Some(out)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let w = &self.weights;
        if w.proba == ProbaRule::None {
            return None;
        }
        let decision = self.decision_function(x)?;
        let mut out = Array2::zeros((x.nrows(), w.n_classes));
        w.proba_rows(
            decision.as_slice().expect("contiguous"),
            out.as_slice_mut().expect("contiguous"),
        );
        Some(out)
    }

    fn has_predict_proba(&self) -> bool {
        self.weights.proba != ProbaRule::None
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let w = &self.weights;
        if w.proba == ProbaRule::None {
            return (self.predict(x), None);
        }
        // The labels come from the decisions, not the probabilities: two decisions far out in
        // the tail can round to the same probability, and `predict` still tells them apart.
        let Some(decision) = self.decision_function(x) else {
            return (self.predict(x), None);
        };
        let flat = decision.as_slice().expect("a new array is contiguous");
        let labels = flat
            .chunks_exact(w.n_outputs)
            .map(|d| w.class_index(d))
            .collect();
        let mut proba = Array2::zeros((x.nrows(), w.n_classes));
        w.proba_rows(
            flat,
            proba.as_slice_mut().expect("a new array is contiguous"),
        );
        (Prediction::Classes(labels), Some(proba))
    }

    fn predict_sparse(&self, x: &Csr) -> Prediction {
        let w = &self.weights;
        let decision = w.decision_sparse(x);
        Prediction::Classes(
            decision
                .rows()
                .into_iter()
                .map(|d| w.class_index(d.as_slice().expect("contiguous")))
                .collect(),
        )
    }

    fn values_sparse(&self, method: Method, x: &Csr) -> Option<Array2<f64>> {
        let w = &self.weights;
        match method {
            Method::DecisionFunction => Some(w.decision_sparse(x)),
            Method::PredictProba if w.proba != ProbaRule::None => {
                let decision = w.decision_sparse(x);
                let mut out = Array2::zeros((x.n_rows(), w.n_classes));
                w.proba_rows(
                    decision.as_slice().expect("contiguous"),
                    out.as_slice_mut().expect("contiguous"),
                );
                Some(out)
            }
            _ => None,
        }
    }

    fn predict_with_proba_sparse(&self, x: &Csr) -> (Prediction, Option<Array2<f64>>) {
        let proba = self.values_sparse(Method::PredictProba, x);
        (self.predict_sparse(x), proba)
    }

    /// A linear model takes every finite value: sparse rows (a vectorizer's, tens of
    /// thousands of columns wide) are never made dense to be checked.
    fn refusal_sparse(&self, _x: &Csr) -> Option<Refusal> {
        None
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        let w = &self.weights;
        let class = predicted?;
        // A binary model has one decision, positive for the second class.
        let (output, explained) = if w.n_outputs == 1 {
            (0, 1)
        } else {
            (class, class)
        };
        let weights = &w.coef[output * w.n_features..][..w.n_features];
        let row: Vec<f64> = row.iter().copied().collect();
        let mut decision = vec![0.0; w.n_outputs];
        w.decision_row(&row, &mut decision);
        Some(Attribution {
            explained_class: Some(explained),
            base: w.intercept[output],
            contributions: row.iter().zip(weights).map(|(x, w)| x * w).collect(),
            weights: Some(weights.to_vec()),
            output: decision[output],
        })
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.weights.n_features,
            "classes": self.classes.to_json(),
            "predict_proba": self.weights.proba,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(
        coef: Vec<f64>,
        intercept: Vec<f64>,
        n_classes: usize,
        proba: ProbaRule,
    ) -> LinearClassifier {
        let n_outputs = intercept.len();
        LinearClassifier {
            n_features: coef.len() / n_outputs,
            coef,
            intercept,
            n_outputs,
            n_classes,
            proba,
        }
    }

    #[test]
    fn binary_sign_and_sigmoid() {
        let m = model(vec![1.0, -2.0], vec![0.5], 2, ProbaRule::OneVsRest);
        let mut d = [0.0];
        m.decision_row(&[1.0, 1.0], &mut d);
        assert_eq!(d, [-0.5]);
        assert_eq!(m.class_index(&d), 0);
        let mut p = [0.0; 2];
        assert!(m.proba_row(&d, &mut p));
        assert!((p[1] - 1.0 / (1.0 + 0.5f64.exp())).abs() < 1e-15);
        assert_eq!(p[0] + p[1], 1.0);
    }

    #[test]
    fn zero_decision_predicts_the_first_class() {
        let m = model(vec![0.0], vec![0.0], 2, ProbaRule::None);
        assert_eq!(m.class_index(&[0.0]), 0);
    }

    #[test]
    fn multiclass_argmax_takes_the_first_tie() {
        let m = model(vec![0.0; 3], vec![0.0; 3], 3, ProbaRule::Multinomial);
        assert_eq!(m.class_index(&[1.0, 3.0, 3.0]), 1);
        let mut p = [0.0; 3];
        m.proba_row(&[0.0, 0.0, 0.0], &mut p);
        assert_eq!(p, [1.0 / 3.0; 3]);
    }

    #[test]
    fn one_pass_answers_as_predict_and_predict_proba() {
        let x = ndarray::array![[0.5, -1.0], [40.0, 41.0], [0.0, 0.0], [-3.0, 2.5]];
        let cases = [
            (vec![1.0, -2.0], vec![0.5], 2),
            // Far-out decisions whose sigmoids round to 1.0: the labels still follow them.
            (vec![1.0, 0.0, 0.0, 1.0, -1.0, -1.0], vec![0.0, 0.0, 0.1], 3),
        ];
        for (coef, intercept, n_classes) in cases {
            for rule in [
                ProbaRule::None,
                ProbaRule::OneVsRest,
                ProbaRule::Multinomial,
                ProbaRule::ModifiedHuber,
            ] {
                let classifier = Classifier {
                    class: SkClass::LogisticRegression,
                    weights: model(coef.clone(), intercept.clone(), n_classes, rule),
                    classes: Classes::Int((0..n_classes as i64).collect()),
                };
                let (labels, proba) = classifier.predict_with_proba(x.view());
                assert_eq!(labels, classifier.predict(x.view()), "{rule:?}");
                assert_eq!(proba, classifier.predict_proba(x.view()), "{rule:?}");
            }
        }
    }

    #[test]
    fn sparse_rows_answer_as_dense_ones() {
        let x = ndarray::array![[0.5, 0.0, -1.0], [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]];
        let sparse = Csr::from_dense(x.view());
        for (coef, intercept, n_classes) in [
            (vec![1.0, -2.0, 0.25], vec![0.5], 2),
            (
                vec![1.0, 0.0, 0.0, 0.0, 1.0, -1.0, -1.0, 2.0, 0.0],
                vec![0.0, 0.0, 0.1],
                3,
            ),
        ] {
            let classifier = Classifier {
                class: SkClass::LogisticRegression,
                weights: model(coef, intercept, n_classes, ProbaRule::Multinomial),
                classes: Classes::Int((0..n_classes as i64).collect()),
            };
            assert_eq!(
                classifier.predict_sparse(&sparse),
                classifier.predict(x.view())
            );
            for method in [Method::PredictProba, Method::DecisionFunction] {
                assert_eq!(
                    classifier.values_sparse(method, &sparse),
                    classifier.values(method, x.view()),
                    "{method}"
                );
            }
            let (p, q) = classifier.predict_with_proba_sparse(&sparse);
            assert_eq!((p, q), classifier.predict_with_proba(x.view()));
        }
    }

    #[test]
    fn modified_huber_all_clipped_is_uniform() {
        let m = model(vec![0.0; 3], vec![0.0; 3], 3, ProbaRule::ModifiedHuber);
        let mut p = [0.0; 3];
        m.proba_row(&[-5.0, -2.0, -1.0], &mut p);
        assert_eq!(p, [1.0 / 3.0; 3]);
    }
}

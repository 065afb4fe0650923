//! Linear classifiers' arithmetic, as scikit-learn's `LinearClassifierMixin` does it:
//! `decision_function = X @ coef_.T + intercept_`, `predict` by sign (binary) or first argmax,
//! and the three ways scikit-learn turns decisions into probabilities.
//!
//! Rows arrive flattened, row-major, already validated (finite, right width); nothing here
//! allocates per row.

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
    #[inline]
    pub fn decision_row(&self, row: &[f64], out: &mut [f64]) {
        for ((o, weights), b) in out
            .iter_mut()
            .zip(self.coef.chunks_exact(self.n_features))
            .zip(&self.intercept)
        {
            *o = dot(row, weights) + b;
        }
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

/// The dot product, in four lanes so the compiler can vectorise it.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 4];
    let (a4, a_rest) = a.split_at(a.len() - a.len() % 4);
    let (b4, b_rest) = b.split_at(a4.len());
    for (x, y) in a4.chunks_exact(4).zip(b4.chunks_exact(4)) {
        for lane in 0..4 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let tail: f64 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}

/// scipy's `expit`, the same formula (`1 / (1 + exp(-x))`).
#[inline]
fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// In-place row normalisation, as `prob /= prob.sum(axis=1)`.
#[inline]
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
        *o = (d - max).exp();
    }
    normalise(out);
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
    fn modified_huber_all_clipped_is_uniform() {
        let m = model(vec![0.0; 3], vec![0.0; 3], 3, ProbaRule::ModifiedHuber);
        let mut p = [0.0; 3];
        m.proba_row(&[-5.0, -2.0, -1.0], &mut p);
        assert_eq!(p, [1.0 / 3.0; 3]);
    }

    #[test]
    fn dot_handles_every_tail_length() {
        for n in 0..11 {
            let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let expected: f64 = a.iter().map(|x| x * x).sum();
            assert_eq!(dot(&a, &a), expected);
        }
    }
}

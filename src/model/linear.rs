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

    /// Class index `predict` chooses for one row; no allocation for up to 16 classes.
    pub fn predict_row(&self, row: &[f64]) -> usize {
        const ON_STACK: usize = 16;
        if self.n_outputs <= ON_STACK {
            let mut decision = [0.0; ON_STACK];
            let decision = &mut decision[..self.n_outputs];
            self.decision_row(row, decision);
            self.class_index(decision)
        } else {
            let mut decision = vec![0.0; self.n_outputs];
            self.decision_row(row, &mut decision);
            self.class_index(&decision)
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

impl LinearClassifier {
    /// Probabilities of many rows from their decision values (`rows × n_outputs` in,
    /// `rows × n_classes` out): the same arithmetic as [`Self::proba_row`], arranged so the
    /// common binary case runs as one vectorised loop.
    pub fn proba_rows(&self, decision: &[f64], out: &mut [f64]) {
        if self.n_outputs == 1 && self.proba == ProbaRule::OneVsRest {
            for (pair, &d) in out.chunks_exact_mut(2).zip(decision) {
                let p = expit(d);
                pair[0] = 1.0 - p;
                pair[1] = p;
            }
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

/// The dot product in eight independent lanes, so the additions do not wait on each other
/// and the compiler can keep them in vector registers.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 8;
    let mut lanes = [0.0f64; LANES];
    let split = a.len() - a.len() % LANES;
    let (a_body, a_tail) = a.split_at(split);
    let (b_body, b_tail) = b.split_at(split);
    for (x, y) in a_body.chunks_exact(LANES).zip(b_body.chunks_exact(LANES)) {
        for lane in 0..LANES {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let tail: f64 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    let quads = [
        lanes[0] + lanes[4],
        lanes[1] + lanes[5],
        lanes[2] + lanes[6],
        lanes[3] + lanes[7],
    ];
    (quads[0] + quads[1]) + (quads[2] + quads[3]) + tail
}

/// scipy's `expit`, the same formula (`1 / (1 + exp(-x))`).
#[inline]
fn expit(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// `exp` to within an ulp or two of libm's, written without calls or branches so that loops
/// over whole batches vectorise (libm's `exp` is a call per element, and dominated batch
/// `predict_proba`). Range reduction `x = n·ln2 + r`, |r| ≤ ln2/2, a degree-13 Taylor
/// polynomial (truncation error below 1e-17), and `2^n` applied in two halves so that results
/// down to the smallest subnormal are right.
#[inline]
pub(crate) fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    // ln 2 split (as fdlibm does) so that `n · LN2_HI` is exact.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    // Adding 1.5·2^52 rounds to the nearest integer and leaves it in the low mantissa bits.
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    const MAX: f64 = 709.782_712_893_384;
    const MIN: f64 = -745.133_219_101_941_1;
    let clamped = x.clamp(MIN, MAX);
    let shifted = clamped * LOG2E + SHIFTER;
    let n = shifted - SHIFTER;
    let k = (shifted.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for divisor in [
        479_001_600.0,
        39_916_800.0,
        3_628_800.0,
        362_880.0,
        40_320.0,
        5_040.0,
        720.0,
        120.0,
        24.0,
        6.0,
        2.0,
        1.0,
        1.0,
    ] {
        p = p * r + 1.0 / divisor;
    }
    let half = k >> 1;
    let low = f64::from_bits(((half + 1023) as u64) << 52);
    let high = f64::from_bits(((k - half + 1023) as u64) << 52);
    let y = p * low * high;
    if x > MAX {
        f64::INFINITY
    } else if x < MIN {
        0.0
    } else {
        y
    }
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
        *o = exp(d - max);
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
    fn exp_agrees_with_libm_to_an_ulp_or_two() {
        let mut x = -745.5;
        while x < 710.0 {
            let (ours, libm) = (exp(x), x.exp());
            let ulps = (ours.to_bits() as i64 - libm.to_bits() as i64).abs();
            assert!(ulps <= 2, "exp({x}) = {ours}, libm {libm} ({ulps} ulps)");
            x += 0.0137;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e9), 0.0);
        assert_eq!(exp(1e9), f64::INFINITY);
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

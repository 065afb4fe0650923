//! libsvm's prediction arithmetic as scikit-learn's copy of `svm.cpp` does it for dense data:
//! `k_function` pair by pair (dot products summed in order, `powi` for the polynomial
//! degree, the squared distance of RBF summed directly), the decision values of every pair of
//! classes (`svm_predict_values`), the votes, and the probabilities of `probability=True`
//! (`sigmoid_predict`, Platt's scaling of each pair, and `multiclass_probability`, Wu, Lin and
//! Weng's coupling). Nothing here reads a file.
//!
//! libsvm sums a dot product with BLAS `ddot`, which sums fewer than 16 terms in order, as
//! here; beyond that its vector kernel groups terms in its own way, so values then agree
//! within rounding rather than to the bit. The RBF's exponential is the vectorising one of
//! the linear models (within an ulp or two of libm's), and each row's kernel values are
//! computed wide, many support vectors side by side (`model::simd::Interleaved`), each sum
//! still added in `k_function`'s order.

use ndarray::ArrayView2;

use crate::model::linear::math::exp;
use crate::model::simd::{Interleaved, SIDE_BY_SIDE, sums_side_by_side, wide};

/// A kernel with libsvm's parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "kernel", rename_all = "snake_case")]
pub enum SvmKernel {
    Linear,
    /// `(γ x·y + c₀)^degree`, the power by repeated squaring (libsvm's `powi`).
    Poly {
        gamma: f64,
        degree: i32,
        coef0: f64,
    },
    Rbf {
        gamma: f64,
    },
    Sigmoid {
        gamma: f64,
        coef0: f64,
    },
}

/// libsvm's `powi`: the power by squaring, as it rounds.
pub fn powi(base: f64, times: i32) -> f64 {
    let (mut tmp, mut ret) = (base, 1.0);
    let mut t = times;
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

/// `Σ xᵢ yᵢ` in order.
#[inline(always)]
fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).fold(0.0, |s, (a, b)| s + a * b)
}

impl SvmKernel {
    /// `Kernel::k_function(x, y)`.
    #[inline(always)]
    pub fn k(&self, x: &[f64], y: &[f64]) -> f64 {
        let sum = match self {
            Self::Rbf { .. } => x.iter().zip(y).fold(0.0, |s, (a, b)| {
                let d = a - b;
                s + d * d
            }),
            _ => dot(x, y),
        };
        self.of_sum(sum)
    }

    /// The kernel of the sum `k` adds up: the squared distance for RBF, the dot product for
    /// the others.
    #[inline(always)]
    fn of_sum(&self, sum: f64) -> f64 {
        match *self {
            Self::Linear => sum,
            Self::Poly {
                gamma,
                degree,
                coef0,
            } => powi(gamma * sum + coef0, degree),
            Self::Rbf { gamma } => exp(-gamma * sum),
            Self::Sigmoid { gamma, coef0 } => (gamma * sum + coef0).tanh(),
        }
    }

    /// [`SvmKernel::of_sum`] of every sum in place, the kernel chosen once for the whole
    /// slice so that the loop vectorises.
    #[inline(always)]
    fn of_sums(&self, sums: &mut [f64]) {
        match *self {
            Self::Linear => {}
            Self::Rbf { gamma } => {
                for s in sums.iter_mut() {
                    *s = exp(-gamma * *s);
                }
            }
            _ => {
                for s in sums.iter_mut() {
                    *s = self.of_sum(*s);
                }
            }
        }
    }
}

/// The support vectors and coefficients of a fitted libsvm model.
#[derive(Clone, Debug, PartialEq)]
pub struct LibsvmModel {
    /// `support_vectors` interleaved for one row's kernel values (a second copy of them, made
    /// by [`LibsvmModel::new`]).
    interleaved: Interleaved,
    pub kernel: SvmKernel,
    pub n_features: usize,
    /// `support_vectors_`, row-major, grouped by class for a classifier.
    pub support_vectors: Vec<f64>,
    /// `_dual_coef_` (the signs libsvm keeps): `n_class − 1` rows of one per support vector.
    pub dual_coef: Vec<f64>,
    /// libsvm's `rho`, one per pair of classes (`−_intercept_`).
    pub rho: Vec<f64>,
    /// Support vectors per class (classifiers; empty otherwise).
    pub n_support: Vec<usize>,
}

impl LibsvmModel {
    /// The model of these fitted arrays, with the support vectors' interleaved copy (as many
    /// bytes again as `support_vectors`, plus at most [`INTERLEAVED`](crate::model::simd::INTERLEAVED) − 1 rows of padding:
    /// [`Interleaved::bytes`], which a reader charges first).
    pub fn new(
        kernel: SvmKernel,
        n_features: usize,
        support_vectors: Vec<f64>,
        dual_coef: Vec<f64>,
        rho: Vec<f64>,
        n_support: Vec<usize>,
    ) -> Self {
        Self {
            interleaved: Interleaved::new(
                ArrayView2::from_shape(
                    (support_vectors.len() / n_features.max(1), n_features),
                    &support_vectors,
                )
                .expect("whole rows of n_features"),
            ),
            kernel,
            n_features,
            support_vectors,
            dual_coef,
            rho,
            n_support,
        }
    }

    pub fn n_support_vectors(&self) -> usize {
        self.support_vectors.len() / self.n_features.max(1)
    }

    /// The kernel of `x` with every support vector, into `out`, [`wide`]: the sums `k` adds up
    /// ([`INTERLEAVED`](crate::model::simd::INTERLEAVED) support vectors side by side, each summed in libsvm's order), then the
    /// kernel of each sum.
    pub fn kernel_values(&self, x: &[f64], out: &mut [f64]) {
        let x = &x[..self.n_features];
        let out = &mut out[..self.interleaved.n_rows()];
        wide(
            #[inline(always)]
            || {
                match self.kernel {
                    SvmKernel::Rbf { .. } => self.interleaved.squared_distances(x, out),
                    _ => self.interleaved.dots(x, out),
                }
                self.kernel.of_sums(out);
            },
        );
    }

    /// A regressor's or one-class model's value: `Σ coef k(x, sv) − rho`.
    pub fn value(&self, kernel_values: &[f64]) -> f64 {
        let sum = self
            .dual_coef
            .iter()
            .zip(kernel_values)
            .fold(0.0, |s, (c, k)| s + c * k);
        sum - self.rho[0]
    }

    /// A classifier's decision value of every pair `(i, j)`, `i < j`, in libsvm's order, into
    /// `out`; returns the class with the most votes (the first of a tie).
    pub fn pairwise(&self, kernel_values: &[f64], out: &mut [f64]) -> usize {
        let n_class = self.n_support.len();
        let l = self.n_support_vectors();
        let mut start = vec![0; n_class];
        for i in 1..n_class {
            start[i] = start[i - 1] + self.n_support[i - 1];
        }
        // Each pair's two runs of terms: class i's support vectors with the coefficients of
        // row j − 1, then class j's with those of row i.
        let mut pairs = Vec::with_capacity(out.len());
        for i in 0..n_class {
            for j in i + 1..n_class {
                let (si, sj) = (start[i], start[j]);
                let (ei, ej) = (si + self.n_support[i], sj + self.n_support[j]);
                let first = &self.dual_coef[(j - 1) * l..j * l];
                let second = &self.dual_coef[i * l..(i + 1) * l];
                let runs = [
                    (&first[si..ei], &kernel_values[si..ei]),
                    (&second[sj..ej], &kernel_values[sj..ej]),
                ];
                pairs.push((i, j, runs));
            }
        }
        let mut votes = vec![0usize; n_class];
        for (g, group) in pairs.chunks(SIDE_BY_SIDE).enumerate() {
            let runs = |k: usize| group[k].2;
            let mut sums = [0.0; SIDE_BY_SIDE];
            match group.len() {
                1 => sums[..1].copy_from_slice(&sums_side_by_side::<1>(std::array::from_fn(runs))),
                2 => sums[..2].copy_from_slice(&sums_side_by_side::<2>(std::array::from_fn(runs))),
                3 => sums[..3].copy_from_slice(&sums_side_by_side::<3>(std::array::from_fn(runs))),
                _ => sums = sums_side_by_side::<SIDE_BY_SIDE>(std::array::from_fn(runs)),
            }
            for (k, (&(i, j, _), sum)) in group.iter().zip(sums).enumerate() {
                let p = g * SIDE_BY_SIDE + k;
                let sum = sum - self.rho[p];
                out[p] = sum;
                if sum > 0.0 {
                    votes[i] += 1;
                } else {
                    votes[j] += 1;
                }
            }
        }
        let mut best = 0;
        for (i, &v) in votes.iter().enumerate().skip(1) {
            if v > votes[best] {
                best = i;
            }
        }
        best
    }
}

/// `_ovr_decision_function(dec < 0, -dec, n_classes)`: votes of each class plus its summed
/// confidence squeezed into (−1/3, 1/3), into `out` (`n_classes` long).
pub fn ovr_decision(decision: &[f64], out: &mut [f64]) {
    let n_class = out.len();
    let mut sums = vec![0.0; n_class];
    out.fill(0.0);
    let mut k = 0;
    for i in 0..n_class {
        for j in i + 1..n_class {
            let confidence = -decision[k];
            sums[i] -= confidence;
            sums[j] += confidence;
            if decision[k] < 0.0 {
                out[j] += 1.0;
            } else {
                out[i] += 1.0;
            }
            k += 1;
        }
    }
    for (o, s) in out.iter_mut().zip(&sums) {
        *o += s / (3.0 * (s.abs() + 1.0));
    }
}

/// Platt's sigmoid of a decision value, `1 / (1 + exp(A d + B))`, arranged as libsvm arranges
/// it to avoid cancellation.
pub fn sigmoid_predict(decision: f64, a: f64, b: f64) -> f64 {
    let f = decision * a + b;
    if f >= 0.0 {
        (-f).exp() / (1.0 + (-f).exp())
    } else {
        1.0 / (1.0 + f.exp())
    }
}

/// `svm_predict_probability`: each pair's Platt probability, clipped to [1e-7, 1 − 1e-7], then
/// coupled into one probability per class (`out`, `n_classes` long).
pub fn probabilities(decision: &[f64], prob_a: &[f64], prob_b: &[f64], out: &mut [f64]) {
    const MIN_PROB: f64 = 1e-7;
    let k = out.len();
    let mut r = vec![0.0; k * k];
    let mut p = 0;
    for i in 0..k {
        for j in i + 1..k {
            let pij =
                sigmoid_predict(decision[p], prob_a[p], prob_b[p]).clamp(MIN_PROB, 1.0 - MIN_PROB);
            r[i * k + j] = pij;
            r[j * k + i] = 1.0 - pij;
            p += 1;
        }
    }
    multiclass_probability(k, &r, out);
}

/// Method 2 of Wu, Lin and Weng: the class probabilities `p` whose pairwise ratios best fit
/// `r` (`k × k`, row-major), by libsvm's fixed-point iteration.
pub fn multiclass_probability(k: usize, r: &[f64], p: &mut [f64]) {
    let max_iter = 100.max(k);
    let eps = 0.005 / k as f64;
    let mut q = vec![0.0; k * k];
    let mut qp = vec![0.0; k];
    for t in 0..k {
        p[t] = 1.0 / k as f64;
        q[t * k + t] = 0.0;
        for j in 0..t {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = q[j * k + t];
        }
        for j in t + 1..k {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    for _ in 0..max_iter {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = 0.0;
            for j in 0..k {
                qp[t] += q[t * k + j] * p[j];
            }
            pqp += p[t] * qp[t];
        }
        let mut max_error: f64 = 0.0;
        for &v in qp.iter() {
            let error = (v - pqp).abs();
            if error > max_error {
                max_error = error;
            }
        }
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t * k + t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powi_squares_as_libsvm_does() {
        assert_eq!(powi(3.0, 0), 1.0);
        assert_eq!(powi(3.0, 5), 243.0);
        assert_eq!(powi(-1.5, 3), -3.375);
        // Squaring rounds differently from pow for some bases; libsvm's way is kept.
        let base = 1.000_000_1_f64;
        assert_eq!(powi(base, 7), {
            let (b2, b4) = (base * base, base * base * (base * base));
            base * b2 * b4
        });
    }

    #[test]
    fn two_classes_couple_to_their_platt_probability() {
        let mut p = [0.0; 2];
        probabilities(&[0.7], &[-2.0], &[0.1], &mut p);
        let platt = sigmoid_predict(0.7, -2.0, 0.1);
        assert!((p[0] - platt).abs() < 1e-3, "{p:?} vs {platt}");
        assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ovr_votes_then_confidences() {
        // Three classes; pairs (0,1), (0,2), (1,2): class 0 wins both of its pairs.
        let mut out = [0.0; 3];
        ovr_decision(&[1.0, 2.0, -0.5], &mut out);
        assert!(out[0] > 2.0 - 1.0 / 3.0 && out[0] < 2.0 + 1.0 / 3.0);
        assert!(out[2] > 1.0 - 1.0 / 3.0 && out[2] < 1.0 + 1.0 / 3.0);
        assert!(out[1] < 1.0 / 3.0);
    }

    #[test]
    fn kernel_values_are_k_function_pair_by_pair_to_the_bit() {
        let (n, d) = (45, 7);
        let support_vectors: Vec<f64> = (0..n * d)
            .map(|i| ((i * 37) % 29) as f64 * 0.11 - 1.4)
            .collect();
        let x: Vec<f64> = (0..d).map(|j| j as f64 * 0.23 - 0.7).collect();
        for kernel in [
            SvmKernel::Linear,
            SvmKernel::Rbf { gamma: 0.3 },
            SvmKernel::Poly {
                gamma: 0.5,
                degree: 3,
                coef0: 1.0,
            },
            SvmKernel::Sigmoid {
                gamma: 0.1,
                coef0: -0.5,
            },
        ] {
            let model = LibsvmModel::new(
                kernel.clone(),
                d,
                support_vectors.clone(),
                vec![0.0; n],
                vec![0.0],
                vec![],
            );
            let mut values = vec![f64::NAN; n];
            model.kernel_values(&x, &mut values);
            for (value, sv) in values.iter().zip(support_vectors.chunks_exact(d)) {
                assert_eq!(value.to_bits(), kernel.k(&x, sv).to_bits(), "{kernel:?}");
            }
        }
    }

    #[test]
    fn pairs_side_by_side_sum_as_libsvm_does() {
        // Five classes of uneven sizes (one empty): ten pairs, in groups of four, four, two.
        let n_support = vec![3, 17, 0, 9, 26];
        let l: usize = n_support.iter().sum();
        let n_class = n_support.len();
        let dual_coef: Vec<f64> = (0..(n_class - 1) * l)
            .map(|i| ((i * 13) % 19) as f64 * 0.21 - 1.9)
            .collect();
        let rho: Vec<f64> = (0..10).map(|p| p as f64 * 0.01 - 0.04).collect();
        let kernel: Vec<f64> = (0..l).map(|k| ((k * 7) % 11) as f64 * 0.093).collect();
        let model = LibsvmModel::new(
            SvmKernel::Linear,
            1,
            vec![0.0; l],
            dual_coef.clone(),
            rho.clone(),
            n_support.clone(),
        );
        let mut out = vec![f64::NAN; 10];
        model.pairwise(&kernel, &mut out);
        let start: Vec<usize> = (0..n_class).map(|i| n_support[..i].iter().sum()).collect();
        let mut p = 0;
        for i in 0..n_class {
            for j in i + 1..n_class {
                let mut sum = 0.0;
                for k in start[i]..start[i] + n_support[i] {
                    sum += dual_coef[(j - 1) * l + k] * kernel[k];
                }
                for k in start[j]..start[j] + n_support[j] {
                    sum += dual_coef[i * l + k] * kernel[k];
                }
                assert_eq!(
                    out[p].to_bits(),
                    (sum - rho[p]).to_bits(),
                    "pair ({i}, {j})"
                );
                p += 1;
            }
        }
    }

    #[test]
    fn votes_go_to_the_first_of_a_tie() {
        let model = LibsvmModel::new(
            SvmKernel::Linear,
            1,
            vec![1.0, 1.0, 1.0],
            vec![0.0; 6],
            vec![-1.0, 1.0, -1.0],
            vec![1, 1, 1],
        );
        // Pair (0,1): +1 → 0; (0,2): −1 → 2; (1,2): +1 → 1: one vote each, class 0 wins.
        let mut out = [0.0; 3];
        assert_eq!(model.pairwise(&[1.0, 1.0, 1.0], &mut out), 0);
        assert_eq!(out, [1.0, -1.0, 1.0]);
    }
}

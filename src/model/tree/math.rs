//! The numpy and scipy arithmetic tree ensembles need, done the way those libraries do it so
//! that results agree to the last bits where it matters: numpy's pairwise sum, `argmax`
//! (first maximum), the float32 cast of the input, and scipy's `expit`, `logit`,
//! `logsumexp` and scikit-learn's `softmax`.

use ndarray::ArrayView2;

/// The rows of `x`, row-major, each value cast to float32 (as `check_array(dtype=float32)`
/// does) and held as float64 again, which compares with a float64 threshold exactly as the
/// float32 value would.
pub fn f32_rows(x: ArrayView2<'_, f64>) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.rows() {
        out.extend(row.iter().map(|&v| v as f32 as f64));
    }
    out
}

/// numpy's `sum` of a contiguous run: a plain loop under 8 values, eight accumulators up to
/// 128, halves beyond (`pairwise_sum` in numpy's loops). Inlined, so that a short sum inside
/// a loop of `model::simd::wide` is compiled wide with it.
#[inline(always)]
pub fn pairwise_sum(a: &[f64]) -> f64 {
    if a.len() <= PAIRWISE_BLOCK {
        block_sum(a)
    } else {
        halves_sum(a)
    }
}

/// numpy's block of `pairwise_sum`, summed without halving.
const PAIRWISE_BLOCK: usize = 128;

/// [`pairwise_sum`] of more than a block: the sums of two halves.
fn halves_sum(a: &[f64]) -> f64 {
    let mut half = a.len() / 2;
    half -= half % 8;
    pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
}

/// [`pairwise_sum`] of at most a block.
#[inline(always)]
fn block_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut sum = 0.0;
        for &v in a {
            sum += v;
        }
        sum
    } else {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (lane, v) in r.iter_mut().zip(&a[i..i + 8]) {
                *lane += v;
            }
            i += 8;
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[i..] {
            sum += v;
        }
        sum
    }
}

/// numpy's `argmax`: the first largest value.
#[inline]
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// scipy's `expit`: `1 / (1 + exp(-x))`.
#[inline]
pub fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// scipy's `logit` (1.10 and later): `log(p / (1 - p))` away from one half, and
/// `log1p(2p - 1) - log1p(1 - 2p)` near it, where the plain formula loses digits.
pub fn logit(p: f64) -> f64 {
    if !(0.3..=0.65).contains(&p) {
        (p / (1.0 - p)).ln()
    } else {
        let s = 2.0 * (p - 0.5);
        s.ln_1p() - (-s).ln_1p()
    }
}

/// scikit-learn's `softmax` of one row, in place: subtract the maximum, exponentiate,
/// divide by the sum.
pub fn softmax(row: &mut [f64]) {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for v in row.iter_mut() {
        *v = (*v - max).exp();
    }
    let sum = pairwise_sum(row);
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// scipy's `logsumexp` of one row: `log(Σ exp(x − max)) + max`.
pub fn logsumexp(row: &[f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    // A row of a few classes (the usual case, once per predicted row) sums on the stack.
    let mut stack = [0.0; 16];
    let mut heap = Vec::new();
    let exps = if row.len() <= stack.len() {
        &mut stack[..row.len()]
    } else {
        heap.resize(row.len(), 0.0);
        &mut heap[..]
    };
    for (e, v) in exps.iter_mut().zip(row) {
        *e = (v - max).exp();
    }
    pairwise_sum(exps).ln() + max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_numpy_blocks() {
        let a: Vec<f64> = (0..300).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        // The same grouping numpy uses, written out for 300 values: 144 + 156 split further.
        let expected = pairwise_sum(&a[..144]) + pairwise_sum(&a[144..]);
        assert_eq!(pairwise_sum(&a), expected);
        assert_eq!(pairwise_sum(&[0.1, 0.2, 0.3]), 0.1 + 0.2 + 0.3);
    }

    #[test]
    fn logit_inverts_expit() {
        for p in [1e-7, 0.2, 0.31, 0.5, 0.6, 0.9, 1.0 - 1e-7] {
            let back = expit(logit(p));
            assert!((back - p).abs() <= 1e-15, "{p} -> {back}");
        }
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
    }
}

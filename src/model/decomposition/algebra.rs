//! The dense algebra the decompositions need beyond products, done by faer as LAPACK does it
//! for scipy and numpy: `linalg.inv` and `slogdet` by an LU factorisation with partial
//! pivoting, `linalg.solve(assume_a="pos")` by a Cholesky factorisation. ndarray holds the
//! matrices everywhere else; the conversions live here.
//!
//! What must not live here: any one estimator's rules.

use faer::Mat;
use faer::linalg::solvers::{DenseSolveCore, Solve};
use ndarray::{Array2, ArrayView2};

fn to_faer(a: ArrayView2<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn to_ndarray(m: &Mat<f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// `linalg.inv(a)` of a square matrix; `None` when it is singular or the inverse is not
/// finite.
pub fn inverse(a: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    let lu = to_faer(a).partial_piv_lu();
    let u = lu.U();
    if (0..u.nrows()).any(|i| u[(i, i)] == 0.0) {
        return None;
    }
    let inverse = to_ndarray(&lu.inverse());
    inverse.iter().all(|v| v.is_finite()).then_some(inverse)
}

/// `fast_logdet(a)`: `log(det(a))` from `slogdet`, or −∞ when the determinant is not
/// positive.
pub fn log_det(a: ArrayView2<'_, f64>) -> f64 {
    let lu = to_faer(a).partial_piv_lu();
    let u = lu.U();
    let (mut negative, mut log) = (false, 0.0);
    for i in 0..u.nrows() {
        let d = u[(i, i)];
        if d == 0.0 || d.is_nan() {
            return f64::NEG_INFINITY;
        }
        negative ^= d < 0.0;
        log += d.abs().ln();
    }
    // The permutation's parity: each cycle of length l is l − 1 swaps.
    let (forward, _) = lu.P().arrays();
    let mut seen = vec![false; forward.len()];
    for start in 0..forward.len() {
        let mut length = 0;
        let mut i = start;
        while !seen[i] {
            seen[i] = true;
            i = forward[i];
            length += 1;
        }
        negative ^= length > 0 && (length - 1) % 2 == 1;
    }
    if negative { f64::NEG_INFINITY } else { log }
}

/// A symmetric positive definite matrix factorised once, to solve `a x = b` as
/// `linalg.solve(a, b, assume_a="pos")` does.
#[derive(Debug)]
pub struct Positive(faer::linalg::solvers::Llt<f64>);

impl Positive {
    /// `None` when `a` is not positive definite.
    pub fn factor(a: ArrayView2<'_, f64>) -> Option<Self> {
        to_faer(a).llt(faer::Side::Lower).ok().map(Self)
    }

    /// `x` with `a x = b`, `b` a matrix of right-hand sides.
    pub fn solve(&self, b: ArrayView2<'_, f64>) -> Array2<f64> {
        to_ndarray(&self.0.solve(to_faer(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn inverse_and_log_det_agree_with_hand_results() {
        let a = array![[4.0, 7.0], [2.0, 6.0]];
        let inv = inverse(a.view()).unwrap();
        let want = array![[0.6, -0.7], [-0.2, 0.4]];
        assert!((&inv - &want).iter().all(|d| d.abs() < 1e-15), "{inv}");
        assert!((log_det(a.view()) - 10f64.ln()).abs() < 1e-15);
        // A row swap makes the determinant negative: fast_logdet gives −∞.
        assert_eq!(
            log_det(array![[2.0, 6.0], [4.0, 7.0]].view()),
            f64::NEG_INFINITY
        );
        assert!(inverse(array![[1.0, 2.0], [2.0, 4.0]].view()).is_none());
    }

    #[test]
    fn a_positive_system_is_solved() {
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let x = Positive::factor(a.view())
            .unwrap()
            .solve(array![[2.0], [1.0]].view());
        assert!(
            (x[[0, 0]] - 0.5).abs() < 1e-15 && x[[1, 0]].abs() < 1e-15,
            "{x}"
        );
        assert!(Positive::factor(array![[1.0, 2.0], [2.0, 1.0]].view()).is_none());
    }
}

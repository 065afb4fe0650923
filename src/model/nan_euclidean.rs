//! The `nan_euclidean` distance of rows with missing values (NaN), as scikit-learn's
//! `nan_euclidean_distances` computes it: [`NanFittedRows`] keeps what depends on the fitted
//! rows alone (their values with NaN made 0, those squared, where they are missing, their
//! squared norms), made once at load. A batch goes through four matrix products
//! (`model::simd::product`); a few rows through one product and, for the rest, sums over only
//! the coordinates that are missing (each fitted row's, the new row's), which are the same
//! sums to the bit: every term left out is an exact zero (see [`NanFittedRows::distances`]).
//!
//! What must not live here: what an imputer does with the distances (`model::manifold`).

use ndarray::{Array1, Array2, ArrayView2};

use crate::model::pairwise::{euclidean_with_norms, row_norms_squared};
use crate::model::simd::FEW_ROWS;

/// `nan_euclidean_distances(X, Y, squared)`: Euclidean over the coordinates both rows have,
/// scaled up by `n_features / present`; NaN where two rows share no coordinate.
pub fn nan_euclidean_distances(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    squared: bool,
) -> Array2<f64> {
    NanFittedRows::new(y).distances(x, squared)
}

/// Rows with missing values (NaN) a model measures new rows against by `nan_euclidean`
/// distance, with what depends on them alone made once at load: their values with NaN made
/// 0, those values squared, and where they are missing, each transposed (features × rows,
/// the layout both a batch's GEMM and one row's wide passes read well), their squared norms,
/// and each row's missing features. Three copies of the rows' size, and an index per missing
/// value.
#[derive(Clone, Debug, PartialEq)]
pub struct NanFittedRows {
    zeroed_t: Array2<f64>,
    squares_t: Array2<f64>,
    absent_t: Array2<f64>,
    norms: Array1<f64>,
    /// Each fitted row's missing features, in order: row `i`'s are
    /// `missing[missing_at[i]..missing_at[i + 1]]`.
    missing_at: Vec<usize>,
    missing: Vec<usize>,
    /// Every square of a fitted value is finite (none overflows), so that a term it makes
    /// with a 0 is 0, not NaN: the sums over missing coordinates alone are then exact.
    squares_finite: bool,
}

/// 1 where `v` is missing, 0 where it is present.
fn absent(v: f64) -> f64 {
    f64::from(u8::from(v.is_nan()))
}

fn zeroed(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v }
}

impl NanFittedRows {
    pub fn new(y: ArrayView2<'_, f64>) -> Self {
        let zeroed_t = y.t().mapv(zeroed).as_standard_layout().into_owned();
        let squares_t = zeroed_t.mapv(|v| v * v);
        let mut missing_at = Vec::with_capacity(y.nrows() + 1);
        let mut missing = Vec::new();
        missing_at.push(0);
        for row in y.rows() {
            missing.extend((0..row.len()).filter(|&j| row[j].is_nan()));
            missing_at.push(missing.len());
        }
        Self {
            squares_finite: squares_t.iter().all(|v| v.is_finite()),
            squares_t,
            absent_t: y.t().mapv(absent).as_standard_layout().into_owned(),
            norms: row_norms_squared(zeroed_t.t()),
            zeroed_t,
            missing_at,
            missing,
        }
    }

    /// `nan_euclidean_distances(X, rows, squared)`: `‖x₀ − y₀‖² − x₀²·(1 − p_y) − (1 − p_x)·y₀²`
    /// as scikit-learn subtracts them, divided by the coordinates both have (`Σ p_x − p_x ·
    /// (1 − p_y)`: counts, exact in any order) and scaled by the number of features.
    ///
    /// For a few rows the three products over missing coordinates are summed over those
    /// coordinates alone, in the same order: a few rows' product against four fitted rows or
    /// more adds `xⱼ · yⱼ` from 0 feature after feature, and every term left out is `v · 0`
    /// with `v` finite, an exact `+0`, which leaves a sum started at `+0` and grown by terms
    /// `≥ 0` as it was. (A row whose squares overflow, or fitted values whose squares do,
    /// take the products.)
    pub fn distances(&self, x: ArrayView2<'_, f64>, squared: bool) -> Array2<f64> {
        let x0 = x.mapv(zeroed);
        let px = x.mapv(|v| 1.0 - absent(v));
        let mut d = euclidean_with_norms(x0.view(), self.zeroed_t.view(), &self.norms, true);
        let by_coordinates = self.sparse_for(x0.view());
        let missed = self.subtract_missing(x, x0.view(), px.view(), &mut d, by_coordinates);
        let n = x.ncols() as f64;
        for ((mut row, missed), px) in d.rows_mut().into_iter().zip(missed.rows()).zip(px.rows()) {
            let present = px.sum();
            for (v, m) in row.iter_mut().zip(missed) {
                let c = present - m;
                let clipped = v.max(0.0);
                *v = if c == 0.0 {
                    f64::NAN
                } else {
                    let scaled = clipped / c.max(1.0) * n;
                    if squared { scaled } else { scaled.sqrt() }
                };
            }
        }
        d
    }
}

impl NanFittedRows {
    /// Whether the rows `x0` (NaN made 0) take the sums over missing coordinates alone.
    fn sparse_for(&self, x0: ArrayView2<'_, f64>) -> bool {
        x0.nrows() <= FEW_ROWS
            && self.missing_at.len() > FEW_ROWS
            && self.squares_finite
            && x0.iter().all(|v| (v * v).is_finite())
    }

    /// What [`NanFittedRows::distances`] subtracts for the coordinates missing on either side,
    /// and the count of coordinates the row has and the fitted row lacks (rows × fitted rows):
    /// by matrix products, or `by_coordinates`, by sums over those coordinates alone.
    fn subtract_missing(
        &self,
        x: ArrayView2<'_, f64>,
        x0: ArrayView2<'_, f64>,
        px: ArrayView2<'_, f64>,
        d: &mut Array2<f64>,
        by_coordinates: bool,
    ) -> Array2<f64> {
        if !by_coordinates {
            use crate::model::simd::product;
            *d -= &product((&x0 * &x0).view(), self.absent_t.view());
            *d -= &product(x.mapv(absent).view(), self.squares_t.view());
            return product(px, self.absent_t.view());
        }
        let n = self.missing_at.len() - 1;
        let mut missed = Array2::zeros((x.nrows(), n));
        let mut lacking = vec![0.0; n];
        for (r, (mut d, mut missed)) in d.rows_mut().into_iter().zip(missed.rows_mut()).enumerate()
        {
            // `x₀² · (1 − p_y)`: over each fitted row's missing features.
            for (i, (d, missed)) in d.iter_mut().zip(missed.iter_mut()).enumerate() {
                let (mut sum, mut count) = (0.0, 0.0);
                for &j in &self.missing[self.missing_at[i]..self.missing_at[i + 1]] {
                    sum += x0[[r, j]] * x0[[r, j]];
                    count += px[[r, j]];
                }
                *d -= sum;
                *missed = count;
            }
            // `(1 − p_x) · y₀²`: over the row's missing features.
            lacking.fill(0.0);
            for j in (0..x.ncols()).filter(|&j| x[[r, j]].is_nan()) {
                for (s, &y2) in lacking.iter_mut().zip(self.squares_t.row(j)) {
                    *s += y2;
                }
            }
            for (d, &s) in d.iter_mut().zip(&lacking) {
                *d -= s;
            }
        }
        missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_over_missing_coordinates_are_the_products_to_the_bit() {
        let mut state = 5u64;
        let mut value = |missing_one_in: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            if (state >> 33) % missing_one_in == 0 {
                f64::NAN
            } else {
                ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 8.0
            }
        };
        let y = Array2::from_shape_fn((57, 13), |_| value(6));
        let x = Array2::from_shape_fn((4, 13), |_| value(3));
        let rows = NanFittedRows::new(y.view());
        for r in 0..x.nrows() {
            let one = x.row(r).insert_axis(ndarray::Axis(0));
            let x0 = one.mapv(zeroed);
            let px = one.mapv(|v| 1.0 - absent(v));
            assert!(rows.sparse_for(x0.view()));
            let start = euclidean_with_norms(x0.view(), rows.zeroed_t.view(), &rows.norms, true);
            let (mut sparse, mut dense) = (start.clone(), start);
            let counted = rows.subtract_missing(one, x0.view(), px.view(), &mut sparse, true);
            let multiplied = rows.subtract_missing(one, x0.view(), px.view(), &mut dense, false);
            assert_eq!(counted, multiplied);
            let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&sparse), bits(&dense));
        }
    }
}

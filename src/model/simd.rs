//! Hot loops run with the processor's vector instructions: the binary is built for the
//! baseline x86-64 (two doubles per instruction, no FMA), and [`wide`] runs a loop compiled
//! again for AVX2 where the processor has it (four doubles), chosen at run time as faer's and
//! matrixmultiply's kernels choose theirs. The arithmetic is the same instruction for
//! instruction, only wider: no multiply and add is fused, so results are the same to the bit
//! with or without it.
//!
//! Only loops whose work is arithmetic over slices belong here (kernel and distance matrices,
//! per-class likelihoods); a function called from the closure is compiled wide only if it is
//! inlined into it (`#[inline(always)]`).

use ndarray::{Array2, ArrayView2};

pub use crate::model::linear::math::wide;
use crate::model::linear::math::{dot, exp};

/// `exp(v · scale)` of every value in place, wide: the exponential of a kernel matrix.
pub fn exp_scaled_in_place(values: &mut [f64], scale: f64) {
    wide(
        #[inline(always)]
        || {
            for v in values.iter_mut() {
                *v = exp(*v * scale);
            }
        },
    );
}

/// Up to this many rows, [`product`] adds up rows of the right-hand matrix rather than call
/// the GEMM.
const FEW_ROWS: usize = 4;

/// `x · w`. A batch goes to matrixmultiply's GEMM (ndarray's `dot`); a few rows are added
/// up wide, which spares the GEMM's packing of all of `w` at every call (most of the time of
/// one row through a small matrix): `Σᵢ xᵢ wᵢ` over the rows `wᵢ` of a row-major `w`, or each
/// column's dot product with the row where `w` is column-major (the transpose of fitted rows).
pub fn product(x: ArrayView2<'_, f64>, w: ArrayView2<'_, f64>) -> Array2<f64> {
    assert_eq!(
        x.ncols(),
        w.nrows(),
        "the product's inner dimensions differ"
    );
    let m = w.ncols();
    let x = x.as_standard_layout();
    let few = x.nrows() <= FEW_ROWS && m > 0 && x.ncols() > 0;
    let (rows, columns) = (w.as_slice(), w.t().to_slice());
    if !few || (rows.is_none() && columns.is_none()) {
        return x.dot(&w);
    }
    let mut out = Array2::zeros((x.nrows(), m));
    let flat = out.as_slice_mut().expect("a new array is contiguous");
    let xs = x.as_slice().expect("standard layout");
    let k = x.ncols();
    wide(
        #[inline(always)]
        || {
            for (row, o) in xs.chunks_exact(k).zip(flat.chunks_exact_mut(m)) {
                if let Some(ws) = rows {
                    for (&xi, wi) in row.iter().zip(ws.chunks_exact(m)) {
                        for (o, &v) in o.iter_mut().zip(wi) {
                            *o += xi * v;
                        }
                    }
                } else if let Some(ws) = columns {
                    for (o, column) in o.iter_mut().zip(ws.chunks_exact(k)) {
                        *o = dot(row, column);
                    }
                }
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use ndarray::{Axis, Slice};

    use super::*;

    #[test]
    fn a_few_rows_multiply_as_a_batch_does() {
        let w = Array2::from_shape_fn((7, 5), |(i, j)| (i as f64 - 2.5) * 0.3 + j as f64);
        let x = Array2::from_shape_fn((9, 7), |(i, j)| (i * 7 + j) as f64 * 0.11 - 1.0);
        let batch = product(x.view(), w.view());
        for i in 0..x.nrows() {
            let one = product(x.row(i).insert_axis(Axis(0)), w.view());
            for (a, b) in one.iter().zip(batch.row(i)) {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
        let columns = w.t().as_standard_layout().into_owned();
        let batch = product(x.view(), columns.t());
        for i in 0..x.nrows() {
            let one = product(x.row(i).insert_axis(Axis(0)), columns.t());
            for (a, b) in one.iter().zip(batch.row(i)) {
                assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
        let no_features = x.slice_axis(Axis(1), Slice::from(0..0));
        let first = no_features.slice_axis(Axis(0), Slice::from(0..1));
        let empty = product(first, w.slice_axis(Axis(0), Slice::from(0..0)));
        assert_eq!(empty, Array2::<f64>::zeros((1, 5)));
    }

    #[test]
    fn wide_exp_is_the_scalar_exp_to_the_bit() {
        let mut values: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.731 - 300.0).collect();
        let expected: Vec<f64> = values.iter().map(|v| exp(v * -0.5)).collect();
        exp_scaled_in_place(&mut values, -0.5);
        assert_eq!(values, expected);
    }
}

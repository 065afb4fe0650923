//! Hot loops run with the processor's vector instructions: the binary is built for the
//! baseline x86-64 (two doubles per instruction, no FMA), and [`wide`] runs a loop compiled
//! again for AVX-512 (eight doubles) or AVX2 (four), whichever the processor has, chosen at
//! run time as faer's and matrixmultiply's kernels choose theirs. The arithmetic is the same
//! instruction for instruction, only wider: no multiply and add is fused, so results are the
//! same to the bit on every processor.
//!
//! Only loops whose work is arithmetic over slices belong here (kernel and distance matrices,
//! per-class likelihoods, random Fourier features' cosines); a function called from the
//! closure is compiled wide only if it is inlined into it (`#[inline(always)]`).

use ndarray::{Array2, ArrayView2};

pub use crate::model::linear::math::wide;
use crate::model::linear::math::{dot, dots, exp};

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

/// Beyond this magnitude [`cos`]'s one-step reduction by π/2 loses digits: libm takes over.
const COS_REDUCED_BELOW: f64 = 1_048_576.0;

/// `cos(x)` as fdlibm (and musl) compute it, written so that a loop of it vectorises: `x`
/// reduced by the nearest multiple `n` of π/2 (π/2 in three parts, the remainder as a head and
/// a tail), then fdlibm's polynomials of `cos` and `sin` on the remainder, the quadrant
/// choosing which and its sign. Within an ulp of libm's cosine for `|x| < 2²⁰`, near its
/// zeros too; the caller sends larger or non-finite values to libm.
#[inline(always)]
pub fn cos(x: f64) -> f64 {
    // fdlibm's constants, by their bits: 2/π, π/2 in three parts, and the polynomials'
    // coefficients (k_cos.c, k_sin.c).
    const INV_PIO2: f64 = f64::from_bits(0x3fe4_5f30_6dc9_c883);
    const PIO2_1: f64 = f64::from_bits(0x3ff9_21fb_5440_0000);
    const PIO2_2: f64 = f64::from_bits(0x3dd0_b461_1a60_0000);
    const PIO2_2T: f64 = f64::from_bits(0x3ba3_198a_2e03_7073);
    const C: [f64; 6] = [
        f64::from_bits(0x3fa5_5555_5555_554c),
        f64::from_bits(0xbf56_c16c_16c1_5177),
        f64::from_bits(0x3efa_01a0_19cb_1590),
        f64::from_bits(0xbe92_7e4f_809c_52ad),
        f64::from_bits(0x3e21_ee9e_bdb4_b1c4),
        f64::from_bits(0xbda8_fae9_be88_38d4),
    ];
    const S: [f64; 6] = [
        f64::from_bits(0xbfc5_5555_5555_5549),
        f64::from_bits(0x3f81_1111_1110_f8a6),
        f64::from_bits(0xbf2a_01a0_19c1_61d5),
        f64::from_bits(0x3ec7_1de3_57b1_fe7d),
        f64::from_bits(0xbe5a_e5e6_8a2b_9ceb),
        f64::from_bits(0x3de5_d93a_5acf_d57c),
    ];
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    let shifted = x * INV_PIO2 + SHIFTER;
    let n = shifted - SHIFTER;
    let quadrant = shifted.to_bits();
    // fdlibm's first two rounds of the reduction, both always (fdlibm takes the second only
    // where the first cancels digits: near a zero of the cosine), good to about 118 bits.
    let t = x - n * PIO2_1;
    let w = n * PIO2_2;
    let r = t - w;
    let w = n * PIO2_2T - ((t - r) - w);
    let head = r - w;
    let tail = (r - head) - w;
    let z = head * head;
    let zz = z * z;
    // __kernel_cos.
    let rc = z * (C[0] + z * (C[1] + z * C[2])) + zz * zz * (C[3] + z * (C[4] + z * C[5]));
    let hz = 0.5 * z;
    let one_minus = 1.0 - hz;
    let c = one_minus + (((1.0 - one_minus) - hz) + (z * rc - head * tail));
    // __kernel_sin.
    let rs = S[1] + z * (S[2] + z * S[3]) + z * zz * (S[4] + z * S[5]);
    let v = z * head;
    let s = head - ((z * (0.5 * tail - v * rs) - tail) - v * S[0]);
    // Quadrant 0: cos, 1: −sin, 2: −cos, 3: sin.
    let value = if quadrant & 1 == 0 { c } else { s };
    if (quadrant + 1) & 2 == 0 {
        value
    } else {
        -value
    }
}

/// `cos(v + offsetⱼ) · scale` of every row of `values` (rows of `offsets.len()`), in place,
/// wide: random Fourier features. Values whose argument is beyond [`cos`]'s range (or not
/// finite) send the whole call to libm's `cos`.
pub fn cos_shifted_in_place(values: &mut [f64], offsets: &[f64], scale: f64) {
    if offsets.is_empty() {
        return;
    }
    let width = offsets.len();
    let far = values.chunks_exact(width).any(|row| {
        row.iter()
            .zip(offsets)
            .any(|(v, o)| (v + o).is_nan() || (v + o).abs() >= COS_REDUCED_BELOW)
    });
    if far {
        for row in values.chunks_exact_mut(width) {
            for (v, o) in row.iter_mut().zip(offsets) {
                *v = (*v + o).cos() * scale;
            }
        }
        return;
    }
    wide(
        #[inline(always)]
        || {
            for row in values.chunks_exact_mut(width) {
                for (v, o) in row.iter_mut().zip(offsets) {
                    *v = cos(*v + o) * scale;
                }
            }
        },
    );
}

/// Up to this many rows, [`product`] adds up rows of the right-hand matrix rather than call
/// the GEMM.
pub const FEW_ROWS: usize = 4;

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
    let (mut rows, columns) = (w.as_slice(), w.t().to_slice());
    if !few || (rows.is_none() && columns.is_none()) {
        return x.dot(&w);
    }
    // Fewer outputs than a vector's lanes (one target, a few classes): a dot product per
    // output, in eight lanes, rather than a chain of additions into one or two sums.
    if columns.is_some() && m < 4 {
        rows = None;
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
                    add_rows(row, ws, m, o);
                } else if let Some(ws) = columns {
                    let mut fours = ws.chunks_exact(4 * k);
                    let mut outs = o.chunks_exact_mut(4);
                    for (o, four) in (&mut outs).zip(&mut fours) {
                        let (a, rest) = four.split_at(k);
                        let (b, rest) = rest.split_at(k);
                        let (c, d) = rest.split_at(k);
                        o.copy_from_slice(&dots(row, [a, b, c, d]));
                    }
                    let rest = fours.remainder().chunks_exact(k);
                    for (o, column) in outs.into_remainder().iter_mut().zip(rest) {
                        *o = dot(row, column);
                    }
                }
            }
        },
    );
    out
}

/// Fitted rows side by side in an [`Interleaved`] copy: one query row's sums with this many of
/// them go in vector registers at once (eight AVX2 registers, four AVX-512 ones), enough
/// independent chains of additions that none waits on the one before.
pub const INTERLEAVED: usize = 32;

/// Fixed rows (support vectors, training rows) laid out for one query row's sums against all
/// of them: `WIDTH` rows at a time ([`INTERLEAVED`] doubles unless said otherwise), feature by
/// feature, so that each feature's values of a group are one contiguous load and the lanes run
/// across rows. Each row's sum is still added term by term in feature order, so every value is
/// the one a pair-by-pair loop gives, to the bit. The last group is padded with zero rows
/// (fewer than `WIDTH`), whose sums are never written out. A float32 copy (`T = f32`) is the
/// same layout for a first pass that only has to be near.
#[derive(Clone, Debug, PartialEq)]
pub struct Interleaved<T = f64, const WIDTH: usize = INTERLEAVED> {
    /// `groups[g · d · WIDTH + j · WIDTH + r]` is feature `j` of row `g · WIDTH + r`.
    groups: Vec<T>,
    d: usize,
    n: usize,
}

impl<T: Copy + Default, const WIDTH: usize> Interleaved<T, WIDTH> {
    /// The bytes a copy of `n` rows of `d` features takes (to charge before making it).
    pub fn bytes(n: usize, d: usize) -> usize {
        n.div_ceil(WIDTH)
            .saturating_mul(WIDTH)
            .saturating_mul(d)
            .saturating_mul(std::mem::size_of::<T>())
    }

    /// `rows` (rows × features) interleaved, each value made by `value`.
    pub fn of(rows: ArrayView2<'_, f64>, value: impl Fn(f64) -> T) -> Self {
        let (n, d) = rows.dim();
        let rows = rows.as_standard_layout();
        let rows = rows.as_slice().expect("standard layout");
        let mut groups = vec![T::default(); n.div_ceil(WIDTH) * WIDTH * d];
        if d > 0 {
            for (group, rows) in groups
                .chunks_exact_mut(WIDTH * d)
                .zip(rows.chunks(WIDTH * d))
            {
                for (r, row) in rows.chunks_exact(d).enumerate() {
                    for (j, &v) in row.iter().enumerate() {
                        group[j * WIDTH + r] = value(v);
                    }
                }
            }
        }
        Self { groups, d, n }
    }

    pub fn n_rows(&self) -> usize {
        self.n
    }

    /// Groups of `WIDTH` rows there are (the last padded).
    pub fn n_groups(&self) -> usize {
        self.n.div_ceil(WIDTH)
    }

    /// Group `g`: feature `j` of its row `r` at `j · WIDTH + r`.
    #[inline(always)]
    pub fn group(&self, g: usize) -> &[T] {
        let size = WIDTH * self.d;
        &self.groups[g * size..(g + 1) * size]
    }
}

impl Interleaved {
    /// `rows` (rows × features) interleaved as they are.
    pub fn new(rows: ArrayView2<'_, f64>) -> Self {
        Self::of(rows, |v| v)
    }

    /// `Σⱼ (xⱼ − yⱼ)²` of `x` with every row `y`, into `out` (one per row), in feature order.
    /// Compiled wide only inside a [`wide`] closure.
    #[inline(always)]
    pub fn squared_distances(&self, x: &[f64], out: &mut [f64]) {
        self.sums(x, out, |u, v| {
            let t = u - v;
            t * t
        });
    }

    /// `Σⱼ xⱼ yⱼ` of `x` with every row `y`, into `out`, in feature order. Compiled wide only
    /// inside a [`wide`] closure.
    #[inline(always)]
    pub fn dots(&self, x: &[f64], out: &mut [f64]) {
        self.sums(x, out, |u, v| u * v);
    }

    #[inline(always)]
    fn sums(&self, x: &[f64], out: &mut [f64], term: impl Fn(f64, f64) -> f64) {
        let d = self.d;
        let out = &mut out[..self.n];
        if d == 0 {
            out.fill(0.0);
            return;
        }
        let x = &x[..d];
        for (group, o) in self
            .groups
            .chunks_exact(INTERLEAVED * d)
            .zip(out.chunks_mut(INTERLEAVED))
        {
            let mut sums = [0.0; INTERLEAVED];
            for (&u, column) in x.iter().zip(group.chunks_exact(INTERLEAVED)) {
                for (sum, &v) in sums.iter_mut().zip(column) {
                    *sum += term(u, v);
                }
            }
            o.copy_from_slice(&sums[..o.len()]);
        }
    }
}

/// `o = Σᵢ xᵢ wᵢ` over the rows `wᵢ` of a row-major `w`, `o.len()` wide: [`INTERLEAVED`]
/// (then eight) outputs at a time summed in registers over all of `x`, rather than every
/// output stored and loaded again at every row of `w`; each output is still added up in row
/// order, so the values are the same to the bit. Compiled wide only inside a [`wide`] closure.
#[inline(always)]
fn add_rows(x: &[f64], w: &[f64], m: usize, o: &mut [f64]) {
    let mut start = 0;
    start = add_columns::<INTERLEAVED>(x, w, m, start, o);
    start = add_columns::<8>(x, w, m, start, o);
    for (&xi, wi) in x.iter().zip(w.chunks_exact(m)) {
        for (o, &v) in o[start..].iter_mut().zip(&wi[start..]) {
            *o += xi * v;
        }
    }
}

/// [`add_rows`] of the outputs from `start` on, `WIDTH` at a time while `WIDTH` remain;
/// returns where it stopped.
#[inline(always)]
fn add_columns<const WIDTH: usize>(
    x: &[f64],
    w: &[f64],
    m: usize,
    mut start: usize,
    o: &mut [f64],
) -> usize {
    while start + WIDTH <= m {
        let mut sums = [0.0; WIDTH];
        for (&xi, wi) in x.iter().zip(w.chunks_exact(m)) {
            let wi: &[f64; WIDTH] = wi[start..start + WIDTH].try_into().expect("WIDTH columns");
            for (s, &v) in sums.iter_mut().zip(wi) {
                *s += xi * v;
            }
        }
        o[start..start + WIDTH].copy_from_slice(&sums);
        start += WIDTH;
    }
    start
}

/// How many sums [`sums_side_by_side`] adds at once.
pub const SIDE_BY_SIDE: usize = 4;

/// Two runs of the terms of a sum: factors and the values they multiply.
pub type Runs<'a> = [(&'a [f64], &'a [f64]); 2];

/// `Σ a · b` over each of `G` sequences of runs, every sum term by term in order (as a plain
/// loop adds it, the same values to the bit), the `G` sums side by side while all of them
/// have terms left, so that each addition does not wait on the one before (one sum alone is
/// a chain of dependent additions, one per term: a thousand for an SVM's pair of classes);
/// the rest of the longer ones one by one.
pub fn sums_side_by_side<const G: usize>(runs: [Runs<'_>; G]) -> [f64; G] {
    let mut sums = [0.0; G];
    let (mut run, mut at) = ([0usize; G], [0usize; G]);
    loop {
        for g in 0..G {
            while run[g] < 2 && at[g] == runs[g][run[g]].0.len() {
                (run[g], at[g]) = (run[g] + 1, 0);
            }
        }
        if run.contains(&2) {
            break;
        }
        let step = (0..G)
            .map(|g| runs[g][run[g]].0.len() - at[g])
            .min()
            .expect("G > 0");
        let coefs: [&[f64]; G] = std::array::from_fn(|g| &runs[g][run[g]].0[at[g]..][..step]);
        let values: [&[f64]; G] = std::array::from_fn(|g| &runs[g][run[g]].1[at[g]..][..step]);
        for t in 0..step {
            for g in 0..G {
                sums[g] += coefs[g][t] * values[g][t];
            }
        }
        for a in at.iter_mut() {
            *a += step;
        }
    }
    for g in 0..G {
        while run[g] < 2 {
            let (coefs, values) = runs[g][run[g]];
            for (c, v) in coefs[at[g]..].iter().zip(&values[at[g]..]) {
                sums[g] += c * v;
            }
            (run[g], at[g]) = (run[g] + 1, 0);
        }
    }
    sums
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
    fn interleaved_sums_are_the_pairwise_sums_to_the_bit() {
        for (n, d) in [(1, 1), (31, 3), (32, 20), (77, 7), (100, 33)] {
            let rows = Array2::from_shape_fn((n, d), |(i, j)| {
                ((i * 31 + j * 17) % 23) as f64 * 0.37 - 3.1
            });
            let x: Vec<f64> = (0..d).map(|j| j as f64 * 0.29 - 1.3).collect();
            let interleaved = Interleaved::new(rows.view());
            let (mut distances, mut dots) = (vec![f64::NAN; n], vec![f64::NAN; n]);
            wide(|| {
                interleaved.squared_distances(&x, &mut distances);
                interleaved.dots(&x, &mut dots);
            });
            for (i, row) in rows.rows().into_iter().enumerate() {
                let distance = row
                    .iter()
                    .zip(&x)
                    .fold(0.0, |s, (a, b)| s + (b - a) * (b - a));
                let dot = row.iter().zip(&x).fold(0.0, |s, (a, b)| s + b * a);
                assert_eq!(
                    distances[i].to_bits(),
                    distance.to_bits(),
                    "row {i} of {n} × {d}"
                );
                assert_eq!(dots[i].to_bits(), dot.to_bits(), "row {i} of {n} × {d}");
            }
            assert!(Interleaved::<f64>::bytes(n, d) >= n * d * 8);
        }
    }

    #[test]
    fn one_row_sums_each_output_in_row_order() {
        for m in [4, 5, 8, 13, 32, 45, 77] {
            let w = Array2::from_shape_fn((19, m), |(i, j)| {
                ((i * 7 + j * 3) % 11) as f64 * 0.173 - 0.9
            });
            let x = Array2::from_shape_fn((1, 19), |(_, j)| j as f64 * 0.41 - 2.0);
            let one = product(x.view(), w.view());
            for j in 0..m {
                let expected = (0..19).fold(0.0, |s, i| s + x[[0, i]] * w[[i, j]]);
                assert_eq!(
                    one[[0, j]].to_bits(),
                    expected.to_bits(),
                    "output {j} of {m}"
                );
            }
        }
    }

    #[test]
    fn cos_is_within_an_ulp_of_libm() {
        let mut values: Vec<f64> = (0..20_000).map(|i| f64::from(i) * 0.0137 - 130.0).collect();
        values.extend([0.0, -0.0, 1e-300, 1000.5, -77_777.7]);
        // Next to zeros of the cosine, where a reduction by π/2 cancels digits.
        values.extend((1..200).map(|k| f64::from(k) * std::f64::consts::FRAC_PI_2 - 0.25));
        let offsets = [0.25, 0.0];
        let expected: Vec<f64> = values
            .iter()
            .zip(offsets.iter().cycle())
            .map(|(v, o)| (v + o).cos() * 0.5)
            .collect();
        cos_shifted_in_place(&mut values, &offsets, 0.5);
        for (a, b) in values.iter().zip(&expected) {
            assert!(
                (a - b).abs() <= 2.0 * f64::EPSILON * b.abs().max(1e-300),
                "{a} vs {b}"
            );
        }
        let mut far = vec![3e6, 1.0];
        cos_shifted_in_place(&mut far, &[0.0, 0.0], 1.0);
        assert_eq!(far, vec![3e6f64.cos(), 1f64.cos()]);
    }

    #[test]
    fn wide_exp_is_the_scalar_exp_to_the_bit() {
        let mut values: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.731 - 300.0).collect();
        let expected: Vec<f64> = values.iter().map(|v| exp(v * -0.5)).collect();
        exp_scaled_in_place(&mut values, -0.5);
        assert_eq!(values, expected);
    }
}

//! The brute Euclidean search for a few nearest points (`k` ≤ [`FEW`]), one pass over the
//! fitted points per query row and no distance matrix: the fitted points are copied at load
//! into blocks of [`LANES`] points laid out feature by feature ([`Blocks`], the
//! [`simd::Interleaved`] copy with the points' squared norms), so that a
//! row's products with a block are contiguous loads into independent sums; each block's
//! squared distances are compared at once with the k-th kept, and a block whose every point is
//! farther (nearly all of them) costs nothing more. A batch is measured tile by tile, a tile of
//! fitted points staying in cache while every row of a group of rows is measured against it.
//!
//! The arithmetic is that of [`crate::model::pairwise::FittedRows::euclidean_distances`] for a
//! few rows, operation for operation: `x·y` summed feature after feature from 0, `‖x‖²` and
//! `‖y‖²` by `row_norms_squared`, then `max((−2 x·y + ‖x‖²) + ‖y‖², 0)`; the neighbours, their
//! order (lower index first among equal distances) and their distances are those of
//! `nearest_by_squares` over that matrix (see [`Nearest::finish`]).
//!
//! A row goes first through a float32 copy of the points ([`Rough`], twice the lanes per
//! instruction), which only has to find the points that could be among the k nearest; the
//! exact arithmetic above then measures those alone, so the answer is the same to the bit.
//! The bound that makes this safe: with `u = 2⁻²⁴`, `d ≤ 2¹⁶` features and
//! `M = ‖x‖² + 2 Σ|xⱼ yⱼ| + ‖y‖² ≤ (‖x‖ + ‖y‖)²`, the float32 square `s₃₂` (of `x` and `y`
//! rounded to float32, in the same formula) and the float64 one `s₆₄` differ by at most
//! `(1.01 d + 7) u M`: each of the three sums is within `γ_d` of its exact value relative to
//! the sum of its terms' magnitudes in either precision, the two additions after them add
//! `2u`, and rounding the inputs moves the exact square by `(2u + u²) M`; products below
//! float32's normal range add an absolute error of at most `2⁻¹⁵⁰` each. The pass takes
//! `e = (2d + 16) u M · 1.001 + 2⁻¹²⁰` for a block (`M` from its point farthest from the
//! origin), twice as much and more, which also covers the rounding of the bound's own
//! float32 arithmetic. The k least `s₃₂ + e` bound the k-th `s₆₄` from above (`t`), and a
//! point is kept while `s₃₂ ≤ t (1 + 2⁻¹⁸) + e`: every point whose `s₆₄` is within
//! [`ROOT_MARGIN`] of the k-th passes. A value float32 would hold beyond its relative
//! rounding (subnormal), or one past `2⁴⁹` (where sums could overflow), keeps a model or a
//! row on the exact pass alone.
//!
//! The ranking every search of the room shares lives here too: [`Neighbours`], and the `k`
//! least by insertion ([`nearest_few`], up to [`FEW`]).
//!
//! What must not live here: other metrics, radius searches, what the neighbours answer.

use ndarray::ArrayView2;

use crate::model::pairwise::row_norms_squared;
use crate::model::simd::{self, wide};

/// A row's neighbours: (distance, index into the fitted points).
pub type Neighbours = Vec<(f64, usize)>;

/// Up to this many neighbours are kept by insertion into a sorted list as the distances go
/// by (most are farther than the k-th kept and cost one comparison), more by selection.
pub const FEW: usize = 32;

/// The `k` (at most [`FEW`]) least of `(distance, index)` pairs, nearest first, the lower
/// index first among equal distances: the order [`Search::kneighbors`] sorts by.
pub fn nearest_few(pairs: impl Iterator<Item = (f64, usize)>, k: usize) -> Neighbours {
    let mut kept: Neighbours = Vec::with_capacity(k + 1);
    keep_nearest(&mut kept, pairs, k);
    kept
}

/// [`nearest_few`] into `kept` (the `k` least so far, in order).
pub fn keep_nearest(kept: &mut Neighbours, pairs: impl Iterator<Item = (f64, usize)>, k: usize) {
    let before =
        |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).is_lt();
    for pair in pairs {
        if kept.len() == k && !kept.last().is_some_and(|last| before(&pair, last)) {
            continue;
        }
        let at = kept.partition_point(|kept| before(kept, &pair));
        kept.insert(at, pair);
        kept.truncate(k);
    }
}

/// Fitted points per block: enough independent sums that the additions of one feature do
/// not wait on the previous feature's.
const LANES: usize = simd::INTERLEAVED;

/// Bytes of fitted points a tile holds: a tile stays in the first-level cache (32 KiB) while
/// a group of rows is measured against it.
const TILE_BYTES: usize = 16 << 10;

/// Rows measured together, tile by tile.
const GROUP: usize = 64;

/// Relative margin within which a square larger than the k-th may still have the same root
/// (an ulp or two of it).
const ROOT_MARGIN: f64 = 1.0 + 1e-15;

/// Fitted points per block of the float32 pass: as many registers of sums as [`LANES`] takes
/// in float64.
const ROUGH_LANES: usize = 2 * LANES;

/// The smallest and largest magnitudes (besides zero) the float32 pass takes: float32 holds
/// them to a relative half ulp, and the sums of their products stay far from overflow.
const ROUGH_RANGE: std::ops::RangeInclusive<f64> =
    1.0 / (1u128 << 125) as f64..=(1u64 << 49) as f64;

/// The float32 pass's allowance for products below float32's normal range (an absolute
/// error of at most 2⁻¹⁵⁰ each, far fewer than 2³⁰ of them).
const ROUGH_FLOOR: f32 = 1.0 / (1u128 << 120) as f32;

/// Whether the float32 pass takes `v` (zero, or a magnitude in [`ROUGH_RANGE`]).
fn rough_takes(v: f64) -> bool {
    v == 0.0 || ROUGH_RANGE.contains(&v.abs())
}

/// Fitted points in blocks of [`LANES`], feature by feature, with their squared norms.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocks {
    points: simd::Interleaved,
    d: usize,
    /// `‖y‖²` of each point, padded with zeros to whole blocks.
    norms: Vec<f64>,
    /// The float32 first pass, unless a fitted value is beyond what it takes.
    rough: Option<Rough>,
}

/// The fitted points rounded to float32 for the first pass, in blocks of [`ROUGH_LANES`].
#[derive(Clone, Debug, PartialEq)]
struct Rough {
    points: simd::Interleaved<f32, ROUGH_LANES>,
    /// `‖ỹ‖²` of each rounded point, summed in float32 feature after feature, padded with
    /// zeros.
    norms: Vec<f32>,
    /// Each block's largest `‖y‖`, rounded up.
    reach: Vec<f32>,
    /// `(2d + 16) u · 1.001`: the bound's factor of `M`.
    slack: f32,
}

impl Blocks {
    /// The bytes it holds for `n` points of `d` features (padded to whole blocks), for the
    /// loading budget to charge before [`Blocks::new`] makes them.
    pub fn bytes(n: usize, d: usize) -> usize {
        let norms = n.div_ceil(LANES).saturating_mul(LANES);
        let rough_norms = n.div_ceil(ROUGH_LANES).saturating_mul(ROUGH_LANES + 1);
        simd::Interleaved::<f64>::bytes(n, d)
            .saturating_add(norms.saturating_mul(size_of::<f64>()))
            .saturating_add(simd::Interleaved::<f32, ROUGH_LANES>::bytes(n, d))
            .saturating_add(rough_norms.saturating_mul(size_of::<f32>()))
    }

    pub fn new(rows: ArrayView2<'_, f64>) -> Self {
        let points = simd::Interleaved::new(rows);
        let mut norms = row_norms_squared(rows).to_vec();
        let d = rows.ncols();
        let rough = (d > 0 && d <= 1 << 16 && rows.iter().all(|&v| rough_takes(v)))
            .then(|| Rough::new(rows, &norms))
            .flatten();
        norms.resize(points.n_groups() * LANES, 0.0);
        Self {
            points,
            d,
            norms,
            rough,
        }
    }

    /// Each row's `k` nearest points (`k` ≤ [`FEW`], at most the points there are), nearest
    /// first, the lower index first among equal distances, appended to `out`.
    pub fn kneighbors(&self, x: ArrayView2<'_, f64>, k: usize, out: &mut Vec<Neighbours>) {
        debug_assert!(k >= 1 && k <= FEW.min(self.points.n_rows()));
        let x = x.as_standard_layout();
        let d = self.d;
        let xs = x.as_slice().expect("standard layout");
        let xx = row_norms_squared(x.view());
        let xx = xx.as_slice().expect("a new array is contiguous");
        let n = self.points.n_rows();
        // Tiles of whole float32 blocks (two float64 blocks each), as many as fit in
        // TILE_BYTES of the copy most rows read.
        let spans = n.div_ceil(ROUGH_LANES);
        let value_bytes = if self.rough.is_some() {
            size_of::<f32>()
        } else {
            size_of::<f64>()
        };
        let per_tile = (TILE_BYTES / (d * ROUGH_LANES * value_bytes)).max(1);
        wide(
            #[inline(always)]
            || {
                for (rows, xx) in xs.chunks(GROUP * d).zip(xx.chunks(GROUP)) {
                    let mut searches: Vec<RowSearch> = rows
                        .chunks_exact(d)
                        .zip(xx)
                        .map(|(row, &xx)| {
                            match self.rough.as_ref().and_then(|r| r.start(row, xx, k)) {
                                Some(search) => RowSearch::Rough(search),
                                None => RowSearch::Exact(Nearest::new(k)),
                            }
                        })
                        .collect();
                    for tile in (0..spans).step_by(per_tile) {
                        let tile = tile..(tile + per_tile).min(spans);
                        for ((row, &xx), search) in rows.chunks_exact(d).zip(xx).zip(&mut searches)
                        {
                            match search {
                                RowSearch::Rough(search) => {
                                    for b in tile.clone() {
                                        search.offer(b, n);
                                    }
                                }
                                RowSearch::Exact(nearest) => {
                                    let blocks =
                                        tile.start * 2..(tile.end * 2).min(self.points.n_groups());
                                    for b in blocks {
                                        let squares = self.squares(row, xx, b);
                                        let first = b * LANES;
                                        nearest.offer(&squares, first, (n - first).min(LANES));
                                    }
                                }
                            }
                        }
                    }
                    for ((row, &xx), search) in rows.chunks_exact(d).zip(xx).zip(searches) {
                        out.push(match search {
                            RowSearch::Exact(nearest) => nearest.finish(),
                            RowSearch::Rough(search) => search.finish(self, row, xx),
                        });
                    }
                }
            },
        );
    }

    /// The squared distance of `x` (whose `‖x‖²` is `xx`) to point `i`, as [`Blocks::squares`]
    /// computes it in point `i`'s lane, to the bit.
    #[inline(always)]
    fn square(&self, x: &[f64], xx: f64, i: usize) -> f64 {
        let (b, r) = (i / LANES, i % LANES);
        let block = self.points.group(b);
        let mut sum = 0.0;
        for (&xj, column) in x.iter().zip(block.chunks_exact(LANES)) {
            sum += xj * column[r];
        }
        ((-2.0 * sum + xx) + self.norms[i]).max(0.0)
    }

    /// The squared distances of `x` (whose `‖x‖²` is `xx`) to the points of block `b`.
    #[inline(always)]
    fn squares(&self, x: &[f64], xx: f64, b: usize) -> [f64; LANES] {
        block_squares(self.points.group(b), &self.norms[b * LANES..], x, xx)
    }
}

impl Rough {
    /// The float32 copy of `rows`, whose squared norms are `norms`; `None` when a point is
    /// farther from the origin than the pass takes.
    fn new(rows: ArrayView2<'_, f64>, norms: &[f64]) -> Option<Self> {
        let points = simd::Interleaved::<f32, ROUGH_LANES>::of(rows, |v| v as f32);
        let padded = points.n_groups() * ROUGH_LANES;
        let mut rough_norms: Vec<f32> = rows
            .rows()
            .into_iter()
            .map(|row| row.iter().fold(0.0f32, |s, &v| s + (v as f32) * (v as f32)))
            .collect();
        rough_norms.resize(padded, 0.0);
        let mut reach = Vec::with_capacity(points.n_groups());
        for block in norms.chunks(ROUGH_LANES) {
            let farthest = block.iter().fold(0.0f64, |m, &yy| m.max(yy)).sqrt();
            if farthest > *ROUGH_RANGE.end() {
                return None;
            }
            // Rounded up: a float64 root is within an ulp, its float32 rounding within half
            // of float32's.
            reach.push((farthest * (1.0 + 1e-6)) as f32);
        }
        let d = rows.ncols() as f32;
        Some(Self {
            points,
            norms: rough_norms,
            reach,
            slack: (2.0 * d + 16.0) * f32::EPSILON / 2.0 * 1.001,
        })
    }

    /// The float32 pass of one row (`xx`: its float64 `‖x‖²`), or `None` when the row holds
    /// a value the pass does not take.
    fn start(&self, x: &[f64], xx: f64, k: usize) -> Option<RoughNearest<'_>> {
        let reach = xx.sqrt();
        if reach.is_nan() || reach > *ROUGH_RANGE.end() || !x.iter().all(|&v| rough_takes(v)) {
            return None;
        }
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let xx = x.iter().fold(0.0f32, |s, &v| s + v * v);
        Some(RoughNearest {
            rough: self,
            k,
            x,
            xx,
            reach: (reach * (1.0 + 1e-6)) as f32,
            upper: Vec::with_capacity(k + 1),
            limit: f32::INFINITY,
            met: Vec::with_capacity(4 * k),
        })
    }

    /// The float32 squared distances of `x` (its rounded `‖x̃‖²` `xx`) to block `b`'s points.
    #[inline(always)]
    fn squares(&self, x: &[f32], xx: f32, b: usize) -> [f32; ROUGH_LANES] {
        block_squares(self.points.group(b), &self.norms[b * ROUGH_LANES..], x, xx)
    }
}

/// What the blocks hold: float64 for the exact pass, float32 for the first.
trait Value: Copy + std::ops::Add<Output = Self> + std::ops::Mul<Output = Self> {
    const ZERO: Self;
    const MINUS_TWO: Self;
    fn clipped(self) -> Self;
}

macro_rules! value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            const ZERO: Self = 0.0;
            const MINUS_TWO: Self = -2.0;
            #[inline(always)]
            fn clipped(self) -> Self {
                self.max(0.0)
            }
        }
    )*};
}

value!(f64, f32);

/// `max((−2 x·y + ‖x‖²) + ‖y‖², 0)` of `x` (whose `‖x‖²` is `xx`) with each of the `W`
/// points of an interleaved `block` (their `‖y‖²` first in `norms`), each `x·y` summed feature
/// after feature from 0.
#[inline(always)]
fn block_squares<T: Value, const W: usize>(block: &[T], norms: &[T], x: &[T], xx: T) -> [T; W] {
    let norms: &[T; W] = norms[..W].try_into().expect("whole blocks");
    let mut sums = [T::ZERO; W];
    for (&xj, column) in x.iter().zip(block.chunks_exact(W)) {
        let column: &[T; W] = column.try_into().expect("whole blocks");
        for (s, &y) in sums.iter_mut().zip(column) {
            *s = *s + xj * y;
        }
    }
    for (s, &yy) in sums.iter_mut().zip(norms) {
        *s = ((T::MINUS_TWO * *s + xx) + yy).clipped();
    }
    sums
}

/// A row's search: the float32 pass then the exact squares of what it kept, or the exact
/// pass alone.
enum RowSearch<'a> {
    Rough(RoughNearest<'a>),
    Exact(Nearest),
}

/// One row's float32 pass as the blocks go by.
struct RoughNearest<'a> {
    rough: &'a Rough,
    k: usize,
    /// The row rounded to float32, and its `‖x̃‖²` summed in float32.
    x: Vec<f32>,
    xx: f32,
    /// `‖x‖`, rounded up.
    reach: f32,
    /// The `k` least upper bounds `s₃₂ + e` met so far, in order.
    upper: Vec<f32>,
    /// `t (1 + 2⁻¹⁸)` of the k-th upper bound `t` (infinite until `k` are met).
    limit: f32,
    /// `(s₃₂, e, index)` of every point within the limit when it was met.
    met: Vec<(f32, f32, usize)>,
}

impl RoughNearest<'_> {
    /// Block `b` of the float32 copy (of `n` points in all).
    #[inline(always)]
    fn offer(&mut self, b: usize, n: usize) {
        let rough = self.rough;
        let m = self.reach + rough.reach[b];
        let e = rough.slack * m * m + ROUGH_FLOOR;
        let squares = rough.squares(&self.x, self.xx, b);
        let bound = self.limit + e;
        if squares.iter().fold(true, |beyond, &s| beyond & (s > bound)) {
            return;
        }
        let first = b * ROUGH_LANES;
        let count = (n - first).min(ROUGH_LANES);
        for (i, &s) in (first..).zip(&squares[..count]) {
            if s > self.limit + e {
                continue;
            }
            self.met.push((s, e, i));
            let upper = s + e;
            if self.upper.len() < self.k || upper < self.upper[self.k - 1] {
                let at = self.upper.partition_point(|&u| u <= upper);
                self.upper.insert(at, upper);
                self.upper.truncate(self.k);
                if self.upper.len() == self.k {
                    self.limit = self.upper[self.k - 1] * (1.0 + 1.0 / (1 << 18) as f32);
                }
            }
        }
    }

    /// The exact squares of the points still within the final limit, ranked as the exact
    /// pass ranks them (`x`: the row, `xx`: its float64 `‖x‖²`).
    fn finish(self, blocks: &Blocks, x: &[f64], xx: f64) -> Neighbours {
        let limit = self.limit;
        let mut nearest = Nearest::new(self.k);
        nearest.met.extend(
            self.met
                .into_iter()
                .filter(|&(s, e, _)| s <= limit + e)
                .map(|(_, _, i)| (blocks.square(x, xx, i), i)),
        );
        keep_nearest(&mut nearest.kept, nearest.met.iter().copied(), self.k);
        nearest.finish()
    }
}

/// One row's search as the blocks go by.
struct Nearest {
    k: usize,
    /// The `k` least (square, index) pairs met so far, in order.
    kept: Neighbours,
    /// Every pair that was within `limit` when it was met: the answer is among them.
    met: Neighbours,
    /// A square beyond it has a root beyond the k-th kept's (infinite until `k` are kept).
    limit: f64,
}

impl Nearest {
    fn new(k: usize) -> Self {
        Self {
            k,
            kept: Vec::with_capacity(k + 1),
            met: Vec::with_capacity(4 * k),
            limit: f64::INFINITY,
        }
    }

    /// The squares of a block whose first point is `first`, of which `count` are points.
    #[inline(always)]
    fn offer(&mut self, squares: &[f64; LANES], first: usize, count: usize) {
        let limit = self.limit;
        if squares.iter().fold(true, |beyond, &s| beyond & (s > limit)) {
            return;
        }
        for (i, &s) in (first..).zip(&squares[..count]) {
            if s > self.limit {
                continue;
            }
            self.met.push((s, i));
            keep_nearest(&mut self.kept, std::iter::once((s, i)), self.k);
            if self.kept.len() == self.k {
                self.limit = self.kept[self.k - 1].0 * ROOT_MARGIN;
            }
        }
    }

    /// The `k` nearest by distance `√s`: the `k` least squares bound the answer (its k-th
    /// distance is at most the root `t` of the k-th least square), so of the squares met only
    /// those whose root is at most `t` are rooted and ranked, as every distance would be. A
    /// square above the k-th has that root only within an ulp or two of it, and such a square
    /// was always within `limit` when it was met, the limit only ever coming down to
    /// `k-th × ROOT_MARGIN`.
    fn finish(self) -> Neighbours {
        let Some(&(kth, _)) = self.kept.last() else {
            return self.kept;
        };
        let t = kth.sqrt();
        let near = kth * ROOT_MARGIN;
        let candidates = self
            .met
            .into_iter()
            .filter(|&(s, _)| s <= kth || (s <= near && s.sqrt().total_cmp(&t).is_le()))
            .map(|(s, i)| (s.sqrt(), i));
        nearest_few(candidates, self.k)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::model::pairwise::FittedRows;

    /// The squared Euclidean distances the search ranks, rows of `x` × the points (for tests).
    fn squares_matrix(lanes: &Blocks, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let x = x.as_standard_layout();
        let xx = row_norms_squared(x.view());
        let (n, blocks) = (lanes.points.n_rows(), lanes.points.n_groups());
        let mut out = Array2::zeros((x.nrows(), n));
        for ((row, &xx), mut o) in x.rows().into_iter().zip(&xx).zip(out.rows_mut()) {
            let row = row.to_slice().expect("standard layout");
            let all: Vec<f64> = (0..blocks)
                .flat_map(|b| lanes.squares(row, xx, b))
                .collect();
            o.assign(&ndarray::ArrayView1::from(&all[..n]));
        }
        out
    }

    fn points(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut state = seed;
        Array2::from_shape_fn((n, d), |_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 4.0
        })
    }

    #[test]
    fn squares_are_those_of_the_few_rows_matrix_to_the_bit() {
        for (n, d) in [(1, 1), (31, 3), (32, 20), (33, 7), (200, 50)] {
            let fit = points(n, d, 7);
            let x = points(3, d, 11);
            let lanes = Blocks::new(fit.view());
            let rows = FittedRows::new(fit.clone());
            for i in 0..x.nrows() {
                let one = x.row(i).insert_axis(ndarray::Axis(0));
                assert_eq!(
                    squares_matrix(&lanes, one),
                    rows.euclidean_distances(one, true)
                );
            }
        }
    }

    /// The neighbours of `x`'s rows with the float32 pass and by the exact pass alone, to
    /// the bit.
    fn assert_the_float32_pass_changes_nothing(fit: &Array2<f64>, x: &Array2<f64>) {
        let blocks = Blocks::new(fit.view());
        assert!(blocks.rough.is_some());
        let exact = Blocks {
            rough: None,
            ..blocks.clone()
        };
        let bits = |found: &[Neighbours]| -> Vec<Vec<(u64, usize)>> {
            found
                .iter()
                .map(|row| row.iter().map(|(d, i)| (d.to_bits(), *i)).collect())
                .collect()
        };
        for k in [1, 2, 5, 17, 32] {
            let (mut rough_found, mut exact_found) = (Vec::new(), Vec::new());
            blocks.kneighbors(x.view(), k, &mut rough_found);
            exact.kneighbors(x.view(), k, &mut exact_found);
            assert_eq!(bits(&rough_found), bits(&exact_found), "k = {k}");
        }
    }

    #[test]
    fn the_float32_pass_keeps_every_neighbour_the_exact_pass_finds() {
        // Points an ulp or two from others, exact copies, and queries on fitted points.
        let mut fit = points(500, 6, 13);
        for i in 0..100 {
            let mut near = fit.row(i).to_owned();
            near[i % 6] = f64::from_bits(near[i % 6].to_bits() + (i as u64 % 3));
            fit.row_mut(400 + i).assign(&near);
        }
        let mut x = points(70, 6, 17);
        for i in 0..10 {
            x.row_mut(i).assign(&fit.row(i * 7));
        }
        // Beyond the float32 pass: these rows take the exact pass alone.
        x[[11, 2]] = 1e-300;
        x[[12, 0]] = 1e30;
        assert_the_float32_pass_changes_nothing(&fit, &x);
        // Far from the origin, where float32 rounds away every difference between points.
        let far = fit.mapv(|v| v + 1e6);
        assert_the_float32_pass_changes_nothing(&far, &x.mapv(|v| v + 1e6));
        // Integer points, full of equal distances.
        let integers = points(300, 4, 3).mapv(f64::round);
        assert_the_float32_pass_changes_nothing(&integers, &points(80, 4, 5).mapv(f64::round));
    }

    #[test]
    fn fitted_values_beyond_the_float32_pass_leave_it_out() {
        let mut fit = points(40, 3, 1);
        fit[[5, 1]] = 1e-200;
        assert!(Blocks::new(fit.view()).rough.is_none());
        fit[[5, 1]] = 3e20;
        assert!(Blocks::new(fit.view()).rough.is_none());
        fit[[5, 1]] = 0.0;
        assert!(Blocks::new(fit.view()).rough.is_some());
    }

    #[test]
    fn neighbours_are_the_full_sort_s_with_ties_by_index() {
        // Integer points: many exactly equal distances.
        let mut fit = points(300, 4, 3).mapv(f64::round);
        let copy = fit.row(250).to_owned();
        fit.row_mut(17).assign(&copy);
        let x = points(80, 4, 5).mapv(f64::round);
        let lanes = Blocks::new(fit.view());
        for k in [1, 5, 32] {
            let mut found = Vec::new();
            lanes.kneighbors(x.view(), k, &mut found);
            let squares = squares_matrix(&lanes, x.view());
            for (row, found) in squares.rows().into_iter().zip(&found) {
                let mut all: Neighbours = row.iter().map(|s| s.sqrt()).zip(0..).collect();
                all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                all.truncate(k);
                assert_eq!(found, &all);
            }
        }
    }
}

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

/// Fitted points in blocks of [`LANES`], feature by feature, with their squared norms.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocks {
    points: simd::Interleaved,
    d: usize,
    /// `‖y‖²` of each point, padded with zeros to whole blocks.
    norms: Vec<f64>,
}

impl Blocks {
    /// The bytes it holds for `n` points of `d` features (padded to whole blocks), for the
    /// loading budget to charge before [`Blocks::new`] makes them.
    pub fn bytes(n: usize, d: usize) -> usize {
        let norms = n.div_ceil(LANES).saturating_mul(LANES);
        simd::Interleaved::bytes(n, d).saturating_add(norms.saturating_mul(size_of::<f64>()))
    }

    pub fn new(rows: ArrayView2<'_, f64>) -> Self {
        let points = simd::Interleaved::new(rows);
        let mut norms = row_norms_squared(rows).to_vec();
        norms.resize(points.n_groups() * LANES, 0.0);
        Self {
            points,
            d: rows.ncols(),
            norms,
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
        let (n, blocks) = (self.points.n_rows(), self.points.n_groups());
        let per_tile = (TILE_BYTES / (d * LANES * size_of::<f64>())).max(1);
        wide(
            #[inline(always)]
            || {
                for (rows, xx) in xs.chunks(GROUP * d).zip(xx.chunks(GROUP)) {
                    let mut nearest: Vec<Nearest> = xx.iter().map(|_| Nearest::new(k)).collect();
                    for tile in (0..blocks).step_by(per_tile) {
                        let tile = tile..(tile + per_tile).min(blocks);
                        for ((row, &xx), nearest) in rows.chunks_exact(d).zip(xx).zip(&mut nearest)
                        {
                            for b in tile.clone() {
                                let squares = self.squares(row, xx, b);
                                let first = b * LANES;
                                nearest.offer(&squares, first, (n - first).min(LANES));
                            }
                        }
                    }
                    out.extend(nearest.into_iter().map(Nearest::finish));
                }
            },
        );
    }

    /// The squared distances of `x` (whose `‖x‖²` is `xx`) to the points of block `b`.
    #[inline(always)]
    fn squares(&self, x: &[f64], xx: f64, b: usize) -> [f64; LANES] {
        let block = self.points.group(b);
        let norms: &[f64; LANES] = self.norms[b * LANES..(b + 1) * LANES]
            .try_into()
            .expect("whole blocks");
        let mut sums = [0.0; LANES];
        for (&xj, column) in x.iter().zip(block.chunks_exact(LANES)) {
            let column: &[f64; LANES] = column.try_into().expect("whole blocks");
            for (s, &y) in sums.iter_mut().zip(column) {
                *s += xj * y;
            }
        }
        for (s, &yy) in sums.iter_mut().zip(norms) {
            *s = ((-2.0 * *s + xx) + yy).max(0.0);
        }
        sums
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

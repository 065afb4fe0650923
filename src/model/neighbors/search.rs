//! The neighbour search every estimator of this room shares: brute force over the fitted
//! points `_fit_X`, by the estimator's effective metric, with the arithmetic scikit-learn used
//! for the way it was fitted:
//! - `brute`: the matrix scikit-learn's brute search computes (Euclidean through
//!   `‖x‖² − 2 x·y + ‖y‖²`, cosine through normalised rows, the others pair by pair); the k
//!   nearest by Euclidean distance, for a small k, without the matrix (`brute.rs`);
//! - `kd_tree` and `ball_tree`: each pair's distance by the metric, as the trees compute it.
//!   The tree itself is only checked (`tree.rs`).
//!
//! Of points equally far, the one of lower index comes first, as scikit-learn's brute search
//! keeps them; a tree keeps the ones its walk meets first, so where the k-th and the next
//! point are equally far the neighbours kept may differ from scikit-learn's (docs/models.md).

use ndarray::{Array2, ArrayView2, Axis};

use super::brute::{Blocks, keep_nearest, nearest_few};
pub use super::brute::{FEW, Neighbours};
use super::tree;
use crate::model::LoadError;
use crate::model::fitted;
use crate::model::pairwise::{self, FittedRows, Metric, MetricParams, ROWS_AT_ONCE};
use crate::model::state::{State, number_of, numbers_of};

/// The fitted points and how distances to them are measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// `_fit_X`, with the squared norms a brute Euclidean search takes.
    fit: FittedRows,
    pub metric: Metric,
    /// `_fit_method` is `brute` (matrix arithmetic) rather than a tree (pair by pair).
    brute: bool,
    /// For a brute Euclidean search, `_fit_X` in blocks for the one-pass search of a few
    /// neighbours.
    lanes: Option<Box<Blocks>>,
}

impl Search {
    /// Reads `_fit_X`, `_fit_method`, `effective_metric_` and `effective_metric_params_`, and
    /// checks `_tree` where there is one.
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let fit = fitted::matrix(state, "_fit_X", None, None)?;
        let (n, d) = fit.dim();
        if n == 0 {
            return Err(state.malformed("_fit_X", "holds no points"));
        }
        if let Some(stored) = state.count("n_samples_fit_")?
            && stored != n
        {
            return Err(state.malformed(
                "n_samples_fit_",
                format!("is {stored}, but _fit_X holds {n} points"),
            ));
        }
        let method = fitted::one_of(state, "_fit_method", &["brute", "kd_tree", "ball_tree"])?;
        let metric = read_metric(state, d)?;
        if method != "brute" {
            tree::check(state, &fit, &metric, method == "ball_tree")?;
        }
        let brute = method == "brute";
        fitted::charge_derived(state, "_fit_X interleaved", FittedRows::derived_bytes(n, d))?;
        let lanes = if brute && metric == Metric::Euclidean {
            fitted::charge_derived(state, "_fit_X in blocks", Blocks::bytes(n, d))?;
            Some(Box::new(Blocks::new(fit.view())))
        } else {
            None
        };
        Ok(Self {
            fit: FittedRows::new(fit),
            metric,
            brute,
            lanes,
        })
    }

    /// The fitted points, `_fit_X`.
    pub fn fit(&self) -> &Array2<f64> {
        self.fit.rows()
    }

    pub fn n_features(&self) -> usize {
        self.fit().ncols()
    }

    pub fn n_fit(&self) -> usize {
        self.fit().nrows()
    }

    /// Every query row's distance to every fitted point (rows × fitted points).
    pub fn distances(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        if self.brute {
            match self.metric {
                Metric::SqEuclidean => self.fit.euclidean_distances(x, true),
                Metric::Euclidean => self.fit.euclidean_distances(x, false),
                _ => pairwise::pairwise_distances(&self.metric, x, self.fit().view()),
            }
        } else {
            self.pairs(x, |a, b| self.metric.dist(a, b))
        }
    }

    /// Each row's `k` nearest points, nearest first, the lower index first among equals. A
    /// brute Euclidean search of up to [`FEW`] goes in one pass over the fitted points per row
    /// (`brute.rs`); the others take rows [`ROWS_AT_ONCE`] at a time, each block's distances
    /// ranked while they are in cache.
    pub fn kneighbors(&self, x: ArrayView2<'_, f64>, k: usize) -> Vec<Neighbours> {
        let k = k.min(self.n_fit());
        let mut out = Vec::with_capacity(x.nrows());
        if let Some(lanes) = &self.lanes
            && (1..=FEW).contains(&k)
        {
            lanes.kneighbors(x, k, &mut out);
            return out;
        }
        for rows in x.axis_chunks_iter(Axis(0), ROWS_AT_ONCE) {
            self.kneighbors_of(rows, k, &mut out);
        }
        out
    }

    /// [`Search::kneighbors`] of a block of rows, appended to `out`.
    fn kneighbors_of(&self, x: ArrayView2<'_, f64>, k: usize, out: &mut Vec<Neighbours>) {
        let by = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        let mut all: Neighbours = Vec::new();
        out.extend(self.distances(x).rows().into_iter().map(|row| {
            if k <= FEW {
                return nearest_few_of(row.as_slice().expect("contiguous"), k);
            }
            all.clear();
            all.extend(row.iter().copied().zip(0..));
            if k < all.len() {
                all.select_nth_unstable_by(k, by);
            }
            let mut nearest = all[..k].to_vec();
            nearest.sort_unstable_by(by);
            nearest
        }));
    }

    /// Each row's points within `radius` (inclusive), by index, compared as scikit-learn
    /// compares them: a brute Euclidean search its squared distances (`‖x‖² − 2 x·y + ‖y‖²`)
    /// with `radius²`, a tree or a `DistanceMetric` search its reduced distances with the
    /// reduced radius, the rest their distances. A point on the boundary in exact arithmetic
    /// is kept or left as the rounding of that comparison decides, never after a root and a
    /// square.
    pub fn within(&self, x: ArrayView2<'_, f64>, radius: f64) -> Vec<Neighbours> {
        let keep = |reduced: Array2<f64>, bound: f64, to_dist: &dyn Fn(f64) -> f64| {
            reduced
                .rows()
                .into_iter()
                .map(|row| {
                    row.iter()
                        .copied()
                        .zip(0..)
                        .filter(|(r, _)| *r <= bound)
                        .map(|(r, i)| (to_dist(r), i))
                        .collect()
                })
                .collect()
        };
        if self.brute && self.metric == Metric::Euclidean {
            let squared = self.fit.euclidean_distances(x, true);
            return keep(squared, radius * radius, &f64::sqrt);
        }
        if !self.brute || self.reduced_by_brute() {
            let metric = &self.metric;
            let reduced = self.pairs(x, |a, b| metric.rdist(a, b));
            return keep(reduced, metric.dist_to_rdist(radius), &|r| {
                metric.rdist_to_dist(r)
            });
        }
        keep(self.distances(x), radius, &|d| d)
    }

    /// Whether scikit-learn's brute radius search goes through its distance reductions (by
    /// reduced distances) rather than `pairwise_distances`.
    fn reduced_by_brute(&self) -> bool {
        self.metric.in_distance_metric()
            && !self.metric.is_boolean()
            && !matches!(self.metric, Metric::Mahalanobis { .. } | Metric::Hamming)
    }

    /// `f` of every query row and fitted point, pair by pair.
    fn pairs(&self, x: ArrayView2<'_, f64>, f: impl Fn(&[f64], &[f64]) -> f64) -> Array2<f64> {
        let x = x.as_standard_layout();
        let mut out = Array2::zeros((x.nrows(), self.n_fit()));
        for (a, mut row) in x.rows().into_iter().zip(out.rows_mut()) {
            let a = a.to_slice().expect("standard layout");
            for (b, o) in self.fit().rows().into_iter().zip(row.iter_mut()) {
                *o = f(a, b.to_slice().expect("standard layout"));
            }
        }
        out
    }

    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "metric": self.metric.name(),
            "n_samples_fit": self.n_fit(),
            "search": if self.brute { "brute" } else { "brute (over a tree's points)" },
        })
    }
}

/// [`nearest_few`] of `values` by their index, eight at a time: once `k` are kept, a block
/// whose every value is beyond the k-th (most blocks) is passed over after one comparison of
/// each, without a branch per value; the others are ranked one by one. A value equal to the
/// k-th, or NaN, is never passed over, so the answer is [`nearest_few`]'s.
pub fn nearest_few_of(values: &[f64], k: usize) -> Neighbours {
    const BLOCK: usize = 8;
    let head = k.min(values.len());
    let mut kept = nearest_few(values[..head].iter().copied().zip(0..), k);
    for (b, block) in values[head..].chunks(BLOCK).enumerate() {
        if let Some(&(bound, _)) = kept.last()
            && kept.len() == k
            && block.iter().fold(true, |beyond, &v| beyond & (v > bound))
        {
            continue;
        }
        let start = head + b * BLOCK;
        keep_nearest(&mut kept, block.iter().copied().zip(start..), k);
    }
    kept
}

/// `effective_metric_` with `effective_metric_params_` (`p`, `w`, `V`, `VI`).
fn read_metric(state: &State<'_>, n_features: usize) -> Result<Metric, LoadError> {
    metric_named(
        state,
        "effective_metric_",
        "effective_metric_params_",
        n_features,
    )
}

/// The metric named by the attribute `name_attr`, with the parameters of `params_attr`
/// (`p`, `w`, `V`, `VI`; none or `None` for none), for rows of `n_features`.
pub fn metric_named(
    state: &State<'_>,
    name_attr: &str,
    params_attr: &str,
    n_features: usize,
) -> Result<Metric, LoadError> {
    let name = match state.text(name_attr) {
        Some(name) => name,
        None => {
            return Err(state.unsupported(format!(
                "{name_attr} is not a metric's name (a callable metric is code, which skserve never runs)"
            )));
        }
    };
    if name == "precomputed" {
        return Err(state.unsupported(
            format!("{name_attr} is precomputed: the model takes distances, not rows, and skserve serves rows"),
        ));
    }
    let mut params = MetricParams::default();
    if let Some(value) = state.attr(params_attr)
        && value != crate::model::value::Value::None
    {
        let items = state
            .heap
            .str_dict(value)
            .ok_or_else(|| state.malformed(params_attr, "is not a dict of named parameters"))?;
        let heap = state.heap;
        for (key, value) in items {
            if value == crate::model::value::Value::None {
                continue;
            }
            let at = format!("{params_attr}[{key:?}]");
            let vector = || -> Result<Vec<f64>, LoadError> {
                numbers_of(heap, value)
                    .map(|(v, _)| v)
                    .or_else(|| {
                        heap.tuple(value)?
                            .iter()
                            .map(|v| number_of(heap, *v))
                            .collect::<Option<Vec<f64>>>()
                    })
                    .ok_or_else(|| state.malformed(&at, "is not numeric"))
            };
            match key {
                "p" => {
                    params.p = Some(
                        number_of(heap, value)
                            .ok_or_else(|| state.malformed(&at, "is not a number"))?,
                    )
                }
                "w" => params.w = Some(vector()?),
                "V" => params.v = Some(vector()?),
                "VI" => {
                    let values = vector()?;
                    if values.len() != n_features * n_features {
                        return Err(state.malformed(
                            &at,
                            format!(
                                "holds {} values, not {n_features} × {n_features}",
                                values.len()
                            ),
                        ));
                    }
                    params.vi = Some(
                        Array2::from_shape_vec((n_features, n_features), values)
                            .expect("the length was checked"),
                    );
                }
                other => {
                    return Err(state.malformed(
                        params_attr,
                        format!("holds {other:?}, a parameter no metric takes"),
                    ));
                }
            }
        }
    }
    Metric::from_name(name, params, n_features)
        .map_err(|e| state.malformed(name_attr, e.to_string()))
}

/// `_get_weights`: `None` for uniform weights; for distance weights `1 / d`, except that a
/// row with a neighbour at distance 0 weighs those neighbours 1 and the others 0.
pub fn distance_weights(neighbours: &Neighbours) -> Vec<f64> {
    if neighbours.iter().any(|(d, _)| *d == 0.0) {
        neighbours
            .iter()
            .map(|(d, _)| f64::from(u8::from(*d == 0.0)))
            .collect()
    } else {
        neighbours.iter().map(|(d, _)| 1.0 / d).collect()
    }
}

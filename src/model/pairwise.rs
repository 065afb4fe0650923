//! Distances and kernels by scikit-learn's names, computed as scikit-learn computes them for
//! dense float64 data:
//! - [`Metric`]: the metrics of `sklearn.metrics.DistanceMetric` (what neighbour searches and
//!   their trees use), pair by pair ([`Metric::dist`], and the reduced [`Metric::rdist`] the
//!   trees compare), plus the names only `pairwise_distances` knows (`cosine`,
//!   `correlation`, `sqeuclidean`);
//! - [`pairwise_distances`]: the matrix `sklearn.metrics.pairwise_distances` gives, Euclidean
//!   through `‖x‖² − 2 x·y + ‖y‖²` (the matrix product by `ndarray`'s `dot`, as the BLAS call
//!   it stands for), [`nan_euclidean_distances`] for data with missing values;
//! - [`Kernel`]: the kernels of `pairwise_kernels` (`linear`, `poly`, `rbf`, `sigmoid`,
//!   `laplacian`, `cosine`, `chi2`, `additive_chi2`).
//!
//! A product of matrices is summed in another order than BLAS sums it, so values agree with
//! scikit-learn's within rounding, not to the bit; pair-by-pair sums are in scikit-learn's
//! order. What must not live here: reading model files or any one estimator's rules (libsvm's
//! own kernel arithmetic is the SVMs').

use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::model::linear::math::exp;
use crate::model::simd::{FEW_ROWS, Interleaved, wide};

/// A name or a parameter `pairwise` does not take.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PairwiseError {
    #[error("{0:?} is not a metric skserve knows")]
    UnknownMetric(String),
    #[error("{0:?} is not a kernel skserve knows")]
    UnknownKernel(String),
    #[error("metric {metric}: {problem}")]
    BadParameter {
        metric: &'static str,
        problem: String,
    },
}

/// A metric's parameters as `metric_params` (or a tree's `dist_metric`) give them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricParams {
    /// Minkowski's power.
    pub p: Option<f64>,
    /// Minkowski's weights, one per feature.
    pub w: Option<Vec<f64>>,
    /// `seuclidean`'s variances, one per feature.
    pub v: Option<Vec<f64>>,
    /// `mahalanobis`'s inverse covariance, features × features.
    pub vi: Option<Array2<f64>>,
}

/// A distance between two rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    Euclidean,
    SqEuclidean,
    Manhattan,
    Chebyshev,
    /// `(Σ wᵢ |xᵢ − yᵢ|ᵖ)^(1/p)`; weights all 1 when `w` is `None`.
    Minkowski {
        p: f64,
        w: Option<Vec<f64>>,
    },
    SEuclidean {
        v: Vec<f64>,
    },
    Mahalanobis {
        vi: Array2<f64>,
    },
    Cosine,
    Correlation,
    Canberra,
    BrayCurtis,
    Hamming,
    /// Great-circle distance of (latitude, longitude) in radians.
    Haversine,
    Jaccard,
    Dice,
    Matching,
    Kulsinski,
    RogersTanimoto,
    RussellRao,
    SokalMichener,
    SokalSneath,
}

/// The metrics without parameters by every name scikit-learn accepts, the canonical first.
const PLAIN: &[(&str, Metric)] = &[
    ("euclidean", Metric::Euclidean),
    ("l2", Metric::Euclidean),
    ("sqeuclidean", Metric::SqEuclidean),
    ("manhattan", Metric::Manhattan),
    ("cityblock", Metric::Manhattan),
    ("l1", Metric::Manhattan),
    ("chebyshev", Metric::Chebyshev),
    ("infinity", Metric::Chebyshev),
    ("cosine", Metric::Cosine),
    ("correlation", Metric::Correlation),
    ("canberra", Metric::Canberra),
    ("braycurtis", Metric::BrayCurtis),
    ("hamming", Metric::Hamming),
    ("haversine", Metric::Haversine),
    ("jaccard", Metric::Jaccard),
    ("dice", Metric::Dice),
    ("matching", Metric::Matching),
    ("kulsinski", Metric::Kulsinski),
    ("rogerstanimoto", Metric::RogersTanimoto),
    ("russellrao", Metric::RussellRao),
    ("sokalmichener", Metric::SokalMichener),
    ("sokalsneath", Metric::SokalSneath),
];

fn bad(metric: &'static str, problem: impl Into<String>) -> PairwiseError {
    PairwiseError::BadParameter {
        metric,
        problem: problem.into(),
    }
}

impl Metric {
    /// The metric scikit-learn means by `name` (its aliases too), for rows of `n_features`;
    /// Minkowski's p = 1, 2 and ∞ without weights are Manhattan, Euclidean and Chebyshev, as
    /// `DistanceMetric.get_metric` makes them.
    pub fn from_name(
        name: &str,
        params: MetricParams,
        n_features: usize,
    ) -> Result<Self, PairwiseError> {
        let per_feature = |metric: &'static str, what: &str, values: Option<Vec<f64>>| {
            let values = values.ok_or_else(|| bad(metric, format!("needs {what}")))?;
            if values.len() != n_features || values.iter().any(|v| !v.is_finite()) {
                let problem = format!("{what} must be {n_features} finite values");
                return Err(bad(metric, problem));
            }
            Ok(values)
        };
        if let Some((_, metric)) = PLAIN.iter().find(|(n, _)| *n == name) {
            if *metric == Self::Haversine && n_features != 2 {
                let problem = format!("takes 2 features (latitude, longitude), not {n_features}");
                return Err(bad("haversine", problem));
            }
            return Ok(metric.clone());
        }
        Ok(match name {
            "minkowski" | "p" => {
                let p = params.p.unwrap_or(2.0);
                if p.is_nan() || p <= 0.0 {
                    return Err(bad("minkowski", format!("p is {p}, not a positive number")));
                }
                let w = match params.w {
                    Some(w) => Some(per_feature("minkowski", "w", Some(w))?),
                    None => None,
                };
                match (p, &w) {
                    (1.0, None) => Self::Manhattan,
                    (2.0, None) => Self::Euclidean,
                    (p, None) if p.is_infinite() => Self::Chebyshev,
                    (p, Some(_)) if p.is_infinite() => {
                        return Err(bad("minkowski", "weights with p=inf"));
                    }
                    _ => Self::Minkowski { p, w },
                }
            }
            "seuclidean" => Self::SEuclidean {
                v: per_feature("seuclidean", "V", params.v)?,
            },
            "mahalanobis" => {
                let vi = params.vi.ok_or_else(|| bad("mahalanobis", "needs VI"))?;
                if vi.dim() != (n_features, n_features) || vi.iter().any(|v| !v.is_finite()) {
                    let problem = format!(
                        "VI has shape {:?}, expected {n_features} × {n_features} finite values",
                        vi.dim()
                    );
                    return Err(bad("mahalanobis", problem));
                }
                Self::Mahalanobis { vi }
            }
            other => return Err(PairwiseError::UnknownMetric(other.to_owned())),
        })
    }

    /// Its name as scikit-learn spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Minkowski { .. } => "minkowski",
            Self::SEuclidean { .. } => "seuclidean",
            Self::Mahalanobis { .. } => "mahalanobis",
            plain => PLAIN
                .iter()
                .find(|(_, m)| m == plain)
                .map_or("minkowski", |(name, _)| name),
        }
    }

    /// Whether `DistanceMetric` has it (the metrics a ball tree can search by); `cosine`,
    /// `correlation` and `sqeuclidean` are `pairwise_distances`' only.
    pub fn in_distance_metric(&self) -> bool {
        !matches!(self, Self::Cosine | Self::Correlation | Self::SqEuclidean)
    }

    /// Whether it reads its values as booleans (non-zero is true).
    pub fn is_boolean(&self) -> bool {
        matches!(
            self,
            Self::Jaccard
                | Self::Dice
                | Self::Matching
                | Self::Kulsinski
                | Self::RogersTanimoto
                | Self::RussellRao
                | Self::SokalMichener
                | Self::SokalSneath
        )
    }

    /// The reduced distance `DistanceMetric.rdist` compares: ranked as the distance, cheaper
    /// (no root; for haversine the squared half-chord).
    pub fn rdist(&self, a: &[f64], b: &[f64]) -> f64 {
        let pairs = a.iter().zip(b);
        match self {
            Self::Euclidean | Self::SqEuclidean => {
                pairs.fold(0.0, |s, (x, y)| s + (x - y) * (x - y))
            }
            Self::Minkowski { p, w: None } => {
                pairs.fold(0.0, |s, (x, y)| s + (x - y).abs().powf(*p))
            }
            Self::Minkowski { p, w: Some(w) } => pairs
                .zip(w)
                .fold(0.0, |s, ((x, y), w)| s + w * (x - y).abs().powf(*p)),
            Self::SEuclidean { v } => pairs
                .zip(v)
                .fold(0.0, |s, ((x, y), v)| s + (x - y) * (x - y) / v),
            Self::Mahalanobis { vi } => {
                let mut sum = 0.0;
                for (i, row) in vi.rows().into_iter().enumerate() {
                    let tmp = row
                        .iter()
                        .zip(a.iter().zip(b))
                        .fold(0.0, |s, (v, (x, y))| s + v * (x - y));
                    sum += tmp * (a[i] - b[i]);
                }
                sum
            }
            Self::Haversine => {
                let lat = (0.5 * (a[0] - b[0])).sin();
                let lon = (0.5 * (a[1] - b[1])).sin();
                lat * lat + a[0].cos() * b[0].cos() * lon * lon
            }
            _ => self.dist(a, b),
        }
    }

    /// The distance from a reduced distance.
    pub fn rdist_to_dist(&self, r: f64) -> f64 {
        match self {
            Self::Euclidean | Self::SEuclidean { .. } | Self::Mahalanobis { .. } => r.sqrt(),
            Self::Minkowski { p, .. } => r.powf(1.0 / p),
            Self::Haversine => 2.0 * r.sqrt().asin(),
            _ => r,
        }
    }

    /// The reduced distance of a distance.
    pub fn dist_to_rdist(&self, d: f64) -> f64 {
        match self {
            Self::Euclidean | Self::SEuclidean { .. } | Self::Mahalanobis { .. } => d * d,
            Self::Minkowski { p, .. } => d.powf(*p),
            Self::Haversine => {
                let s = (0.5 * d).sin();
                s * s
            }
            _ => d,
        }
    }

    /// The distance between two rows, as `DistanceMetric.dist` (or, for the names only
    /// `pairwise_distances` has, scipy's `cdist`) computes it.
    pub fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        let pairs = a.iter().zip(b);
        let n = a.len() as f64;
        match self {
            Self::Euclidean
            | Self::Minkowski { .. }
            | Self::SEuclidean { .. }
            | Self::Mahalanobis { .. }
            | Self::Haversine => self.rdist_to_dist(self.rdist(a, b)),
            Self::SqEuclidean => self.rdist(a, b),
            Self::Manhattan => pairs.fold(0.0, |s, (x, y)| s + (x - y).abs()),
            Self::Chebyshev => pairs.fold(0.0, |m: f64, (x, y)| m.max((x - y).abs())),
            Self::Cosine => cosine(a.iter().copied(), b.iter().copied()),
            Self::Correlation => {
                let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
                cosine(a.iter().map(|x| x - ma), b.iter().map(|y| y - mb))
            }
            Self::Canberra => pairs.fold(0.0, |s, (x, y)| {
                let denom = x.abs() + y.abs();
                if denom > 0.0 {
                    s + (x - y).abs() / denom
                } else {
                    s
                }
            }),
            Self::BrayCurtis => {
                let (num, denom) = pairs.fold((0.0, 0.0), |(n, d), (x, y)| {
                    (n + (x - y).abs(), d + (x + y).abs())
                });
                if denom > 0.0 { num / denom } else { 0.0 }
            }
            Self::Hamming => pairs.filter(|(x, y)| x != y).count() as f64 / n,
            _ => boolean_distance(self, a, b),
        }
    }
}

/// `1 − u·v / (‖u‖ ‖v‖)` within [0, 2], as scipy's `cosine`.
fn cosine(a: impl Iterator<Item = f64>, b: impl Iterator<Item = f64>) -> f64 {
    let (mut uv, mut uu, mut vv) = (0.0, 0.0, 0.0);
    for (x, y) in a.zip(b) {
        uv += x * y;
        uu += x * x;
        vv += y * y;
    }
    let similarity = (uv / (uu.sqrt() * vv.sqrt())).clamp(-1.0, 1.0);
    1.0 - similarity
}

/// The boolean metrics of `DistanceMetric`, non-zero read as true.
fn boolean_distance(metric: &Metric, a: &[f64], b: &[f64]) -> f64 {
    let (mut ntt, mut neq, mut nnz) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (t1, t2) = (x != 0.0, y != 0.0);
        ntt += f64::from(u8::from(t1 && t2));
        neq += f64::from(u8::from(t1 != t2));
        nnz += f64::from(u8::from(t1 || t2));
    }
    let n = a.len() as f64;
    match metric {
        Metric::Jaccard if nnz == 0.0 => 0.0,
        Metric::Jaccard => (nnz - ntt) / nnz,
        Metric::Dice => neq / (2.0 * ntt + neq),
        Metric::Matching => neq / n,
        Metric::Kulsinski => (neq - ntt + n) / (neq + n),
        Metric::RogersTanimoto | Metric::SokalMichener => 2.0 * neq / (n + neq),
        Metric::RussellRao => (n - ntt) / n,
        Metric::SokalSneath => neq / (0.5 * ntt + neq),
        _ => unreachable!("every other metric is computed in Metric::dist"),
    }
}

/// `Σ x²` of each row (`row_norms(X, squared=True)`).
pub fn row_norms_squared(x: ArrayView2<'_, f64>) -> Array1<f64> {
    x.rows()
        .into_iter()
        .map(|r| r.iter().fold(0.0, |s, v| s + v * v))
        .collect()
}

/// `euclidean_distances(X, Y, squared)`: `−2 X·Yᵀ + ‖x‖² + ‖y‖²`, clipped at 0, then the root.
pub fn euclidean_distances(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    squared: bool,
) -> Array2<f64> {
    euclidean_with_norms(x, y.t(), &row_norms_squared(y), squared)
}

/// [`euclidean_distances`] with `‖y‖²` given, and `y` as `yt`, its transpose (features ×
/// rows, in any layout).
fn euclidean_with_norms(
    x: ArrayView2<'_, f64>,
    yt: ArrayView2<'_, f64>,
    yy: &Array1<f64>,
    squared: bool,
) -> Array2<f64> {
    let xx = row_norms_squared(x);
    let mut d = crate::model::simd::product(x, yt);
    let width = d.ncols();
    if width == 0 {
        return d;
    }
    let flat = d.as_slice_mut().expect("a new array is contiguous");
    crate::model::simd::wide(
        #[inline(always)]
        || {
            for (row, &a) in flat.chunks_exact_mut(width).zip(&xx) {
                for (v, &b) in row.iter_mut().zip(yy) {
                    let s = (-2.0 * *v + a) + b;
                    *v = if squared {
                        s.max(0.0)
                    } else {
                        s.max(0.0).sqrt()
                    };
                }
            }
        },
    );
    d
}

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
/// the layout both a batch's GEMM and one row's wide passes read well), and their squared
/// norms (three copies of the rows' size); and, for a few rows at a time, each feature's
/// list of the rows that miss it.
#[derive(Clone, Debug, PartialEq)]
pub struct NanFittedRows {
    zeroed_t: Array2<f64>,
    squares_t: Array2<f64>,
    absent_t: Array2<f64>,
    norms: Array1<f64>,
    /// For each feature, the rows that miss it, in order.
    missing_by_feature: Vec<Vec<usize>>,
    /// Every square in `squares_t` is finite, so that `0 · y₀²` is 0.
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
    /// The bytes [`NanFittedRows::new`] makes of `y` beyond the three copies of its size: the
    /// lists of the rows that miss each feature.
    pub fn lists_bytes(y: ArrayView2<'_, f64>) -> usize {
        let missing = y.iter().filter(|v| v.is_nan()).count();
        missing
            .saturating_add(3 * y.ncols())
            .saturating_mul(size_of::<usize>())
    }

    pub fn new(y: ArrayView2<'_, f64>) -> Self {
        let zeroed_t = y.t().mapv(zeroed).as_standard_layout().into_owned();
        let squares_t = zeroed_t.mapv(|v| v * v);
        Self {
            squares_finite: squares_t.iter().all(|v| v.is_finite()),
            squares_t,
            absent_t: y.t().mapv(absent).as_standard_layout().into_owned(),
            norms: row_norms_squared(zeroed_t.t()),
            missing_by_feature: y
                .columns()
                .into_iter()
                .map(|column| (0..column.len()).filter(|&i| column[i].is_nan()).collect())
                .collect(),
            zeroed_t,
        }
    }

    /// `nan_euclidean_distances(X, rows, squared)`: `‖x₀ − y₀‖² − x₀²·(1 − p_y) − (1 − p_x)·y₀²`
    /// as scikit-learn subtracts them, divided by the coordinates both have (`Σ p_x − p_x ·
    /// (1 − p_y)`: counts, exact in any order) and scaled by the number of features.
    pub fn distances(&self, x: ArrayView2<'_, f64>, squared: bool) -> Array2<f64> {
        use crate::model::simd::{FEW_ROWS, product, wide};
        let x0 = x.mapv(zeroed);
        let px = x.mapv(|v| 1.0 - absent(v));
        let mut d = euclidean_with_norms(x0.view(), self.zeroed_t.view(), &self.norms, true);
        let few =
            x.nrows() <= FEW_ROWS && self.squares_finite && x0.iter().all(|v| (v * v).is_finite());
        let missed = if few {
            self.subtract_few(x, &mut d)
        } else {
            d -= &product((&x0 * &x0).view(), self.absent_t.view());
            d -= &product(x.mapv(absent).view(), self.squares_t.view());
            product(px.view(), self.absent_t.view())
        };
        let n = x.ncols() as f64;
        for ((mut row, missed), px) in d.rows_mut().into_iter().zip(missed.rows()).zip(px.rows()) {
            let present = px.sum();
            let row = row.as_slice_mut().expect("a new array is contiguous");
            let missed = missed.as_slice().expect("a new array is contiguous");
            wide(
                #[inline(always)]
                || {
                    for (v, m) in row.iter_mut().zip(missed) {
                        let c = present - m;
                        let scaled = v.max(0.0) / c.max(1.0) * n;
                        let value = if squared { scaled } else { scaled.sqrt() };
                        *v = if c == 0.0 { f64::NAN } else { value };
                    }
                },
            );
        }
        d
    }

    /// For a few rows, `d −= x₀² · absent_t`, then `d −= absent(x) · squares_t`, returning
    /// `present(x) · absent_t` (the coordinates a row has and a fitted row misses), each sum
    /// as [`crate::model::simd::product`] adds a few rows' (term by term in feature order,
    /// from 0) but without its terms that are 0: where `0 · v` is 0 (`v` finite, which the
    /// caller checked) and a sum starts at +0, adding 0 leaves it as it is, to the bit.
    fn subtract_few(&self, x: ArrayView2<'_, f64>, d: &mut Array2<f64>) -> Array2<f64> {
        let n = self.norms.len();
        let mut missed = Array2::zeros((x.nrows(), n));
        let mut sums = Array1::zeros(n);
        for ((x, mut d), mut missed) in x
            .rows()
            .into_iter()
            .zip(d.rows_mut())
            .zip(missed.rows_mut())
        {
            sums.fill(0.0);
            for (&v, rows) in x.iter().zip(&self.missing_by_feature) {
                let square = zeroed(v) * zeroed(v);
                for &i in rows {
                    sums[i] += square;
                }
            }
            d -= &sums;
            sums.fill(0.0);
            for (j, _) in x.iter().enumerate().filter(|(_, v)| v.is_nan()) {
                sums += &self.squares_t.row(j);
            }
            d -= &sums;
            for (&v, rows) in x.iter().zip(&self.missing_by_feature) {
                if !v.is_nan() {
                    for &i in rows {
                        missed[i] += 1.0;
                    }
                }
            }
        }
        missed
    }
}

/// Rows scaled to unit length, a row of zeros left as it is (`normalize(X)`).
fn normalized(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let mut out = x.to_owned();
    for mut row in out.rows_mut() {
        let norm = row.iter().fold(0.0, |s, v| s + v * v).sqrt();
        let norm = if norm == 0.0 { 1.0 } else { norm };
        row.mapv_inplace(|v| v / norm);
    }
    out
}

/// `cosine_similarity(X, Y)`.
pub fn cosine_similarity(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Array2<f64> {
    normalized(x).dot(&normalized(y).t())
}

/// `pairwise_distances(X, Y, metric)` for dense float64 rows.
pub fn pairwise_distances(
    metric: &Metric,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
) -> Array2<f64> {
    match metric {
        Metric::Euclidean => euclidean_distances(x, y, false),
        Metric::Cosine => cosine_similarity(x, y).mapv(|s| (1.0 - s).clamp(0.0, 2.0)),
        _ => by_pairs(x, y, |a, b| metric.dist(a, b)),
    }
}

/// `f` of every pair of rows, rows of `x` × rows of `y`.
fn by_pairs(
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    f: impl Fn(&[f64], &[f64]) -> f64,
) -> Array2<f64> {
    let (x, y) = (x.as_standard_layout(), y.as_standard_layout());
    let mut out = Array2::zeros((x.nrows(), y.nrows()));
    for (a, mut row) in x.axis_iter(Axis(0)).zip(out.rows_mut()) {
        let a = a.to_slice().expect("standard layout");
        for (b, o) in y.axis_iter(Axis(0)).zip(row.iter_mut()) {
            *o = f(a, b.to_slice().expect("standard layout"));
        }
    }
    out
}

/// A kernel of `pairwise_kernels`, with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    Linear,
    /// `(γ x·y + c₀)^degree`.
    Polynomial {
        gamma: f64,
        degree: f64,
        coef0: f64,
    },
    /// `exp(−γ ‖x − y‖²)`.
    Rbf {
        gamma: f64,
    },
    /// `tanh(γ x·y + c₀)`.
    Sigmoid {
        gamma: f64,
        coef0: f64,
    },
    /// `exp(−γ ‖x − y‖₁)`.
    Laplacian {
        gamma: f64,
    },
    Cosine,
    /// `exp(γ · additive_chi2)`.
    Chi2 {
        gamma: f64,
    },
    /// `−Σ (x − y)² / (x + y)`.
    AdditiveChi2,
}

impl Kernel {
    /// The kernel scikit-learn means by `name`; a `gamma` of `None` is the function's default
    /// (`1 / n_features`, or 1 for `chi2`).
    pub fn from_name(
        name: &str,
        gamma: Option<f64>,
        degree: f64,
        coef0: f64,
        n_features: usize,
    ) -> Result<Self, PairwiseError> {
        let gamma_or = |default: f64| gamma.unwrap_or(default);
        let per_feature = 1.0 / n_features.max(1) as f64;
        Ok(match name {
            "linear" => Self::Linear,
            "poly" | "polynomial" => Self::Polynomial {
                gamma: gamma_or(per_feature),
                degree,
                coef0,
            },
            "rbf" => Self::Rbf {
                gamma: gamma_or(per_feature),
            },
            "sigmoid" => Self::Sigmoid {
                gamma: gamma_or(per_feature),
                coef0,
            },
            "laplacian" => Self::Laplacian {
                gamma: gamma_or(per_feature),
            },
            "cosine" => Self::Cosine,
            "chi2" => Self::Chi2 {
                gamma: gamma_or(1.0),
            },
            "additive_chi2" => Self::AdditiveChi2,
            other => return Err(PairwiseError::UnknownKernel(other.to_owned())),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::Polynomial { .. } => "poly",
            Self::Rbf { .. } => "rbf",
            Self::Sigmoid { .. } => "sigmoid",
            Self::Laplacian { .. } => "laplacian",
            Self::Cosine => "cosine",
            Self::Chi2 { .. } => "chi2",
            Self::AdditiveChi2 => "additive_chi2",
        }
    }

    /// Whether it is defined only for non-negative values (scikit-learn refuses others).
    pub fn needs_non_negative(&self) -> bool {
        matches!(self, Self::Chi2 { .. } | Self::AdditiveChi2)
    }

    /// The kernel matrix, rows of `x` × rows of `y`, as `pairwise_kernels` computes it.
    pub fn matrix(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Array2<f64> {
        match *self {
            Self::Linear => x.dot(&y.t()),
            Self::Polynomial {
                gamma,
                degree,
                coef0,
            } => x.dot(&y.t()).mapv(|k| (k * gamma + coef0).powf(degree)),
            Self::Sigmoid { gamma, coef0 } => x.dot(&y.t()).mapv(|k| (k * gamma + coef0).tanh()),
            Self::Rbf { gamma } => rbf(euclidean_distances(x, y, true), gamma),
            Self::Laplacian { gamma } => {
                by_pairs(x, y, |a, b| Metric::Manhattan.dist(a, b)).mapv(|d| (-gamma * d).exp())
            }
            Self::Cosine => cosine_similarity(x, y),
            Self::Chi2 { gamma } => by_pairs(x, y, additive_chi2).mapv(|k| (k * gamma).exp()),
            Self::AdditiveChi2 => by_pairs(x, y, additive_chi2),
        }
    }
}

/// `−Σ (x − y)² / (x + y)` over the coordinates where `x + y ≠ 0`.
fn additive_chi2(a: &[f64], b: &[f64]) -> f64 {
    let sum = a.iter().zip(b).fold(0.0, |s, (x, y)| {
        let denom = x + y;
        if denom != 0.0 {
            let nom = x - y;
            s + nom * nom / denom
        } else {
            s
        }
    });
    -sum
}

/// `exp(−γ d²)` of squared distances, in place.
fn rbf(mut squared: Array2<f64>, gamma: f64) -> Array2<f64> {
    squared.mapv_inplace(|d| (d * -gamma).exp());
    squared
}

/// [`rbf`] with the `exp` that vectorises (within an ulp or two of numpy's, which
/// scikit-learn's kernel matrix takes), for whole batches against many fitted rows.
fn rbf_batch(mut squared: Array2<f64>, gamma: f64) -> Array2<f64> {
    let values = squared.as_slice_mut().expect("a new array is contiguous");
    crate::model::simd::exp_scaled_in_place(values, -gamma);
    squared
}

/// How many query rows a batch measures against fitted rows at a time: their block of
/// distances or kernel values (64 × 2,000 fitted rows: 1 MB) stays in cache between the
/// product that makes it and the pass that reads it, where a whole batch's (10,000 × 2,000:
/// 160 MB) would be written to memory, page by page, and read back.
pub const ROWS_AT_ONCE: usize = 64;

/// Rows a model keeps to measure new rows against (training rows, fitted points), with their
/// squared norms computed once at load rather than at every prediction.
///
/// They are kept twice: as rows, for a batch's GEMM, and [`Interleaved`] (side by side,
/// feature by feature), the layout in which one new row's products with all of them are
/// many independent sums in vector registers, each still added in feature order, so that a
/// few rows' values are those a product of them by the rows' transpose gives, to the bit.
/// The second copy's bytes ([`FittedRows::derived_bytes`]) are the loader's to charge.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedRows {
    rows: Array2<f64>,
    interleaved: Interleaved,
    norms: Array1<f64>,
}

impl FittedRows {
    pub fn new(rows: Array2<f64>) -> Self {
        let norms = row_norms_squared(rows.view());
        let interleaved = Interleaved::new(rows.view());
        Self {
            rows,
            interleaved,
            norms,
        }
    }

    /// The bytes [`FittedRows::new`] derives from `n` rows of `d` features beyond the rows
    /// themselves (the interleaved copy and the norms), to charge before making them.
    pub fn derived_bytes(n: usize, d: usize) -> usize {
        Interleaved::<f64>::bytes(n, d).saturating_add(n.saturating_mul(size_of::<f64>()))
    }

    pub fn rows(&self) -> &Array2<f64> {
        &self.rows
    }

    /// `euclidean_distances(X, rows, squared)`.
    pub fn euclidean_distances(&self, x: ArrayView2<'_, f64>, squared: bool) -> Array2<f64> {
        if x.nrows() > FEW_ROWS {
            return euclidean_with_norms(x, self.rows.t(), &self.norms, squared);
        }
        self.by_row(x, |row, out| self.distances_of_row(row, squared, out))
    }

    /// `kernel`'s matrix, rows of `x` × these rows.
    pub fn kernel_matrix(&self, kernel: &Kernel, x: ArrayView2<'_, f64>) -> Array2<f64> {
        match *kernel {
            Kernel::Rbf { gamma } if x.nrows() <= FEW_ROWS => {
                self.by_row(x, |row, out| self.rbf_of_row(row, gamma, out))
            }
            Kernel::Rbf { gamma } => rbf_batch(self.euclidean_distances(x, true), gamma),
            _ => kernel.matrix(x, self.rows.view()),
        }
    }

    /// A matrix of one row per row of `x` (few of them), each filled by `fill`.
    fn by_row(&self, x: ArrayView2<'_, f64>, fill: impl Fn(&[f64], &mut [f64])) -> Array2<f64> {
        let n = self.rows.nrows();
        let x = x.as_standard_layout();
        let mut out = Array2::zeros((x.nrows(), n));
        for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
            fill(
                row.as_slice().expect("standard layout"),
                o.as_slice_mut().expect("a new array is contiguous"),
            );
        }
        out
    }

    /// The squared distances of the row `x` to each of these rows into `out` (`max((−2 x·y +
    /// ‖x‖²) + ‖y‖², 0)`, as a batch computes them), then `exp(−γ d²)` of each.
    fn rbf_of_row(&self, x: &[f64], gamma: f64, out: &mut [f64]) {
        wide(
            #[inline(always)]
            || {
                self.squared_of_row(x, out);
                for v in out.iter_mut() {
                    *v = exp(*v * -gamma);
                }
            },
        );
    }

    /// `euclidean_distances` of the row `x` to each of these rows, into `out`.
    fn distances_of_row(&self, x: &[f64], squared: bool, out: &mut [f64]) {
        wide(
            #[inline(always)]
            || {
                self.squared_of_row(x, out);
                if !squared {
                    for v in out.iter_mut() {
                        *v = v.sqrt();
                    }
                }
            },
        );
    }

    /// The squared distances of the row `x` to each of these rows, into `out`, in the
    /// arithmetic of [`euclidean_with_norms`]. Compiled wide only inside a [`wide`] closure.
    #[inline(always)]
    fn squared_of_row(&self, x: &[f64], out: &mut [f64]) {
        let xx = x.iter().fold(0.0, |s, v| s + v * v);
        self.interleaved.dots(x, out);
        for (v, &yy) in out.iter_mut().zip(&self.norms) {
            *v = ((-2.0 * *v + xx) + yy).max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Axis;

    use super::*;

    #[test]
    fn a_few_rows_measure_as_the_product_by_the_transpose_does_to_the_bit() {
        for (n, d) in [(1, 1), (3, 2), (45, 7), (70, 20)] {
            let rows = Array2::from_shape_fn((n, d), |(i, j)| {
                ((i * 31 + j * 17) % 23) as f64 * 0.37 - 3.1
            });
            let x = Array2::from_shape_fn((3, d), |(i, j)| (i * d + j) as f64 * 0.29 - 1.3);
            let fitted = FittedRows::new(rows.clone());
            let transposed = rows.t().as_standard_layout().into_owned();
            let norms = row_norms_squared(rows.view());
            for squared in [true, false] {
                let expected = euclidean_with_norms(x.view(), transposed.view(), &norms, squared);
                let few = fitted.euclidean_distances(x.view(), squared);
                assert_eq!(few, expected, "{n} × {d}, squared {squared}");
            }
            let kernel = Kernel::Rbf { gamma: 0.2 };
            let matrix = fitted.kernel_matrix(&kernel, x.view());
            let squared = euclidean_with_norms(x.view(), transposed.view(), &norms, true);
            assert_eq!(matrix, rbf_batch(squared, 0.2));
        }
    }

    #[test]
    fn a_few_rows_agree_with_a_batch() {
        let rows = Array2::from_shape_fn((50, 6), |(i, j)| ((i * 7 + j * 3) % 13) as f64 * 0.4);
        let x = Array2::from_shape_fn((9, 6), |(i, j)| (i + j) as f64 * 0.3 - 1.0);
        let fitted = FittedRows::new(rows);
        let kernel = Kernel::Rbf { gamma: 0.1 };
        let batch = fitted.kernel_matrix(&kernel, x.view());
        for i in 0..x.nrows() {
            let one = fitted.kernel_matrix(&kernel, x.row(i).insert_axis(Axis(0)));
            for (a, b) in one.iter().zip(batch.row(i)) {
                assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn a_few_rows_nan_distances_are_the_products_to_the_bit() {
        let value = |i: usize, j: usize, seed: usize| {
            let h = (i * 7919 + j * 104_729 + seed * 1_299_709) % 1013;
            if h.is_multiple_of(9) {
                f64::NAN
            } else {
                h as f64 * 0.0137 - 6.9
            }
        };
        let y = Array2::from_shape_fn((300, 11), |(i, j)| value(i, j, 1));
        let fitted = NanFittedRows::new(y.view());
        let by_products = NanFittedRows {
            squares_finite: false,
            ..fitted.clone()
        };
        for rows in 1..=crate::model::simd::FEW_ROWS {
            let mut x = Array2::from_shape_fn((rows, 11), |(i, j)| value(i, j, 2));
            x[[0, 3]] = f64::NAN;
            x[[rows - 1, 0]] = 0.0;
            for squared in [false, true] {
                let bits = |d: Array2<f64>| d.mapv(f64::to_bits);
                assert_eq!(
                    bits(fitted.distances(x.view(), squared)),
                    bits(by_products.distances(x.view(), squared)),
                );
            }
        }
    }
}

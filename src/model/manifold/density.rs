//! KernelDensity's `score_samples`: the log of the kernel density at each row,
//! `log(knorm · Σᵢ wᵢ K(d(x, xᵢ) / h)) − log N`, with every kernel scikit-learn has
//! (gaussian, tophat, epanechnikov, exponential, linear, cosine), the metric its KDTree or
//! BallTree measures by, the fitted bandwidth (`bandwidth_`, which is also what `scott` and
//! `silverman` were resolved to; `bandwidth` before 1.2) and the sample weights the tree keeps.
//!
//! With `atol = rtol = 0` (scikit-learn's default) the tree's walk prunes a node only where
//! every point in it contributes the same value, so its answer is the exact sum; this module
//! sums every fitted point in log space. A model fitted with a tolerance is refused: the tree
//! then stops at node bounds, and which bounds depends on its walk, so its answer cannot be
//! reproduced exactly outside scikit-learn.
//!
//! What must not live here: the distances themselves (`model::pairwise`), the tree's checks
//! (`neighbors::tree`).

use std::f64::consts::PI;

use ndarray::{Array2, ArrayView2};

use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::neighbors::{search, tree};
use crate::model::pairwise::Metric;
use crate::model::state::State;
use crate::model::value::Node;

/// The kernels of `KernelDensity`, by scikit-learn's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Gaussian,
    Tophat,
    Epanechnikov,
    Exponential,
    Linear,
    Cosine,
}

const KERNELS: &[(&str, Kernel)] = &[
    ("gaussian", Kernel::Gaussian),
    ("tophat", Kernel::Tophat),
    ("epanechnikov", Kernel::Epanechnikov),
    ("exponential", Kernel::Exponential),
    ("linear", Kernel::Linear),
    ("cosine", Kernel::Cosine),
];

impl Kernel {
    /// `compute_log_kernel(dist, h, kernel)` of `_binary_tree.pxi`.
    fn log_value(self, dist: f64, h: f64) -> f64 {
        let inside = dist < h;
        match self {
            Self::Gaussian => -0.5 * (dist * dist) / (h * h),
            Self::Exponential => -dist / h,
            _ if !inside => f64::NEG_INFINITY,
            Self::Tophat => 0.0,
            Self::Epanechnikov => (1.0 - (dist * dist) / (h * h)).ln(),
            Self::Linear => (1.0 - dist / h).ln(),
            Self::Cosine => (0.5 * PI * dist / h).cos().ln(),
        }
    }

    /// `_log_kernel_norm(h, d, kernel)`: the log of the factor that makes the kernel a density
    /// in `d` dimensions.
    fn log_norm(self, h: f64, d: usize) -> f64 {
        let df = d as f64;
        // `logVn(n)` and `logSn(n)` of `_binary_tree.pxi`; `logSn(0)` reaches `logVn(-1)`.
        let log_vn = |n: f64| 0.5 * n * PI.ln() - ln_gamma_half(0.5 * n + 1.0);
        let log_sn = |n: f64| (2.0 * PI).ln() + log_vn(n - 1.0);
        let factor = match self {
            Self::Gaussian => 0.5 * df * (2.0 * PI).ln(),
            Self::Tophat => log_vn(df),
            Self::Epanechnikov => log_vn(df) + (2.0 / (df + 2.0)).ln(),
            Self::Exponential => log_sn(df - 1.0) + ln_gamma_half(df),
            Self::Linear => log_vn(df) - (df + 1.0).ln(),
            Self::Cosine => {
                let mut factor = 0.0;
                let mut tmp = 2.0 / PI;
                let mut k = 1;
                while k <= d {
                    factor += tmp;
                    let (a, b) = (df - k as f64, df - k as f64 - 1.0);
                    tmp *= -a * b * (2.0 / PI) * (2.0 / PI);
                    k += 2;
                }
                factor.ln() + log_sn(df - 1.0)
            }
        };
        -factor - df * h.ln()
    }
}

/// `lgamma(x)` for `x` a positive integer or half-integer (all the kernels' norms need), by
/// `Γ(x) = (x − 1) Γ(x − 1)` down to `Γ(1) = 1` or `Γ(½) = √π`.
fn ln_gamma_half(x: f64) -> f64 {
    let mut x = x;
    let mut sum = 0.0;
    while x > 1.0 {
        x -= 1.0;
        sum += x.ln();
    }
    if x == 0.5 { sum + 0.5 * PI.ln() } else { sum }
}

/// A fitted KernelDensity.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelDensity {
    label: String,
    kernel: Kernel,
    metric: Metric,
    bandwidth: f64,
    /// The fitted points (the tree's `data`), rows × features.
    points: Array2<f64>,
    /// `log` of each point's sample weight; all 0 without weights.
    log_weights: Vec<f64>,
    /// `log N`: of the number of points, or of the weights' sum.
    log_total: f64,
}

/// Most fitted points one model may hold: each request measures every row against each.
pub const MAX_POINTS: usize = 1 << 22;

pub fn read(state: &State<'_>) -> Result<KernelDensity, LoadError> {
    let kernel_name = state.text_required("kernel")?;
    let kernel = KERNELS
        .iter()
        .find(|(name, _)| *name == kernel_name)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            let known: Vec<&str> = KERNELS.iter().map(|(n, _)| *n).collect();
            state.malformed(
                "kernel",
                format!("is {kernel_name:?}, not one of {}", known.join(", ")),
            )
        })?;
    for tolerance in ["atol", "rtol"] {
        let value = state.number(tolerance)?.unwrap_or(0.0);
        if value != 0.0 {
            return Err(state.unsupported(format!(
                "{tolerance} is {value}: with a tolerance the tree stops at node bounds its walk \
                 chooses, so score_samples cannot be reproduced exactly; skserve serves \
                 KernelDensity with atol=0 and rtol=0 (scikit-learn's default)"
            )));
        }
    }
    let bandwidth_attr = if state.has("bandwidth_") {
        "bandwidth_"
    } else {
        "bandwidth"
    };
    let bandwidth = fitted::positive(state, bandwidth_attr)?;
    let tree_value = state.get("tree_")?;
    let bad = |problem: String| state.malformed("tree_", problem);
    let Some(Node::Object(object)) = state.heap.node(tree_value) else {
        return Err(bad("is not a KDTree or BallTree".into()));
    };
    let ball = match &object.class {
        Callable::Class(SkClass::KdTree) => false,
        Callable::Class(SkClass::BallTree) => true,
        other => return Err(bad(format!("is {other}, not a KDTree or BallTree"))),
    };
    let items = object
        .state
        .and_then(|s| state.heap.tuple(s))
        .filter(|items| items.len() >= 12)
        .ok_or_else(|| bad("has no state of 12 or more fields".into()))?;
    let data = state
        .heap
        .array(items[0])
        .ok_or_else(|| bad("data is not an array".into()))?;
    let [n, d] = data.shape[..] else {
        return Err(bad(format!(
            "data has shape {:?}, not two dimensions",
            data.shape
        )));
    };
    if n == 0 || d == 0 {
        return Err(bad(format!("data has shape [{n}, {d}]: no points")));
    }
    if n > MAX_POINTS {
        return Err(bad(format!(
            "holds {n} points, more than the {MAX_POINTS} skserve scores against"
        )));
    }
    state.charge_copy("tree_", data)?;
    let values = data
        .to_f64()
        .ok_or_else(|| bad("data is not numeric".into()))?;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "data[{}, {}] is {}, not a finite number",
            i / d,
            i % d,
            values[i]
        )));
    }
    let points = Array2::from_shape_vec((n, d), values).expect("the shape was checked");
    fitted::features(state, d, "tree_")?;
    let metric = search::metric_named(state, "metric", "metric_params", d)?;
    tree::check_named(state, "tree_", &points, &metric, ball)?;
    let weights = match items.get(12).copied() {
        None | Some(crate::model::value::Value::None) => None,
        Some(value) => {
            let array = state
                .heap
                .array(value)
                .ok_or_else(|| bad("sample_weight is not an array".into()))?;
            let weights = array
                .to_f64()
                .ok_or_else(|| bad("sample_weight is not numeric".into()))?;
            if weights.len() != n {
                return Err(bad(format!(
                    "sample_weight holds {} weights for {n} points",
                    weights.len()
                )));
            }
            if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w > 0.0)) {
                return Err(bad(format!(
                    "sample_weight[{i}] is {}, not a positive number",
                    weights[i]
                )));
            }
            Some(weights)
        }
    };
    let (log_weights, log_total) = match weights {
        None => (vec![0.0; n], (n as f64).ln()),
        Some(w) => {
            let total: f64 = crate::model::tree::math::pairwise_sum(&w);
            (w.iter().map(|w| w.ln()).collect(), total.ln())
        }
    };
    Ok(KernelDensity {
        label: state.label(),
        kernel,
        metric,
        bandwidth,
        points,
        log_weights,
        log_total,
    })
}

impl KernelDensity {
    fn score_samples(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let x = x.as_standard_layout();
        let log_norm = self.kernel.log_norm(self.bandwidth, self.points.ncols());
        let mut out = Array2::zeros((x.nrows(), 1));
        let mut terms = Vec::with_capacity(self.points.nrows());
        for (row, o) in x.rows().into_iter().zip(out.iter_mut()) {
            let row = row.to_slice().expect("standard layout");
            terms.clear();
            for (point, log_w) in self.points.rows().into_iter().zip(&self.log_weights) {
                let dist = self
                    .metric
                    .dist(row, point.to_slice().expect("standard layout"));
                terms.push(self.kernel.log_value(dist, self.bandwidth) + log_w);
            }
            *o = log_sum_exp(&terms) + log_norm - self.log_total;
        }
        out
    }
}

/// `log Σ exp(tᵢ)`, from the largest term; `-inf` when every term is.
fn log_sum_exp(terms: &[f64]) -> f64 {
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    let sum: f64 = terms.iter().map(|t| (t - max).exp()).sum();
    max + sum.ln()
}

impl Predictor for KernelDensity {
    fn class(&self) -> &'static str {
        SkClass::KernelDensity.name()
    }

    fn n_features_in(&self) -> usize {
        self.points.ncols()
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: 1,
            one_d: true,
        }
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::ScoreSamples]
    }

    fn predicts(&self) -> bool {
        false
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        (method == Method::ScoreSamples).then(|| self.score_samples(x))
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Values(self.score_samples(x))
    }

    fn unexplained_because(&self) -> Option<String> {
        Some(format!(
            "{} answers a density summed over every fitted point, not a sum of per-feature \
             contributions",
            self.label
        ))
    }

    fn describe(&self) -> serde_json::Value {
        let kernel = KERNELS
            .iter()
            .find(|(_, k)| *k == self.kernel)
            .map_or("", |(n, _)| *n);
        serde_json::json!({
            "class": SkClass::KernelDensity.name(),
            "kernel": kernel,
            "metric": self.metric.name(),
            "bandwidth": self.bandwidth,
            "n_points": self.points.nrows(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_of_integers_and_halves() {
        assert!((ln_gamma_half(1.0)).abs() < 1e-15);
        assert!((ln_gamma_half(5.0) - 24f64.ln()).abs() < 1e-14);
        assert!((ln_gamma_half(2.5) - (0.75 * PI.sqrt()).ln()).abs() < 1e-14);
    }

    #[test]
    fn the_norms_make_one_dimensional_densities() {
        // In one dimension each kernel's integral over the line is 1/knorm.
        let h = 1.0;
        for (kernel, integral) in [
            (Kernel::Gaussian, (2.0 * PI).sqrt()),
            (Kernel::Tophat, 2.0),
            (Kernel::Epanechnikov, 4.0 / 3.0),
            (Kernel::Exponential, 2.0),
            (Kernel::Linear, 1.0),
            (Kernel::Cosine, 4.0 / PI),
        ] {
            let norm = kernel.log_norm(h, 1).exp();
            assert!((norm * integral - 1.0).abs() < 1e-12, "{kernel:?}: {norm}");
        }
    }
}

//! Gaussian mixtures: GaussianMixture and BayesianGaussianMixture, with `predict` (the
//! component of largest weighted log probability), `predict_proba` (the responsibilities) and
//! `score_samples` (the log-sum-exp of the weighted log probabilities), for every
//! `covariance_type` (`full`, `tied`, `diag`, `spherical`), read from `means_` and
//! `precisions_cholesky_` as `_estimate_log_gaussian_prob` uses them.
//!
//! The per-component terms that do not depend on the row (log determinants, log weights, and
//! for the Bayesian mixture its digamma terms) are computed once at load, each as scikit-learn
//! computes it; a row's arithmetic then follows scikit-learn's order.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::LoadError;
use super::allow::SkClass;
use super::classes::Classes;
use super::compose::{Model, Step};
use super::estimator::{Method, Prediction, Predictor, Target};
use super::fitted;
use super::pairwise::row_norms_squared;
use super::simd;
use super::special::digamma;
use super::state::State;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    matches!(
        class,
        SkClass::GaussianMixture | SkClass::BayesianGaussianMixture
    )
}

/// `precisions_cholesky_` in the layout of its `covariance_type`.
#[derive(Clone, Debug)]
enum Precisions {
    /// One `n × n` factor per component.
    Full(Vec<Array2<f64>>),
    /// One `n × n` factor shared.
    Tied(Array2<f64>),
    /// `k × n`.
    Diag(Array2<f64>),
    /// One per component.
    Spherical(Array1<f64>),
}

/// A fitted mixture.
#[derive(Clone, Debug)]
pub struct Mixture {
    class: SkClass,
    /// `k × n`.
    means: Array2<f64>,
    precisions: Precisions,
    /// `log_det` of each component's precision factor.
    log_det: Array1<f64>,
    /// What each component adds after `log_det` (the Bayesian mixture's degree-of-freedom
    /// term and its expected log precision), added before the log weights.
    bayes: Option<Array1<f64>>,
    log_weights: Array1<f64>,
    components: Classes,
    /// A full or tied mixture's factors side by side, made once at load.
    factored: Option<Factored>,
}

/// The precision factors of a full (or the one of a tied) mixture joined into one matrix, so
/// that one product gives every component's `X · prec_chol`, and each component's
/// `means_[c] · prec_chol`, which does not depend on the rows.
#[derive(Clone, Debug)]
struct Factored {
    /// `n × (k · n)` (full) or `n × n` (tied).
    joined: Array2<f64>,
    /// `k × n`.
    shifts: Array2<f64>,
    tied: bool,
}

impl Factored {
    fn of(precisions: &Precisions, means: &Array2<f64>) -> Option<Self> {
        let (k, n) = means.dim();
        let (factors, tied): (Vec<&Array2<f64>>, bool) = match precisions {
            Precisions::Full(factors) => (factors.iter().collect(), false),
            Precisions::Tied(factor) => (vec![factor; k], true),
            _ => return None,
        };
        let mut shifts = Array2::zeros((k, n));
        for (mut row, (mean, factor)) in shifts
            .rows_mut()
            .into_iter()
            .zip(means.rows().into_iter().zip(&factors))
        {
            row.assign(&mean.dot(*factor));
        }
        let joined = if tied {
            factors[0].clone()
        } else {
            let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
            ndarray::concatenate(Axis(1), &views).expect("factors of one shape")
        };
        Some(Self {
            joined,
            shifts,
            tied,
        })
    }
}

pub fn read(state: &State<'_>) -> Result<Step, LoadError> {
    let means = fitted::matrix(state, "means_", None, None)?;
    let (k, n) = means.dim();
    if k == 0 {
        return Err(state.malformed("means_", "holds no component"));
    }
    fitted::features(state, n, "means_")?;
    let kind = state.text_required("covariance_type")?;
    let (values, shape) = state.numbers("precisions_cholesky_")?;
    fitted::finite(state, "precisions_cholesky_", &values)?;
    let wrong = |want: String| {
        state.malformed(
            "precisions_cholesky_",
            format!("has shape {shape:?}, expected {want} for covariance_type={kind:?}"),
        )
    };
    let precisions = match kind {
        "full" if shape == [k, n, n] => Precisions::Full(
            values
                .chunks_exact(n * n)
                .map(|c| Array2::from_shape_vec((n, n), c.to_vec()).expect("n × n"))
                .collect(),
        ),
        "full" => return Err(wrong(format!("[{k}, {n}, {n}]"))),
        "tied" if shape == [n, n] => {
            Precisions::Tied(Array2::from_shape_vec((n, n), values).expect("n × n"))
        }
        "tied" => return Err(wrong(format!("[{n}, {n}]"))),
        "diag" if shape == [k, n] => {
            Precisions::Diag(Array2::from_shape_vec((k, n), values).expect("k × n"))
        }
        "diag" => return Err(wrong(format!("[{k}, {n}]"))),
        "spherical" if shape == [k] => Precisions::Spherical(Array1::from(values)),
        "spherical" => return Err(wrong(format!("[{k}]"))),
        other => {
            return Err(state.unsupported(format!(
                "covariance_type={other:?} is not one scikit-learn fits"
            )));
        }
    };
    let log_det = log_det_cholesky(state, &precisions, k, n)?;
    let (log_weights, bayes) = if state.class == SkClass::BayesianGaussianMixture {
        let log_weights = bayesian_log_weights(state, k)?;
        (log_weights, Some(bayesian_terms(state, k, n)?))
    } else {
        let weights = fitted::vector(state, "weights_", Some(k))?;
        if weights.iter().any(|&w| w < 0.0) {
            return Err(state.malformed("weights_", "holds a negative weight"));
        }
        (weights.mapv(f64::ln), None)
    };
    Ok(Step::Model(Model {
        transformers: Vec::new(),
        predictor: Box::new(Mixture {
            class: state.class,
            log_det,
            bayes,
            log_weights,
            components: Classes::Int((0..k as i64).collect()),
            factored: Factored::of(&precisions, &means),
            means,
            precisions,
        }),
        wrappers: Vec::new(),
    }))
}

/// `_compute_log_det_cholesky`: the sum of the logs of each factor's diagonal.
fn log_det_cholesky(
    state: &State<'_>,
    precisions: &Precisions,
    k: usize,
    n: usize,
) -> Result<Array1<f64>, LoadError> {
    let log_det = match precisions {
        Precisions::Full(factors) => factors
            .iter()
            .map(|f| f.diag().iter().map(|d| d.ln()).sum())
            .collect(),
        Precisions::Tied(factor) => {
            Array1::from_elem(k, factor.diag().iter().map(|d| d.ln()).sum())
        }
        Precisions::Diag(p) => p
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|d| d.ln()).sum())
            .collect(),
        Precisions::Spherical(p) => p.mapv(|d| n as f64 * d.ln()),
    };
    if log_det.iter().any(|d: &f64| !d.is_finite()) {
        return Err(state.malformed(
            "precisions_cholesky_",
            "has a diagonal that is not positive: it is not a Cholesky factor",
        ));
    }
    Ok(log_det)
}

/// BayesianGaussianMixture's `_estimate_log_weights`, from `weight_concentration_`.
fn bayesian_log_weights(state: &State<'_>, k: usize) -> Result<Array1<f64>, LoadError> {
    let process = state.text_required("weight_concentration_prior_type")?;
    match process {
        "dirichlet_process" => {
            let pair = state.items("weight_concentration_")?;
            let [a, b] = pair else {
                return Err(state.malformed("weight_concentration_", "is not a pair of arrays"));
            };
            let vector = |v| {
                crate::model::state::numbers_of(state.heap, v)
                    .filter(|(values, shape)| shape == &[k] && values.iter().all(|x| *x > 0.0))
                    .map(|(values, _)| values)
                    .ok_or_else(|| {
                        state.malformed(
                            "weight_concentration_",
                            format!("is not two arrays of {k} positive values"),
                        )
                    })
            };
            let (a, b) = (vector(*a)?, vector(*b)?);
            let mut out = Array1::zeros(k);
            let mut cumulative = 0.0;
            for j in 0..k {
                let digamma_sum = digamma(a[j] + b[j]);
                out[j] = digamma(a[j]) - digamma_sum + cumulative;
                cumulative += digamma(b[j]) - digamma_sum;
            }
            Ok(out)
        }
        "dirichlet_distribution" => {
            let concentration = fitted::vector(state, "weight_concentration_", Some(k))?;
            if concentration.iter().any(|&c| c <= 0.0) {
                return Err(state.malformed("weight_concentration_", "holds a value not above 0"));
            }
            let total = digamma(concentration.sum());
            Ok(concentration.mapv(|c| digamma(c) - total))
        }
        other => Err(state.unsupported(format!(
            "weight_concentration_prior_type={other:?} is not one scikit-learn fits"
        ))),
    }
}

/// `- 0.5 n log(dof)` and `0.5 (log_lambda - n / mean_precision)` of each component, as
/// BayesianGaussianMixture's `_estimate_log_prob` adds them.
fn bayesian_terms(state: &State<'_>, k: usize, n: usize) -> Result<Array1<f64>, LoadError> {
    let dof = fitted::vector(state, "degrees_of_freedom_", Some(k))?;
    let mean_precision = fitted::vector(state, "mean_precision_", Some(k))?;
    if dof.iter().any(|&d| d <= (n as f64) - 1.0) {
        return Err(state.malformed(
            "degrees_of_freedom_",
            format!("holds a value not above {}", n - 1),
        ));
    }
    if mean_precision.iter().any(|&m| m <= 0.0) {
        return Err(state.malformed("mean_precision_", "holds a value not above 0"));
    }
    let nf = n as f64;
    Ok((0..k)
        .map(|c| {
            let log_lambda = nf * 2f64.ln()
                + (0..n)
                    .map(|j| digamma(0.5 * (dof[c] - j as f64)))
                    .sum::<f64>();
            // Kept apart: scikit-learn subtracts the first from log_gauss before adding the
            // second; `weighted` adds them in that order.
            (
                -0.5 * nf * dof[c].ln(),
                0.5 * (log_lambda - nf / mean_precision[c]),
            )
        })
        .flat_map(|(a, b)| [a, b])
        .collect::<Vec<f64>>()
        .into())
}

impl Mixture {
    /// `Σ y²` of each row and component (`log_prob` of `_estimate_log_gaussian_prob`).
    fn squared(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let (k, _) = self.means.dim();
        let mut out = Array2::zeros((x.nrows(), k));
        match &self.precisions {
            Precisions::Full(_) | Precisions::Tied(_) => {
                let f = self
                    .factored
                    .as_ref()
                    .expect("made at load for full and tied");
                let n = self.means.ncols();
                let y = simd::product(x, f.joined.view());
                for (row, mut o) in y.rows().into_iter().zip(out.rows_mut()) {
                    let row = row.as_slice().expect("a new array is contiguous");
                    for (c, (o, shift)) in o.iter_mut().zip(f.shifts.rows()).enumerate() {
                        let at = if f.tied { 0 } else { c * n };
                        *o = row[at..at + n]
                            .iter()
                            .zip(shift)
                            .map(|(v, m)| {
                                let y = v - m;
                                y * y
                            })
                            .sum();
                    }
                }
            }
            Precisions::Diag(p) => {
                let precisions = p.mapv(|v| v * v);
                let first = (&self.means * &self.means * &precisions).sum_axis(Axis(1));
                let second = x.dot(&(&self.means * &precisions).t()) * 2.0;
                let third = x.mapv(|v| v * v).dot(&precisions.t());
                out = (&second * -1.0 + &first.insert_axis(Axis(0))) + third;
            }
            Precisions::Spherical(p) => {
                let precisions = p.mapv(|v| v * v);
                let first = (&self.means * &self.means).sum_axis(Axis(1)) * &precisions;
                let second = x.dot(&self.means.t()) * &precisions * 2.0;
                let norms = row_norms_squared(x);
                let third = norms
                    .insert_axis(Axis(1))
                    .dot(&precisions.view().insert_axis(Axis(0)));
                out = (&second * -1.0 + &first.insert_axis(Axis(0))) + third;
            }
        }
        out
    }

    /// The weighted log probability of each row and component.
    fn weighted(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let n = self.means.ncols() as f64;
        let constant = n * (2.0 * std::f64::consts::PI).ln();
        let mut out = self.squared(x);
        for mut row in out.rows_mut() {
            for (c, v) in row.iter_mut().enumerate() {
                let mut value = -0.5 * (constant + *v) + self.log_det[c];
                if let Some(bayes) = &self.bayes {
                    value = (value + bayes[2 * c]) + bayes[2 * c + 1];
                }
                *v = value + self.log_weights[c];
            }
        }
        out
    }
}

/// `logsumexp` of a row: its maximum plus the log of the summed exponentials above it.
fn logsumexp(row: &[f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

impl Predictor for Mixture {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.means.ncols()
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.components)
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict, Method::PredictProba, Method::ScoreSamples]
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::PredictProba => self.predict_proba(x),
            Method::ScoreSamples => {
                let weighted = self.weighted(x);
                let scores = weighted
                    .rows()
                    .into_iter()
                    .map(|r| logsumexp(r.as_slice().expect("contiguous")));
                Some(Array2::from_shape_vec((x.nrows(), 1), scores.collect()).expect("rows × 1"))
            }
            _ => None,
        }
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Classes(
            self.weighted(x)
                .rows()
                .into_iter()
                .map(|r| crate::model::tree::math::argmax(r.as_slice().expect("contiguous")))
                .collect(),
        )
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let mut weighted = self.weighted(x);
        for mut row in weighted.rows_mut() {
            let norm = logsumexp(row.as_slice().expect("contiguous"));
            row.mapv_inplace(|v| (v - norm).exp());
        }
        Some(weighted)
    }

    fn has_predict_proba(&self) -> bool {
        true
    }

    fn describe(&self) -> serde_json::Value {
        let kind = match self.precisions {
            Precisions::Full(_) => "full",
            Precisions::Tied(_) => "tied",
            Precisions::Diag(_) => "diag",
            Precisions::Spherical(_) => "spherical",
        };
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.means.ncols(),
            "n_components": self.means.nrows(),
            "covariance_type": kind,
        })
    }
}

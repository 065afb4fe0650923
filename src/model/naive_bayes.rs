//! Naive Bayes (GaussianNB, MultinomialNB, ComplementNB, BernoulliNB, CategoricalNB): each
//! class's joint log likelihood computed as scikit-learn's `_joint_log_likelihood` does,
//! `predict` its first maximum and `predict_proba` `exp(jll − logsumexp(jll))`. The fitted
//! state is checked at load: means, variances (positive), log probabilities (finite, and below
//! zero where BernoulliNB takes `log(1 − p)`) and priors of one shape per class and feature;
//! CategoricalNB's per-feature tables agree with `n_categories_`, and a category beyond them
//! (or negative) is refused at predict time as scikit-learn raises on it.

use ndarray::{Array1, Array2, ArrayView2};

use super::LoadError;
use super::allow::SkClass;
use super::classes::{Classes, read_classes};
use super::estimator::{Method, Prediction, Predictor, Problem, Refusal, Target};
use super::fitted;
use super::simd::{exp_scaled_in_place, wide};
use super::state::State;
use super::tree::math::{argmax, pairwise_sum};
use super::value::Node;

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        GaussianNb | MultinomialNb | ComplementNb | BernoulliNb | CategoricalNb
    )
}

/// How each class's joint log likelihood is computed.
#[derive(Clone, Debug, PartialEq)]
enum Likelihood {
    /// `log prior − ½ Σ log(2π var) − ½ Σ (x − θ)² / var`.
    Gaussian {
        theta: Array2<f64>,
        var: Array2<f64>,
        /// Per class: `log(class_prior_)` and `−½ Σ log(2π var)`.
        log_prior: Vec<f64>,
        norm: Vec<f64>,
    },
    /// `X · Wᵀ + b` (Multinomial: `W` the feature log probabilities, `b` the log priors;
    /// Complement: no `b` unless one class; Bernoulli: `W = flp − log(1 − p)`,
    /// `b = log prior + Σ log(1 − p)`, on the binarized input).
    Linear {
        weights: Array2<f64>,
        bias: Option<Array1<f64>>,
        binarize: Option<f64>,
    },
    /// `Σ_i flp_i[class, x_i] + log prior`.
    Categorical {
        tables: Vec<Array2<f64>>,
        log_prior: Array1<f64>,
    },
}

/// A fitted naive Bayes classifier.
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveBayes {
    class: SkClass,
    classes: Classes,
    n_features: usize,
    likelihood: Likelihood,
}

/// Reads the naive Bayes classifier whose state is `state`.
pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    let classes = read_classes(state, "classes_")?;
    let k = classes.len();
    if k == 0 {
        return Err(state.malformed("classes_", "is empty"));
    }
    let (likelihood, n_features) = match state.class {
        SkClass::GaussianNb => gaussian(state, k)?,
        SkClass::CategoricalNb => categorical(state, k)?,
        _ => discrete(state, k)?,
    };
    let statistics = if state.class == SkClass::GaussianNb {
        "theta_"
    } else {
        "feature_log_prob_"
    };
    fitted::features(state, n_features, statistics)?;
    Ok(Box::new(NaiveBayes {
        class: state.class,
        classes,
        n_features,
        likelihood,
    }))
}

fn gaussian(state: &State<'_>, k: usize) -> Result<(Likelihood, usize), LoadError> {
    let theta = fitted::matrix(state, "theta_", Some(k), None)?;
    let d = theta.ncols();
    // `sigma_` before scikit-learn 1.0.
    let var_name = if state.has("var_") { "var_" } else { "sigma_" };
    let var = fitted::matrix(state, var_name, Some(k), Some(d))?;
    if let Some(((c, j), v)) = var.indexed_iter().find(|(_, v)| **v <= 0.0) {
        return Err(state.malformed(
            &format!("{var_name}[{c}, {j}]"),
            format!("is {v}, not a positive variance"),
        ));
    }
    let prior = fitted::vector(state, "class_prior_", Some(k))?;
    if let Some(i) = prior.iter().position(|p| *p < 0.0) {
        return Err(state.malformed(&format!("class_prior_[{i}]"), "is negative"));
    }
    let norm = var
        .rows()
        .into_iter()
        .map(|v| {
            let logs: Vec<f64> = v
                .iter()
                .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                .collect();
            -0.5 * pairwise_sum(&logs)
        })
        .collect();
    let likelihood = Likelihood::Gaussian {
        theta,
        var,
        log_prior: prior.iter().map(|p| p.ln()).collect(),
        norm,
    };
    Ok((likelihood, d))
}

fn discrete(state: &State<'_>, k: usize) -> Result<(Likelihood, usize), LoadError> {
    let flp = fitted::matrix(state, "feature_log_prob_", Some(k), None)?;
    let d = flp.ncols();
    let log_prior = fitted::vector(state, "class_log_prior_", Some(k))?;
    Ok(match state.class {
        SkClass::MultinomialNb => (
            Likelihood::Linear {
                weights: flp,
                bias: Some(log_prior),
                binarize: None,
            },
            d,
        ),
        SkClass::ComplementNb => (
            Likelihood::Linear {
                weights: flp,
                bias: (k == 1).then_some(log_prior),
                binarize: None,
            },
            d,
        ),
        _ => {
            if let Some(((c, j), v)) = flp.indexed_iter().find(|(_, v)| **v >= 0.0) {
                return Err(state.malformed(
                    &format!("feature_log_prob_[{c}, {j}]"),
                    format!("is {v}, not the log of a probability below 1"),
                ));
            }
            let binarize = match state.number("binarize")? {
                Some(t) if t.is_finite() => Some(t),
                Some(t) => return Err(state.malformed("binarize", format!("is {t}"))),
                None => None,
            };
            let neg = flp.mapv(|p| (1.0 - p.exp()).ln());
            let weights = &flp - &neg;
            let sums: Array1<f64> = neg
                .rows()
                .into_iter()
                .map(|r| pairwise_sum(&r.to_vec()))
                .collect();
            let bias = log_prior + &sums;
            (
                Likelihood::Linear {
                    weights,
                    bias: Some(bias),
                    binarize,
                },
                d,
            )
        }
    })
}

fn categorical(state: &State<'_>, k: usize) -> Result<(Likelihood, usize), LoadError> {
    let items = state.items("feature_log_prob_")?;
    let counts = fitted::indices(state, "n_categories_", Some(items.len()), usize::MAX >> 12)?;
    let mut tables = Vec::with_capacity(items.len());
    for (i, (&item, &n)) in items.iter().zip(&counts).enumerate() {
        let at = format!("feature_log_prob_[{i}]");
        let array = state
            .heap
            .array(item)
            .ok_or_else(|| state.malformed(&at, "is not an array"))?;
        let values = array
            .to_f64()
            .ok_or_else(|| state.malformed(&at, "is not numeric"))?;
        if array.shape != [k, n] {
            return Err(state.malformed(
                &at,
                format!(
                    "has shape {:?}, expected [{k}, {n}] (n_categories_[{i}] is {n})",
                    array.shape
                ),
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(state.malformed(&at, "holds a value that is not finite"));
        }
        tables.push(Array2::from_shape_vec((k, n), values).expect("the shape was checked"));
    }
    if !matches!(
        state.heap.node(state.get("feature_log_prob_")?),
        Some(Node::List(_))
    ) {
        return Err(state.malformed("feature_log_prob_", "is not a list of arrays"));
    }
    let log_prior = fitted::vector(state, "class_log_prior_", Some(k))?;
    let d = tables.len();
    Ok((Likelihood::Categorical { tables, log_prior }, d))
}

impl NaiveBayes {
    /// The joint log likelihood of every row and class.
    fn jll(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let k = self.classes.len();
        match &self.likelihood {
            Likelihood::Gaussian {
                theta,
                var,
                log_prior,
                norm,
            } => {
                let x = x.as_standard_layout();
                let d = self.n_features;
                let mut out = Array2::zeros((x.nrows(), k));
                let mut terms = vec![0.0; d];
                let flat = out.as_slice_mut().expect("a new array is contiguous");
                let (theta, var) = (
                    theta.as_slice().expect("standard layout"),
                    var.as_slice().expect("standard layout"),
                );
                wide(
                    #[inline(always)]
                    || {
                        let rows = x.as_slice().expect("standard layout").chunks_exact(d);
                        for (row, o) in rows.zip(flat.chunks_exact_mut(k)) {
                            for (c, o) in o.iter_mut().enumerate() {
                                let (m, s) = (&theta[c * d..][..d], &var[c * d..][..d]);
                                for (((t, &v), &m), &s) in terms.iter_mut().zip(row).zip(m).zip(s) {
                                    let d = v - m;
                                    *t = d * d / s;
                                }
                                let n_ij = norm[c] - 0.5 * pairwise_sum(&terms);
                                *o = log_prior[c] + n_ij;
                            }
                        }
                    },
                );
                out
            }
            Likelihood::Linear {
                weights,
                bias,
                binarize,
            } => {
                let mut jll = match binarize {
                    Some(t) => x.mapv(|v| f64::from(u8::from(v > *t))).dot(&weights.t()),
                    None => x.dot(&weights.t()),
                };
                if let Some(bias) = bias {
                    jll += bias;
                }
                jll
            }
            Likelihood::Categorical { tables, log_prior } => {
                let mut out = Array2::zeros((x.nrows(), k));
                for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
                    for (table, &v) in tables.iter().zip(row) {
                        let index = v.trunc() as usize;
                        for c in 0..k {
                            o[c] += table[[c, index]];
                        }
                    }
                    for c in 0..k {
                        o[c] += log_prior[c];
                    }
                }
                out
            }
        }
    }

    fn labels(jll: &Array2<f64>) -> Prediction {
        Prediction::Classes(
            jll.rows()
                .into_iter()
                .map(|r| argmax(r.as_slice().expect("contiguous")))
                .collect(),
        )
    }

    /// `exp(jll − logsumexp(jll))` of each row, the exponentials of the whole matrix taken
    /// at once (wide) rather than one call each.
    fn proba(jll: Array2<f64>) -> Array2<f64> {
        let mut jll = if jll.is_standard_layout() {
            jll
        } else {
            jll.as_standard_layout().into_owned()
        };
        let k = jll.ncols();
        if k == 0 || jll.nrows() == 0 {
            return jll;
        }
        let flat = jll.as_slice_mut().expect("a new array is contiguous");
        let maxima: Vec<f64> = flat
            .chunks_exact(k)
            .map(|row| row.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            .collect();
        let mut shifted = flat.to_vec();
        for (row, &max) in shifted.chunks_exact_mut(k).zip(&maxima) {
            row.iter_mut().for_each(|v| *v -= max);
        }
        exp_scaled_in_place(&mut shifted, 1.0);
        for ((row, exps), &max) in flat
            .chunks_exact_mut(k)
            .zip(shifted.chunks_exact(k))
            .zip(&maxima)
        {
            // scipy's logsumexp, which is the maximum itself when that is not finite.
            let lse = if max.is_finite() {
                pairwise_sum(exps).ln() + max
            } else {
                max
            };
            row.iter_mut().for_each(|v| *v -= lse);
        }
        exp_scaled_in_place(flat, 1.0);
        jll
    }
}

impl Predictor for NaiveBayes {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict, Method::PredictProba]
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Self::labels(&self.jll(x))
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(Self::proba(self.jll(x)))
    }

    fn has_predict_proba(&self) -> bool {
        true
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let jll = self.jll(x);
        (Self::labels(&jll), Some(Self::proba(jll)))
    }

    /// CategoricalNB reads each value as an integer (truncated, as `astype(int)` does) that
    /// must index its table: negative or beyond the categories counted is refused.
    fn refusal(&self, x: ArrayView2<'_, f64>) -> Option<Refusal> {
        let Likelihood::Categorical { tables, .. } = &self.likelihood else {
            return None;
        };
        for ((row, feature), &v) in x.indexed_iter() {
            let n = tables[feature].ncols();
            let t = v.trunc();
            if !(t >= 0.0 && t < n as f64) {
                return Some(Refusal {
                    row,
                    feature,
                    problem: Problem::UnknownCategory {
                        value: crate::model::python_float_or_int(v),
                        allowed: format!("the integers 0 to {}", n.saturating_sub(1)),
                    },
                });
            }
        }
        None
    }

    fn unexplained_because(&self) -> Option<String> {
        Some("naive Bayes adds per-class log likelihoods, then normalises them; no one linear decision is taken apart".into())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features,
            "classes": self.classes.to_json(),
        })
    }
}

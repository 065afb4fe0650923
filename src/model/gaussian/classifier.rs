//! GaussianProcessClassifier through its `base_estimator_`: one binary Laplace approximation
//! (`_BinaryGaussianProcessClassifierLaplace`) for two classes, or several inside a
//! OneVsRestClassifier or OneVsOneClassifier.
//!
//! A binary model's latent mean is `k(X_train_, X)ᵀ (y_train_ − pi_)`; `predict` is its sign.
//! Its `predict_proba` integrates the sigmoid against the latent Gaussian as scikit-learn
//! does, a sum of five error functions (`LAMBDAS`, `COEFS`), the variance being
//! `k.diag(X) − Σ v²` with `v = L_⁻¹ (W_sr_ · k(X_train_, X))`. One-vs-rest normalises the
//! binary models' second columns (`predict` takes the last of equal largest, as
//! OneVsRestClassifier's running maximum does); one-vs-one votes as OneVsOneClassifier does,
//! and has no `predict_proba`.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::kernels::{self, Against, solve_lower};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::{Classes, read_classes};
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::fitted;
use crate::model::special::erf;
use crate::model::state::State;

const LAMBDAS: [f64; 5] = [0.41, 0.4, 0.37, 0.44, 0.39];
const COEFS: [f64; 5] = [
    -1854.8214151,
    3516.89893646,
    221.29346712,
    128.12323805,
    -2010.49422654,
];

/// One binary Laplace approximation.
#[derive(Clone, Debug)]
struct Laplace {
    /// The fitted kernel against `X_train_`, its training rows laid out for it at load.
    kernel: Against,
    /// `y_train_ − pi_`.
    residual: Array1<f64>,
    w_sr: Array1<f64>,
    l: Array2<f64>,
}

#[derive(Clone, Debug)]
enum Scheme {
    Binary(Box<Laplace>),
    OneVsRest(Vec<Laplace>),
    OneVsOne(Vec<Laplace>),
}

/// A fitted GaussianProcessClassifier.
#[derive(Clone, Debug)]
pub struct Classifier {
    classes: Classes,
    scheme: Scheme,
    n_features: usize,
}

pub fn read(state: &State<'_>) -> Result<Classifier, LoadError> {
    let classes = read_classes(state, "classes_")?;
    let k = classes.len();
    if k < 2 {
        return Err(state.malformed("classes_", format!("holds {k} class(es)")));
    }
    let base = State::of(
        state.heap,
        state.get("base_estimator_")?,
        &state.path.join("base_estimator_"),
    )?;
    let n_features = fitted::count(state, "n_features_in_", 1)?;
    let scheme = match base.class {
        SkClass::BinaryGpcLaplace if k == 2 => {
            Scheme::Binary(Box::new(laplace(&base, n_features)?))
        }
        SkClass::OneVsRestClassifier if k > 2 => Scheme::OneVsRest(binaries(&base, k, n_features)?),
        SkClass::OneVsOneClassifier if k > 2 => {
            Scheme::OneVsOne(binaries(&base, k * (k - 1) / 2, n_features)?)
        }
        other => {
            return Err(state.malformed(
                "base_estimator_",
                format!("is a {} for {k} classes", other.name()),
            ));
        }
    };
    Ok(Classifier {
        classes,
        scheme,
        n_features,
    })
}

fn binaries(base: &State<'_>, count: usize, n_features: usize) -> Result<Vec<Laplace>, LoadError> {
    let estimators = base.items("estimators_")?;
    if estimators.len() != count {
        return Err(base.malformed(
            "estimators_",
            format!("holds {} models, expected {count}", estimators.len()),
        ));
    }
    estimators
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            let path = base.path.join(&format!("estimators_[{i}]"));
            let state = State::of(base.heap, e, &path)?;
            if state.class != SkClass::BinaryGpcLaplace {
                return Err(base.malformed(
                    &format!("estimators_[{i}]"),
                    format!("is a {}", state.class.name()),
                ));
            }
            laplace(&state, n_features)
        })
        .collect()
}

fn laplace(state: &State<'_>, n_features: usize) -> Result<Laplace, LoadError> {
    let x_train = fitted::matrix(state, "X_train_", None, Some(n_features))?;
    let n = x_train.nrows();
    if n == 0 {
        return Err(state.malformed("X_train_", "holds no row"));
    }
    let y = fitted::vector(state, "y_train_", Some(n))?;
    let pi = fitted::vector(state, "pi_", Some(n))?;
    let w_sr = fitted::vector(state, "W_sr_", Some(n))?;
    let l = fitted::matrix(state, "L_", Some(n), Some(n))?;
    kernels::check_lower(state, "L_", &l, n)?;
    let kernel = kernels::read(state, "kernel_", n_features)?;
    Ok(Laplace {
        kernel: Against::read(state, kernel, x_train)?,
        residual: y - pi,
        w_sr,
        l,
    })
}

impl Laplace {
    /// `k(X, X_train_)`: rows × training rows.
    fn cross(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        self.kernel.matrix(x)
    }

    fn latent_mean(&self, k: &Array2<f64>) -> Array1<f64> {
        k.dot(&self.residual)
    }

    /// The probability of the second class of each row.
    fn positive(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        let k = self.cross(x);
        let mean = self.latent_mean(&k);
        let diag = self.kernel.kernel().diag(x);
        let mut v = vec![0.0; self.kernel.rows().nrows()];
        let coefs_sum = COEFS.iter().fold(0.0, |s, c| s + c);
        let mut out = Array1::zeros(x.nrows());
        for (i, row) in k.axis_iter(Axis(0)).enumerate() {
            for ((a, w), b) in v.iter_mut().zip(&self.w_sr).zip(row) {
                *a = w * b;
            }
            solve_lower(&self.l, &mut v);
            let variance = diag[i] - v.iter().fold(0.0, |s, a| s + a * a);
            let alpha = 1.0 / (2.0 * variance);
            let denominator = 2.0 * (variance * 2.0 * std::f64::consts::PI).sqrt();
            let mut sum = 0.0;
            for (j, (&lambda, &coef)) in LAMBDAS.iter().zip(&COEFS).enumerate() {
                let gamma = lambda * mean[i];
                let integral = (std::f64::consts::PI / alpha).sqrt()
                    * erf(gamma * (alpha / (alpha + lambda * lambda)).sqrt())
                    / denominator;
                let term = coef * integral;
                sum = if j == 0 { term } else { sum + term };
            }
            out[i] = sum + 0.5 * coefs_sum;
        }
        out
    }
}

impl Predictor for Classifier {
    fn class(&self) -> &'static str {
        "GaussianProcessClassifier"
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        match self.scheme {
            Scheme::OneVsOne(_) => vec![Method::Predict],
            _ => vec![Method::Predict, Method::PredictProba],
        }
    }

    fn has_predict_proba(&self) -> bool {
        !matches!(self.scheme, Scheme::OneVsOne(_))
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let labels = match &self.scheme {
            Scheme::Binary(model) => {
                let mean = model.latent_mean(&model.cross(x));
                mean.iter().map(|&m| usize::from(m > 0.0)).collect()
            }
            Scheme::OneVsRest(models) => {
                let scores: Vec<Array1<f64>> = models.iter().map(|m| m.positive(x)).collect();
                (0..x.nrows())
                    .map(|i| {
                        // np.maximum then `argmaxima[maxima == pred] = i`: the last of the
                        // equal largest.
                        let mut best = (0, f64::NEG_INFINITY);
                        for (c, s) in scores.iter().enumerate() {
                            let max = best.1.max(s[i]);
                            best = if s[i] == max { (c, max) } else { (best.0, max) };
                        }
                        best.0
                    })
                    .collect()
            }
            Scheme::OneVsOne(models) => one_vs_one(models, x, self.classes.len()),
        };
        Prediction::Classes(labels)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match &self.scheme {
            Scheme::Binary(model) => {
                let p = model.positive(x);
                let mut out = Array2::zeros((x.nrows(), 2));
                for (i, &pi) in p.iter().enumerate() {
                    out[[i, 0]] = 1.0 - pi;
                    out[[i, 1]] = pi;
                }
                Some(out)
            }
            Scheme::OneVsRest(models) => {
                let mut out = Array2::zeros((x.nrows(), models.len()));
                for (c, m) in models.iter().enumerate() {
                    out.column_mut(c).assign(&m.positive(x));
                }
                for mut row in out.rows_mut() {
                    let sum: f64 = row.iter().fold(0.0, |s, v| s + v);
                    row.mapv_inplace(|v| v / sum);
                }
                Some(out)
            }
            Scheme::OneVsOne(_) => None,
        }
    }

    fn describe(&self) -> serde_json::Value {
        let (scheme, models) = match &self.scheme {
            Scheme::Binary(m) => ("binary", vec![&**m]),
            Scheme::OneVsRest(ms) => ("one_vs_rest", ms.iter().collect()),
            Scheme::OneVsOne(ms) => ("one_vs_one", ms.iter().collect()),
        };
        serde_json::json!({
            "class": "GaussianProcessClassifier",
            "n_features_in": self.n_features,
            "classes": self.classes.to_json(),
            "multi_class": scheme,
            "kernels": models.iter().map(|m| m.kernel.kernel().describe()).collect::<Vec<_>>(),
        })
    }
}

/// OneVsOneClassifier's `predict`: votes of each pair's label plus its confidences
/// transformed into (−⅓, ⅓), the first largest class.
fn one_vs_one(models: &[Laplace], x: ArrayView2<'_, f64>, n_classes: usize) -> Vec<usize> {
    let n = x.nrows();
    let mut votes = Array2::<f64>::zeros((n, n_classes));
    let mut confidence = Array2::<f64>::zeros((n, n_classes));
    let mut k = 0;
    for i in 0..n_classes {
        for j in i + 1..n_classes {
            let model = &models[k];
            let mean = model.latent_mean(&model.cross(x));
            let p = model.positive(x);
            for r in 0..n {
                confidence[[r, i]] -= p[r];
                confidence[[r, j]] += p[r];
                if mean[r] > 0.0 {
                    votes[[r, j]] += 1.0;
                } else {
                    votes[[r, i]] += 1.0;
                }
            }
            k += 1;
        }
    }
    (0..n)
        .map(|r| {
            let row: Vec<f64> = (0..n_classes)
                .map(|c| {
                    let s = confidence[[r, c]];
                    votes[[r, c]] + s / (3.0 * (s.abs() + 1.0))
                })
                .collect();
            crate::model::tree::math::argmax(&row)
        })
        .collect()
}

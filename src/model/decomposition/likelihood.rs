//! The decompositions that are also Gaussian models, PCA and FactorAnalysis: `transform`
//! through their transformer, and `score_samples`, the log-likelihood of each row under
//! `N(mean_, get_covariance())`, computed as scikit-learn does from `get_precision()`:
//! `-½ Σ (x − mean_) ∘ ((x − mean_) P) − ½ (n_features · log 2π − log det P)`.
//!
//! The precision is made once at load, by the same route as the saving version's
//! `get_precision` (the matrix inversion lemma, or the inverse of the covariance where the
//! noise variance is zero or every component is kept). A covariance scikit-learn cannot
//! invert leaves the model without `score_samples`, as scikit-learn would raise on it.
//!
//! What must not live here: the projections themselves (`projection`, `factor`).

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::algebra;
use crate::model::LoadError;
use crate::model::estimator::{Data, Method, Prediction, Predictor, Target, Transformer};
use crate::model::fitted;
use crate::model::input::Dtype;
use crate::model::state::State;

/// A Gaussian of its mean and precision, as `score_samples` reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    mean: Array1<f64>,
    precision: Array2<f64>,
    /// `fast_logdet(precision)`.
    log_det: f64,
}

impl Gaussian {
    /// `None` when the precision could not be made (a singular covariance).
    pub fn new(mean: Array1<f64>, precision: Option<Array2<f64>>) -> Option<Self> {
        let precision = precision?;
        let log_det = algebra::log_det(precision.view());
        Some(Self {
            mean,
            precision,
            log_det,
        })
    }

    /// The log-likelihood of each row, rows × 1.
    pub fn score_samples(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let centred = &x - &self.mean.view().insert_axis(Axis(0));
        let weighted = centred.dot(&self.precision);
        let mut log_like = (&centred * &weighted).sum_axis(Axis(1)) * -0.5;
        let n_features = x.ncols() as f64;
        log_like -= 0.5 * (n_features * (2.0 * std::f64::consts::PI).ln() - self.log_det);
        log_like.insert_axis(Axis(1))
    }
}

/// Adds `values` to the diagonal of `a`.
pub fn add_to_diagonal(a: &mut Array2<f64>, values: impl IntoIterator<Item = f64>) {
    a.diag_mut()
        .iter_mut()
        .zip(values)
        .for_each(|(d, v)| *d += v);
}

/// PCA's `get_precision()`, from `components_` (k × n), `explained_variance_`,
/// `noise_variance_` and `whiten`.
pub fn pca_precision(
    state: &State<'_>,
    components: ArrayView2<'_, f64>,
    whiten: bool,
) -> Result<Option<Array2<f64>>, LoadError> {
    let (k, n) = components.dim();
    let variance = fitted::vector(state, "explained_variance_", Some(k))?;
    let noise = fitted::scalar(state, "noise_variance_")?;
    if noise < 0.0 {
        return Err(state.malformed(
            "noise_variance_",
            format!("is {noise}, a negative variance"),
        ));
    }
    let mut components = components.to_owned();
    if whiten {
        for (mut row, v) in components.rows_mut().into_iter().zip(&variance) {
            row *= v.sqrt();
        }
    }
    let variance_diff = variance.mapv(|v| if v > noise { v - noise } else { 0.0 });
    if noise == 0.0 {
        let mut covariance = (&components.t() * &variance_diff).dot(&components);
        add_to_diagonal(&mut covariance, std::iter::repeat_n(noise, n));
        return Ok(algebra::inverse(covariance.view()));
    }
    let mut precision = components.dot(&components.t()) / noise;
    add_to_diagonal(&mut precision, variance_diff.iter().map(|d| 1.0 / d));
    let Some(inverse) = algebra::inverse(precision.view()) else {
        return Ok(None);
    };
    let mut precision = components.t().dot(&inverse.dot(&components));
    precision /= -(noise * noise);
    add_to_diagonal(&mut precision, std::iter::repeat_n(1.0 / noise, n));
    Ok(Some(precision))
}

/// A decomposition that transforms and scores: the model when it is alone or last, its
/// transformer wherever a Pipeline goes on after it.
#[derive(Clone, Debug)]
pub struct Scored<T> {
    pub transformer: T,
    pub n_components: usize,
    pub gaussian: Option<Gaussian>,
}

impl<T: Transformer + Clone + 'static> Predictor for Scored<T> {
    fn class(&self) -> &'static str {
        self.transformer.class()
    }

    fn n_features_in(&self) -> usize {
        self.transformer.n_features_in()
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self.n_components,
            one_d: false,
        }
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = vec![Method::Transform];
        if self.gaussian.is_some() {
            methods.push(Method::ScoreSamples);
        }
        methods
    }

    fn predicts(&self) -> bool {
        false
    }

    fn width(&self, method: Method) -> usize {
        match method {
            Method::ScoreSamples => 1,
            _ => self.n_components,
        }
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::Transform => {
                let data = Data::Numbers {
                    values: x.to_owned(),
                    dtype: Dtype::F64,
                };
                match self.transformer.transform(data).ok()? {
                    Data::Numbers { values, .. } => Some(values),
                    _ => None,
                }
            }
            Method::ScoreSamples => Some(self.gaussian.as_ref()?.score_samples(x)),
            _ => None,
        }
    }

    /// Never asked: a model that predicts nothing offers no `predict`.
    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Values(self.values(Method::Transform, x).unwrap_or_default())
    }

    fn as_transformer(&self) -> Option<Box<dyn Transformer>> {
        Some(Box::new(self.transformer.clone()))
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = self.transformer.describe(&[]);
        if let Some(obj) = d.as_object_mut() {
            obj.insert("score_samples".into(), self.gaussian.is_some().into());
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_standard_normal_scores_as_its_density() {
        let gaussian = Gaussian::new(array![0.0, 0.0], Some(Array2::eye(2))).unwrap();
        let scores = gaussian.score_samples(array![[0.0, 0.0], [1.0, 2.0]].view());
        let log_2pi = (2.0 * std::f64::consts::PI).ln();
        assert!((scores[[0, 0]] + log_2pi).abs() < 1e-15, "{scores}");
        assert!((scores[[1, 0]] + 2.5 + log_2pi).abs() < 1e-15, "{scores}");
    }
}

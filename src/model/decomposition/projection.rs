//! PCA, IncrementalPCA, TruncatedSVD and FastICA: `transform` is a projection on fitted
//! components.
//! PCA and IncrementalPCA centre first: saved before 1.4 as `(X - mean_) @ components_.T`,
//! from 1.4 on as `X @ components_.T - mean_ @ components_.T` (the form that keeps sparse
//! input sparse), then, whitened, divide by `sqrt(explained_variance_)` (from 1.4 on floored
//! at the float's epsilon). TruncatedSVD is `X @ components_.T` alone, sparse rows summed in
//! scipy's order. FastICA is `(X - mean_) @ components_.T` when it whitened (every `whiten`
//! but `False`: the unmixing matrix already holds the whitening), else `X @ components_.T`.
//! Every fitted array is checked for shape and finiteness at load.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer, first_not_finite};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::simd::product;
use crate::model::sparse::Csr;
use crate::model::state::State;

/// How the mean is taken out.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Centring {
    /// TruncatedSVD: not at all.
    None,
    /// `(X - mean_) @ components_.T` (saved before 1.4).
    Before,
    /// `X @ components_.T - mean_ @ components_.T` (1.4 on).
    After,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    class: SkClass,
    label: String,
    n_features: usize,
    /// `components_`, one row of `n_features` per component.
    components: Vec<f64>,
    n_components: usize,
    centring: Centring,
    mean: Vec<f64>,
    /// `mean_ @ components_.T`, for [`Centring::After`].
    mean_projected: Vec<f64>,
    /// The divisor of each component when whitened.
    whiten: Option<Vec<f64>>,
}

/// A 2-D array attribute of finite numbers, `(rows, columns)` as stored.
pub fn matrix(state: &State<'_>, name: &str) -> Result<(Vec<f64>, usize, usize), LoadError> {
    let (values, shape) = state.numbers(name)?;
    let [rows, columns] = shape[..] else {
        return Err(state.malformed(name, format!("has shape {shape:?}, not a 2-D array")));
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(state.malformed(
            &format!("{name}[{}, {}]", i / columns.max(1), i % columns.max(1)),
            format!("is {}, not a finite number", values[i]),
        ));
    }
    Ok((values, rows, columns))
}

/// Whether a FastICA whitened its input, and so centres it in `transform`: `whiten` (or,
/// in 1.1 and 1.2, `_whiten`, what `whiten="warn"` became) is `True` or a variance's name.
fn ica_whitens(state: &State<'_>) -> Result<bool, LoadError> {
    let name = if state.has("_whiten") {
        "_whiten"
    } else {
        "whiten"
    };
    match state.text(name) {
        Some("unit-variance" | "arbitrary-variance" | "warn") => Ok(true),
        Some(other) => Err(state.malformed(
            name,
            format!("is {other:?}, not True, False, 'unit-variance' or 'arbitrary-variance'"),
        )),
        None => state.bool_or(name, true),
    }
}

impl Projection {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        if !state.has("components_") {
            return Err(state.malformed(
                "components_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let (components, n_components, n_features) = matrix(state, "components_")?;
        if n_components == 0 || n_features == 0 {
            return Err(state.malformed("components_", "is empty"));
        }
        state.check_n_features(n_features, "components_")?;
        if let Some(k) = state.count("n_components_")?
            && k != n_components
        {
            return Err(state.malformed(
                "n_components_",
                format!("is {k} but components_ has {n_components} rows"),
            ));
        }
        let pca = matches!(state.class, SkClass::Pca | SkClass::IncrementalPca);
        let centring = match state.class {
            SkClass::TruncatedSvd => Centring::None,
            SkClass::FastIca if ica_whitens(state)? => Centring::Before,
            SkClass::FastIca => Centring::None,
            _ if state.saved_before((1, 4)) => Centring::Before,
            _ => Centring::After,
        };
        if state.class == SkClass::FastIca && centring == Centring::Before {
            // Not used by transform (components_ already holds it), but part of the fit.
            let (_, rows, columns) = matrix(state, "whitening_")?;
            if (rows, columns) != (n_components, n_features) {
                return Err(state.malformed(
                    "whitening_",
                    format!(
                        "has shape [{rows}, {columns}], expected [{n_components}, {n_features}]"
                    ),
                ));
            }
        }
        let mean = if centring != Centring::None {
            state.vector("mean_", n_features)?
        } else {
            Vec::new()
        };
        let mean_projected = if centring == Centring::After {
            components
                .chunks_exact(n_features)
                .map(|c| c.iter().zip(&mean).map(|(c, m)| c * m).sum())
                .collect()
        } else {
            Vec::new()
        };
        let whiten = if pca && state.bool_or("whiten", false)? {
            let variance = state.vector("explained_variance_", n_components)?;
            if let Some(i) = variance.iter().position(|v| *v < 0.0) {
                return Err(state.malformed(
                    &format!("explained_variance_[{i}]"),
                    format!("is {}, a negative variance", variance[i]),
                ));
            }
            let floor = if centring == Centring::After {
                f64::EPSILON
            } else {
                0.0
            };
            let scale: Vec<f64> = variance.iter().map(|v| v.sqrt().max(floor)).collect();
            if let Some(i) = scale.iter().position(|s| *s == 0.0) {
                return Err(state.malformed(
                    &format!("explained_variance_[{i}]"),
                    "is 0: whitening would divide by zero",
                ));
            }
            Some(scale)
        } else {
            None
        };
        Ok(Self {
            class: state.class,
            label: state.label(),
            n_features,
            components,
            n_components,
            centring,
            mean,
            mean_projected,
            whiten,
        })
    }

    /// `components_` (components × features) and `mean_`, for PCA's `score_samples`.
    pub fn components_and_mean(&self) -> (Array2<f64>, Array1<f64>) {
        let components = Array2::from_shape_vec(
            (self.n_components, self.n_features),
            self.components.clone(),
        )
        .expect("components × features");
        (components, Array1::from(self.mean.clone()))
    }

    pub fn n_components(&self) -> usize {
        self.n_components
    }

    pub fn whitens(&self) -> bool {
        self.whiten.is_some()
    }

    /// The rows times `components_.T` as one product (matrixmultiply's GEMM for a batch, a
    /// wide loop for a few rows), after taking out the mean where it goes first.
    fn project_dense(&self, x: &Array2<f64>) -> Array2<f64> {
        let components =
            ArrayView2::from_shape((self.n_components, self.n_features), &self.components)
                .expect("components_ is n_components × n_features");
        if self.centring == Centring::Before {
            let mean = ArrayView1::from(&self.mean[..]);
            return product((x - &mean).view(), components.t());
        }
        product(x.view(), components.t())
    }

    fn project_sparse(&self, x: &Csr) -> Array2<f64> {
        let mut out = Array2::zeros((x.n_rows(), self.n_components));
        let mut row = vec![0.0; self.n_components];
        for i in 0..x.n_rows() {
            x.row_dot(i, &self.components, &mut row);
            out.row_mut(i)
                .iter_mut()
                .zip(&row)
                .for_each(|(o, v)| *o = *v);
        }
        out
    }

    fn refuse_not_finite(&self, at: Option<(usize, usize)>) -> Result<(), Refusal> {
        match at {
            Some((row, feature)) => Err(Refusal {
                row,
                feature,
                problem: Problem::Missing {
                    step: self.label.clone(),
                },
            }),
            None => Ok(()),
        }
    }
}

impl Transformer for Projection {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        // Each component is made of every input feature; none is the source of one alone.
        vec![0; self.n_components]
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        let prefix = self.class.name().to_lowercase();
        (0..self.n_components)
            .map(|k| format!("{prefix}{k}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let mut values = match data {
            Data::Sparse { values, .. } if self.centring != Centring::Before => {
                self.refuse_not_finite(values.first_not_finite().map(|(r, c, _)| (r, c)))?;
                self.project_sparse(&values)
            }
            data => {
                let (x, _) = data.into_floats(&self.label)?;
                self.refuse_not_finite(first_not_finite(x.view()))?;
                self.project_dense(&x)
            }
        };
        if self.centring == Centring::After {
            for mut row in values.rows_mut() {
                row.iter_mut()
                    .zip(&self.mean_projected)
                    .for_each(|(v, m)| *v -= m);
            }
        }
        if let Some(scale) = &self.whiten {
            for mut row in values.rows_mut() {
                row.iter_mut().zip(scale).for_each(|(v, s)| *v /= s);
            }
        }
        Ok(Data::Numbers {
            values,
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "columns": input,
            "n_components": self.n_components,
            "whiten": self.whiten.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn pca(centring: Centring) -> Projection {
        let components = vec![0.6, 0.8, -0.8, 0.6];
        let mean = vec![1.0, 2.0];
        let mean_projected = components
            .chunks_exact(2)
            .map(|c: &[f64]| c[0] * mean[0] + c[1] * mean[1])
            .collect();
        Projection {
            class: SkClass::Pca,
            label: "PCA".into(),
            n_features: 2,
            components,
            n_components: 2,
            centring,
            mean,
            mean_projected,
            whiten: Some(vec![2.0, 0.5]),
        }
    }

    #[test]
    fn both_centrings_project_and_whiten_alike() {
        for centring in [Centring::Before, Centring::After] {
            let out = pca(centring)
                .transform(Data::Numbers {
                    values: array![[2.0, 4.0]],
                    dtype: Dtype::F64,
                })
                .unwrap();
            let Data::Numbers { values, .. } = out else {
                unreachable!()
            };
            // (1, 2) projected: 0.6 + 1.6 = 2.2, -0.8 + 1.2 = 0.4; whitened: 1.1, 0.8.
            assert!((values[[0, 0]] - 1.1).abs() < 1e-15, "{values}");
            assert!((values[[0, 1]] - 0.8).abs() < 1e-15, "{values}");
        }
    }

    #[test]
    fn a_missing_value_is_refused() {
        let refusal = pca(Centring::After)
            .transform(Data::Numbers {
                values: array![[2.0, 4.0], [f64::NAN, 1.0]],
                dtype: Dtype::F64,
            })
            .unwrap_err();
        assert_eq!((refusal.row, refusal.feature), (1, 0));
    }
}

//! KernelPCA: `transform` is the kernel between the rows and the fitted `X_fit_`, centred by
//! the fitted KernelCenterer (`K − K_fit_rows_ − mean of each row of K + K_fit_all_`), times
//! the eigenvectors scaled by `1/√eigenvalue` (0 for a zero eigenvalue), as scikit-learn
//! does it. The kernels are `src/model/pairwise.rs`'s: linear, poly, rbf, sigmoid and
//! cosine. A `precomputed` kernel (the client would have to send kernel rows against the
//! training set) and a callable kernel are refused with the reason. Eigenvectors and
//! eigenvalues are read under either of their names (`eigenvectors_`/`eigenvalues_`, or
//! `alphas_`/`lambdas_` as saved before 1.0).
//!
//! The centring and scaling alone ([`Centred`]) is also read from the precomputed-kernel
//! KernelPCA an Isomap keeps, which computes its kernel rows itself (`model::manifold`).

use ndarray::{Array1, Array2, Axis};

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::pairwise::{FittedRows, Kernel, ROWS_AT_ONCE};
use crate::model::simd;
use crate::model::state::{Path, State};
use crate::model::tree::math::pairwise_sum;

/// The kernels KernelPCA takes by name.
const KERNELS: &[&str] = &["linear", "poly", "rbf", "sigmoid", "cosine"];

/// A fitted KernelPCA.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelProjection {
    label: String,
    kernel: Kernel,
    /// `X_fit_`: training rows × features, with their norms.
    fitted_rows: FittedRows,
    centred: Centred,
}

/// What KernelPCA does to kernel rows against its training rows: the fitted
/// KernelCenterer's centring, then the product with the scaled eigenvectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Centred {
    /// The centerer's `K_fit_rows_`, one per training row.
    column_means: Array1<f64>,
    /// The centerer's `K_fit_all_`.
    overall_mean: f64,
    /// The eigenvectors divided by the roots of their eigenvalues, transposed: components ×
    /// training rows, so that one row's projection reads each component's values
    /// contiguously (several long dot products side by side, rather than a few outputs
    /// added up over thousands of training rows, one addition waiting on the last).
    scaled_t: Array2<f64>,
}

pub fn read(state: &State<'_>) -> Result<KernelProjection, LoadError> {
    let Some(name) = state.text("kernel") else {
        return Err(
            state.unsupported("kernel is a callable: skserve runs no function from a model file")
        );
    };
    if name == "precomputed" {
        return Err(state.unsupported(
            "kernel='precomputed' is not served: its input is a kernel matrix against the \
             training rows, which a client does not hold",
        ));
    }
    if !KERNELS.contains(&name) {
        return Err(state.malformed(
            "kernel",
            format!("is {name:?}, not one of {}", KERNELS.join(", ")),
        ));
    }
    let fitted_rows = fitted::matrix(state, "X_fit_", None, None)?;
    let (m, n) = fitted_rows.dim();
    if m == 0 {
        return Err(state.malformed("X_fit_", "has no rows"));
    }
    fitted::features(state, n, "X_fit_")?;
    let centred = Centred::read(state, m)?;
    fitted::charge_derived(state, "X_fit_ interleaved", FittedRows::derived_bytes(m, n))?;
    let gamma = match state.number("gamma_")? {
        Some(g) => Some(g),
        None => state.number("gamma")?,
    };
    if let Some(g) = gamma
        && !g.is_finite()
    {
        return Err(state.malformed("gamma", format!("is {g}, not a finite number")));
    }
    let degree = state.number("degree")?.unwrap_or(3.0);
    let coef0 = state.number("coef0")?.unwrap_or(1.0);
    if !degree.is_finite() || !coef0.is_finite() {
        return Err(state.malformed("degree", "or coef0 is not a finite number"));
    }
    let kernel = Kernel::from_name(name, gamma, degree, coef0, n)
        .map_err(|e| state.malformed("kernel", e))?;
    Ok(KernelProjection {
        label: state.label(),
        kernel,
        fitted_rows: FittedRows::new(fitted_rows),
        centred,
    })
}

/// A KernelPCA fitted on a precomputed kernel of `m` training rows (`kernel='precomputed'`,
/// as an Isomap fits it): its centring and scaling, for a caller that computes the kernel
/// rows itself.
pub fn read_precomputed(state: &State<'_>, m: usize) -> Result<Centred, LoadError> {
    match state.text("kernel") {
        Some("precomputed") => {}
        Some(other) => {
            return Err(state.malformed("kernel", format!("is {other:?}, not precomputed")));
        }
        None => return Err(state.malformed("kernel", "is a callable, not precomputed")),
    }
    // `X_fit_` is the training kernel (centred in place since 1.2): only its shape counts.
    fitted::matrix(state, "X_fit_", Some(m), Some(m))?;
    fitted::features(state, m, "X_fit_")?;
    Centred::read(state, m)
}

impl Centred {
    /// The eigenvectors and eigenvalues of a KernelPCA of `m` training rows, and its
    /// `_centerer`.
    fn read(state: &State<'_>, m: usize) -> Result<Self, LoadError> {
        let (vectors_name, values_name) = if state.has("eigenvectors_") {
            ("eigenvectors_", "eigenvalues_")
        } else {
            ("alphas_", "lambdas_")
        };
        let vectors = fitted::matrix(state, vectors_name, Some(m), None)?;
        let values = fitted::vector(state, values_name, Some(vectors.ncols()))?;
        if let Some(i) = values.iter().position(|v| *v < 0.0) {
            return Err(state.malformed(
                &format!("{values_name}[{i}]"),
                format!("is {}, a negative eigenvalue", values[i]),
            ));
        }
        let mut scaled = vectors;
        for (mut column, value) in scaled.columns_mut().into_iter().zip(&values) {
            if *value == 0.0 {
                column.fill(0.0);
            } else {
                column /= value.sqrt();
            }
        }
        let (column_means, overall_mean) = centerer(state, m)?;
        Ok(Self {
            column_means,
            overall_mean,
            scaled_t: scaled.t().as_standard_layout().into_owned(),
        })
    }

    pub fn n_components(&self) -> usize {
        self.scaled_t.nrows()
    }

    /// `KernelCenterer.transform` of the kernel rows `k` (rows × training rows), then their
    /// product with the scaled eigenvectors, in scikit-learn's order of operations.
    pub fn project(&self, mut k: Array2<f64>) -> Array2<f64> {
        let m = self.column_means.len() as f64;
        for mut row in k.rows_mut() {
            let row_mean = pairwise_sum(row.as_slice().expect("standard layout")) / m;
            row -= &self.column_means;
            row -= row_mean;
            row += self.overall_mean;
        }
        simd::product(k.view(), self.scaled_t.t())
    }
}

/// The fitted KernelCenterer `_centerer`: `K_fit_rows_` (one per training row) and
/// `K_fit_all_`. Its errors are the KernelPCA's, naming `_centerer` and the inner attribute.
fn centerer(state: &State<'_>, m: usize) -> Result<(Array1<f64>, f64), LoadError> {
    let inner = || -> Result<(Array1<f64>, f64), LoadError> {
        let inner = State::of(state.heap, state.get("_centerer")?, &Path::default())?;
        if inner.class != SkClass::KernelCenterer {
            return Err(inner.unsupported("is not a KernelCenterer"));
        }
        let rows = fitted::vector(&inner, "K_fit_rows_", Some(m))?;
        let all = fitted::scalar(&inner, "K_fit_all_")?;
        Ok((rows, all))
    };
    inner().map_err(|e| state.malformed("_centerer", format!("is refused: {e}")))
}

impl Transformer for KernelProjection {
    fn class(&self) -> &'static str {
        "KernelPCA"
    }

    fn n_features_in(&self) -> usize {
        self.fitted_rows.rows().ncols()
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.centred.n_components()]
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        (0..self.centred.n_components())
            .map(|k| format!("kernelpca{k}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.fitted_rows.rows().ncols()]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let x = fitted::floats(data, &self.label)?;
        // A block of rows at a time: its kernel rows (against every training row) stay in
        // cache between the kernel, the centring and the product that read them.
        let mut values = Array2::zeros((x.nrows(), self.centred.n_components()));
        for (rows, mut out) in x
            .axis_chunks_iter(Axis(0), ROWS_AT_ONCE)
            .zip(values.axis_chunks_iter_mut(Axis(0), ROWS_AT_ONCE))
        {
            let k = self.fitted_rows.kernel_matrix(&self.kernel, rows);
            out.assign(&self.centred.project(k));
        }
        Ok(Data::Numbers {
            values,
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": "KernelPCA",
            "columns": input,
            "kernel": self.kernel.name(),
            "n_components": self.centred.n_components(),
            "n_fitted_rows": self.fitted_rows.rows().nrows(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_linear_kernel_is_centred_and_scaled() {
        let projection = KernelProjection {
            label: "KernelPCA".into(),
            kernel: Kernel::Linear,
            fitted_rows: FittedRows::new(array![[1.0, 0.0], [-1.0, 0.0]]),
            centred: Centred {
                column_means: array![0.0, 0.0],
                overall_mean: 0.0,
                scaled_t: array![[0.5, -0.5]],
            },
        };
        let out = projection
            .transform(Data::Numbers {
                values: array![[3.0, 7.0]],
                dtype: Dtype::F64,
            })
            .unwrap();
        let Data::Numbers { values, .. } = out else {
            unreachable!()
        };
        // K = [3, −3], centred by its row mean 0: 3·0.5 + (−3)·(−0.5) = 3.
        assert_eq!(values, array![[3.0]]);
    }
}

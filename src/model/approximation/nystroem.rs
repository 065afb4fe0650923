//! Nystroem: `transform` is `pairwise_kernels(X, components_) @ normalization_.T`, the kernel
//! one of `pairwise_kernels`' by name or `precomputed` (the rows are then the kernel's values
//! against the components). Its parameters are `kernel_params` with `gamma`, `degree` and
//! `coef0` set on the estimator taking precedence, each kept only by the kernels that take it
//! (`filter_params=True`), the kernel functions' own defaults for the rest. A callable kernel
//! is refused by name: it would have to run. Components fitted on sparse rows (a scipy CSR
//! matrix) are read dense.

use ndarray::{Array2, Axis};

use super::{Rows, no_answer, numbers, prefixed_names};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::ColumnKind;
use crate::model::pairwise::{FittedRows, Kernel, ROWS_AT_ONCE};
use crate::model::scipy;
use crate::model::simd;
use crate::model::state::{State, number_of};
use crate::model::value::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct Nystroem {
    label: String,
    /// `None`: `precomputed`.
    kernel: Option<Kernel>,
    /// The components' rows (`None` for `precomputed`, whose input is the kernel itself),
    /// with their norms.
    components: Option<FittedRows>,
    /// `normalization_.T`: components × outputs.
    normalization_t: Array2<f64>,
    n_features: usize,
    n_components: usize,
}

/// The parameters each kernel takes (`KERNEL_PARAMS`).
fn takes(kernel: &str, param: &str) -> bool {
    match kernel {
        "poly" | "polynomial" => matches!(param, "gamma" | "degree" | "coef0"),
        "rbf" | "laplacian" | "chi2" => param == "gamma",
        "sigmoid" => matches!(param, "gamma" | "coef0"),
        _ => false,
    }
}

/// The kernel's parameters as `_get_kernel_params` and `pairwise_kernels` settle them:
/// `[gamma, degree, coef0]`, `None` where the kernel function's default applies.
fn parameters(state: &State<'_>, name: &str) -> Result<[Option<f64>; 3], LoadError> {
    let mut found = [None, None, None];
    const PARAMS: [&str; 3] = ["gamma", "degree", "coef0"];
    if let Some(value) = state.attr("kernel_params").filter(|v| *v != Value::None) {
        let dict = state
            .heap
            .str_dict(value)
            .ok_or_else(|| state.malformed("kernel_params", "is not a dict of settings"))?;
        for (key, value) in dict {
            let Some(at) = PARAMS.iter().position(|p| *p == key) else {
                continue;
            };
            if !takes(name, key) || value == Value::None {
                continue;
            }
            let number = number_of(state.heap, value).ok_or_else(|| {
                state.malformed(&format!("kernel_params[{key:?}]"), "is not a number")
            })?;
            found[at] = Some(number);
        }
    }
    for (at, param) in PARAMS.iter().enumerate() {
        if takes(name, param)
            && let Some(number) = state.number(param)?
        {
            found[at] = Some(number);
        }
    }
    for (value, param) in found.iter().zip(PARAMS) {
        if let Some(v) = value
            && !v.is_finite()
        {
            return Err(state.malformed(param, format!("is {v}, not a finite number")));
        }
    }
    Ok(found)
}

impl Nystroem {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        if !state.has("normalization_") {
            return Err(state.malformed(
                "normalization_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let value = state.get("kernel")?;
        let Some(name) = state.heap.str(value) else {
            return Err(state.unsupported(format!(
                "kernel is {}, not a kernel's name: a callable kernel would have to run",
                crate::model::state::describe(state.heap, value)
            )));
        };
        // Fitted on sparse rows, the components are a scipy CSR matrix.
        let stored = state.get("components_")?;
        let components = if State::of(state.heap, stored, &state.path)
            .is_ok_and(|s| scipy::is_sparse(s.class))
        {
            let csr = scipy::read_csr(state, "components_", stored)?;
            fitted::finite(state, "components_.data", csr.values())?;
            csr.to_dense()
        } else {
            fitted::matrix(state, "components_", None, None)?
        };
        let (n_components, width) = components.dim();
        if n_components == 0 || width == 0 {
            return Err(state.malformed("components_", "is empty"));
        }
        let normalization = fitted::matrix(
            state,
            "normalization_",
            Some(n_components),
            Some(n_components),
        )?;
        fitted::indices(state, "component_indices_", Some(n_components), usize::MAX)?;
        let (kernel, components, n_features) = if name == "precomputed" {
            // The rows are the kernel's values against each component, which were all the
            // rows it was fitted on.
            if width != n_components {
                return Err(state.malformed(
                    "components_",
                    format!(
                        "has shape [{n_components}, {width}]: a precomputed kernel's is square"
                    ),
                ));
            }
            fitted::features(state, width, "components_")?;
            (None, None, n_components)
        } else {
            let [gamma, degree, coef0] = parameters(state, name)?;
            let kernel = Kernel::from_name(
                name,
                gamma,
                degree.unwrap_or(3.0),
                coef0.unwrap_or(1.0),
                width,
            )
            .map_err(|e| state.malformed("kernel", e))?;
            if kernel.needs_non_negative()
                && let Some(((row, column), v)) = components.indexed_iter().find(|(_, v)| **v < 0.0)
            {
                return Err(state.malformed(
                    &format!("components_[{row}, {column}]"),
                    format!(
                        "is {v}: the {} kernel takes no negative values",
                        kernel.name()
                    ),
                ));
            }
            fitted::features(state, width, "components_")?;
            let bytes = FittedRows::derived_bytes(components.nrows(), width);
            fitted::charge_derived(state, "components_ interleaved", bytes)?;
            (Some(kernel), Some(FittedRows::new(components)), width)
        };
        Ok(Self {
            label: state.label(),
            kernel,
            components,
            normalization_t: normalization.reversed_axes(),
            n_features,
            n_components,
        })
    }

    /// The kernel rows of `x` against the components, times `normalization_.T`.
    fn embedded(&self, x: Array2<f64>) -> Result<Array2<f64>, Refusal> {
        let (Some(kernel), Some(components)) = (&self.kernel, &self.components) else {
            return Ok(simd::product(x.view(), self.normalization_t.view()));
        };
        if kernel.needs_non_negative()
            && let Some(((row, feature), _)) = x.indexed_iter().find(|(_, v)| **v < 0.0)
        {
            return Err(no_answer(
                row,
                feature,
                &self.label,
                "the chi2 kernels take no negative values (X contains negative values)",
            ));
        }
        // A block of rows at a time: its kernel rows stay in cache between the kernel and
        // the product with the normalization.
        let mut out = Array2::zeros((x.nrows(), self.normalization_t.ncols()));
        for (rows, mut o) in x
            .axis_chunks_iter(Axis(0), ROWS_AT_ONCE)
            .zip(out.axis_chunks_iter_mut(Axis(0), ROWS_AT_ONCE))
        {
            let k = components.kernel_matrix(kernel, rows);
            o.assign(&simd::product(k.view(), self.normalization_t.view()));
        }
        Ok(out)
    }
}

impl Transformer for Nystroem {
    fn class(&self) -> &'static str {
        SkClass::Nystroem.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.n_components]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        prefixed_names(SkClass::Nystroem, self.n_components)
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let x = match Rows::of(data, &self.label)? {
            Rows::Dense(x) => x,
            Rows::Sparse(x) => {
                if self.kernel.as_ref().is_some_and(Kernel::needs_non_negative) {
                    return Err(no_answer(
                        0,
                        0,
                        &self.label,
                        "scikit-learn's chi2 kernels do not take sparse rows",
                    ));
                }
                x.to_dense()
            }
        };
        Ok(numbers(self.embedded(x)?))
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": "Nystroem",
            "columns": input,
            "kernel": self.kernel.as_ref().map_or("precomputed", Kernel::name),
            "n_components": self.n_components,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_kernel_rows_meet_the_normalization() {
        let nystroem = Nystroem {
            label: "Nystroem".into(),
            kernel: Some(Kernel::Linear),
            components: Some(FittedRows::new(array![[1.0, 0.0], [0.0, 2.0]])),
            normalization_t: array![[1.0, 0.0], [0.0, 0.5]],
            n_features: 2,
            n_components: 2,
        };
        let out = nystroem
            .transform(numbers(array![[3.0, 4.0]]))
            .expect("an answer");
        let Data::Numbers { values, .. } = out else {
            panic!("dense output");
        };
        // Linear kernel: [3, 8]; times normalizationᵀ: [3, 4].
        assert_eq!(values, array![[3.0, 4.0]]);
    }

    #[test]
    fn each_kernel_keeps_only_its_own_parameters() {
        assert!(takes("poly", "degree") && takes("sigmoid", "coef0"));
        assert!(!takes("rbf", "degree") && !takes("linear", "gamma"));
        assert!(!takes("additive_chi2", "gamma") && takes("chi2", "gamma"));
    }
}

//! Fourier feature maps. RBFSampler and SkewedChi2Sampler are random Fourier features:
//! `cos(X' @ random_weights_ + random_offset_) * sqrt(2 / n_components)`, where `X'` is `X`
//! for RBFSampler (sparse rows summed in scipy's order) and `log(X + skewedness)` for
//! SkewedChi2Sampler (dense rows only, as scikit-learn takes them; a value at or below
//! `-skewedness` refused). AdditiveChi2Sampler samples the Fourier transform of each
//! feature at `sample_steps` points `sample_interval` apart: for every non-zero `x`,
//! `sqrt(x L)`, then `sqrt(2 x L / cosh(π j L)) · (cos, sin)(j L log x)` for each step `j`;
//! negative values refused, sparse rows kept sparse, the output of the input's dtype (counts
//! give integers, truncated, as scikit-learn writes them).

use ndarray::{Array1, Array2};

use super::{Rows, check_components, no_answer, numbers, prefixed_names, sparse_dot};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::simd;
use crate::model::sparse::Csr;
use crate::model::state::State;

#[derive(Clone, Debug, PartialEq)]
pub struct RandomFourier {
    class: SkClass,
    label: String,
    /// `random_weights_ᵀ`: components × features, as sparse rows meet it.
    weights_t: Array2<f64>,
    /// `random_weights_`: features × components, as a few dense rows meet it.
    weights: Array2<f64>,
    offset: Array1<f64>,
    /// SkewedChi2Sampler's `skewedness`.
    skewedness: Option<f64>,
    /// `sqrt(2 / n_components)` as the saving version computed it.
    scale: f64,
}

impl RandomFourier {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        if !state.has("random_weights_") {
            return Err(state.malformed(
                "random_weights_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let weights = fitted::matrix(state, "random_weights_", None, None)?;
        let (n_features, n_components) = weights.dim();
        if n_components == 0 {
            return Err(state.malformed("random_weights_", "has no components"));
        }
        fitted::features(state, n_features, "random_weights_")?;
        let offset = fitted::vector(state, "random_offset_", Some(n_components))?;
        check_components(state, "n_components", n_components, "random_weights_")?;
        let skewed = state.class == SkClass::SkewedChi2Sampler;
        let skewedness = if skewed {
            Some(fitted::scalar(state, "skewedness")?)
        } else {
            None
        };
        let n = n_components as f64;
        let scale = if skewed || state.saved_before((1, 3)) {
            2f64.sqrt() / n.sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        Ok(Self {
            class: state.class,
            label: state.label(),
            weights_t: weights.t().as_standard_layout().into_owned(),
            weights,
            offset,
            skewedness,
            scale,
        })
    }

    fn project(&self, mut projection: Array2<f64>) -> Array2<f64> {
        let offsets = self.offset.as_slice().expect("a new array is contiguous");
        let values = projection
            .as_slice_mut()
            .expect("a new array is contiguous");
        simd::cos_shifted_in_place(values, offsets, self.scale);
        projection
    }
}

impl Transformer for RandomFourier {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.weights_t.ncols()
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.offset.len()]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        prefixed_names(self.class, self.offset.len())
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features_in()]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let projection = match (Rows::of(data, &self.label)?, self.skewedness) {
            (Rows::Sparse(x), None) => sparse_dot(
                &x,
                self.weights_t.as_slice().expect("standard layout"),
                self.offset.len(),
            ),
            (Rows::Dense(x), None) => simd::product(x.view(), self.weights.view()),
            (Rows::Sparse(_), Some(_)) => {
                return Err(no_answer(
                    0,
                    0,
                    &self.label,
                    "SkewedChi2Sampler takes dense rows only (scikit-learn raises on a sparse \
                     matrix)",
                ));
            }
            (Rows::Dense(mut x), Some(skewedness)) => {
                if let Some(((row, feature), _)) =
                    x.indexed_iter().find(|(_, v)| **v <= -skewedness)
                {
                    return Err(no_answer(
                        row,
                        feature,
                        &self.label,
                        "X may not contain entries smaller than -skewedness",
                    ));
                }
                x.mapv_inplace(|v| (v + skewedness).ln());
                simd::product(x.view(), self.weights.view())
            }
        };
        Ok(numbers(self.project(projection)))
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "columns": input,
            "n_components": self.offset.len(),
            "skewedness": self.skewedness,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AdditiveChi2 {
    label: String,
    n_features: usize,
    sample_steps: usize,
    sample_interval: f64,
}

/// The sampling interval scikit-learn chooses for `sample_steps` when none is given.
fn default_interval(steps: usize) -> Option<f64> {
    match steps {
        1 => Some(0.8),
        2 => Some(0.5),
        3 => Some(0.4),
        _ => None,
    }
}

impl AdditiveChi2 {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let n_features = state.count("n_features_in_")?.ok_or_else(|| {
            state.malformed(
                "n_features_in_",
                "is missing: the step was saved before it was fitted",
            )
        })?;
        fitted::features(state, n_features, "n_features_in_")?;
        let sample_steps = fitted::count(state, "sample_steps", 1)?;
        let outputs = n_features.checked_mul(2 * sample_steps - 1);
        let budget = state.heap.budget();
        if !outputs.is_some_and(|n| budget.admits(n, std::mem::size_of::<f64>())) {
            return Err(state.malformed(
                "sample_steps",
                format!(
                    "is {sample_steps}: {n_features} features would become more outputs than \
                     the loading budget admits per row"
                ),
            ));
        }
        // 1.1 keeps the interval it used in `sample_interval_`; later versions choose it at
        // transform from the parameters, as here.
        let chosen = match state.number("sample_interval_")? {
            Some(v) => Some(v),
            None => state.number("sample_interval")?,
        };
        let sample_interval = match chosen.or_else(|| default_interval(sample_steps)) {
            Some(v) if v.is_finite() && v > 0.0 => v,
            Some(v) => {
                return Err(
                    state.malformed("sample_interval", format!("is {v}, not a positive number"))
                );
            }
            None => {
                return Err(state.malformed(
                    "sample_interval",
                    format!("is None, which sample_steps = {sample_steps} needs set"),
                ));
            }
        };
        Ok(Self {
            label: state.label(),
            n_features,
            sample_steps,
            sample_interval,
        })
    }

    /// The `2 sample_steps - 1` values of `x`, block by block (zero for zero).
    fn values_of(&self, x: f64, out: &mut Vec<f64>) {
        let interval = self.sample_interval;
        out.clear();
        out.push((x * interval).sqrt());
        let log_step = interval * x.ln();
        let step = 2.0 * x * interval;
        for j in 1..self.sample_steps {
            let j = j as f64;
            let factor = (step / (std::f64::consts::PI * j * interval).cosh()).sqrt();
            out.push(factor * (j * log_step).cos());
            out.push(factor * (j * log_step).sin());
        }
    }

    fn dense(&self, x: &Array2<f64>) -> Array2<f64> {
        let n = self.n_features;
        let mut out = Array2::zeros((x.nrows(), n * (2 * self.sample_steps - 1)));
        let mut values = Vec::new();
        for ((i, j), &v) in x.indexed_iter() {
            if v != 0.0 {
                self.values_of(v, &mut values);
                for (block, value) in values.iter().enumerate() {
                    out[[i, block * n + j]] = *value;
                }
            }
        }
        out
    }

    fn sparse(&self, x: &Csr) -> Csr {
        let blocks = 2 * self.sample_steps - 1;
        let mut parts: Vec<Csr> = (0..blocks)
            .map(|_| Csr::with_capacity(self.n_features, x.n_rows(), x.nnz()))
            .collect();
        let mut values = Vec::new();
        for i in 0..x.n_rows() {
            let (columns, stored) = x.row(i);
            for (&j, &v) in columns.iter().zip(stored) {
                self.values_of(v, &mut values);
                for (part, value) in parts.iter_mut().zip(&values) {
                    part.push(j, *value);
                }
            }
            parts.iter_mut().for_each(Csr::end_row);
        }
        Csr::hstack(&parts, x.n_rows())
    }
}

impl Transformer for AdditiveChi2 {
    fn class(&self) -> &'static str {
        SkClass::AdditiveChi2Sampler.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.n_features * (2 * self.sample_steps - 1))
            .map(|k| k % self.n_features)
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut names: Vec<String> = input
            .iter()
            .map(|name| format!("additivechi2sampler_{name}_sqrt"))
            .collect();
        for j in 1..self.sample_steps {
            for part in ["cos", "sin"] {
                names.extend(
                    input
                        .iter()
                        .map(|name| format!("additivechi2sampler_{name}_{part}{j}")),
                );
            }
        }
        names
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let negative = |row, feature| {
            no_answer(
                row,
                feature,
                &self.label,
                "Negative values in data passed to X in AdditiveChi2Sampler.transform",
            )
        };
        // scikit-learn writes the features into arrays of the input's dtype (`zeros_like(X)`,
        // `csr_matrix(..., dtype=X.dtype)`): counts give integers, truncated.
        let dtype = (0..data.n_columns())
            .filter_map(|j| data.dtype_of(j))
            .reduce(Dtype::promote)
            .unwrap_or(Dtype::F64);
        let cast = |v: f64| match dtype {
            Dtype::Int => v.trunc(),
            other => other.round(v),
        };
        let dtype = if dtype == Dtype::Bool {
            Dtype::F64
        } else {
            dtype
        };
        match Rows::of(data, &self.label)? {
            Rows::Dense(x) => {
                if let Some(((row, feature), _)) = x.indexed_iter().find(|(_, v)| **v < 0.0) {
                    return Err(negative(row, feature));
                }
                let mut values = self.dense(&x);
                values.mapv_inplace(cast);
                Ok(Data::Numbers { values, dtype })
            }
            Rows::Sparse(x) => {
                for i in 0..x.n_rows() {
                    let (columns, stored) = x.row(i);
                    if let Some(at) = stored.iter().position(|v| *v < 0.0) {
                        return Err(negative(i, columns[at]));
                    }
                }
                let mut values = self.sparse(&x);
                values.values_mut().iter_mut().for_each(|v| *v = cast(*v));
                Ok(Data::Sparse { values, dtype })
            }
        }
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": "AdditiveChi2Sampler",
            "columns": input,
            "sample_steps": self.sample_steps,
            "sample_interval": self.sample_interval,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn sampler(steps: usize) -> AdditiveChi2 {
        AdditiveChi2 {
            label: "AdditiveChi2Sampler".into(),
            n_features: 2,
            sample_steps: steps,
            sample_interval: default_interval(steps).unwrap(),
        }
    }

    #[test]
    fn dense_and_sparse_rows_agree() {
        let x = array![[0.0, 2.0], [0.5, 0.0]];
        let dense = sampler(3).dense(&x);
        let sparse = sampler(3).sparse(&Csr::from_dense(x.view())).to_dense();
        assert_eq!(dense, sparse);
        assert_eq!(dense.ncols(), 10);
        // The first block is sqrt(x L).
        assert_eq!(dense[[0, 1]], (2.0f64 * 0.4).sqrt());
        assert_eq!(dense[[0, 0]], 0.0);
    }

    #[test]
    fn a_negative_value_is_refused_where_it_is() {
        let refusal = sampler(2)
            .transform(numbers(array![[1.0, 2.0], [3.0, -1.0]]))
            .unwrap_err();
        assert_eq!((refusal.row, refusal.feature), (1, 1));
    }
}

//! GaussianRandomProjection and SparseRandomProjection: `transform` is `X @ components_.T`.
//! The Gaussian projection's `components_` is dense and its output always dense. The sparse
//! projection's `components_` is a scipy CSR matrix (dense when `density` is 1); dense rows give dense output, and sparse
//! rows stay sparse unless `dense_output` is set (`safe_sparse_dot`), each stored product
//! summed in the order of the row's stored values.

use ndarray::Array2;

use super::{Rows, check_components, numbers, prefixed_names, sparse_dot};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::fitted;
use crate::model::input::{ColumnKind, Dtype};
use crate::model::scipy;
use crate::model::sparse::Csr;
use crate::model::state::State;

#[derive(Clone, Debug, PartialEq)]
enum Components {
    /// Components × features.
    Dense(Array2<f64>),
    /// For each feature, the components it enters with its weight, in component order.
    ByFeature(Vec<Vec<(usize, f64)>>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct RandomProjection {
    class: SkClass,
    label: String,
    n_features: usize,
    n_components: usize,
    components: Components,
    dense_output: bool,
}

impl RandomProjection {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        if !state.has("components_") {
            return Err(state.malformed(
                "components_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let value = state.get("components_")?;
        let stored_sparse = State::of(state.heap, value, &state.path)
            .map(|s| scipy::is_sparse(s.class))
            .unwrap_or(false);
        // SparseRandomProjection keeps a dense matrix when `density` is 1.
        let (components, n_components, n_features) = if stored_sparse {
            let csr = scipy::read_csr(state, "components_", value)?;
            fitted::finite(state, "components_.data", csr.values())?;
            (by_feature(&csr), csr.n_rows(), csr.n_cols())
        } else {
            let matrix = fitted::matrix(state, "components_", None, None)?;
            let (rows, columns) = matrix.dim();
            (Components::Dense(matrix), rows, columns)
        };
        if n_components == 0 {
            return Err(state.malformed("components_", "has no components"));
        }
        fitted::features(state, n_features, "components_")?;
        check_components(state, "n_components_", n_components, "components_")?;
        Ok(Self {
            class: state.class,
            label: state.label(),
            n_features,
            n_components,
            components,
            dense_output: state.bool_or("dense_output", false)?,
        })
    }

    fn dense(&self, x: &Array2<f64>) -> Array2<f64> {
        match &self.components {
            Components::Dense(components) => x.dot(&components.t()),
            Components::ByFeature(by_feature) => {
                let mut out = Array2::zeros((x.nrows(), self.n_components));
                for (row, mut o) in x.rows().into_iter().zip(out.rows_mut()) {
                    for (v, entries) in row.iter().zip(by_feature) {
                        for &(k, w) in entries {
                            o[k] += v * w;
                        }
                    }
                }
                out
            }
        }
    }

    fn sparse(&self, x: &Csr) -> Data {
        match &self.components {
            Components::Dense(components) => {
                let flat = components.as_standard_layout();
                let flat = flat.as_slice().expect("standard layout");
                numbers(sparse_dot(x, flat, self.n_components))
            }
            Components::ByFeature(by_feature) => {
                let mut out = Csr::with_capacity(self.n_components, x.n_rows(), x.nnz());
                let mut sums = vec![0.0; self.n_components];
                let mut stored = vec![false; self.n_components];
                for i in 0..x.n_rows() {
                    let (columns, values) = x.row(i);
                    for (&j, &v) in columns.iter().zip(values) {
                        for &(k, w) in &by_feature[j] {
                            sums[k] += v * w;
                            stored[k] = true;
                        }
                    }
                    for k in 0..self.n_components {
                        if stored[k] {
                            out.push(k, sums[k]);
                        }
                        sums[k] = 0.0;
                        stored[k] = false;
                    }
                    out.end_row();
                }
                if self.dense_output {
                    numbers(out.to_dense())
                } else {
                    Data::Sparse {
                        values: out,
                        dtype: Dtype::F64,
                    }
                }
            }
        }
    }
}

/// The columns of a CSR matrix: for each feature, (component, weight) in component order.
fn by_feature(csr: &Csr) -> Components {
    let mut columns = vec![Vec::new(); csr.n_cols()];
    for k in 0..csr.n_rows() {
        let (indices, values) = csr.row(k);
        for (&j, &w) in indices.iter().zip(values) {
            columns[j].push((k, w));
        }
    }
    Components::ByFeature(columns)
}

impl Transformer for RandomProjection {
    fn class(&self) -> &'static str {
        self.class.name()
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
        prefixed_names(self.class, self.n_components)
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        Ok(match Rows::of(data, &self.label)? {
            Rows::Dense(x) => numbers(self.dense(&x)),
            Rows::Sparse(x) => self.sparse(&x),
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class.name(),
            "columns": input,
            "n_components": self.n_components,
            "sparse_components": matches!(self.components, Components::ByFeature(_)),
            "dense_output": self.dense_output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn sparse_projection(dense_output: bool) -> RandomProjection {
        let components = array![[1.0, 0.0, -2.0], [0.0, 3.0, 0.0]];
        RandomProjection {
            class: SkClass::SparseRandomProjection,
            label: "SparseRandomProjection".into(),
            n_features: 3,
            n_components: 2,
            components: by_feature(&Csr::from_dense(components.view())),
            dense_output,
        }
    }

    #[test]
    fn sparse_rows_stay_sparse_unless_dense_output() {
        let x = Csr::from_dense(array![[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]].view());
        let Data::Sparse { values, .. } = sparse_projection(false).sparse(&x) else {
            panic!("sparse rows give sparse rows");
        };
        assert_eq!(values.to_dense(), array![[-1.0, 0.0], [0.0, 0.0]]);
        assert_eq!(values.nnz(), 1);
        let Data::Numbers { values, .. } = sparse_projection(true).sparse(&x) else {
            panic!("dense_output gives dense rows");
        };
        assert_eq!(values, array![[-1.0, 0.0], [0.0, 0.0]]);
    }

    #[test]
    fn dense_rows_use_the_sparse_components() {
        let out = sparse_projection(false).dense(&array![[2.0, 1.0, 0.5]]);
        assert_eq!(out, array![[1.0, 3.0]]);
    }
}

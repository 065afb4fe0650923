//! KernelCenterer: a kernel matrix against the training samples centred in the feature space
//! the kernel implies, as `transform` computes it: `K -= K_fit_rows_; K -= K.sum(axis=1)/n;
//! K += K_fit_all_`, with the row means taken before the first subtraction. A missing value is
//! refused, as `check_array` refuses it.
//!
//! What must not live here: the kernels themselves (`crate::model::pairwise`).

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Transformer};
use crate::model::fitted;
use crate::model::input::ColumnKind;
use crate::model::state::State;

#[derive(Clone, Debug, PartialEq)]
pub struct KernelCenterer {
    label: String,
    /// `K_fit_rows_`: each training sample's mean kernel value.
    fit_rows: Vec<f64>,
    /// `K_fit_all_`: the mean of the training kernel.
    fit_all: f64,
}

impl KernelCenterer {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        if !state.has("K_fit_rows_") {
            return Err(state.malformed(
                "K_fit_rows_",
                "is missing: the step was saved before it was fitted",
            ));
        }
        let fit_rows = fitted::vector(state, "K_fit_rows_", None)?.to_vec();
        fitted::features(state, fit_rows.len(), "K_fit_rows_")?;
        Ok(Self {
            label: state.label(),
            fit_rows,
            fit_all: fitted::scalar(state, "K_fit_all_")?,
        })
    }
}

impl Transformer for KernelCenterer {
    fn class(&self) -> &'static str {
        SkClass::KernelCenterer.name()
    }

    fn n_features_in(&self) -> usize {
        self.fit_rows.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.fit_rows.len()).collect()
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        (0..self.fit_rows.len())
            .map(|i| format!("kernelcenterer{i}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.fit_rows.len()]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn transform(&self, data: Data) -> Result<Data, crate::model::estimator::Refusal> {
        let dtype = data
            .dtype_of(0)
            .unwrap_or(crate::model::input::Dtype::F64)
            .as_float();
        let mut values = fitted::floats(data, &self.label)?;
        let n = self.fit_rows.len() as f64;
        for mut row in values.rows_mut() {
            let mean = dtype.round(row.iter().sum::<f64>() / n);
            for (k, fit_row) in row.iter_mut().zip(&self.fit_rows) {
                let v = dtype.round(*k - fit_row);
                let v = dtype.round(v - mean);
                *k = dtype.round(v + self.fit_all);
            }
        }
        Ok(Data::Numbers { values, dtype })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class(),
            "columns": input,
            "n_training_samples": self.fit_rows.len(),
        })
    }
}

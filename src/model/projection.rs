//! A fitted linear projection as a [`Transformer`]: `(X − center) · M + offset`, optionally
//! through the logistic function, which is what LinearDiscriminantAnalysis (`transform`),
//! NeighborhoodComponentsAnalysis (`X · components_ᵀ`) and BernoulliRBM
//! (`expit(X · components_ᵀ + intercept_hidden_)`) compute. Each output mixes every input,
//! so its features are named as scikit-learn names them (`lineardiscriminantanalysis0`), and
//! no explanation passes through it.
//!
//! What must not live here: reading any estimator's state (the rooms build a [`Projection`]).

use ndarray::{Array1, Array2, ArrayView2};

use super::estimator::{Data, Needs, Refusal, Transformer};
use super::fitted;
use super::input::{ColumnKind, Dtype};
use super::tree::math::expit;

#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// The scikit-learn class, `LinearDiscriminantAnalysis`.
    pub class: &'static str,
    /// How refusals name the step.
    pub label: String,
    /// Subtracted from each row first (LDA's `xbar_`).
    pub center: Option<Array1<f64>>,
    /// Features × outputs.
    pub matrix: Array2<f64>,
    /// Added to each output (BernoulliRBM's `intercept_hidden_`).
    pub offset: Option<Array1<f64>>,
    /// Each output through `expit` (BernoulliRBM).
    pub logistic: bool,
}

impl Projection {
    pub fn n_outputs(&self) -> usize {
        self.matrix.ncols()
    }

    /// The projection of validated rows.
    pub fn apply(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut out = match &self.center {
            Some(center) => (&x - center).dot(&self.matrix),
            None => x.dot(&self.matrix),
        };
        if let Some(offset) = &self.offset {
            out += offset;
        }
        if self.logistic {
            out.mapv_inplace(expit);
        }
        out
    }
}

impl Transformer for Projection {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.matrix.nrows()
    }

    /// Each output mixes every input; the first stands for them all.
    fn sources(&self) -> Vec<usize> {
        vec![0; self.n_outputs()]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        let prefix = self.class.to_lowercase();
        (0..self.n_outputs())
            .map(|i| format!("{prefix}{i}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features_in()]
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let x = fitted::floats(data, &self.label)?;
        Ok(Data::Numbers {
            values: self.apply(x.view()),
            dtype: Dtype::F64,
        })
    }

    fn describe(&self, _input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": self.class,
            "n_features_in": self.n_features_in(),
            "n_features_out": self.n_outputs(),
        })
    }
}

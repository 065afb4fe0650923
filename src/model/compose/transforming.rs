//! A model of transformers only (a scaler saved alone, a Pipeline ending in PCA): served as
//! scikit-learn serves it, through `transform`. The transformers run as a Pipeline's steps do;
//! what they give is the model's one output, [`Method::Transform`], and it predicts nothing.

use ndarray::{Array2, ArrayView2};

use super::Model;
use crate::model::estimator::{Method, Prediction, Predictor, Target, Transformer};

/// `t` as a model whose answer is its output.
pub fn transforming(t: Box<dyn Transformer>) -> Model {
    let width = t.sources().len();
    Model {
        transformers: vec![(t.class().to_owned(), t)],
        predictor: Box::new(TransformOutput { width }),
        wrappers: Vec::new(),
    }
}

/// The end of a model of transformers: the features the steps before it computed, as they
/// are.
#[derive(Debug)]
pub struct TransformOutput {
    width: usize,
}

impl Predictor for TransformOutput {
    fn class(&self) -> &'static str {
        "transform"
    }

    fn n_features_in(&self) -> usize {
        self.width
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self.width,
            one_d: false,
        }
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Transform]
    }

    /// The steps before it have taken or refused missing values as scikit-learn's do.
    fn accepts_missing(&self) -> bool {
        true
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        (method == Method::Transform).then(|| x.to_owned())
    }

    fn width(&self, _method: Method) -> usize {
        self.width
    }

    fn predicts(&self) -> bool {
        false
    }

    /// Never asked: a model that predicts nothing offers no `predict` (`Model::methods`).
    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Values(x.to_owned())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "class": "transform", "n_features_out": self.width })
    }
}

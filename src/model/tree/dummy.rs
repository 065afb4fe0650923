//! DummyClassifier and DummyRegressor, the estimators GradientBoosting fits first as its
//! `init_` (a class prior, a mean or a quantile) and which answer the same for every row.
//! The `stratified` and `uniform` classifiers answer at random and are not served. A
//! regressor's `predict_std` (`return_std=True`) is 0, as scikit-learn gives it.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::math::argmax;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::{Classes, read_classes};
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};
use crate::model::state::State;

#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// `predict_proba`'s row and the class `predict` answers.
    Classes {
        classes: Classes,
        proba: Vec<f64>,
        predicted: usize,
    },
    /// `predict`'s value per output.
    Values(Vec<f64>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dummy {
    pub class: SkClass,
    pub n_features: usize,
    pub constant: Constant,
}

pub fn read(state: &State<'_>) -> Result<Dummy, LoadError> {
    read_with(state, None)
}

/// Reads a dummy estimator; `n_features` stands in when the state does not record it.
pub fn read_with(state: &State<'_>, n_features: Option<usize>) -> Result<Dummy, LoadError> {
    let n_features = match (state.count("n_features_in_")?, n_features) {
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => return Err(state.malformed("n_features_in_", "is missing")),
    };
    if state.count("n_outputs_")?.unwrap_or(1) != 1 {
        return Err(state.unsupported("has several outputs; skserve serves dummies of one"));
    }
    let strategy = state
        .text("_strategy")
        .or_else(|| state.text("strategy"))
        .unwrap_or("");
    let constant = if state.class == SkClass::DummyClassifier {
        let classes = read_classes(state, "classes_")?;
        let prior = state.vector("class_prior_", classes.len())?;
        let most_frequent = argmax(&prior);
        let (proba, predicted) = match strategy {
            "prior" => (prior, most_frequent),
            "most_frequent" => (one_hot(classes.len(), most_frequent), most_frequent),
            "constant" => {
                let index = constant_class(state, &classes)?;
                (one_hot(classes.len(), index), index)
            }
            other => {
                return Err(state.unsupported(format!(
                    "strategy={other:?} answers at random; skserve serves the prior, \
                     most_frequent and constant dummies"
                )));
            }
        };
        Constant::Classes {
            classes,
            proba,
            predicted,
        }
    } else {
        let (values, _) = state.numbers("constant_")?;
        if values.len() != 1 || !values[0].is_finite() {
            return Err(state.malformed("constant_", "is not one finite value"));
        }
        Constant::Values(values)
    };
    Ok(Dummy {
        class: state.class,
        n_features,
        constant,
    })
}

fn one_hot(n: usize, index: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    out[index] = 1.0;
    out
}

/// The index of a constant classifier's `constant` among its classes.
fn constant_class(state: &State<'_>, classes: &Classes) -> Result<usize, LoadError> {
    let value = state.get("constant")?;
    let label = match (classes, value) {
        (Classes::Int(v), crate::model::value::Value::Int(c)) => v.iter().position(|x| *x == c),
        (Classes::Str(v), other) => state
            .heap
            .str(other)
            .and_then(|c| v.iter().position(|x| x == c)),
        (Classes::Float(v), other) => crate::model::state::number_of(state.heap, other)
            .and_then(|c| v.iter().position(|x| *x == c)),
        (Classes::Bool(v), crate::model::value::Value::Bool(c)) => v.iter().position(|x| *x == c),
        _ => None,
    };
    label.ok_or_else(|| state.malformed("constant", "is not one of classes_"))
}

impl Predictor for Dummy {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.constant {
            Constant::Classes { classes, .. } => Target::Classes(classes),
            Constant::Values(_) => Target::Values {
                n_outputs: 1,
                one_d: true,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.constant {
            Constant::Classes { .. } => vec![Method::Predict, Method::PredictProba],
            Constant::Values(_) => vec![Method::Predict, Method::PredictStd],
        }
    }

    /// `predict(X, return_std=True)`'s deviation: 0 for every row, the answer being constant.
    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match (method, &self.constant) {
            (Method::PredictProba, _) => self.predict_proba(x),
            (Method::PredictStd, Constant::Values(v)) => Some(Array2::zeros((x.nrows(), v.len()))),
            _ => None,
        }
    }

    fn accepts_missing(&self) -> bool {
        // A dummy never reads its input (`skip_check_array`).
        true
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        match &self.constant {
            Constant::Classes { predicted, .. } => Prediction::Classes(vec![*predicted; x.nrows()]),
            Constant::Values(v) => Prediction::Values(Array2::from_elem((x.nrows(), 1), v[0])),
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let Constant::Classes { proba, .. } = &self.constant else {
            return None;
        };
        let mut out = Array2::zeros((x.nrows(), proba.len()));
        for mut row in out.rows_mut() {
            row.iter_mut().zip(proba).for_each(|(o, p)| *o = *p);
        }
        Some(out)
    }

    fn decision_function(&self, _x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        None
    }

    fn has_predict_proba(&self) -> bool {
        matches!(self.constant, Constant::Classes { .. })
    }

    fn attribution(
        &self,
        _row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        let (value, explained_class) = match &self.constant {
            Constant::Classes { proba, .. } if proba.len() == 2 => (proba[1], Some(1)),
            Constant::Classes { proba, .. } => (proba[predicted?], predicted),
            Constant::Values(v) => (v[0], None),
        };
        Some(Attribution {
            explained_class,
            base: value,
            contributions: vec![0.0; self.n_features],
            weights: None,
            output: value,
        })
    }

    fn describe(&self) -> serde_json::Value {
        match &self.constant {
            Constant::Classes { classes, proba, .. } => serde_json::json!({
                "class": self.class.name(),
                "classes": classes.to_json(),
                "predict_proba": proba,
            }),
            Constant::Values(v) => serde_json::json!({
                "class": self.class.name(),
                "constant": v,
            }),
        }
    }
}

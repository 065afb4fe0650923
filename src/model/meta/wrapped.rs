//! Wrappers of one fitted estimator. SelfTrainingClassifier and FrozenEstimator answer as
//! their estimator does, so they are served as it is (named among the model's wrappers).
//! FixedThresholdClassifier and TunedThresholdClassifierCV answer `predict_proba` and
//! `decision_function` as their binary classifier does, and `predict` by comparing its score
//! for `pos_label` (its probability, or its decision function, negated when `pos_label` is
//! the first class) with their threshold: `threshold` ("auto": 0.5 for a probability, 0 for a
//! decision) or `best_threshold_`.

use ndarray::{Array2, ArrayView2};

use super::member::has_decision;
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::{Classes, Label};
use crate::model::compose::{Step, StepReader};
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::{State, number_of};
use crate::model::value::{Node, Value};

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    let attr = match state.class {
        SkClass::FrozenEstimator => "estimator",
        // Its name before scikit-learn 1.6.
        SkClass::SelfTrainingClassifier if state.attr("estimator_").is_none() => "base_estimator_",
        _ => "estimator_",
    };
    let inner = state.get(attr)?;
    let wrapper = state.class.name();
    let path = state.path.join(&format!("{wrapper}.{attr}"));
    let step = reader.read(inner, &path, width)?;
    let mut model = match step {
        Step::Model(model) => model,
        Step::Transformer(t) if state.class == SkClass::FrozenEstimator => {
            return Ok(Step::Transformer(t));
        }
        _ => return Err(state.malformed(attr, "is not an estimator that predicts")),
    };
    if let Some(n) = state.count("n_features_in_")? {
        let takes = model
            .transformers
            .first()
            .map_or(model.predictor.n_features_in(), |(_, t)| t.n_features_in());
        if n != takes {
            return Err(state.malformed(
                "n_features_in_",
                format!("is {n} but its estimator takes {takes} features"),
            ));
        }
    }
    if matches!(
        state.class,
        SkClass::FixedThresholdClassifier | SkClass::TunedThresholdClassifierCv
    ) {
        model.predictor = Box::new(Thresholded::read(state, model.predictor)?);
    }
    // Named outermost, as a search is: the estimator's own steps follow it in the chain.
    model.wrappers.insert(0, wrapper);
    Ok(Step::Model(model))
}

#[derive(Debug)]
pub struct Thresholded {
    class: &'static str,
    inner: Box<dyn Predictor>,
    /// Whether the score is the probability (else the decision function).
    proba: bool,
    /// The position of `pos_label` among the classes.
    positive: usize,
    threshold: f64,
}

impl Thresholded {
    fn read(state: &State<'_>, inner: Box<dyn Predictor>) -> Result<Self, LoadError> {
        let Target::Classes(classes) = inner.target() else {
            return Err(state.malformed("estimator_", "is not a classifier of one output"));
        };
        if classes.len() != 2 {
            return Err(state.malformed(
                "estimator_",
                format!("has {} classes; a threshold needs two", classes.len()),
            ));
        }
        let has_proba = inner.has_predict_proba();
        let has_decision = has_decision(inner.as_ref());
        let methods = response_methods(state)?;
        let first = methods.iter().find(|m| match m.as_str() {
            "predict_proba" => has_proba,
            "decision_function" => has_decision,
            _ => false,
        });
        let proba = match first.map(String::as_str) {
            Some("predict_proba") => true,
            Some(_) => false,
            None => {
                return Err(state.malformed(
                    "response_method",
                    format!("asks for {methods:?}, which its estimator has none of"),
                ));
            }
        };
        let pos_label = match state.class {
            SkClass::TunedThresholdClassifierCv => curve_scorer_pos_label(state),
            _ => state.attr("pos_label"),
        };
        let positive = match pos_label {
            None | Some(Value::None) => 1,
            Some(label) => position(state, classes, label)?,
        };
        let threshold = match state.class {
            SkClass::TunedThresholdClassifierCv => state
                .number("best_threshold_")?
                .filter(|t| !t.is_nan())
                .ok_or_else(|| state.malformed("best_threshold_", "is missing"))?,
            _ => match state.attr("threshold") {
                Some(v) if state.heap.str(v) == Some("auto") => {
                    if proba {
                        0.5
                    } else {
                        0.0
                    }
                }
                _ => state
                    .number("threshold")?
                    .filter(|t| !t.is_nan())
                    .ok_or_else(|| state.malformed("threshold", "is not a number or 'auto'"))?,
            },
        };
        Ok(Self {
            class: state.class.name(),
            inner,
            proba,
            positive,
            threshold,
        })
    }

    fn scores(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        if self.proba {
            let p = self.inner.predict_proba(x).expect("checked at load");
            p.column(self.positive).to_vec()
        } else {
            let d = self.inner.decision_function(x).expect("checked at load");
            let sign = if self.positive == 0 { -1.0 } else { 1.0 };
            d.column(0).iter().map(|v| sign * v).collect()
        }
    }
}

/// `response_method`: "auto" (probabilities, else the decision function), one, or a list.
fn response_methods(state: &State<'_>) -> Result<Vec<String>, LoadError> {
    let value = state.get("response_method")?;
    if let Some(text) = state.heap.str(value) {
        return Ok(match text {
            "auto" => vec!["predict_proba".into(), "decision_function".into()],
            other => vec![other.to_owned()],
        });
    }
    state
        .items("response_method")?
        .iter()
        .map(|v| {
            state
                .heap
                .str(*v)
                .map(str::to_owned)
                .ok_or_else(|| state.malformed("response_method", "holds something not a name"))
        })
        .collect()
}

/// The `pos_label` TunedThresholdClassifierCV's scorer was made with (`_get_pos_label`: its
/// keyword arguments', else none).
fn curve_scorer_pos_label(state: &State<'_>) -> Option<Value> {
    let scorer = state.attr("_curve_scorer")?;
    let Some(Node::Object(object)) = state.heap.node(scorer) else {
        return None;
    };
    let attrs = state.heap.str_dict(object.state?)?;
    let kwargs = attrs.iter().find(|(k, _)| *k == "_kwargs")?.1;
    let Some(Node::Dict(items)) = state.heap.node(kwargs) else {
        return None;
    };
    items
        .iter()
        .find(|(k, _)| state.heap.str(*k) == Some("pos_label"))
        .map(|(_, v)| *v)
}

/// The position of `label` among `classes`.
fn position(state: &State<'_>, classes: &Classes, label: Value) -> Result<usize, LoadError> {
    let wanted = match (state.heap.str(label), label) {
        (Some(text), _) => Some(Label::Str(text)),
        (None, Value::Bool(b)) => Some(Label::Bool(b)),
        (None, Value::Int(i)) => Some(Label::Int(i)),
        (None, other) => number_of(state.heap, other).map(Label::Float),
    };
    (0..classes.len())
        .find(|&i| {
            let have = classes.label(i);
            match (have, wanted) {
                (Label::Int(a), Some(Label::Float(b))) => a as f64 == b,
                (Label::Float(a), Some(Label::Int(b))) => a == b as f64,
                (a, Some(b)) => a == b,
                _ => false,
            }
        })
        .ok_or_else(|| state.malformed("pos_label", "is not one of the classes"))
}

impl Predictor for Thresholded {
    /// Its estimator's: the threshold is named among the model's wrappers.
    fn class(&self) -> &'static str {
        self.inner.class()
    }

    fn n_features_in(&self) -> usize {
        self.inner.n_features_in()
    }

    fn target(&self) -> Target<'_> {
        self.inner.target()
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = vec![Method::Predict];
        if self.inner.has_predict_proba() {
            methods.push(Method::PredictProba);
        }
        if has_decision(self.inner.as_ref()) {
            methods.push(Method::DecisionFunction);
        }
        methods
    }

    fn accepts_missing(&self) -> bool {
        self.inner.accepts_missing()
    }

    fn float32_input(&self) -> bool {
        self.inner.float32_input()
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let negative = 1 - self.positive;
        Prediction::Classes(
            self.scores(x)
                .into_iter()
                .map(|s| {
                    if s >= self.threshold {
                        self.positive
                    } else {
                        negative
                    }
                })
                .collect(),
        )
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.inner.predict_proba(x)
    }

    fn has_predict_proba(&self) -> bool {
        self.inner.has_predict_proba()
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        self.inner.decision_function(x)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class,
            "threshold": self.threshold,
            "response": if self.proba { "predict_proba" } else { "decision_function" },
            "estimator": self.inner.describe(),
        })
    }
}

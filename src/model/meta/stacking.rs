//! StackingClassifier and StackingRegressor: each member's `stack_method_` answer side by side
//! (`predict_proba` of a binary classifier without its first column, a 1-D answer as one
//! column), the input itself after them with `passthrough`, and the final estimator fitted on
//! that. A classifier's members and final estimator are fitted on the labels encoded as
//! `0..n_classes`.

use ndarray::{Array2, ArrayView2, Axis};

use super::member::{
    Inner, Member, Read, Route, assemble, classes_of, label_value, outputs_of, positions,
    prediction_values,
};
use super::{Built, built, estimator_list, read_classes_checked};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::compose::StepReader;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::State;
use crate::model::value::Node;

/// Which answer of a member is stacked.
#[derive(Clone, Copy, Debug, PartialEq)]
enum StackMethod {
    PredictProba,
    DecisionFunction,
    Predict,
}

#[derive(Debug)]
struct Stacked {
    member: Member,
    method: StackMethod,
    /// Columns it adds.
    width: usize,
    /// Whether the first column of its answer is left out (binary probabilities).
    drop_first: bool,
}

#[derive(Debug)]
pub struct Stacking {
    class: &'static str,
    n_features: usize,
    stacked: Vec<Stacked>,
    passthrough: Option<Route>,
    /// The columns the final estimator is given (`transform`'s).
    meta_width: usize,
    final_estimator: Inner,
    /// A classifier's labels; the final estimator predicts their positions.
    classes: Option<Classes>,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    let classifier = state.class == SkClass::StackingClassifier;
    if classifier
        && state
            .attr("_label_encoder")
            .is_some_and(|v| matches!(state.heap.node(v), Some(Node::List(_))))
    {
        return Err(state.unsupported(
            "is fitted on several label columns (multilabel); skserve serves stacking of one",
        ));
    }
    let names: Vec<String> = estimator_list(state, "estimators")?
        .into_iter()
        .filter(|(_, dropped)| !dropped)
        .map(|(name, _)| name)
        .collect();
    let fitted: Vec<_> = state
        .items("estimators_")?
        .iter()
        .copied()
        .filter(|v| state.heap.str(*v) != Some("drop"))
        .collect();
    let methods = state.items("stack_method_")?;
    let methods: Vec<&str> = methods
        .iter()
        .filter_map(|v| state.heap.str(*v))
        .filter(|m| *m != "drop")
        .collect();
    if fitted.is_empty() || fitted.len() != names.len() || methods.len() != fitted.len() {
        return Err(state.malformed(
            "estimators_",
            format!(
                "holds {} estimators for {} names and {} stack methods",
                fitted.len(),
                names.len(),
                methods.len()
            ),
        ));
    }
    let classes = if classifier {
        let classes = read_classes_checked(state)?;
        super::check_label_encoder(state, &["_label_encoder", "_le"], &classes)?;
        Some(classes)
    } else {
        None
    };
    let width = super::input_width(state, width, fitted[0], reader)?;
    let mut reads = Vec::with_capacity(fitted.len());
    for (value, name) in fitted.iter().zip(&names) {
        let model = super::member::read_model(state, reader, "estimators_", *value, name, width)?;
        reads.push(Read {
            name: name.clone(),
            model,
            columns: None,
        });
    }
    let passthrough = state.bool_or("passthrough", false)?;
    let assembled = assemble(&state.label(), width, reads, passthrough)?;
    let mut stacked = Vec::with_capacity(fitted.len());
    for (member, method) in assembled.members.into_iter().zip(methods) {
        let method = match method {
            "predict_proba" => StackMethod::PredictProba,
            "decision_function" => StackMethod::DecisionFunction,
            "predict" => StackMethod::Predict,
            other => {
                return Err(state.malformed("stack_method_", format!("holds {other:?}")));
            }
        };
        let predictor = member.predictor.as_ref();
        let (width, drop_first) = match (&classes, method) {
            (Some(classes), StackMethod::PredictProba | StackMethod::DecisionFunction) => {
                let own = classes_of(state, "estimators_", &member.name, predictor)?;
                let encoded = Classes::Int((0..classes.len() as i64).collect());
                if positions(own, &encoded).is_none_or(|p| p.len() != classes.len()) {
                    return Err(state.malformed(
                        "estimators_",
                        format!(
                            "holds '{}', whose classes are not the {} encoded labels",
                            member.name,
                            classes.len()
                        ),
                    ));
                }
                let available = match method {
                    StackMethod::PredictProba => predictor.has_predict_proba(),
                    _ => super::member::has_decision(predictor),
                };
                if !available {
                    return Err(state.malformed(
                        "stack_method_",
                        format!("asks '{}' for {method:?}, which it has not", member.name),
                    ));
                }
                let binary = classes.len() == 2;
                match method {
                    StackMethod::PredictProba if binary => (1, true),
                    StackMethod::DecisionFunction if binary => (1, false),
                    _ => (classes.len(), false),
                }
            }
            (Some(_), StackMethod::Predict) => {
                let own = classes_of(state, "estimators_", &member.name, predictor)?;
                if !super::member::numeric(own) {
                    return Err(state.malformed(
                        "estimators_",
                        format!("holds '{}', whose labels are not numbers", member.name),
                    ));
                }
                (1, false)
            }
            (None, StackMethod::Predict) => {
                let (n_outputs, _) = outputs_of(state, "estimators_", &member.name, predictor)?;
                (n_outputs, false)
            }
            (None, _) => {
                return Err(state.malformed(
                    "stack_method_",
                    format!("asks the regressor '{}' for {method:?}", member.name),
                ));
            }
        };
        stacked.push(Stacked {
            member,
            method,
            width,
            drop_first,
        });
    }
    if let Some(outs) = state.attr("_n_feature_outs") {
        let recorded: Option<Vec<i64>> = state.heap.tuple(outs).map(|items| {
            items
                .iter()
                .map(|v| match v {
                    crate::model::value::Value::Int(i) => *i,
                    _ => -1,
                })
                .collect()
        });
        let computed: Vec<i64> = stacked.iter().map(|s| s.width as i64).collect();
        if recorded.as_ref() != Some(&computed) {
            return Err(state.malformed(
                "_n_feature_outs",
                format!("is {recorded:?}, but the estimators give {computed:?} columns"),
            ));
        }
    }
    let meta_width =
        stacked.iter().map(|s| s.width).sum::<usize>() + if passthrough { width } else { 0 };
    let final_value = state.get("final_estimator_")?;
    let final_estimator = Inner::read(
        state,
        reader,
        "final_estimator_",
        final_value,
        "final_estimator_",
        meta_width,
    )?;
    match (&classes, final_estimator.predictor.target()) {
        (Some(classes), Target::Classes(own)) => {
            let encoded = Classes::Int((0..classes.len() as i64).collect());
            if positions(own, &encoded).is_none() {
                return Err(state.malformed(
                    "final_estimator_",
                    "predicts labels other than the encoded classes",
                ));
            }
        }
        (None, Target::Values { .. }) if final_estimator.predictor.predicts() => {}
        _ => {
            return Err(state.malformed(
                "final_estimator_",
                format!(
                    "is a {}, which cannot finish a {}",
                    final_estimator.predictor.class(),
                    state.class.name()
                ),
            ));
        }
    }
    let n_features = match &assembled.fan {
        Some(_) => {
            let members_end = stacked
                .iter()
                .map(|s| match s.member.route {
                    Route::Range(_, end) => end,
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            members_end + if passthrough { width } else { 0 }
        }
        None => width,
    };
    let stacking = Stacking {
        class: state.class.name(),
        n_features,
        stacked,
        passthrough: assembled.passthrough,
        meta_width,
        final_estimator,
        classes,
    };
    Ok(built(assembled.fan, Box::new(stacking)))
}

impl Stacking {
    /// `transform`: what the final estimator is given.
    fn meta_features(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut blocks: Vec<Array2<f64>> = Vec::with_capacity(self.stacked.len() + 1);
        for s in &self.stacked {
            let answer = match s.method {
                StackMethod::PredictProba => s.member.predict_proba(x).expect("checked at load"),
                StackMethod::DecisionFunction => {
                    s.member.decision_function(x).expect("checked at load")
                }
                StackMethod::Predict => {
                    let classes = match s.member.predictor.target() {
                        Target::Classes(c) => Some(c),
                        _ => None,
                    };
                    prediction_values(s.member.predict(x), classes)
                }
            };
            blocks.push(if s.drop_first {
                answer
                    .slice_axis(Axis(1), ndarray::Slice::from(1..))
                    .to_owned()
            } else {
                answer
            });
        }
        if let Some(route) = &self.passthrough {
            blocks.push(route.view(x).into_owned());
        }
        let views: Vec<_> = blocks.iter().map(Array2::view).collect();
        ndarray::concatenate(Axis(1), &views).expect("blocks of the same rows")
    }

    fn final_input(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let meta = self.meta_features(x);
        self.final_estimator.features(meta.view()).into_owned()
    }
}

impl Predictor for Stacking {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.classes {
            Some(classes) => Target::Classes(classes),
            None => self.final_estimator.predictor.target(),
        }
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = vec![Method::Predict];
        let last = self.final_estimator.predictor.methods();
        for method in [Method::PredictProba, Method::DecisionFunction] {
            if last.contains(&method)
                || (method == Method::PredictProba
                    && self.final_estimator.predictor.has_predict_proba())
            {
                methods.push(method);
            }
        }
        methods.push(Method::Transform);
        methods
    }

    fn width(&self, method: Method) -> usize {
        match method {
            Method::Transform => self.meta_width,
            other => self.final_estimator.predictor.width(other),
        }
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match method {
            Method::Transform => Some(self.meta_features(x)),
            Method::PredictProba => self.predict_proba(x),
            Method::DecisionFunction => self.decision_function(x),
            _ => None,
        }
    }

    fn accepts_missing(&self) -> bool {
        self.stacked
            .iter()
            .all(|s| s.member.predictor.accepts_missing())
            && (self.passthrough.is_none() || self.final_estimator.predictor.accepts_missing())
    }

    fn float32_input(&self) -> bool {
        self.stacked
            .iter()
            .any(|s| s.member.predictor.float32_input())
            || (self.passthrough.is_some() && self.final_estimator.predictor.float32_input())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let input = self.final_input(x);
        let predicted = self.final_estimator.predictor.predict(input.view());
        match (&self.classes, predicted) {
            (Some(_), Prediction::Classes(indices)) => {
                let Target::Classes(own) = self.final_estimator.predictor.target() else {
                    unreachable!("checked at load")
                };
                Prediction::Classes(
                    indices
                        .iter()
                        .map(|&i| label_value(own, i) as usize)
                        .collect(),
                )
            }
            (_, other) => other,
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !self.final_estimator.predictor.has_predict_proba() {
            return None;
        }
        let input = self.final_input(x);
        self.final_estimator.predictor.predict_proba(input.view())
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let input = self.final_input(x);
        self.final_estimator
            .predictor
            .decision_function(input.view())
    }

    fn has_predict_proba(&self) -> bool {
        self.final_estimator.predictor.has_predict_proba()
    }

    fn describe(&self) -> serde_json::Value {
        let estimators: Vec<serde_json::Value> = self
            .stacked
            .iter()
            .map(|s| {
                let mut d = s.member.describe();
                d["stack_method"] = match s.method {
                    StackMethod::PredictProba => "predict_proba",
                    StackMethod::DecisionFunction => "decision_function",
                    StackMethod::Predict => "predict",
                }
                .into();
                d
            })
            .collect();
        let mut d = serde_json::json!({
            "class": self.class,
            "estimators": estimators,
            "passthrough": self.passthrough.is_some(),
            "final_estimator": self.final_estimator.describe(),
        });
        if let Some(classes) = &self.classes {
            d["classes"] = classes.to_json();
        }
        d
    }
}

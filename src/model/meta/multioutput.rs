//! MultiOutputClassifier and MultiOutputRegressor (one member per output, each given the
//! input), ClassifierChain and RegressorChain (one member per output in `order_`, each given
//! the input and what the links before it answered, `chain_method_`'s answer, the second
//! class's for probabilities). A chain predicts numbers, as scikit-learn's float arrays hold
//! them, and refuses a missing value itself.

use ndarray::{Array2, ArrayView2, Axis, concatenate};

use super::member::{Inner, Member, Read, Route, assemble, classes_of, label_value, outputs_of};
use super::{Built, alone, built};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::compose::StepReader;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::State;

#[derive(Debug)]
pub struct MultiOutput {
    class: &'static str,
    n_features: usize,
    members: Vec<Member>,
    /// A classifier's classes per output.
    outputs: Option<Vec<Classes>>,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    match state.class {
        SkClass::ClassifierChain | SkClass::RegressorChain => {
            return Ok(alone(Box::new(Chain::read(state, reader, width)?)));
        }
        _ => {}
    }
    let classifier = state.class == SkClass::MultiOutputClassifier;
    let fitted = state.items("estimators_")?;
    if fitted.is_empty() {
        return Err(state.malformed("estimators_", "is empty"));
    }
    let width = super::input_width(state, width, fitted[0], reader)?;
    let mut reads = Vec::with_capacity(fitted.len());
    for (i, value) in fitted.iter().enumerate() {
        let name = format!("estimators_[{i}]");
        let model = super::member::read_model(state, reader, "estimators_", *value, &name, width)?;
        reads.push(Read {
            name,
            model,
            columns: None,
        });
    }
    let assembled = assemble(&state.label(), width, reads, false)?;
    let n_features = match &assembled.fan {
        Some(_) => assembled
            .members
            .iter()
            .map(|m| match m.route {
                Route::Range(_, end) => end,
                _ => 0,
            })
            .max()
            .unwrap_or(0),
        None => width,
    };
    let outputs = if classifier {
        let mut outputs = Vec::with_capacity(assembled.members.len());
        for m in &assembled.members {
            outputs.push(classes_of(state, "estimators_", &m.name, m.predictor.as_ref())?.clone());
        }
        Some(outputs)
    } else {
        for m in &assembled.members {
            let (n, _) = outputs_of(state, "estimators_", &m.name, m.predictor.as_ref())?;
            if n != 1 {
                return Err(state.malformed(
                    "estimators_",
                    format!("holds '{}', which predicts {n} outputs", m.name),
                ));
            }
        }
        None
    };
    let model = MultiOutput {
        class: state.class.name(),
        n_features,
        members: assembled.members,
        outputs,
    };
    Ok(built(assembled.fan, Box::new(model)))
}

impl Predictor for MultiOutput {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.outputs {
            Some(outputs) => Target::MultiClasses(outputs),
            None => Target::Values {
                n_outputs: self.members.len(),
                one_d: false,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        if self.has_predict_proba() {
            vec![Method::Predict, Method::PredictProba]
        } else {
            vec![Method::Predict]
        }
    }

    fn accepts_missing(&self) -> bool {
        self.members.iter().all(|m| m.predictor.accepts_missing())
    }

    fn float32_input(&self) -> bool {
        self.members.iter().any(|m| m.predictor.float32_input())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let n = x.nrows();
        let predictions: Vec<Prediction> = self.members.iter().map(|m| m.predict(x)).collect();
        match &self.outputs {
            Some(_) => {
                let mut out = Array2::<usize>::zeros((n, predictions.len()));
                for (c, p) in predictions.into_iter().enumerate() {
                    if let Prediction::Classes(indices) = p {
                        for (r, i) in indices.into_iter().enumerate() {
                            out[[r, c]] = i;
                        }
                    }
                }
                Prediction::MultiClasses(out)
            }
            None => {
                let mut out = Array2::<f64>::zeros((n, predictions.len()));
                for (c, p) in predictions.into_iter().enumerate() {
                    if let Prediction::Values(v) = p {
                        out.column_mut(c).assign(&v.column(0));
                    }
                }
                Prediction::Values(out)
            }
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !self.has_predict_proba() {
            return None;
        }
        let blocks: Vec<Array2<f64>> = self
            .members
            .iter()
            .map(|m| m.predict_proba(x))
            .collect::<Option<_>>()?;
        let views: Vec<_> = blocks.iter().map(Array2::view).collect();
        concatenate(Axis(1), &views).ok()
    }

    fn has_predict_proba(&self) -> bool {
        self.outputs.is_some() && self.members.iter().all(|m| m.predictor.has_predict_proba())
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class,
            "estimators": self.members.iter().map(Member::describe).collect::<Vec<_>>(),
        })
    }
}

/// The answer of a chain's link that is fed forward or given out.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Predict,
    /// The second class's probability.
    Proba,
    /// Its logarithm.
    LogProba,
    Decision,
}

#[derive(Debug)]
pub struct Chain {
    class: &'static str,
    n_features: usize,
    links: Vec<Inner>,
    /// `order_`: the output each link predicts.
    order: Vec<usize>,
    /// What each link passes on (`chain_method_`).
    feeds: Answer,
    classifier: bool,
}

impl Chain {
    fn read(
        state: &State<'_>,
        reader: &dyn StepReader,
        width: Option<usize>,
    ) -> Result<Self, LoadError> {
        let classifier = state.class == SkClass::ClassifierChain;
        let fitted = state.items("estimators_")?;
        if fitted.is_empty() {
            return Err(state.malformed("estimators_", "is empty"));
        }
        let n_features = super::input_width(state, width, fitted[0], reader)?;
        let order: Vec<f64> = match state.numbers("order_") {
            Ok((order, _)) => order,
            // A list, when `order` was given as one.
            Err(_) => state
                .items("order_")?
                .iter()
                .map(|v| crate::model::state::number_of(state.heap, *v).unwrap_or(f64::NAN))
                .collect(),
        };
        let order: Vec<usize> = order
            .iter()
            .map(|&o| {
                (o >= 0.0 && o.fract() == 0.0 && (o as usize) < fitted.len()).then_some(o as usize)
            })
            .collect::<Option<_>>()
            .filter(|o: &Vec<usize>| {
                let mut seen = o.clone();
                seen.sort_unstable();
                seen.dedup();
                seen.len() == fitted.len() && o.len() == fitted.len()
            })
            .ok_or_else(|| {
                state.malformed(
                    "order_",
                    format!("is not an ordering of the {} outputs", fitted.len()),
                )
            })?;
        let feeds = match state.text("chain_method_") {
            None | Some("predict") => Answer::Predict,
            Some("predict_proba") if classifier => Answer::Proba,
            Some("predict_log_proba") if classifier => Answer::LogProba,
            Some("decision_function") if classifier => Answer::Decision,
            Some(other) => return Err(state.malformed("chain_method_", format!("is {other:?}"))),
        };
        let mut links = Vec::with_capacity(fitted.len());
        for (i, value) in fitted.iter().enumerate() {
            let name = format!("estimators_[{i}]");
            let link = Inner::read(state, reader, "estimators_", *value, &name, n_features + i)?;
            let predictor = link.predictor.as_ref();
            if classifier {
                let classes = classes_of(state, "estimators_", &name, predictor)?;
                if !super::member::numeric(classes) {
                    return Err(state.malformed(
                        "estimators_",
                        format!("holds '{name}', whose labels are not numbers"),
                    ));
                }
                let binary = classes.len() == 2;
                let ok = match feeds {
                    Answer::Predict => true,
                    Answer::Proba | Answer::LogProba => binary && predictor.has_predict_proba(),
                    Answer::Decision => binary && super::member::has_decision(predictor),
                };
                if !ok {
                    return Err(state.malformed(
                        "chain_method_",
                        format!("asks '{name}' for an answer it has not"),
                    ));
                }
            } else {
                let (n, _) = outputs_of(state, "estimators_", &name, predictor)?;
                if n != 1 {
                    return Err(state.malformed(
                        "estimators_",
                        format!("holds '{name}', which predicts {n} outputs"),
                    ));
                }
            }
            links.push(link);
        }
        Ok(Self {
            class: state.class.name(),
            n_features,
            links,
            order,
            feeds,
            classifier,
        })
    }

    fn answer(link: &Inner, answer: Answer, x: ArrayView2<'_, f64>) -> Option<Vec<f64>> {
        let input = link.features(x);
        let input = input.view();
        let p = link.predictor.as_ref();
        Some(match answer {
            Answer::Predict => match p.predict(input) {
                Prediction::Classes(indices) => {
                    let Target::Classes(classes) = p.target() else {
                        return None;
                    };
                    indices.iter().map(|&i| label_value(classes, i)).collect()
                }
                Prediction::Values(v) => v.column(0).to_vec(),
                Prediction::MultiClasses(_) => return None,
            },
            Answer::Proba => p.predict_proba(input)?.column(1).to_vec(),
            Answer::LogProba => p
                .predict_proba(input)?
                .column(1)
                .iter()
                .map(|v| v.ln())
                .collect(),
            Answer::Decision => {
                let d = p.decision_function(input)?;
                d.column(d.ncols() - 1).to_vec()
            }
        })
    }

    /// `_get_predictions`: each link given the input and the answers fed forward before it.
    fn run(&self, x: ArrayView2<'_, f64>, output: Answer) -> Option<Array2<f64>> {
        let n = x.nrows();
        let k = self.links.len();
        let mut augmented = Array2::<f64>::zeros((n, self.n_features + k));
        augmented
            .slice_axis_mut(Axis(1), ndarray::Slice::from(..self.n_features))
            .assign(&x);
        let mut outputs = Array2::<f64>::zeros((n, k));
        for (i, link) in self.links.iter().enumerate() {
            let given = augmented.slice_axis(Axis(1), ndarray::Slice::from(..self.n_features + i));
            let fed = Self::answer(link, self.feeds, given)?;
            let out = if output == self.feeds {
                fed.clone()
            } else {
                Self::answer(link, output, given)?
            };
            augmented
                .column_mut(self.n_features + i)
                .assign(&ndarray::Array1::from(fed));
            outputs
                .column_mut(self.order[i])
                .assign(&ndarray::Array1::from(out));
        }
        Some(outputs)
    }
}

impl Predictor for Chain {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Values {
            n_outputs: self.links.len(),
            one_d: false,
        }
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = vec![Method::Predict];
        if self.has_predict_proba() {
            methods.push(Method::PredictProba);
        }
        if self.classifier
            && self
                .links
                .iter()
                .all(|l| super::member::has_decision(l.predictor.as_ref()))
        {
            methods.push(Method::DecisionFunction);
        }
        methods
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Values(
            self.run(x, Answer::Predict)
                .unwrap_or_else(|| Array2::from_elem((x.nrows(), self.links.len()), f64::NAN)),
        )
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !self.has_predict_proba() {
            return None;
        }
        self.run(x, Answer::Proba)
    }

    fn has_predict_proba(&self) -> bool {
        self.classifier && self.links.iter().all(|l| l.predictor.has_predict_proba())
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !self.methods().contains(&Method::DecisionFunction) {
            return None;
        }
        self.run(x, Answer::Decision)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "class": self.class,
            "order": self.order,
            "estimators": self.links.iter().map(Inner::describe).collect::<Vec<_>>(),
        })
    }
}

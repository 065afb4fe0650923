//! BaggingClassifier and BaggingRegressor: each member fitted on a sample of the rows and on
//! the columns `estimators_features_` names (with repeats when features were bootstrapped).
//! A classifier's members are fitted on the labels encoded as `0..n_classes`, and a member
//! whose sample missed a class adds its probabilities to the classes it saw; a member without
//! `predict_proba` votes. Sums run member by member and are divided by `n_estimators`.

use ndarray::{Array2, ArrayView2};

use super::member::{
    Member, Read, Route, assemble, classes_of, has_decision, label_value, outputs_of,
};
use super::{Built, built, read_classes_checked};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::compose::StepReader;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::State;
use crate::model::tree::math::argmax;

#[derive(Debug)]
pub struct Bagging {
    class: &'static str,
    n_features: usize,
    members: Vec<Bagged>,
    /// `n_estimators`, what the sums are divided by.
    n_estimators: usize,
    kind: Kind,
}

#[derive(Debug)]
struct Bagged {
    member: Member,
    /// A classifier member's classes: the positions of the encoded labels it saw.
    classes: Vec<usize>,
}

#[derive(Debug)]
enum Kind {
    Classifier { classes: Classes, decision: bool },
    Regressor { n_outputs: usize, one_d: bool },
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    let classifier = state.class == SkClass::BaggingClassifier;
    let fitted = state.items("estimators_")?;
    let features = state.items("estimators_features_")?;
    let n_estimators = state
        .count("n_estimators")?
        .ok_or_else(|| state.malformed("n_estimators", "is missing"))?;
    if fitted.is_empty() || fitted.len() != n_estimators || features.len() != fitted.len() {
        return Err(state.malformed(
            "estimators_",
            format!(
                "holds {} estimators with {} feature lists, but n_estimators is {n_estimators}",
                fitted.len(),
                features.len()
            ),
        ));
    }
    let width = super::input_width(state, width, fitted[0], reader)?;
    let mut reads = Vec::with_capacity(fitted.len());
    for (i, (value, columns)) in fitted.iter().zip(features).enumerate() {
        let at = format!("estimators_features_[{i}]");
        let (columns, _) = crate::model::state::numbers_of(state.heap, *columns)
            .filter(|(_, shape)| shape.len() == 1)
            .ok_or_else(|| state.malformed(&at, "is not a 1-D array of column indices"))?;
        let columns: Vec<usize> = columns
            .iter()
            .map(|&c| {
                (c >= 0.0 && c.fract() == 0.0 && (c as usize) < width)
                    .then_some(c as usize)
                    .ok_or_else(|| {
                        state.malformed(&at, format!("holds {c}, not a column of the {width}"))
                    })
            })
            .collect::<Result<_, _>>()?;
        if columns.is_empty() {
            return Err(state.malformed(&at, "is empty"));
        }
        let name = format!("estimators_[{i}]");
        let model =
            super::member::read_model(state, reader, "estimators_", *value, &name, columns.len())?;
        let all = columns.len() == width && columns.iter().enumerate().all(|(i, &c)| i == c);
        reads.push(Read {
            name,
            model,
            columns: (!all).then_some(columns),
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
    let mut members = Vec::with_capacity(assembled.members.len());
    let kind = if classifier {
        let classes = read_classes_checked(state)?;
        let mut decision = true;
        for member in assembled.members {
            let own = classes_of(
                state,
                "estimators_",
                &member.name,
                member.predictor.as_ref(),
            )?;
            let positions: Option<Vec<usize>> = (0..own.len())
                .map(|i| {
                    let v = label_value(own, i);
                    (v >= 0.0 && v.fract() == 0.0 && (v as usize) < classes.len())
                        .then_some(v as usize)
                })
                .collect();
            let positions = positions.ok_or_else(|| {
                state.malformed(
                    "estimators_",
                    format!(
                        "holds '{}', whose classes are not among the {} encoded labels",
                        member.name,
                        classes.len()
                    ),
                )
            })?;
            decision &= positions.len() == classes.len() && has_decision(member.predictor.as_ref());
            members.push(Bagged {
                member,
                classes: positions,
            });
        }
        Kind::Classifier { classes, decision }
    } else {
        let mut shape = None;
        for member in assembled.members {
            let this = outputs_of(
                state,
                "estimators_",
                &member.name,
                member.predictor.as_ref(),
            )?;
            if shape.is_some_and(|s| s != this) {
                return Err(state.malformed(
                    "estimators_",
                    format!("holds '{}', of another number of outputs", member.name),
                ));
            }
            shape = Some(this);
            members.push(Bagged {
                member,
                classes: Vec::new(),
            });
        }
        let (n_outputs, one_d) = shape.expect("at least one member");
        Kind::Regressor { n_outputs, one_d }
    };
    let bagging = Bagging {
        class: state.class.name(),
        n_features,
        members,
        n_estimators,
        kind,
    };
    Ok(built(assembled.fan, Box::new(bagging)))
}

impl Bagging {
    fn proba(&self, x: ArrayView2<'_, f64>, n_classes: usize) -> Array2<f64> {
        let mut proba = Array2::<f64>::zeros((x.nrows(), n_classes));
        for bagged in &self.members {
            let m = &bagged.member;
            match m.predict_proba(x) {
                Some(p) => {
                    for (mut row, member_row) in proba.rows_mut().into_iter().zip(p.rows()) {
                        for (&c, v) in bagged.classes.iter().zip(member_row) {
                            row[c] += v;
                        }
                    }
                }
                None => {
                    if let Prediction::Classes(indices) = m.predict(x) {
                        for (r, i) in indices.into_iter().enumerate() {
                            proba[[r, bagged.classes[i]]] += 1.0;
                        }
                    }
                }
            }
        }
        let n = self.n_estimators as f64;
        proba.mapv_inplace(|v| v / n);
        proba
    }
}

impl Predictor for Bagging {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.kind {
            Kind::Classifier { classes, .. } => Target::Classes(classes),
            Kind::Regressor { n_outputs, one_d } => Target::Values {
                n_outputs: *n_outputs,
                one_d: *one_d,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match &self.kind {
            Kind::Classifier { decision: true, .. } => vec![
                Method::Predict,
                Method::PredictProba,
                Method::DecisionFunction,
            ],
            Kind::Classifier { .. } => vec![Method::Predict, Method::PredictProba],
            Kind::Regressor { .. } => vec![Method::Predict],
        }
    }

    fn accepts_missing(&self) -> bool {
        self.members
            .iter()
            .all(|b| b.member.predictor.accepts_missing())
    }

    fn float32_input(&self) -> bool {
        self.members
            .iter()
            .any(|b| b.member.predictor.float32_input())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        match &self.kind {
            Kind::Classifier { classes, .. } => {
                let proba = self.proba(x, classes.len());
                Prediction::Classes(
                    proba
                        .rows()
                        .into_iter()
                        .map(|r| argmax(r.as_slice().expect("contiguous")))
                        .collect(),
                )
            }
            Kind::Regressor { n_outputs, .. } => {
                let mut sum = Array2::<f64>::zeros((x.nrows(), *n_outputs));
                for b in &self.members {
                    if let Prediction::Values(v) = b.member.predict(x) {
                        sum += &v;
                    }
                }
                let n = self.n_estimators as f64;
                sum.mapv_inplace(|v| v / n);
                Prediction::Values(sum)
            }
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match &self.kind {
            Kind::Classifier { classes, .. } => Some(self.proba(x, classes.len())),
            Kind::Regressor { .. } => None,
        }
    }

    fn has_predict_proba(&self) -> bool {
        matches!(self.kind, Kind::Classifier { .. })
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !matches!(self.kind, Kind::Classifier { decision: true, .. }) {
            return None;
        }
        let mut sum: Option<Array2<f64>> = None;
        for b in &self.members {
            let d = b.member.decision_function(x)?;
            sum = Some(match sum {
                None => d,
                Some(s) => s + d,
            });
        }
        let n = self.n_estimators as f64;
        sum.map(|mut s| {
            s.mapv_inplace(|v| v / n);
            s
        })
    }

    fn describe(&self) -> serde_json::Value {
        let estimators: Vec<serde_json::Value> = self
            .members
            .iter()
            .map(|b| {
                let mut d = b.member.describe();
                if let Route::Columns(columns) = &b.member.route {
                    d["features"] = columns.clone().into();
                }
                d
            })
            .collect();
        let mut d = serde_json::json!({
            "class": self.class,
            "n_estimators": self.n_estimators,
            "estimators": estimators,
        });
        if let Kind::Classifier { classes, .. } = &self.kind {
            d["classes"] = classes.to_json();
        }
        d
    }
}

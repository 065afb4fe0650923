//! AdaBoostClassifier and AdaBoostRegressor.
//!
//! The classifier's decision is the weighted vote of its members (SAMME: `w` for the class a
//! member predicts, `-w / (K - 1)` for the others, 0 before scikit-learn 1.3) or, for SAMME.R (until scikit-learn 1.6),
//! the sum of each member's centred log-probabilities; both divided by the sum of
//! `estimator_weights_`. Its probabilities are the softmax of that decision over `K - 1`.
//! The regressor predicts the weighted median of its members' predictions. Members are fitted
//! on the labels as they are; AdaBoost refuses a missing value itself.

use ndarray::{Array2, ArrayView2};

use super::member::{Member, Read, Route, assemble, classes_of, outputs_of, positions};
use super::{Built, built, read_classes_checked};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::compose::StepReader;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::State;
use crate::model::tree::math::{argmax, pairwise_sum, softmax};

#[derive(Debug)]
pub struct AdaBoost {
    class: &'static str,
    n_features: usize,
    members: Vec<Member>,
    /// `estimator_weights_`, one per member.
    weights: Vec<f64>,
    /// The sum of every entry of `estimator_weights_` (those of members never fitted, when
    /// boosting stopped early, are zeros).
    total: f64,
    kind: Kind,
    /// SAMME's vote for the classes a member does not predict: `-w / (K - 1)` from
    /// scikit-learn 1.3 (a file without a version is taken as recent), 0 before.
    symmetric: bool,
}

#[derive(Debug)]
enum Kind {
    Classifier {
        classes: Classes,
        /// For each member, the position of each of its classes among the model's.
        positions: Vec<Vec<usize>>,
        real: bool,
    },
    Regressor,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    let classifier = state.class == SkClass::AdaBoostClassifier;
    let fitted = state.items("estimators_")?;
    let (all_weights, shape) = state.numbers("estimator_weights_")?;
    if shape.len() != 1 || all_weights.len() < fitted.len() || fitted.is_empty() {
        return Err(state.malformed(
            "estimator_weights_",
            format!("has shape {shape:?} for {} estimators", fitted.len()),
        ));
    }
    if let Some(i) = all_weights.iter().position(|w| !w.is_finite()) {
        return Err(state.malformed(
            &format!("estimator_weights_[{i}]"),
            format!("is {}", all_weights[i]),
        ));
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
    let mut assembled = assemble(&state.label(), width, reads, false)?;
    if let Some(fan) = assembled.fan.take() {
        // AdaBoost checks its own input before any member's steps see it.
        assembled.fan = Some(fan.refusing_missing(state.class.name()));
    }
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
    let kind = if classifier {
        let classes = read_classes_checked(state)?;
        let real = match state.text("algorithm") {
            Some("SAMME.R") => true,
            Some("SAMME") | Some("deprecated") | None => false,
            Some(other) => return Err(state.malformed("algorithm", format!("is {other:?}"))),
        };
        let mut all_positions = Vec::with_capacity(assembled.members.len());
        for m in &assembled.members {
            let own = classes_of(state, "estimators_", &m.name, m.predictor.as_ref())?;
            let p = positions(own, &classes).ok_or_else(|| {
                state.malformed(
                    "estimators_",
                    format!(
                        "holds '{}', which predicts labels the model has not",
                        m.name
                    ),
                )
            })?;
            if real && (p.len() != classes.len() || !m.predictor.has_predict_proba()) {
                return Err(state.malformed(
                    "estimators_",
                    format!(
                        "holds '{}', which gives no probability of every class for SAMME.R",
                        m.name
                    ),
                ));
            }
            all_positions.push(p);
        }
        Kind::Classifier {
            classes,
            positions: all_positions,
            real,
        }
    } else {
        for m in &assembled.members {
            let (n_outputs, _) = outputs_of(state, "estimators_", &m.name, m.predictor.as_ref())?;
            if n_outputs != 1 {
                return Err(state.malformed(
                    "estimators_",
                    format!("holds '{}', which predicts {n_outputs} outputs", m.name),
                ));
            }
        }
        Kind::Regressor
    };
    let total = pairwise_sum(&all_weights);
    let boost = AdaBoost {
        class: state.class.name(),
        n_features,
        weights: all_weights[..assembled.members.len()].to_vec(),
        members: assembled.members,
        total,
        kind,
        symmetric: state
            .sklearn_version()
            .is_none_or(|v| crate::model::state::parse_version(v) >= (1, 3)),
    };
    Ok(built(assembled.fan, Box::new(boost)))
}

impl AdaBoost {
    /// The decision as scikit-learn computes it before the binary case folds it to one
    /// column: rows × classes.
    fn raw_decision(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let Kind::Classifier {
            classes,
            positions,
            real,
        } = &self.kind
        else {
            unreachable!("a classifier's")
        };
        let k = classes.len();
        let mut pred = Array2::<f64>::zeros((x.nrows(), k));
        if k == 1 {
            return pred;
        }
        for (i, m) in self.members.iter().enumerate() {
            if *real {
                let mut proba = m.predict_proba(x).expect("checked at load");
                for mut row in proba.rows_mut() {
                    let row = row.as_slice_mut().expect("contiguous");
                    for v in row.iter_mut() {
                        *v = v.max(f64::EPSILON).ln();
                    }
                    let mean = (1.0 / k as f64) * pairwise_sum(row);
                    for v in row.iter_mut() {
                        *v = (k as f64 - 1.0) * (*v - mean);
                    }
                }
                // Member classes are the model's, in its order (checked at load).
                pred += &proba;
            } else {
                let w = self.weights[i];
                let other = if self.symmetric {
                    -1.0 / (k as f64 - 1.0) * w
                } else {
                    0.0
                };
                if let Prediction::Classes(indices) = m.predict(x) {
                    for (mut row, index) in pred.rows_mut().into_iter().zip(indices) {
                        let hit = positions[i][index];
                        for (c, v) in row.iter_mut().enumerate() {
                            *v += if c == hit { w } else { other };
                        }
                    }
                }
            }
        }
        pred.mapv_inplace(|v| v / self.total);
        pred
    }

    /// `decision_function`: one column for two classes (the second's minus the first's).
    fn decision(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let pred = self.raw_decision(x);
        if pred.ncols() == 2 {
            let column: Vec<f64> = pred.rows().into_iter().map(|r| -r[0] + r[1]).collect();
            return Array2::from_shape_vec((column.len(), 1), column).expect("one column");
        }
        pred
    }

    fn weighted_median(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let predictions: Vec<Array2<f64>> = self
            .members
            .iter()
            .map(|m| match m.predict(x) {
                Prediction::Values(v) => v,
                _ => unreachable!("checked at load"),
            })
            .collect();
        let n = predictions.len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut out = Array2::zeros((x.nrows(), 1));
        for r in 0..x.nrows() {
            order.sort_by(|&a, &b| predictions[a][[r, 0]].total_cmp(&predictions[b][[r, 0]]));
            let mut cdf = Vec::with_capacity(n);
            let mut running = 0.0;
            for &i in &order {
                running += self.weights[i];
                cdf.push(running);
            }
            let half = 0.5 * cdf[n - 1];
            let median = cdf.iter().position(|&c| c >= half).unwrap_or(0);
            out[[r, 0]] = predictions[order[median]][[r, 0]];
        }
        out
    }
}

impl Predictor for AdaBoost {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.kind {
            Kind::Classifier { classes, .. } => Target::Classes(classes),
            Kind::Regressor => Target::Values {
                n_outputs: 1,
                one_d: true,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match &self.kind {
            Kind::Classifier { .. } => vec![
                Method::Predict,
                Method::PredictProba,
                Method::DecisionFunction,
            ],
            Kind::Regressor => vec![Method::Predict],
        }
    }

    fn width(&self, method: Method) -> usize {
        match (&self.kind, method) {
            (Kind::Classifier { classes, .. }, Method::DecisionFunction) => {
                if classes.len() <= 2 {
                    1
                } else {
                    classes.len()
                }
            }
            (Kind::Classifier { classes, .. }, Method::PredictProba) => classes.len(),
            _ => 1,
        }
    }

    fn float32_input(&self) -> bool {
        self.members.iter().any(|m| m.predictor.float32_input())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        match &self.kind {
            Kind::Classifier { classes, .. } => {
                let decision = self.decision(x);
                Prediction::Classes(if classes.len() == 2 {
                    decision
                        .column(0)
                        .iter()
                        .map(|&d| usize::from(d > 0.0))
                        .collect()
                } else {
                    decision
                        .rows()
                        .into_iter()
                        .map(|r| argmax(r.as_slice().expect("contiguous")))
                        .collect()
                })
            }
            Kind::Regressor => Prediction::Values(self.weighted_median(x)),
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        let Kind::Classifier { classes, .. } = &self.kind else {
            return None;
        };
        let k = classes.len();
        if k == 1 {
            return Some(Array2::ones((x.nrows(), 1)));
        }
        let decision = self.decision(x);
        let mut proba = if k == 2 {
            Array2::from_shape_fn((x.nrows(), 2), |(r, c)| {
                let d = decision[[r, 0]];
                if c == 0 { -d / 2.0 } else { d / 2.0 }
            })
        } else {
            decision.mapv(|v| v / (k as f64 - 1.0))
        };
        for mut row in proba.rows_mut() {
            softmax(row.as_slice_mut().expect("contiguous"));
        }
        Some(proba)
    }

    fn has_predict_proba(&self) -> bool {
        matches!(self.kind, Kind::Classifier { .. })
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match &self.kind {
            Kind::Classifier { classes, .. } if classes.len() == 1 => {
                Some(Array2::zeros((x.nrows(), 1)))
            }
            Kind::Classifier { .. } => Some(self.decision(x)),
            Kind::Regressor => None,
        }
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = serde_json::json!({
            "class": self.class,
            "estimator_weights": self.weights,
            "estimators": self.members.iter().map(Member::describe).collect::<Vec<_>>(),
        });
        if let Kind::Classifier { classes, real, .. } = &self.kind {
            d["algorithm"] = if *real { "SAMME.R" } else { "SAMME" }.into();
            d["classes"] = classes.to_json();
        }
        d
    }
}

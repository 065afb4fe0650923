//! VotingClassifier (hard and soft votes, weights, `flatten_transform`) and VotingRegressor:
//! every member fitted on the same rows, their answers averaged or counted.
//!
//! A VotingClassifier fits its members on the labels encoded as `0..n_classes` (`le_`), so a
//! member's label is a class's position. The weights follow `estimators`, the unfitted list,
//! with its `"drop"` entries left out (`_weights_not_none`).

use ndarray::{Array2, ArrayView2};

use super::member::{Member, Read, assemble, classes_of, outputs_of, positions};
use super::{Built, built, estimator_list, read_classes_checked};
use crate::model::LoadError;
use crate::model::classes::Classes;
use crate::model::compose::StepReader;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::{State, number_of};
use crate::model::tree::math::argmax;

#[derive(Debug)]
pub struct Voting {
    class: &'static str,
    n_features: usize,
    members: Vec<Member>,
    /// One per member, or `None` for equal weights.
    weights: Option<Vec<f64>>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Classifier {
        classes: Classes,
        soft: bool,
        flatten: bool,
    },
    Regressor {
        one_d: bool,
    },
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    let classifier = state.class == crate::model::allow::SkClass::VotingClassifier;
    let listed = estimator_list(state, "estimators")?;
    let kept: Vec<&str> = listed
        .iter()
        .filter(|(_, dropped)| !dropped)
        .map(|(n, _)| n.as_str())
        .collect();
    let fitted = state.items("estimators_")?;
    if fitted.len() != kept.len() || fitted.is_empty() {
        return Err(state.malformed(
            "estimators_",
            format!(
                "holds {} estimators but estimators names {} that are not dropped",
                fitted.len(),
                kept.len()
            ),
        ));
    }
    let weights = match state.attr("weights") {
        None | Some(crate::model::value::Value::None) => None,
        Some(_) => {
            let items = state.items("weights")?;
            if items.len() != listed.len() {
                return Err(state.malformed(
                    "weights",
                    format!(
                        "has {} weights for {} estimators",
                        items.len(),
                        listed.len()
                    ),
                ));
            }
            let mut kept_weights = Vec::with_capacity(kept.len());
            for (item, (_, dropped)) in items.iter().zip(&listed) {
                let w = number_of(state.heap, *item)
                    .filter(|w| w.is_finite())
                    .ok_or_else(|| state.malformed("weights", "holds something not a number"))?;
                if !dropped {
                    kept_weights.push(w);
                }
            }
            Some(kept_weights)
        }
    };
    let width = super::input_width(state, width, fitted[0], reader)?;
    let mut reads = Vec::with_capacity(fitted.len());
    for (value, name) in fitted.iter().zip(&kept) {
        let model = super::member::read_model(state, reader, "estimators_", *value, name, width)?;
        reads.push(Read {
            name: (*name).to_owned(),
            model,
            columns: None,
        });
    }
    let assembled = assemble(&state.label(), width, reads, false)?;
    let kind = if classifier {
        let classes = read_classes_checked(state)?;
        super::check_label_encoder(state, &["le_"], &classes)?;
        let soft = match state.text("voting") {
            Some("soft") => true,
            Some("hard") | None => false,
            Some(other) => {
                return Err(state.malformed("voting", format!("is {other:?}")));
            }
        };
        for m in &assembled.members {
            let own = classes_of(state, "estimators_", &m.name, m.predictor.as_ref())?;
            // Fitted on the encoded labels: 0, 1, … n_classes - 1.
            let encoded = Classes::Int((0..classes.len() as i64).collect());
            if positions(own, &encoded).is_none_or(|p| p.len() != classes.len()) {
                return Err(state.malformed(
                    "estimators_",
                    format!(
                        "holds '{}', whose classes are not the {} encoded labels",
                        m.name,
                        classes.len()
                    ),
                ));
            }
            if soft && !m.predictor.has_predict_proba() {
                return Err(state.malformed(
                    "estimators_",
                    format!(
                        "holds '{}', which has no predict_proba for a soft vote",
                        m.name
                    ),
                ));
            }
        }
        Kind::Classifier {
            classes,
            soft,
            flatten: state.bool_or("flatten_transform", true)?,
        }
    } else {
        let mut one_d = true;
        for m in &assembled.members {
            let (n_outputs, member_one_d) =
                outputs_of(state, "estimators_", &m.name, m.predictor.as_ref())?;
            if n_outputs != 1 {
                return Err(state.malformed(
                    "estimators_",
                    format!("holds '{}', which predicts {n_outputs} outputs", m.name),
                ));
            }
            one_d &= member_one_d;
        }
        Kind::Regressor { one_d }
    };
    let n_features = assembled.members.first().map_or(width, |m| match &m.route {
        super::member::Route::Range(..) => assembled_width(&assembled.members),
        _ => width,
    });
    let voting = Voting {
        class: state.class.name(),
        n_features,
        members: assembled.members,
        weights,
        kind,
    };
    Ok(built(assembled.fan, Box::new(voting)))
}

/// The fan's output width: where the last member's block ends.
fn assembled_width(members: &[Member]) -> usize {
    members
        .iter()
        .map(|m| match m.route {
            super::member::Route::Range(_, end) => end,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

impl Voting {
    /// `np.average(probas, axis=0, weights)`: a member at a time, in order, then divided.
    fn average_proba(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut sum: Option<Array2<f64>> = None;
        for (i, m) in self.members.iter().enumerate() {
            let mut p = m.predict_proba(x).expect("checked at load");
            if let Some(w) = &self.weights {
                p.mapv_inplace(|v| v * w[i]);
            }
            sum = Some(match sum {
                None => p,
                Some(s) => s + p,
            });
        }
        let mut sum = sum.expect("at least one member");
        let total = match &self.weights {
            Some(w) => w.iter().sum::<f64>(),
            None => self.members.len() as f64,
        };
        sum.mapv_inplace(|v| v / total);
        sum
    }

    /// Each member's predicted label (an encoded class) per row.
    fn votes(&self, x: ArrayView2<'_, f64>) -> Vec<Vec<usize>> {
        self.members
            .iter()
            .map(|m| match m.predict(x) {
                Prediction::Classes(indices) => {
                    let Target::Classes(classes) = m.predictor.target() else {
                        unreachable!("checked at load")
                    };
                    indices
                        .iter()
                        .map(|&i| super::member::label_value(classes, i) as usize)
                        .collect()
                }
                _ => unreachable!("checked at load"),
            })
            .collect()
    }

    fn regressor_values(&self, x: ArrayView2<'_, f64>) -> Vec<Array2<f64>> {
        self.members
            .iter()
            .map(|m| match m.predict(x) {
                Prediction::Values(v) => v,
                _ => unreachable!("checked at load"),
            })
            .collect()
    }
}

impl Predictor for Voting {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.kind {
            Kind::Classifier { classes, .. } => Target::Classes(classes),
            Kind::Regressor { one_d } => Target::Values {
                n_outputs: 1,
                one_d: *one_d,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match &self.kind {
            Kind::Classifier { soft: true, .. } => {
                vec![Method::Predict, Method::PredictProba, Method::Transform]
            }
            _ => vec![Method::Predict, Method::Transform],
        }
    }

    fn width(&self, method: Method) -> usize {
        match (method, &self.kind) {
            (Method::Transform, Kind::Classifier { classes, soft, .. }) => {
                if *soft {
                    self.members.len() * classes.len()
                } else {
                    self.members.len()
                }
            }
            (Method::Transform, Kind::Regressor { .. }) => self.members.len(),
            (Method::Predict, _) => 1,
            (_, Kind::Classifier { classes, .. }) => classes.len(),
            _ => 1,
        }
    }

    fn values(&self, method: Method, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match (method, &self.kind) {
            (Method::PredictProba, _) => self.predict_proba(x),
            (Method::Transform, Kind::Classifier { soft: true, .. }) => {
                // `np.hstack(probas)`, and with flatten_transform=False the same numbers:
                // the array is (members, rows, classes), and answers go row by row.
                let blocks: Vec<Array2<f64>> = self
                    .members
                    .iter()
                    .map(|m| m.predict_proba(x).expect("checked at load"))
                    .collect();
                let views: Vec<_> = blocks.iter().map(Array2::view).collect();
                ndarray::concatenate(ndarray::Axis(1), &views).ok()
            }
            (Method::Transform, Kind::Classifier { .. }) => {
                let votes = self.votes(x);
                Some(Array2::from_shape_fn((x.nrows(), votes.len()), |(r, m)| {
                    votes[m][r] as f64
                }))
            }
            (Method::Transform, Kind::Regressor { .. }) => {
                let values = self.regressor_values(x);
                Some(Array2::from_shape_fn(
                    (x.nrows(), values.len()),
                    |(r, m)| values[m][[r, 0]],
                ))
            }
            _ => None,
        }
    }

    fn accepts_missing(&self) -> bool {
        self.members.iter().all(|m| m.predictor.accepts_missing())
    }

    fn float32_input(&self) -> bool {
        self.members.iter().any(|m| m.predictor.float32_input())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        match &self.kind {
            Kind::Classifier {
                soft: true,
                classes: _,
                ..
            } => {
                let proba = self.average_proba(x);
                Prediction::Classes(
                    proba
                        .rows()
                        .into_iter()
                        .map(|r| argmax(r.as_slice().expect("contiguous")))
                        .collect(),
                )
            }
            Kind::Classifier { classes, .. } => {
                let votes = self.votes(x);
                let n_classes = classes.len();
                let mut counts = vec![0.0; n_classes];
                Prediction::Classes(
                    (0..x.nrows())
                        .map(|r| {
                            // `np.bincount(votes, weights)`: sized by the largest label voted.
                            counts.iter_mut().for_each(|c| *c = 0.0);
                            let mut top = 0;
                            for (m, member_votes) in votes.iter().enumerate() {
                                let label = member_votes[r];
                                top = top.max(label);
                                counts[label] += self.weights.as_ref().map_or(1.0, |w| w[m]);
                            }
                            argmax(&counts[..=top])
                        })
                        .collect(),
                )
            }
            Kind::Regressor { .. } => {
                let values = self.regressor_values(x);
                let mut out = Array2::zeros((x.nrows(), 1));
                for (i, v) in values.iter().enumerate() {
                    let w = self.weights.as_ref().map_or(1.0, |w| w[i]);
                    for r in 0..x.nrows() {
                        if self.weights.is_some() {
                            out[[r, 0]] += v[[r, 0]] * w;
                        } else {
                            out[[r, 0]] += v[[r, 0]];
                        }
                    }
                }
                let total = match &self.weights {
                    Some(w) => w.iter().sum::<f64>(),
                    None => self.members.len() as f64,
                };
                out.mapv_inplace(|v| v / total);
                Prediction::Values(out)
            }
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        matches!(self.kind, Kind::Classifier { soft: true, .. }).then(|| self.average_proba(x))
    }

    fn has_predict_proba(&self) -> bool {
        matches!(self.kind, Kind::Classifier { soft: true, .. })
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = serde_json::json!({
            "class": self.class,
            "weights": self.weights,
            "estimators": self.members.iter().map(Member::describe).collect::<Vec<_>>(),
        });
        if let Kind::Classifier {
            classes,
            soft,
            flatten,
        } = &self.kind
        {
            d["voting"] = if *soft { "soft" } else { "hard" }.into();
            d["flatten_transform"] = (*flatten).into();
            d["classes"] = classes.to_json();
        }
        d
    }
}

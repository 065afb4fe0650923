//! OneVsRestClassifier (multiclass, binary and multilabel), OneVsOneClassifier and
//! OutputCodeClassifier, and the `_ConstantPredictor` they fit for a column that never varied.
//!
//! Each member is a binary problem scored as `_predict_binary` scores it: a regressor's
//! prediction, else the decision function, else the probability of the second class. A
//! binary prediction thresholds that score at 0 for a classifier with a decision function,
//! at 0.5 otherwise (a `_ConstantPredictor` is not a classifier, so 0.5).

use ndarray::{Array2, ArrayView2};

use super::member::{Member, Read, Route, assemble, classes_of, has_decision, label_value};
use super::{Built, alone, built, read_classes_checked};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::compose::StepReader;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::State;
use crate::model::tree::math::{argmax, pairwise_sum};
use crate::model::value::Value;

/// How a member's binary score is had.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Score {
    Regressor,
    Decision,
    PositiveProba,
}

#[derive(Debug)]
struct Binary {
    member: Member,
    score: Score,
    /// `_threshold_for_binary_predict`.
    threshold: f64,
}

impl Binary {
    fn new(state: &State<'_>, member: Member) -> Result<Self, LoadError> {
        let predictor = member.predictor.as_ref();
        let constant = predictor.class() == SkClass::ConstantPredictor.name();
        let (score, threshold) = match predictor.target() {
            Target::Values { n_outputs: 1, .. } if predictor.predicts() => (Score::Regressor, 0.5),
            Target::Classes(_) if has_decision(predictor) => {
                (Score::Decision, if constant { 0.5 } else { 0.0 })
            }
            Target::Classes(c) if c.len() == 2 && predictor.has_predict_proba() => {
                (Score::PositiveProba, 0.5)
            }
            _ => {
                return Err(state.malformed(
                    "estimators_",
                    format!(
                        "holds '{}' ({}), which gives no binary score",
                        member.name,
                        predictor.class()
                    ),
                ));
            }
        };
        Ok(Self {
            member,
            score,
            threshold,
        })
    }

    /// `_predict_binary`.
    fn score(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        match self.score {
            Score::Regressor => match self.member.predict(x) {
                Prediction::Values(v) => v.column(0).to_vec(),
                _ => unreachable!("a regressor's"),
            },
            Score::Decision => {
                let d = self.member.decision_function(x).expect("checked at load");
                d.column(d.ncols() - 1).to_vec()
            }
            Score::PositiveProba => {
                let p = self.member.predict_proba(x).expect("checked at load");
                p.column(1).to_vec()
            }
        }
    }

    /// `predict`, as the 0/1 label a member of OneVsOne gives.
    fn label(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        match self.member.predict(x) {
            Prediction::Classes(indices) => {
                let Target::Classes(classes) = self.member.predictor.target() else {
                    unreachable!("a classifier's")
                };
                indices.iter().map(|&i| label_value(classes, i)).collect()
            }
            Prediction::Values(v) => v.column(0).to_vec(),
            Prediction::MultiClasses(_) => vec![f64::NAN; x.nrows()],
        }
    }
}

#[derive(Debug)]
enum Strategy {
    /// One member per class (one in all for two classes), or per label.
    Rest {
        multilabel: bool,
        /// Ties go to the last class before scikit-learn 1.8, the first after.
        last_wins: bool,
        outputs: Vec<Classes>,
    },
    /// One member per pair of classes, `(0, 1), (0, 2), … (1, 2), …`.
    One,
    /// One member per column of the code book; the nearest code's class.
    Code { code_book: Array2<f64> },
}

#[derive(Debug)]
pub struct Multiclass {
    class: &'static str,
    n_features: usize,
    classes: Classes,
    members: Vec<Binary>,
    strategy: Strategy,
    proba: bool,
    decision: bool,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    if state.class == SkClass::ConstantPredictor {
        return Ok(alone(Box::new(Constant::read(state, width)?)));
    }
    let fitted = state.items("estimators_")?;
    if fitted.is_empty() {
        return Err(state.malformed("estimators_", "is empty"));
    }
    let width = super::input_width(state, width, fitted[0], reader)?;
    let pairwise: Option<Vec<Vec<usize>>> = match state.attr("pairwise_indices_") {
        None | Some(Value::None) => None,
        Some(_) => Some(
            state
                .items("pairwise_indices_")?
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let at = format!("pairwise_indices_[{i}]");
                    let (values, _) = crate::model::state::numbers_of(state.heap, *v)
                        .ok_or_else(|| state.malformed(&at, "is not an array of indices"))?;
                    values
                        .iter()
                        .map(|&c| {
                            (c >= 0.0 && c.fract() == 0.0 && (c as usize) < width)
                                .then_some(c as usize)
                                .ok_or_else(|| state.malformed(&at, format!("holds {c}")))
                        })
                        .collect()
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    if pairwise.as_ref().is_some_and(|p| p.len() != fitted.len()) {
        return Err(state.malformed("pairwise_indices_", "does not hold one list per estimator"));
    }
    let mut reads = Vec::with_capacity(fitted.len());
    for (i, value) in fitted.iter().enumerate() {
        let name = format!("estimators_[{i}]");
        let columns = pairwise.as_ref().map(|p| p[i].clone());
        let takes = columns.as_ref().map_or(width, Vec::len);
        let model = super::member::read_model(state, reader, "estimators_", *value, &name, takes)?;
        reads.push(Read {
            name,
            model,
            columns,
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
    let members = assembled
        .members
        .into_iter()
        .map(|m| Binary::new(state, m))
        .collect::<Result<Vec<_>, _>>()?;
    let classes = read_classes_checked(state)?;
    let k = classes.len();
    let strategy = match state.class {
        SkClass::OneVsRestClassifier => {
            let binarizer = State::of(state.heap, state.get("label_binarizer_")?, &state.path)
                .ok()
                .filter(|b| b.class == SkClass::LabelBinarizer)
                .ok_or_else(|| state.malformed("label_binarizer_", "is not a LabelBinarizer"))?;
            let y_type = binarizer.text_required("y_type_")?;
            let multilabel = y_type.starts_with("multilabel");
            let expected = match y_type {
                "binary" => 1,
                "multiclass" => k,
                _ if multilabel => k,
                other => {
                    return Err(binarizer.malformed("y_type_", format!("is {other:?}")));
                }
            };
            if members.len() != expected {
                return Err(state.malformed(
                    "estimators_",
                    format!(
                        "holds {} estimators for {k} classes of a {y_type} target",
                        members.len()
                    ),
                ));
            }
            for m in &members {
                if matches!(m.score, Score::Decision | Score::PositiveProba) {
                    let own = classes_of(
                        state,
                        "estimators_",
                        &m.member.name,
                        m.member.predictor.as_ref(),
                    )?;
                    if m.member.predictor.class() != SkClass::ConstantPredictor.name()
                        && own.len() != 2
                    {
                        return Err(state.malformed(
                            "estimators_",
                            format!(
                                "holds '{}', which is not a binary classifier",
                                m.member.name
                            ),
                        ));
                    }
                }
            }
            Strategy::Rest {
                multilabel,
                last_wins: state.saved_before((1, 8)),
                outputs: if multilabel {
                    vec![Classes::Int(vec![0, 1]); k]
                } else {
                    Vec::new()
                },
            }
        }
        SkClass::OneVsOneClassifier => {
            if members.len() != k * (k - 1) / 2 || k < 2 {
                return Err(state.malformed(
                    "estimators_",
                    format!("holds {} estimators for {k} classes", members.len()),
                ));
            }
            for m in &members {
                let own = classes_of(
                    state,
                    "estimators_",
                    &m.member.name,
                    m.member.predictor.as_ref(),
                )
                .ok()
                .filter(|c| super::member::numeric(c));
                if own.is_none() {
                    return Err(state.malformed(
                        "estimators_",
                        format!("holds '{}', which does not predict 0 or 1", m.member.name),
                    ));
                }
            }
            Strategy::One
        }
        _ => {
            let (values, shape) = state.numbers("code_book_")?;
            if shape.len() != 2 || shape[0] != k || shape[1] != members.len() {
                return Err(state.malformed(
                    "code_book_",
                    format!(
                        "has shape {shape:?}, expected [{k}, {}] (classes × estimators)",
                        members.len()
                    ),
                ));
            }
            if values.iter().any(|v| !v.is_finite()) {
                return Err(state.malformed("code_book_", "holds NaN or infinity"));
            }
            Strategy::Code {
                code_book: Array2::from_shape_vec((shape[0], shape[1]), values)
                    .expect("shape checked"),
            }
        }
    };
    let proba = matches!(strategy, Strategy::Rest { .. })
        && members.iter().all(|m| {
            m.member.predictor.has_predict_proba()
                && matches!(m.member.predictor.target(), Target::Classes(_))
        });
    let decision = match strategy {
        Strategy::Rest { .. } => members.iter().all(|m| m.score == Score::Decision),
        Strategy::One => true,
        Strategy::Code { .. } => false,
    };
    let model = Multiclass {
        class: state.class.name(),
        n_features,
        classes,
        members,
        strategy,
        proba,
        decision,
    };
    Ok(built(assembled.fan, Box::new(model)))
}

impl Multiclass {
    fn scores(&self, x: ArrayView2<'_, f64>) -> Vec<Vec<f64>> {
        self.members.iter().map(|m| m.score(x)).collect()
    }

    /// OneVsOne's `_ovr_decision_function`: votes, and the summed confidences squashed into
    /// (-1/3, 1/3) to break their ties.
    fn one_vs_one(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let k = self.classes.len();
        let n = x.nrows();
        let mut votes = Array2::<f64>::zeros((n, k));
        let mut confidences = Array2::<f64>::zeros((n, k));
        let mut member = 0;
        for i in 0..k {
            for j in i + 1..k {
                let m = &self.members[member];
                let labels = m.label(x);
                let score = m.score(x);
                for r in 0..n {
                    confidences[[r, i]] -= score[r];
                    confidences[[r, j]] += score[r];
                    if labels[r] == 0.0 {
                        votes[[r, i]] += 1.0;
                    } else if labels[r] == 1.0 {
                        votes[[r, j]] += 1.0;
                    }
                }
                member += 1;
            }
        }
        votes + confidences.mapv(|c| c / (3.0 * (c.abs() + 1.0)))
    }

    fn rest_proba(&self, x: ArrayView2<'_, f64>, multilabel: bool) -> Array2<f64> {
        let positives: Vec<Array2<f64>> = self
            .members
            .iter()
            .map(|m| m.member.predict_proba(x).expect("checked at load"))
            .collect();
        let n = x.nrows();
        let mut y = if positives.len() == 1 {
            Array2::from_shape_fn((n, 2), |(r, c)| {
                let p = positives[0][[r, 1]];
                if c == 0 { 1.0 - p } else { p }
            })
        } else {
            Array2::from_shape_fn((n, positives.len()), |(r, c)| positives[c][[r, 1]])
        };
        if !multilabel {
            for mut row in y.rows_mut() {
                let row = row.as_slice_mut().expect("contiguous");
                let sum = pairwise_sum(row);
                if sum != 0.0 {
                    row.iter_mut().for_each(|v| *v /= sum);
                }
            }
        }
        y
    }
}

impl Predictor for Multiclass {
    fn class(&self) -> &'static str {
        self.class
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.strategy {
            Strategy::Rest {
                multilabel: true,
                outputs,
                ..
            } => Target::MultiClasses(outputs),
            _ => Target::Classes(&self.classes),
        }
    }

    fn methods(&self) -> Vec<Method> {
        let mut methods = vec![Method::Predict];
        if self.proba {
            methods.push(Method::PredictProba);
        }
        if self.decision {
            methods.push(Method::DecisionFunction);
        }
        methods
    }

    fn width(&self, method: Method) -> usize {
        let k = self.classes.len();
        match (method, &self.strategy) {
            (
                Method::Predict,
                Strategy::Rest {
                    multilabel: true, ..
                },
            ) => k,
            (Method::Predict, _) => 1,
            (Method::PredictProba, _) => k,
            (Method::DecisionFunction, _) if self.members.len() == 1 || k == 2 => 1,
            (Method::DecisionFunction, _) => k,
            _ => 0,
        }
    }

    fn accepts_missing(&self) -> bool {
        self.members
            .iter()
            .all(|m| m.member.predictor.accepts_missing())
    }

    fn float32_input(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.member.predictor.float32_input())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let n = x.nrows();
        match &self.strategy {
            Strategy::Rest {
                multilabel: true, ..
            } => {
                let mut out = Array2::<usize>::zeros((n, self.members.len()));
                for (c, m) in self.members.iter().enumerate() {
                    for (r, s) in m.score(x).into_iter().enumerate() {
                        out[[r, c]] = usize::from(s > m.threshold);
                    }
                }
                Prediction::MultiClasses(out)
            }
            Strategy::Rest { .. } if self.members.len() == 1 => {
                let m = &self.members[0];
                Prediction::Classes(
                    m.score(x)
                        .into_iter()
                        .map(|s| usize::from(s > m.threshold))
                        .collect(),
                )
            }
            Strategy::Rest { last_wins, .. } => {
                let scores = self.scores(x);
                Prediction::Classes(
                    (0..n)
                        .map(|r| {
                            let mut best = 0;
                            for (c, s) in scores.iter().enumerate().skip(1) {
                                let better = if *last_wins {
                                    s[r] >= scores[best][r]
                                } else {
                                    s[r] > scores[best][r]
                                };
                                if better {
                                    best = c;
                                }
                            }
                            best
                        })
                        .collect(),
                )
            }
            Strategy::One => {
                let y = self.one_vs_one(x);
                if self.classes.len() == 2 {
                    let threshold = self.members[0].threshold;
                    Prediction::Classes(
                        y.column(1)
                            .iter()
                            .map(|&v| usize::from(v > threshold))
                            .collect(),
                    )
                } else {
                    Prediction::Classes(
                        y.rows()
                            .into_iter()
                            .map(|r| argmax(r.as_slice().expect("contiguous")))
                            .collect(),
                    )
                }
            }
            Strategy::Code { code_book } => {
                let scores = self.scores(x);
                Prediction::Classes(
                    (0..n)
                        .map(|r| {
                            let mut best = 0;
                            let mut nearest = f64::INFINITY;
                            for (c, code) in code_book.rows().into_iter().enumerate() {
                                let d: f64 = code
                                    .iter()
                                    .zip(&scores)
                                    .map(|(b, s)| (s[r] - b) * (s[r] - b))
                                    .sum();
                                if d < nearest {
                                    nearest = d;
                                    best = c;
                                }
                            }
                            best
                        })
                        .collect(),
                )
            }
        }
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        match &self.strategy {
            Strategy::Rest { multilabel, .. } if self.proba => {
                Some(self.rest_proba(x, *multilabel))
            }
            _ => None,
        }
    }

    fn has_predict_proba(&self) -> bool {
        self.proba
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        if !self.decision {
            return None;
        }
        let n = x.nrows();
        Some(match &self.strategy {
            Strategy::One => {
                let y = self.one_vs_one(x);
                if self.classes.len() == 2 {
                    y.column(1)
                        .to_owned()
                        .into_shape_with_order((n, 1))
                        .expect("one column")
                } else {
                    y
                }
            }
            _ => {
                let scores = self.scores(x);
                Array2::from_shape_fn((n, scores.len()), |(r, c)| scores[c][r])
            }
        })
    }

    fn describe(&self) -> serde_json::Value {
        let estimators: Vec<serde_json::Value> =
            self.members.iter().map(|m| m.member.describe()).collect();
        let mut d = serde_json::json!({
            "class": self.class,
            "classes": self.classes.to_json(),
            "estimators": estimators,
        });
        if let Strategy::Rest { multilabel, .. } = &self.strategy {
            d["multilabel"] = (*multilabel).into();
        }
        d
    }
}

/// `_ConstantPredictor`: a column that never varied, answered as its one value.
#[derive(Debug)]
pub struct Constant {
    n_features: usize,
    y: f64,
    classes: Classes,
}

impl Constant {
    fn read(state: &State<'_>, width: Option<usize>) -> Result<Self, LoadError> {
        let (values, _) = state.numbers("y_")?;
        let [y] = values[..] else {
            return Err(state.malformed("y_", format!("holds {} values, not one", values.len())));
        };
        if !y.is_finite() {
            return Err(state.malformed("y_", format!("is {y}")));
        }
        let n_features = match (state.count("n_features_in_")?, width) {
            (Some(n), Some(w)) if n != w => {
                return Err(state.malformed(
                    "n_features_in_",
                    format!("is {n} but it is given {w} columns"),
                ));
            }
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) => return Err(state.malformed("n_features_in_", "is missing")),
        };
        let classes = if y.fract() == 0.0 {
            Classes::Int(vec![y as i64])
        } else {
            Classes::Float(vec![y])
        };
        Ok(Self {
            n_features,
            y,
            classes,
        })
    }
}

impl Predictor for Constant {
    fn class(&self) -> &'static str {
        SkClass::ConstantPredictor.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        vec![
            Method::Predict,
            Method::PredictProba,
            Method::DecisionFunction,
        ]
    }

    fn width(&self, method: Method) -> usize {
        if method == Method::PredictProba { 2 } else { 1 }
    }

    fn accepts_missing(&self) -> bool {
        true
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        Prediction::Classes(vec![0; x.nrows()])
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(Array2::from_shape_fn((x.nrows(), 2), |(_, c)| {
            if c == 0 { 1.0 - self.y } else { self.y }
        }))
    }

    fn has_predict_proba(&self) -> bool {
        true
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(Array2::from_elem((x.nrows(), 1), self.y))
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "class": SkClass::ConstantPredictor.name(), "y": self.y })
    }
}

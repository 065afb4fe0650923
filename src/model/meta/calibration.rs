//! CalibratedClassifierCV: the mean of its folds' calibrated probabilities (one fold with
//! `ensemble=False` or a prefitted classifier), each fold a classifier and its calibrators
//! (`_CalibratedClassifier`): a sigmoid (`_SigmoidCalibration`, `expit(-(a·f + b))`) or an
//! IsotonicRegression per class on the classifier's decision function (else its
//! probabilities), normalised; or, from scikit-learn 1.8, one temperature
//! (`_TemperatureScaling`, the softmax of `beta_` times the logits).

use ndarray::{Array2, ArrayView2};

use super::isotonic::Isotonic;
use super::member::{Member, Read, Route, assemble, classes_of, has_decision, positions};
use super::{Built, built, read_classes_checked};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::compose::StepReader;
use crate::model::estimator::{Method, Prediction, Predictor, Target};
use crate::model::state::{Path, State};
use crate::model::tree::math::{argmax, expit, pairwise_sum, softmax};

#[derive(Debug)]
enum Calibrator {
    Sigmoid { a: f64, b: f64 },
    Isotonic(Isotonic),
}

impl Calibrator {
    fn apply(&self, f: f64) -> f64 {
        match self {
            Self::Sigmoid { a, b } => expit(-(a * f + b)),
            Self::Isotonic(iso) => iso.apply(f),
        }
    }
}

#[derive(Debug)]
enum Calibration {
    /// One calibrator per class the fold's classifier saw (one in all for two classes).
    PerClass(Vec<Calibrator>),
    Temperature {
        beta: f64,
    },
}

#[derive(Debug)]
struct Fold {
    member: Member,
    /// Whether the classifier answers through its decision function (else probabilities).
    decision: bool,
    /// The positions among the model's classes of the classes the classifier saw.
    positions: Vec<usize>,
    calibration: Calibration,
}

#[derive(Debug)]
pub struct Calibrated {
    n_features: usize,
    classes: Classes,
    folds: Vec<Fold>,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Built, LoadError> {
    let classes = read_classes_checked(state)?;
    let k = classes.len();
    if k < 2 {
        return Err(state.malformed("classes_", "holds fewer than 2 classes"));
    }
    let folds = state.items("calibrated_classifiers_")?;
    if folds.is_empty() {
        return Err(state.malformed("calibrated_classifiers_", "is empty"));
    }
    let mut fold_states = Vec::with_capacity(folds.len());
    for (i, value) in folds.iter().enumerate() {
        let path = state.path.join(&format!("calibrated_classifiers_[{i}]"));
        let fold = State::of(state.heap, *value, &path)?;
        if fold.class != SkClass::CalibratedClassifier {
            return Err(state.malformed(
                &format!("calibrated_classifiers_[{i}]"),
                format!("is a {}, not a _CalibratedClassifier", fold.class.name()),
            ));
        }
        fold_states.push(fold);
    }
    let estimator_of = |fold: &State<'_>| {
        fold.attr("estimator")
            .or_else(|| fold.attr("base_estimator"))
            .ok_or_else(|| fold.malformed("estimator", "is missing"))
    };
    let width = super::input_width(state, width, estimator_of(&fold_states[0])?, reader)?;
    let mut reads = Vec::with_capacity(folds.len());
    for (i, fold) in fold_states.iter().enumerate() {
        let name = format!("calibrated_classifiers_[{i}]");
        let model = super::member::read_model(
            state,
            reader,
            "calibrated_classifiers_",
            estimator_of(fold)?,
            &name,
            width,
        )?;
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
    let mut calibrated_folds = Vec::with_capacity(folds.len());
    for (member, fold) in assembled.members.into_iter().zip(&fold_states) {
        let own = classes_of(
            state,
            "calibrated_classifiers_",
            &member.name,
            member.predictor.as_ref(),
        )?;
        let positions = positions(own, &classes)
            .ok_or_else(|| fold.malformed("estimator", "predicts labels the model has not"))?;
        let decision = has_decision(member.predictor.as_ref());
        if !decision && !member.predictor.has_predict_proba() {
            return Err(fold.malformed(
                "estimator",
                "has neither a decision function nor probabilities to calibrate",
            ));
        }
        let calibrators = fold.items("calibrators")?;
        let method = fold.text("method").unwrap_or("sigmoid");
        let calibration = if method == "temperature" {
            let [one] = calibrators else {
                return Err(fold.malformed("calibrators", "holds other than one temperature"));
            };
            let cal = State::of(state.heap, *one, &fold.path.join("calibrators[0]"))?;
            if cal.class != SkClass::TemperatureScaling || positions.len() != k {
                return Err(fold.malformed("calibrators", "is not a temperature of every class"));
            }
            let beta = cal
                .number("beta_")?
                .filter(|b| b.is_finite())
                .ok_or_else(|| cal.malformed("beta_", "is not a finite number"))?;
            Calibration::Temperature { beta }
        } else {
            let expected = if k == 2 { 1 } else { positions.len() };
            if calibrators.len() != expected {
                return Err(fold.malformed(
                    "calibrators",
                    format!(
                        "holds {} calibrators for {} classes",
                        calibrators.len(),
                        positions.len()
                    ),
                ));
            }
            let mut read = Vec::with_capacity(calibrators.len());
            for (j, c) in calibrators.iter().enumerate() {
                read.push(calibrator(
                    state,
                    &fold.path.join(&format!("calibrators[{j}]")),
                    *c,
                )?);
            }
            Calibration::PerClass(read)
        };
        calibrated_folds.push(Fold {
            member,
            decision,
            positions,
            calibration,
        });
    }
    let model = Calibrated {
        n_features,
        classes,
        folds: calibrated_folds,
    };
    Ok(built(assembled.fan, Box::new(model)))
}

fn calibrator(
    state: &State<'_>,
    path: &Path,
    value: crate::model::value::Value,
) -> Result<Calibrator, LoadError> {
    let cal = State::of(state.heap, value, path)?;
    match cal.class {
        SkClass::SigmoidCalibration => {
            let number = |name: &str| {
                cal.number(name)?
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| cal.malformed(name, "is not a finite number"))
            };
            Ok(Calibrator::Sigmoid {
                a: number("a_")?,
                b: number("b_")?,
            })
        }
        SkClass::IsotonicRegression => Ok(Calibrator::Isotonic(Isotonic::read(&cal)?)),
        other => Err(cal.unsupported(format!("{} is not a calibrator", other.name()))),
    }
}

impl Calibrated {
    fn fold_proba(&self, fold: &Fold, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let k = self.classes.len();
        let n = x.nrows();
        // `_get_response_values`: the decision function, else the probabilities (of the
        // second class alone for two).
        let predictions = if fold.decision {
            fold.member.decision_function(x).expect("checked at load")
        } else {
            let p = fold.member.predict_proba(x).expect("checked at load");
            if k == 2 && p.ncols() == 2 {
                p.slice_axis(ndarray::Axis(1), ndarray::Slice::from(1..))
                    .to_owned()
            } else {
                p
            }
        };
        let mut proba = match &fold.calibration {
            Calibration::PerClass(calibrators) => {
                let mut proba = Array2::<f64>::zeros((n, k));
                for (j, calibrator) in calibrators.iter().enumerate() {
                    let class = if k == 2 { 1 } else { fold.positions[j] };
                    for r in 0..n {
                        proba[[r, class]] = calibrator.apply(predictions[[r, j]]);
                    }
                }
                if k == 2 {
                    for r in 0..n {
                        proba[[r, 0]] = 1.0 - proba[[r, 1]];
                    }
                } else {
                    for mut row in proba.rows_mut() {
                        let row = row.as_slice_mut().expect("contiguous");
                        let sum = pairwise_sum(row);
                        for v in row.iter_mut() {
                            *v = if sum != 0.0 { *v / sum } else { 1.0 / k as f64 };
                        }
                    }
                }
                proba
            }
            Calibration::Temperature { beta } => temperature(&predictions, *beta, fold.decision),
        };
        proba.mapv_inplace(|v| if v > 1.0 && v <= 1.0 + 1e-5 { 1.0 } else { v });
        proba
    }

    fn mean_proba(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let mut mean = Array2::<f64>::zeros((x.nrows(), self.classes.len()));
        for fold in &self.folds {
            mean += &self.fold_proba(fold, x);
        }
        let n = self.folds.len() as f64;
        mean.mapv_inplace(|v| v / n);
        mean
    }
}

/// `_TemperatureScaling.predict`: the logits (`_convert_to_logits`: a decision function's
/// columns, probabilities' logarithms when every row of the batch is a distribution, a
/// single column as its negative beside it), scaled by `beta` and soft-maxed.
fn temperature(predictions: &Array2<f64>, beta: f64, decision: bool) -> Array2<f64> {
    let n = predictions.nrows();
    let mut logits = if predictions.ncols() == 1 {
        let column = predictions.column(0);
        if decision {
            Array2::from_shape_fn((n, 2), |(r, c)| if c == 0 { -column[r] } else { column[r] })
        } else {
            // Probabilities of the second class: both classes', then as any distribution.
            let both =
                Array2::from_shape_fn(
                    (n, 2),
                    |(r, c)| {
                        if c == 0 { 1.0 - column[r] } else { column[r] }
                    },
                );
            distribution_logits(both)
        }
    } else {
        distribution_logits(predictions.clone())
    };
    for mut row in logits.rows_mut() {
        let row = row.as_slice_mut().expect("contiguous");
        row.iter_mut().for_each(|v| *v *= beta);
        softmax(row);
    }
    logits
}

/// Columns that form a distribution in every row (each in [0, 1], each row summing to one
/// within `np.isclose`) as their logarithms; anything else as it is.
fn distribution_logits(mut values: Array2<f64>) -> Array2<f64> {
    let in_range = values.iter().all(|&v| (0.0..=1.0).contains(&v));
    let sums_to_one = values.rows().into_iter().all(|r| {
        let sum = pairwise_sum(r.as_slice().expect("contiguous"));
        (sum - 1.0).abs() <= 1e-8 + 1e-5 * 1.0
    });
    if in_range && sums_to_one {
        values.mapv_inplace(|v| (v + 1e-12).ln());
    }
    values
}

impl Predictor for Calibrated {
    fn class(&self) -> &'static str {
        SkClass::CalibratedClassifierCv.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        Target::Classes(&self.classes)
    }

    fn methods(&self) -> Vec<Method> {
        vec![Method::Predict, Method::PredictProba]
    }

    fn accepts_missing(&self) -> bool {
        self.folds
            .iter()
            .all(|f| f.member.predictor.accepts_missing())
    }

    fn float32_input(&self) -> bool {
        self.folds
            .iter()
            .any(|f| f.member.predictor.float32_input())
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        let proba = self.mean_proba(x);
        Prediction::Classes(
            proba
                .rows()
                .into_iter()
                .map(|r| argmax(r.as_slice().expect("contiguous")))
                .collect(),
        )
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        Some(self.mean_proba(x))
    }

    fn has_predict_proba(&self) -> bool {
        true
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        let proba = self.mean_proba(x);
        let predicted = proba
            .rows()
            .into_iter()
            .map(|r| argmax(r.as_slice().expect("contiguous")))
            .collect();
        (Prediction::Classes(predicted), Some(proba))
    }

    fn describe(&self) -> serde_json::Value {
        let folds: Vec<serde_json::Value> = self
            .folds
            .iter()
            .map(|f| {
                let mut d = f.member.describe();
                d["calibration"] = match &f.calibration {
                    Calibration::PerClass(c) => match c.first() {
                        Some(Calibrator::Isotonic(_)) => "isotonic",
                        _ => "sigmoid",
                    },
                    Calibration::Temperature { .. } => "temperature",
                }
                .into();
                d
            })
            .collect();
        serde_json::json!({
            "class": SkClass::CalibratedClassifierCv.name(),
            "classes": self.classes.to_json(),
            "calibrated_classifiers": folds,
        })
    }
}

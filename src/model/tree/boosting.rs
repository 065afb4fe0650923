//! GradientBoostingClassifier and GradientBoostingRegressor: the raw prediction is the
//! `init_` estimator's, through the loss's link, plus `learning_rate ×` each stage's tree
//! (one per class for multiclass models), added stage by stage on the input cast to float32,
//! as `predict_stages` does.
//!
//! Two generations of losses: until scikit-learn 1.3 the `_gb_losses` classes (the log-odds
//! `log(p / (1 - p))` of the prior, `log(p)` per class, `predict` by the largest
//! probability), from 1.4 the common `sklearn._loss` ones (scipy's `logit`, the symmetric
//! multinomial logit `log(p / gmean(p))`, softmax, `predict` by `raw >= 0` or the largest raw
//! value). The exponential loss halves the log-odds and doubles the raw value back. Missing
//! values are refused, as `check_array` refuses them for every version.

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::dummy::{self, Constant};
use super::math::{argmax, expit, f32_rows, logit, logsumexp, pairwise_sum, softmax};
use super::nodes::Forest;
use super::scores::RawScores;
use super::site::TreeSite;
use super::{n_features, scores, shap, single_output_classes, sktree};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::classes::Classes;
use crate::model::compose::{Step, StepReader};
use crate::model::estimator::{Attribution, Method, Prediction, Predictor, Target};
use crate::model::state::State;
use crate::model::value::{Node, Value};

/// How raw values become probabilities and classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Log loss of two classes: one tree per stage, `expit(raw)`.
    Binomial,
    /// Log loss of three or more classes: a tree per class per stage, softmax.
    Multinomial,
    /// AdaBoost's exponential loss: `expit(2 raw)`.
    Exponential,
    /// Any regression loss: the raw value is the prediction.
    Regression,
}

/// What the boosting starts from.
#[derive(Debug)]
pub enum Init {
    /// `init='zero'`.
    Zero,
    /// A constant estimator's raw values, computed at load.
    Fixed(Vec<f64>),
    /// Another fitted estimator, asked for every batch.
    Estimator(Box<dyn Predictor>),
}

#[derive(Debug)]
pub struct Boosting {
    pub class: SkClass,
    pub n_features: usize,
    pub forest: Forest,
    /// Trees per stage.
    pub k: usize,
    pub learning_rate: f64,
    pub init: Init,
    pub loss: Loss,
    pub classes: Option<Classes>,
    /// Saved by scikit-learn before 1.4 (`_gb_losses`).
    pub legacy_losses: bool,
}

/// Float32's machine epsilon, to which probabilities are clipped before their link.
const EPS: f64 = f32::EPSILON as f64;

pub fn read(state: &State<'_>, reader: &dyn StepReader) -> Result<Boosting, LoadError> {
    let n_features = n_features(state)?;
    let classifier = state.class == SkClass::GradientBoostingClassifier;
    let classes = if classifier {
        Some(single_output_classes(state)?)
    } else {
        None
    };
    let loss_name = state.text("loss").unwrap_or("");
    let loss = match (&classes, loss_name) {
        (Some(c), "exponential") if c.len() == 2 => Loss::Exponential,
        (Some(_), "exponential") => {
            return Err(state.malformed("loss", "is exponential, which needs two classes"));
        }
        (Some(c), "log_loss" | "deviance") if c.len() == 2 => Loss::Binomial,
        (Some(_), "log_loss" | "deviance") => Loss::Multinomial,
        (Some(_), other) => {
            return Err(state.unsupported(format!("loss={other:?} is not a loss skserve knows")));
        }
        (None, "squared_error" | "ls" | "absolute_error" | "lad" | "huber" | "quantile") => {
            Loss::Regression
        }
        (None, other) => {
            return Err(state.unsupported(format!("loss={other:?} is not a loss skserve knows")));
        }
    };
    let k = match (loss, &classes) {
        (Loss::Multinomial, Some(c)) => c.len(),
        _ => 1,
    };
    let learning_rate = state
        .number("learning_rate")?
        .filter(|v| v.is_finite())
        .ok_or_else(|| state.malformed("learning_rate", "is not a finite number"))?;
    let estimators = state.array("estimators_")?;
    let trees = estimators.object_values();
    let n_stages = match estimators.shape[..] {
        [stages, per_stage] if per_stage == k && stages > 0 && trees.len() == stages * k => stages,
        _ => {
            return Err(state.malformed(
                "estimators_",
                format!(
                    "has shape {:?}, expected stages × {k} trees",
                    estimators.shape
                ),
            ));
        }
    };
    let mut forest = Forest::new(1);
    for (i, &tree) in trees.iter().enumerate() {
        let name = format!("estimators_[{}, {}]", i / k, i % k);
        let tree_state = State::of(state.heap, tree, &state.path.join(&name))?;
        if tree_state.class != SkClass::DecisionTreeRegressor {
            return Err(state.malformed(
                &name,
                format!(
                    "is a {}, expected a DecisionTreeRegressor",
                    tree_state.class.name()
                ),
            ));
        }
        let site = TreeSite::new(state.label(), format!("{name}.tree_"));
        let tree = sktree::read(state.heap, tree_state.get("tree_")?, n_features, &site)?;
        if tree.n_outputs != 1 || tree.raw.width != 1 {
            return Err(site.error("predicts more than one value per leaf"));
        }
        forest
            .push(&tree.raw, &tree.order, tree.depth)
            .map_err(|f| site.node_error(f.node, f.field, f.problem))?;
    }
    debug_assert_eq!(forest.n_trees(), n_stages * k);
    forest.finish(state.heap.budget())?;
    let legacy_losses = state.saved_before((1, 4));
    let init = read_init(
        state,
        reader,
        n_features,
        loss,
        k,
        legacy_losses,
        classes.as_ref(),
    )?;
    Ok(Boosting {
        class: state.class,
        n_features,
        forest,
        k,
        learning_rate,
        init,
        loss,
        classes,
        legacy_losses,
    })
}

fn read_init(
    state: &State<'_>,
    reader: &dyn StepReader,
    n_features: usize,
    loss: Loss,
    k: usize,
    legacy: bool,
    classes: Option<&Classes>,
) -> Result<Init, LoadError> {
    let value = state.get("init_")?;
    if state.heap.str(value) == Some("zero") {
        return Ok(Init::Zero);
    }
    if !matches!(state.heap.node(value), Some(Node::Object(_))) || value == Value::None {
        return Err(state.malformed("init_", "is neither 'zero' nor an estimator"));
    }
    let init_state = State::of(state.heap, value, &state.path.join("init_"))?;
    if matches!(
        init_state.class,
        SkClass::DummyClassifier | SkClass::DummyRegressor
    ) {
        let dummy = dummy::read_with(&init_state, Some(n_features))?;
        let raw = match (&dummy.constant, classes) {
            (
                Constant::Classes {
                    proba, classes: c, ..
                },
                Some(classes),
            ) if c.len() == classes.len() => {
                let mut raw = vec![0.0; k];
                raw_from_proba(loss, legacy, proba, &mut raw);
                raw
            }
            (Constant::Values(v), None) => v.clone(),
            _ => {
                return Err(state.malformed(
                    "init_",
                    format!(
                        "is a {} that does not fit this model",
                        init_state.class.name()
                    ),
                ));
            }
        };
        return Ok(Init::Fixed(raw));
    }
    match reader.read(value, &state.path.join("init_"), Some(n_features))? {
        Step::Model(model) if model.transformers.is_empty() => {
            let predictor = model.predictor;
            let fits = match (classes, predictor.target()) {
                (Some(c), Target::Classes(own)) => {
                    own.len() == c.len() && predictor.has_predict_proba()
                }
                (None, Target::Values { n_outputs: 1, .. }) => true,
                _ => false,
            };
            if !fits || predictor.n_features_in() != n_features {
                return Err(state.malformed(
                    "init_",
                    format!(
                        "is a {} that does not predict what this model needs",
                        predictor.class()
                    ),
                ));
            }
            Ok(Init::Estimator(predictor))
        }
        _ => Err(state.unsupported(
            "init_ is a Pipeline or transformer; skserve serves a GradientBoosting init_ that \
             is one estimator",
        )),
    }
}

/// The loss's link of one row of probabilities (`n_classes` in, `k` out), clipped to
/// float32's epsilon first, as each generation of losses computes it.
fn raw_from_proba(loss: Loss, legacy: bool, proba: &[f64], out: &mut [f64]) {
    let clip = |p: f64| p.clamp(EPS, 1.0 - EPS);
    match loss {
        Loss::Binomial | Loss::Exponential => {
            let p = clip(proba[1]);
            let log_odds = if legacy {
                (p / (1.0 - p)).ln()
            } else {
                logit(p)
            };
            out[0] = if loss == Loss::Exponential {
                0.5 * log_odds
            } else {
                log_odds
            };
        }
        Loss::Multinomial => {
            let p: Vec<f64> = proba.iter().map(|&p| clip(p)).collect();
            if legacy {
                out.iter_mut().zip(&p).for_each(|(o, p)| *o = p.ln());
            } else {
                let logs: Vec<f64> = p.iter().map(|p| p.ln()).collect();
                let gmean = (pairwise_sum(&logs) / p.len() as f64).exp();
                out.iter_mut()
                    .zip(&p)
                    .for_each(|(o, p)| *o = (p / gmean).ln());
            }
        }
        Loss::Regression => out[0] = proba[0],
    }
}

impl Boosting {
    /// The init estimator's raw values for rows already cast to float32.
    fn init_raw(&self, rows: &[f64], n_rows: usize) -> Vec<f64> {
        let k = self.k;
        let mut raw = vec![0.0; n_rows * k];
        match &self.init {
            Init::Zero => {}
            Init::Fixed(values) => {
                for row in raw.chunks_exact_mut(k) {
                    row.copy_from_slice(values);
                }
            }
            Init::Estimator(estimator) => {
                let x32 = ArrayView2::from_shape((n_rows, self.n_features), rows)
                    .expect("rows × features");
                self.init_from(estimator.as_ref(), x32, &mut raw);
            }
        }
        raw
    }

    fn init_from(&self, estimator: &dyn Predictor, x32: ArrayView2<'_, f64>, raw: &mut [f64]) {
        if self.classes.is_some() {
            let Some(proba) = estimator.predict_proba(x32) else {
                return;
            };
            for (row, out) in proba.rows().into_iter().zip(raw.chunks_exact_mut(self.k)) {
                let p: Vec<f64> = row.to_vec();
                raw_from_proba(self.loss, self.legacy_losses, &p, out);
            }
        } else if let Prediction::Values(values) = estimator.predict(x32) {
            for (out, v) in raw.iter_mut().zip(values.column(0)) {
                *out = *v;
            }
        }
    }
}

impl scores::RawScores for Boosting {
    fn k(&self) -> usize {
        self.k
    }

    fn classes(&self) -> Option<&Classes> {
        self.classes.as_ref()
    }

    /// Raw predictions, `rows × k`, row-major.
    fn raw(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let n = self.n_features;
        let rows = f32_rows(x);
        let k = self.k;
        let mut raw = self.init_raw(&rows, x.nrows());
        let forest = &self.forest;
        let values = forest.values();
        forest.for_each_row(&rows, n, |r, leaves| {
            let out = &mut raw[r * k..(r + 1) * k];
            // A stage's trees, one per raw column, each column summed in stage order.
            for stage in leaves.chunks(k) {
                for (o, &at) in out.iter_mut().zip(stage) {
                    *o += self.learning_rate * values[at];
                }
            }
        });
        raw
    }

    fn proba_row(&self, raw: &[f64], out: &mut [f64]) {
        match self.loss {
            Loss::Binomial | Loss::Exponential => {
                let scale = if self.loss == Loss::Exponential {
                    2.0
                } else {
                    1.0
                };
                out[1] = expit(scale * raw[0]);
                out[0] = 1.0 - out[1];
            }
            Loss::Multinomial if self.legacy_losses => {
                let lse = logsumexp(raw);
                for (o, r) in out.iter_mut().zip(raw) {
                    let p = (r - lse).exp();
                    *o = if p.is_nan() { 0.0 } else { p };
                }
            }
            Loss::Multinomial => {
                out.copy_from_slice(raw);
                softmax(out);
            }
            Loss::Regression => {}
        }
    }

    fn class_of(&self, raw: &[f64]) -> usize {
        match (self.loss, self.legacy_losses) {
            (Loss::Binomial, true) => {
                let p1 = expit(raw[0]);
                usize::from(p1 > 1.0 - p1)
            }
            (Loss::Binomial | Loss::Exponential, _) => usize::from(raw[0] >= 0.0),
            (Loss::Multinomial, true) => {
                let mut p = vec![0.0; raw.len()];
                self.proba_row(raw, &mut p);
                argmax(&p)
            }
            _ => argmax(raw),
        }
    }

    fn value_of(&self, raw: f64) -> f64 {
        raw
    }
}

impl Predictor for Boosting {
    fn class(&self) -> &'static str {
        self.class.name()
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn target(&self) -> Target<'_> {
        match &self.classes {
            Some(classes) => Target::Classes(classes),
            None => Target::Values {
                n_outputs: 1,
                one_d: true,
            },
        }
    }

    fn methods(&self) -> Vec<Method> {
        match self.classes {
            Some(_) => vec![
                Method::Predict,
                Method::PredictProba,
                Method::DecisionFunction,
            ],
            None => vec![Method::Predict],
        }
    }

    fn float32_input(&self) -> bool {
        true
    }

    fn predict(&self, x: ArrayView2<'_, f64>) -> Prediction {
        scores::predict(self, x)
    }

    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        scores::predict_proba(self, x)
    }

    fn decision_function(&self, x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
        scores::decision_function(self, x)
    }

    fn has_predict_proba(&self) -> bool {
        self.classes.is_some()
    }

    fn predict_with_proba(&self, x: ArrayView2<'_, f64>) -> (Prediction, Option<Array2<f64>>) {
        scores::predict_with_proba(self, x)
    }

    fn attribution(
        &self,
        row: ArrayView1<'_, f64>,
        predicted: Option<usize>,
    ) -> Option<Attribution> {
        let (column, explained_class) =
            scores::explained_column(self.classes.is_some(), self.k, predicted)?;
        let one = ArrayView2::from_shape((1, row.len()), row.as_slice()?).ok()?;
        let raw = self.raw(one);
        let x: Vec<f64> = row.iter().map(|&v| v as f32 as f64).collect();
        let init = self.init_raw(&x, 1)[column];
        let (k, lr, forest) = (self.k, self.learning_rate, &self.forest);
        // Only the explained class's trees count: the others' leaves add nothing to it.
        let explained = shap::explain(forest, &x, self.n_features, |leaf| {
            if k == 1 || forest.tree_of(leaf) % k == column {
                lr * forest.leaf_value(leaf)
            } else {
                0.0
            }
        });
        Some(Attribution {
            explained_class,
            base: init + explained.expected,
            contributions: explained.phi,
            weights: None,
            output: raw[column],
        })
    }

    fn describe(&self) -> serde_json::Value {
        let init = match &self.init {
            Init::Zero => serde_json::json!("zero"),
            Init::Fixed(raw) => serde_json::json!({ "raw": raw }),
            Init::Estimator(e) => e.describe(),
        };
        let mut d = serde_json::json!({
            "class": self.class.name(),
            "n_features_in": self.n_features,
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "stages": self.forest.n_trees() / self.k,
            "trees": self.forest.n_trees(),
            "nodes": self.forest.n_nodes(),
            "leaves": self.forest.n_leaves(),
            "max_depth": self.forest.max_depth(),
            "features_used": self.forest.features_used(),
            "init": init,
            "missing_values": false,
        });
        if let Some(classes) = &self.classes {
            d["classes"] = classes.to_json();
        }
        d
    }
}

//! LightGBM: its scikit-learn wrappers as pickles hold them (LGBMClassifier, LGBMRegressor,
//! LGBMRanker, whose `Booster` keeps the model as text) and its own model files
//! (`save_model`), from LightGBM 3.x and 4.x, predicting exactly as LightGBM's predictor does
//! in double.
//!
//! A file is served as the wrapper its objective belongs to (classes `0..n` for a classifier's),
//! with every iteration it holds; a pickle predicts with its booster's `best_iteration`, as
//! `Booster.predict` does.
//!
//! # Layout
//! - `text`: the model text cut into header, trees, parameters and categories.
//! - `objective`: raw scores into predictions.
//! - `booster`: the text checked and laid out in the tree engine, lanes for missing values.
//! - `predictor`: the model as a [`Predictor`].
//!
//! What must not live here: the tree engine (`tree::nodes`), XGBoost (`xgboost`), telling
//! files apart (`format`).

pub mod booster;
pub mod objective;
pub mod predictor;
pub mod text;

use super::allow::SkClass;
use super::classes::{Classes, read_classes};
use super::compose;
use super::estimator::Predictor;
use super::state::State;
use super::value::Node;
use super::{Budget, LoadError, Model, Origin};
use objective::Task;
use predictor::{Lgb, classes_for};

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    matches!(
        class,
        SkClass::LgbmClassifier | SkClass::LgbmRegressor | SkClass::LgbmRanker
    )
}

/// A model file (`save_model`): every iteration it holds, served as its objective's wrapper.
pub fn load_file(bytes: &[u8], budget: &Budget) -> Result<Model, LoadError> {
    let what = "the LightGBM model";
    let text = std::str::from_utf8(bytes)
        .map_err(|e| LoadError::Malformed(format!("{what} is not UTF-8 text ({e})")))?;
    let model = text::parse(text).map_err(|e| LoadError::Malformed(format!("{what}: {e}")))?;
    let booster = booster::read(&model, None, budget).map_err(|f| fault(what, f))?;
    let task = booster.objective.task;
    let class = match task {
        Task::Binary | Task::Multiclass => SkClass::LgbmClassifier,
        Task::Ranking => SkClass::LgbmRanker,
        Task::Regression => SkClass::LgbmRegressor,
    };
    let classes = classes_for(task, booster.n_classes);
    let predictor = Lgb {
        class,
        booster,
        classes,
    };
    let origin = Origin {
        format: "lightgbm",
        compression: None,
        protocol: None,
    };
    let model = compose::Model {
        transformers: Vec::new(),
        predictor: Box::new(predictor),
        wrappers: Vec::new(),
    };
    Model::assemble(model, None, class, None, origin)
}

/// A pickled wrapper: its classes, and the model text its `Booster` keeps.
pub fn read(state: &State<'_>) -> Result<Box<dyn Predictor>, LoadError> {
    let path = state.path.join("_Booster");
    let booster_state = State::of(state.heap, state.get("_Booster")?, &path)?;
    if booster_state.class != SkClass::LgbmBooster {
        return Err(state.malformed("_Booster", "is not a lightgbm.basic.Booster"));
    }
    // `_handle` from LightGBM 4.0, `handle` before.
    let field = if booster_state.has("_handle") {
        "_handle"
    } else {
        "handle"
    };
    let Some(Node::Str(text)) = booster_state.attr(field).and_then(|h| state.heap.node(h)) else {
        return Err(
            booster_state.malformed(field, "is not the model's text (was the model fitted?)")
        );
    };
    let best = match booster_state.attr("best_iteration") {
        Some(super::value::Value::Int(b)) if b > 0 => Some(b as usize),
        _ => None,
    };
    let what = format!("{}: the model of _Booster", state.label());
    let model = text::parse(text).map_err(|e| LoadError::Malformed(format!("{what}: {e}")))?;
    let booster = booster::read(&model, best, state.heap.budget()).map_err(|f| fault(&what, f))?;
    let classes = if state.class == SkClass::LgbmClassifier {
        Some(wrapper_classes(state, &booster)?)
    } else {
        None
    };
    Ok(Box::new(Lgb {
        class: state.class,
        booster,
        classes,
    }))
}

/// An error of the model `what` (`the LightGBM model`, `LGBMClassifier: the model of
/// _Booster`) names.
fn fault(what: &str, fault: booster::Fault) -> LoadError {
    match fault {
        booster::Fault::Malformed(m) => LoadError::Malformed(format!("{what}: {m}")),
        booster::Fault::TooLarge(too_large) => LoadError::TooLarge(too_large),
    }
}

/// A classifier's labels (`_classes`), checked against its objective.
fn wrapper_classes(state: &State<'_>, booster: &booster::Booster) -> Result<Classes, LoadError> {
    let classes = read_classes(state, "_classes")?;
    let expected = match booster.objective.task {
        Task::Binary => 2,
        Task::Multiclass => booster.n_classes,
        _ => {
            return Err(state.unsupported(format!(
                "the objective {} is not a classification objective",
                booster.objective.text
            )));
        }
    };
    if classes.len() != expected || (expected > 2 && booster.k != expected) {
        return Err(state.malformed(
            "_classes",
            format!(
                "holds {} classes, but the booster's {} predicts {expected}",
                classes.len(),
                booster.objective.text
            ),
        ));
    }
    Ok(classes)
}

//! XGBoost: its scikit-learn wrappers as pickles hold them (XGBClassifier, XGBRegressor,
//! XGBRFClassifier, XGBRFRegressor, XGBRanker, whose `Booster` keeps the model as UBJSON
//! bytes) and its own model files (`save_model` as JSON or UBJSON), from XGBoost 1.7 to 3.x,
//! predicting bit for bit as XGBoost's CPU predictor does.
//!
//! A file is served as the wrapper that saved it would serve it once loaded (its
//! `best_iteration`, classes `0..n` for a classifier's objective), so that a file and a pickle
//! of one model answer alike.
//!
//! # Layout
//! - `ubjson`: UBJSON turned into the JSON it encodes, every length bounded.
//! - `document`: the model document as serde reads it (floats as float32 from their text).
//! - `objective`: intercepts and links, in float32.
//! - `trees`: trees checked node by node and laid out in the tree engine.
//! - `booster`: the document checked as a whole (counts, outputs, iterations, features).
//! - `predictor`: the model as a [`Predictor`]: margins, predictions, explanations.
//!
//! What must not live here: the tree engine (`tree::nodes`), LightGBM (`lightgbm`), telling
//! files apart (`format`).

pub mod booster;
pub mod document;
pub mod objective;
pub mod predictor;
pub mod trees;
pub mod ubjson;

use super::allow::SkClass;
use super::category_codes::{CategoryCodes, Unknown};
use super::classes::Classes;
use super::compose;
use super::estimator::Transformer;
use super::state::State;
use super::value::Node;
use super::{Budget, LoadError, Model, Origin};
use booster::{Booster, Fault, Settings};
use document::{Document, Snapshot};
use objective::Task;
use predictor::{Xgb, classes_for};

/// The encodings of XGBoost's model document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Ubjson,
}

/// Whether `class` is one this room reads.
pub fn reads(class: SkClass) -> bool {
    use SkClass::*;
    matches!(
        class,
        XgbClassifier | XgbRegressor | XgbRfClassifier | XgbRfRegressor | XgbRanker
    )
}

fn is_classifier(class: SkClass) -> bool {
    matches!(class, SkClass::XgbClassifier | SkClass::XgbRfClassifier)
}

/// The document `bytes` encode. Its text (UBJSON decoded, or a copy of the JSON) is held
/// against `budget` while it is read, and the document read from it, which holds at most as
/// much as its text, is charged for the rest of the load; the text is at most a few times the
/// file, which is charged before.
fn document<T: for<'a> serde::Deserialize<'a>>(
    bytes: &[u8],
    encoding: Encoding,
    budget: &Budget,
) -> Result<T, Fault> {
    let text = match encoding {
        Encoding::Json => std::str::from_utf8(bytes)
            .map_err(|e| Fault::Malformed(format!("not UTF-8 text ({e})")))?
            .to_owned(),
        Encoding::Ubjson => ubjson::to_json(bytes).map_err(|e| Fault::Malformed(e.to_string()))?,
    };
    let _text = budget
        .hold(text.len(), || "the model's document as text".to_owned())
        .map_err(Fault::TooLarge)?;
    budget
        .charge(text.len(), || "the model's document".to_owned())
        .map_err(Fault::TooLarge)?;
    document::parse(&text).map_err(Fault::Malformed)
}

/// The error of a document `what` names that cannot be read.
fn unreadable(what: &str, fault: Fault) -> LoadError {
    match fault {
        Fault::TooLarge(too_large) => LoadError::TooLarge(too_large),
        Fault::Malformed(e) | Fault::Unsupported(e) => {
            LoadError::Malformed(format!("{what} cannot be read: {e}"))
        }
    }
}

/// An error of the model `what` (`the XGBoost model`, `XGBClassifier: _Booster`) names.
fn fault(what: &str, fault: Fault) -> LoadError {
    match fault {
        Fault::Malformed(m) => LoadError::Malformed(format!("{what}: {m}")),
        Fault::Unsupported(m) => LoadError::Unsupported(format!("{what}: {m}")),
        Fault::TooLarge(too_large) => LoadError::TooLarge(too_large),
    }
}

/// `best_iteration + 1` as the wrapper reads it from the booster's attributes.
fn iterations_of(doc: &Document, what: &str) -> Result<Option<usize>, LoadError> {
    match doc.learner.attributes.get("best_iteration") {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|b| b.checked_add(1))
            .map(Some)
            .ok_or_else(|| {
                LoadError::Malformed(format!(
                    "{what}: attributes.best_iteration is {text:?}, not an iteration"
                ))
            }),
    }
}

/// A model file (`save_model`), served as the wrapper that saved it would serve it.
pub fn load_file(bytes: &[u8], encoding: Encoding, budget: &Budget) -> Result<Model, LoadError> {
    let what = "the XGBoost model";
    let doc: Document = document(bytes, encoding, budget).map_err(|f| unreadable(what, f))?;
    let settings = Settings {
        iterations: iterations_of(&doc, what)?,
    };
    let estimator_type = doc
        .learner
        .attributes
        .get("scikit_learn")
        .and_then(|meta| serde_json::from_str::<serde_json::Value>(meta).ok())
        .and_then(|meta| meta["_estimator_type"].as_str().map(str::to_owned));
    let booster = booster::read(doc, settings, budget).map_err(|f| fault(what, f))?;
    let task = booster.objective.task;
    let class = match (estimator_type.as_deref(), task) {
        (Some("ranker"), _) | (None, Task::Ranking) => SkClass::XgbRanker,
        (Some("regressor"), _) => SkClass::XgbRegressor,
        (_, Task::Binary | Task::Multiclass) => SkClass::XgbClassifier,
        _ => SkClass::XgbRegressor,
    };
    let classes = if is_classifier(class) {
        Some(classes_for(task, booster.k).ok_or_else(|| {
            LoadError::Unsupported(format!(
                "{what}: a classifier's objective {} is not a classification objective",
                booster.objective
            ))
        })?)
    } else {
        None
    };
    let predictor = Xgb {
        class,
        booster,
        missing: f32::NAN,
        classes,
    };
    let origin = Origin {
        format: match encoding {
            Encoding::Json => "json",
            Encoding::Ubjson => "ubjson",
        },
        compression: None,
        protocol: None,
    };
    Model::assemble(with_categories(predictor), None, class, None, origin)
}

/// The model of `predictor`, its training categories first where it keeps them (3.1 and
/// later), so that clients send a category by its name.
fn with_categories(predictor: Xgb) -> compose::Model {
    let categories = predictor.booster.categories.clone();
    let transformers: Vec<(String, Box<dyn Transformer>)> =
        if categories.iter().any(Option::is_some) {
            let codes = CategoryCodes::new(categories, Unknown::Refused, predictor.class.name());
            vec![("categories".to_owned(), Box::new(codes))]
        } else {
            Vec::new()
        };
    compose::Model {
        transformers,
        predictor: Box::new(predictor),
        wrappers: Vec::new(),
    }
}

/// A pickled wrapper: its parameters, and the model its `Booster` keeps as bytes.
pub fn read(state: &State<'_>) -> Result<compose::Model, LoadError> {
    let path = state.path.join("_Booster");
    let booster_state = State::of(state.heap, state.get("_Booster")?, &path)?;
    if booster_state.class != SkClass::XgbBooster {
        return Err(state.malformed("_Booster", "is not an xgboost.core.Booster"));
    }
    let Some(Node::Bytes(raw)) = booster_state
        .attr("handle")
        .and_then(|h| state.heap.node(h))
    else {
        return Err(
            booster_state.malformed("handle", "is not the model's bytes (was the model fitted?)")
        );
    };
    let encoding = match raw.get(..2) {
        Some([b'{', b'"']) => Encoding::Json,
        Some([b'{', second]) if second.is_ascii_alphabetic() => Encoding::Ubjson,
        _ => {
            return Err(booster_state.unsupported(
                "handle holds a model in XGBoost's binary format of before 1.0; save it with a \
                 newer XGBoost",
            ));
        }
    };
    let what = format!("{}: the model of _Booster", state.label());
    let snapshot: Snapshot =
        document(raw, encoding, state.heap.budget()).map_err(|f| unreadable(&what, f))?;
    let doc = snapshot.model;
    // XGBoost 1.7 keeps `best_iteration` on the Python object too.
    let iterations = match booster_state.count("best_iteration")? {
        Some(best) => Some(best + 1),
        None => iterations_of(&doc, &what)?,
    };
    let booster = booster::read(doc, Settings { iterations }, state.heap.budget())
        .map_err(|f| fault(&what, f))?;
    let missing = match state.attr("missing") {
        None | Some(super::value::Value::None) => f32::NAN,
        Some(_) => state.number("missing")?.map_or(f32::NAN, |m| m as f32),
    };
    let classes = if is_classifier(state.class) {
        Some(wrapper_classes(state, &booster)?)
    } else {
        None
    };
    Ok(with_categories(Xgb {
        class: state.class,
        booster,
        missing,
        classes,
    }))
}

/// A classifier's classes: `0..n_classes_`, checked against its objective's outputs.
fn wrapper_classes(state: &State<'_>, booster: &Booster) -> Result<Classes, LoadError> {
    let n = state
        .count("n_classes_")?
        .ok_or_else(|| state.malformed("n_classes_", "is missing"))?;
    let expected = match booster.objective.task {
        Task::Binary => 2,
        Task::Multiclass => booster.k,
        _ => {
            return Err(state.unsupported(format!(
                "the objective {} is not a classification objective",
                booster.objective
            )));
        }
    };
    if n != expected {
        return Err(state.malformed(
            "n_classes_",
            format!(
                "is {n}, but the booster's {} has {expected} classes",
                booster.objective
            ),
        ));
    }
    Ok(Classes::Int((0..n as i64).collect()))
}

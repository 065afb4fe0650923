//! Which room reads which class: the one place a new family of estimators registers, as one
//! entry of [`ROOMS`]. [`Catalog`] is the [`StepReader`] every composite is handed, so that a
//! Pipeline can hold any step the catalog knows without knowing it itself; [`supported`] lists
//! what is served, for messages and the docs.

use super::LoadError;
use super::allow::SkClass;
use super::cluster;
use super::compose::{self, Step, StepReader};
use super::covariance;
use super::cross_decomposition;
use super::gaussian;
use super::linear;
use super::mixture;
use super::preprocessing;
use super::state::{Path, State};
use super::tree;
use super::value::{Heap, Node, Value};

/// A family of classes and how they are read.
pub struct Room {
    /// How messages and the docs name the family.
    pub name: &'static str,
    /// Whether it reads `class`.
    pub reads: fn(SkClass) -> bool,
    /// Reads a step of one of its classes; `width` is the number of columns it is given,
    /// where the caller knows it.
    pub read: fn(&State<'_>, &dyn StepReader, Option<usize>) -> Result<Step, LoadError>,
}

/// Every room, each reading its own classes. A class read by none is refused at load.
pub const ROOMS: &[Room] = &[
    Room {
        name: "linear models",
        reads: linear::reads,
        read: |state, reader, _| linear::read_step(state, reader),
    },
    Room {
        name: "trees and tree ensembles",
        reads: tree::reads,
        read: |state, reader, _| tree::read(state, reader),
    },
    Room {
        name: "preprocessing",
        reads: preprocessing::reads,
        read: |state, _, width| Ok(Step::Transformer(preprocessing::read(state, width)?)),
    },
    Room {
        name: "composition",
        reads: compose::reads,
        read: compose::read,
    },
    Room {
        name: "cross decomposition",
        reads: cross_decomposition::reads,
        read: |state, _, _| cross_decomposition::read(state),
    },
    Room {
        name: "clusters",
        reads: cluster::reads,
        read: |state, _, _| cluster::read(state),
    },
    Room {
        name: "mixtures",
        reads: mixture::reads,
        read: |state, _, _| mixture::read(state),
    },
    Room {
        name: "covariance",
        reads: covariance::reads,
        read: |state, _, _| covariance::read(state),
    },
    Room {
        name: "kernel models and Gaussian processes",
        reads: gaussian::reads,
        read: |state, _, _| gaussian::read(state),
    },
];

/// Reads steps out of one file's values.
pub struct Catalog<'h> {
    pub heap: &'h Heap<'h>,
}

impl StepReader for Catalog<'_> {
    fn read(&self, value: Value, path: &Path, width: Option<usize>) -> Result<Step, LoadError> {
        let state = State::of(self.heap, value, path)?;
        let class = state.class;
        match ROOMS.iter().find(|room| (room.reads)(class)) {
            Some(room) => (room.read)(&state, self, width),
            None => Err(state.unsupported(format!(
                "{} is not an estimator skserve serves on its own",
                class.name()
            ))),
        }
    }
}

/// The classes served, room by room, in the table's order.
pub fn served() -> Vec<(&'static str, Vec<SkClass>)> {
    ROOMS
        .iter()
        .map(|room| {
            let classes = SkClass::ALL
                .iter()
                .copied()
                .filter(|&class| (room.reads)(class))
                .collect();
            (room.name, classes)
        })
        .collect()
}

/// What skserve serves, for messages: `linear models (LogisticRegression, …); trees …`.
pub fn supported() -> String {
    served()
        .into_iter()
        .map(|(room, classes)| {
            let names: Vec<&str> = classes.iter().map(|c| c.name()).collect();
            format!("{room} ({})", names.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The column names the model was fitted with: the `feature_names_in_` of the first step that
/// sees the client's columns (a Pipeline and a search record none of their own).
pub fn input_names(heap: &Heap<'_>, value: Value) -> Option<Vec<String>> {
    let state = State::of(heap, value, &Path::default()).ok()?;
    if let Ok(Some(names)) = state.feature_names() {
        return Some(names);
    }
    match state.class {
        SkClass::Pipeline => {
            let steps = state.items("steps").ok()?;
            let first = steps.iter().find_map(|step| {
                let pair = heap.tuple(*step)?;
                let estimator = *pair.get(1)?;
                matches!(heap.node(estimator), Some(Node::Object(_))).then_some(estimator)
            })?;
            input_names(heap, first)
        }
        SkClass::GridSearchCv | SkClass::RandomizedSearchCv => {
            input_names(heap, state.attr("best_estimator_")?)
        }
        _ => None,
    }
}

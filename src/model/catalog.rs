//! Which room reads which class: the one place a new family of estimators registers, as one
//! entry of [`ROOMS`]. [`Catalog`] is the [`StepReader`] every composite is handed, so that a
//! Pipeline can hold any step the catalog knows without knowing it itself; [`supported`] lists
//! what is served, for messages and the docs.
//!
//! The catalog also bounds what a file may make it read, whatever the rooms: estimators
//! nested at most [`MAX_NESTING`] steps deep, at most [`MAX_ESTIMATORS`] of them, and each
//! estimator object read once. A pickle is a graph, not a tree: without the last rule, a few
//! kilobytes of meta-estimators whose members all refer to one shared member would make the
//! reader walk it exponentially many times.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use super::LoadError;
use super::allow::SkClass;
use super::approximation;
use super::cluster;
use super::compose::{self, Model, Step, StepReader};
use super::covariance;
use super::cross_decomposition;
use super::decomposition;
use super::discriminant_analysis;
use super::gaussian;
use super::iterative;
use super::lightgbm;
use super::linear;
use super::manifold;
use super::meta;
use super::mixture;
use super::naive_bayes;
use super::neighbors;
use super::neural_network;
use super::preprocessing;
use super::selection;
use super::semi_supervised;
use super::state::{Path, State};
use super::svm;
use super::text;
use super::tree;
use super::value::{Heap, Node, NodeId, Value};
use super::xgboost;

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
    Room {
        name: "support vector machines",
        reads: svm::reads,
        read: |state, _, _| Ok(predicting(svm::read(state)?)),
    },
    Room {
        name: "naive Bayes",
        reads: naive_bayes::reads,
        read: |state, _, _| Ok(predicting(naive_bayes::read(state)?)),
    },
    Room {
        name: "discriminant analysis",
        reads: discriminant_analysis::reads,
        read: |state, _, _| Ok(predicting(discriminant_analysis::read(state)?)),
    },
    Room {
        name: "neural networks",
        reads: |class| neural_network::reads(class) || neural_network::reads_transformer(class),
        read: |state, _, _| {
            if neural_network::reads_transformer(state.class) {
                Ok(Step::Transformer(Box::new(neural_network::read_rbm(
                    state,
                )?)))
            } else {
                Ok(predicting(neural_network::read(state)?))
            }
        },
    },
    Room {
        name: "neighbours",
        reads: |class| neighbors::reads(class) || neighbors::reads_transformer(class),
        read: |state, _, _| {
            if neighbors::reads_transformer(state.class) {
                Ok(Step::Transformer(neighbors::read_transformer(state)?))
            } else {
                Ok(predicting(neighbors::read(state)?))
            }
        },
    },
    Room {
        name: "label propagation",
        reads: semi_supervised::reads,
        read: |state, _, _| Ok(predicting(semi_supervised::read(state)?)),
    },
    Room {
        name: "text",
        reads: text::reads,
        read: |state, _, width| Ok(Step::Transformer(text::read(state, width)?)),
    },
    Room {
        name: "decomposition",
        reads: decomposition::reads,
        read: |state, _, _| decomposition::read(state),
    },
    Room {
        name: "XGBoost",
        reads: xgboost::reads,
        read: |state, _, _| Ok(Step::Model(xgboost::read(state)?)),
    },
    Room {
        name: "LightGBM",
        reads: lightgbm::reads,
        read: |state, _, _| Ok(Step::Model(Model::alone(lightgbm::read(state)?))),
    },
    Room {
        name: "meta-estimators",
        reads: meta::reads,
        read: meta::read,
    },
    Room {
        name: "feature selection",
        reads: selection::reads,
        read: selection::read,
    },
    Room {
        name: "imputation by neighbours, densities, feature pooling and manifold embeddings",
        reads: manifold::reads,
        read: |state, _, _| manifold::read(state),
    },
    Room {
        name: "random projections and kernel approximation",
        reads: approximation::reads,
        read: |state, _, _| Ok(Step::Transformer(approximation::read(state)?)),
    },
    Room {
        name: "iterative imputation",
        reads: iterative::reads,
        read: |state, reader, _| Ok(Step::Transformer(iterative::read(state, reader)?)),
    },
];

/// Why a decomposition whose `transform` is an optimisation is refused.
const OPTIMISED_AT_PREDICT: &str = "its transform solves an optimisation problem for every row \
     it is given (iterations, tolerances and, for some, random restarts), so its answers cannot \
     be reproduced exactly outside scikit-learn";

/// Classes recognised and refused at load, each with the reason, rather than refused as
/// unknown.
pub const REFUSED: &[(SkClass, &str)] = &[
    (SkClass::Nmf, OPTIMISED_AT_PREDICT),
    (SkClass::MiniBatchNmf, OPTIMISED_AT_PREDICT),
    (SkClass::Lda, OPTIMISED_AT_PREDICT),
    (SkClass::DictionaryLearning, OPTIMISED_AT_PREDICT),
    (SkClass::MiniBatchDictionaryLearning, OPTIMISED_AT_PREDICT),
    (SkClass::SparseCoder, OPTIMISED_AT_PREDICT),
];

/// A final estimator alone, as a step.
fn predicting(predictor: Box<dyn super::estimator::Predictor>) -> Step {
    Step::Model(Model {
        transformers: Vec::new(),
        predictor,
        wrappers: Vec::new(),
    })
}

/// How many steps deep estimators may nest (a search around a Pipeline around a
/// ColumnTransformer around a Pipeline is five; a stacked ensemble of such, eight).
pub const MAX_NESTING: usize = 16;

/// How many estimators one file may hold, counted as they are read (a bagged ensemble of 500
/// trees is 501; a one-vs-one classifier of 100 classes, 4,951).
pub const MAX_ESTIMATORS: usize = 50_000;

/// Reads steps out of one file's values.
pub struct Catalog<'h> {
    pub heap: &'h Heap<'h>,
    /// Estimators read so far.
    read: Cell<usize>,
    /// The objects read so far.
    seen: RefCell<HashSet<NodeId>>,
}

impl<'h> Catalog<'h> {
    pub fn new(heap: &'h Heap<'h>) -> Self {
        Self {
            heap,
            read: Cell::new(0),
            seen: RefCell::new(HashSet::new()),
        }
    }

    /// Counts the step at `value` against the limits, before it is read.
    fn admit(&self, value: Value, path: &Path) -> Result<(), LoadError> {
        let at = || {
            if path.is_root() {
                "the model".to_owned()
            } else {
                format!("step {path}")
            }
        };
        if path.depth() > MAX_NESTING {
            return Err(LoadError::Unsupported(format!(
                "{}: estimators nest more than {MAX_NESTING} steps deep",
                at()
            )));
        }
        let read = self.read.get() + 1;
        if read > MAX_ESTIMATORS {
            return Err(LoadError::Unsupported(format!(
                "{}: the file holds more than {MAX_ESTIMATORS} estimators",
                at()
            )));
        }
        self.read.set(read);
        if let Value::Ref(id) = value
            && !self.seen.borrow_mut().insert(id)
        {
            return Err(LoadError::Malformed(format!(
                "{}: is an estimator object already read at another step (a fitted model \
                 holds each of its estimators once)",
                at()
            )));
        }
        Ok(())
    }
}

impl StepReader for Catalog<'_> {
    fn read(&self, value: Value, path: &Path, width: Option<usize>) -> Result<Step, LoadError> {
        self.admit(value, path)?;
        let state = State::of(self.heap, value, path)?;
        let class = state.class;
        if let Some((_, why)) = REFUSED.iter().find(|(refused, _)| *refused == class) {
            return Err(state.unsupported(format!("{} is not served: {why}", class.name())));
        }
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
        SkClass::GridSearchCv
        | SkClass::RandomizedSearchCv
        | SkClass::HalvingGridSearchCv
        | SkClass::HalvingRandomSearchCv => input_names(heap, state.attr("best_estimator_")?),
        // A meta-estimator that does not check its input itself: its first member does.
        class if meta::reads(class) => input_names(heap, meta::first_member(&state)?),
        _ => None,
    }
}

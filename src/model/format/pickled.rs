//! Pickles and joblib files as a [`ModelFormat`]: the compression is peeled off (`joblib`),
//! the stream is run by the restricted VM (`pickle`), and the object it builds is read by the
//! catalog's rooms into a [`Model`]. Nothing the file names is ever called.
//!
//! What must not live here: the VM's opcodes (`pickle`), compression (`joblib`), what an
//! estimator's state means (the rooms, through `catalog`).

use super::{Audit, ModelFormat};
use crate::model::compose::{self, Step, StepReader};
use crate::model::joblib::Container;
use crate::model::pickle::{self, opcodes};
use crate::model::state::{Path, State};
use crate::model::{BYTES_PER_INPUT_COLUMN, Budget, LoadError, Model, Origin, catalog};

/// Pickle streams, plain or in a joblib container of any compression.
pub struct Pickled;

impl ModelFormat for Pickled {
    fn name(&self) -> &'static str {
        "pickle"
    }

    fn sniff(&self, bytes: &[u8]) -> bool {
        // joblib's format before 0.10 is recognised so that its refusal can say what it is.
        Container::detect(bytes).is_ok() || bytes.starts_with(b"ZF")
    }

    fn load(&self, bytes: &[u8], budget: &Budget) -> Result<Model, LoadError> {
        let container = Container::detect(bytes).map_err(LoadError::Malformed)?;
        let stream = container.open(bytes, budget)?;
        let mut globals = Vec::new();
        let unpickled = pickle::unpickle(&stream, pickle::Mode::Load, &mut globals, budget)?;
        let heap = &unpickled.heap;
        let root = unpickled.root;
        let catalog = catalog::Catalog { heap };
        let root_state = State::of(heap, root, &Path::default())?;
        let root_class = root_state.class;
        let sklearn_version = root_state.sklearn_version().map(str::to_owned);
        let model = match catalog.read(root, &Path::default(), None)? {
            Step::Model(model) => model,
            Step::Transformer(t) => compose::transforming(t),
            Step::Passthrough | Step::Drop => {
                return Err(LoadError::Unsupported(
                    "the file holds a Pipeline with no steps that do anything".into(),
                ));
            }
        };
        let n_inputs = model
            .transformers
            .first()
            .map_or(model.predictor.n_features_in(), |(_, t)| t.n_features_in());
        budget.charge_items(n_inputs, BYTES_PER_INPUT_COLUMN, || {
            format!("a model of {n_inputs} input columns")
        })?;
        let origin = Origin {
            format: if is_joblib(&globals) || container != Container::Plain {
                "joblib"
            } else {
                "pickle"
            },
            compression: Some(container).filter(|c| *c != Container::Plain),
            protocol: Some(unpickled.protocol),
        };
        Model::assemble(
            model,
            catalog::input_names(heap, root),
            root_class,
            sklearn_version,
            origin,
        )
    }

    fn audit(&self, bytes: &[u8], budget: &Budget) -> Audit {
        let container = Container::detect(bytes);
        let mut globals = Vec::new();
        let mut protocol = None;
        let opened = container
            .clone()
            .map_err(LoadError::Malformed)
            .and_then(|c| c.open(bytes, budget));
        if let Ok(stream) = opened {
            if let Ok(audited) =
                pickle::unpickle(&stream, pickle::Mode::Audit, &mut globals, budget)
            {
                protocol = Some(audited.protocol);
            } else if let [opcodes::PROTO, p, ..] = stream[..] {
                protocol = Some(p);
            }
        }
        let mut seen = std::collections::HashSet::new();
        globals.retain(|g| seen.insert(g.name.clone()));
        let compression = container.ok().filter(|c| *c != Container::Plain);
        Audit {
            format: Some(if is_joblib(&globals) || compression.is_some() {
                "joblib"
            } else {
                "pickle"
            }),
            compression,
            protocol,
            globals,
        }
    }
}

/// Whether a stream's globals are joblib's (its arrays follow their wrappers in the stream).
fn is_joblib(globals: &[pickle::GlobalRef]) -> bool {
    globals
        .iter()
        .any(|g| g.name.ends_with("NumpyArrayWrapper"))
}

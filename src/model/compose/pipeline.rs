//! Pipeline: its `steps`, each read through the catalog and checked to take what the step
//! before it gives. Nested Pipelines are flattened; `passthrough` and `None` steps are
//! skipped, as `Pipeline._iter` skips them. A Pipeline ending in a predictor is a model; one
//! of transformers only is itself a transformer ([`Chain`]), as inside a ColumnTransformer.

use super::{Model, Step, StepReader, needs_before};
use crate::model::LoadError;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::state::State;
use crate::model::value::Value;

/// Reads a Pipeline's steps.
pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<Step, LoadError> {
    let steps = state.items("steps")?;
    if steps.is_empty() {
        return Err(state.malformed("steps", "is empty"));
    }
    let mut transformers: Vec<(String, Box<dyn Transformer>)> = Vec::new();
    let mut width = width;
    let mut names = std::collections::HashSet::new();
    for (i, step) in steps.iter().enumerate() {
        let pair = state
            .heap
            .tuple(*step)
            .filter(|t| t.len() == 2)
            .ok_or_else(|| {
                state.malformed(&format!("steps[{i}]"), "is not a (name, estimator) pair")
            })?;
        let name = state.heap.str(pair[0]).ok_or_else(|| {
            state.malformed(&format!("steps[{i}]"), "has a name that is not a string")
        })?;
        if !names.insert(name) {
            return Err(state.malformed("steps", format!("names the step '{name}' twice")));
        }
        let path = state.path.join(name);
        let last = i + 1 == steps.len();
        let step = match state.heap.str(pair[1]) {
            Some("passthrough") => Step::Passthrough,
            Some(other) => {
                return Err(state.malformed(
                    &format!("steps[{i}]"),
                    format!("is the string {other:?}, not an estimator"),
                ));
            }
            None if pair[1] == Value::None => Step::Passthrough,
            None => reader.read(pair[1], &path, width)?,
        };
        match step {
            Step::Passthrough => {}
            Step::Drop => {
                return Err(state.malformed(
                    &format!("steps[{i}]"),
                    "is 'drop', which a Pipeline cannot hold",
                ));
            }
            Step::Transformer(t) => {
                check_width(state, name, t.n_features_in(), width)?;
                width = Some(t.sources().len());
                transformers.push((name.to_owned(), t));
            }
            Step::Model(model) if last => {
                let first_width = model
                    .transformers
                    .first()
                    .map_or(model.predictor.n_features_in(), |(_, t)| t.n_features_in());
                check_width(state, name, first_width, width)?;
                transformers.extend(
                    model
                        .transformers
                        .into_iter()
                        .map(|(inner, t)| (format!("{name} > {inner}"), t)),
                );
                return Ok(Step::Model(Model {
                    transformers,
                    predictor: model.predictor,
                    wrappers: model.wrappers,
                }));
            }
            // An estimator that also transforms (LinearDiscriminantAnalysis) is a
            // transformer wherever it is not the last step.
            Step::Model(model)
                if model.transformers.is_empty()
                    && let Some(t) = model.predictor.as_transformer() =>
            {
                check_width(state, name, t.n_features_in(), width)?;
                width = Some(t.sources().len());
                transformers.push((name.to_owned(), t));
            }
            Step::Model(model) => {
                // A step that predicts and also transforms (RFE), as a transformer.
                let Some(t) = model.predictor.as_transformer() else {
                    return Err(LoadError::Unsupported(format!(
                        "step {} ({}) predicts, but it is not the last step of its Pipeline",
                        path,
                        model.predictor.class()
                    )));
                };
                check_width(state, name, t.n_features_in(), width)?;
                width = Some(t.sources().len());
                transformers.push((name.to_owned(), t));
            }
        }
    }
    if transformers.is_empty() {
        return Ok(Step::Passthrough);
    }
    Ok(Step::Transformer(Box::new(Chain {
        steps: transformers,
    })))
}

fn check_width(
    state: &State<'_>,
    name: &str,
    takes: usize,
    given: Option<usize>,
) -> Result<(), LoadError> {
    match given {
        Some(given) if given != takes => Err(state.malformed(
            &format!("step '{name}'"),
            format!("takes {takes} features but is given {given}"),
        )),
        _ => Ok(()),
    }
}

/// Transformers applied one after the other.
#[derive(Debug)]
pub struct Chain {
    pub steps: Vec<(String, Box<dyn Transformer>)>,
}

impl Chain {
    /// For each output of the first `k` steps, the chain's input it comes from.
    fn sources_through(&self, k: usize) -> Vec<usize> {
        let mut sources: Vec<usize> = (0..self.n_features_in()).collect();
        for (_, step) in &self.steps[..k] {
            sources = step.sources().iter().map(|&s| sources[s]).collect();
        }
        sources
    }
}

impl Transformer for Chain {
    fn class(&self) -> &'static str {
        "Pipeline"
    }

    fn n_features_in(&self) -> usize {
        self.steps[0].1.n_features_in()
    }

    fn sources(&self) -> Vec<usize> {
        self.sources_through(self.steps.len())
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut names = input.to_vec();
        for (_, step) in &self.steps {
            names = step.feature_names_out(&names);
        }
        names
    }

    fn needs(&self) -> Vec<Needs> {
        let mut needs =
            vec![Needs::AsOutput; self.steps.last().map_or(0, |(_, s)| s.sources().len())];
        for (_, step) in self.steps.iter().rev() {
            needs = needs_before(step.as_ref(), &needs);
        }
        needs
    }

    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        // The first step that knows categories for the feature (an encoder) names them, as
        // long as the steps before it pass the feature on.
        let mut index = feature;
        for (_, step) in &self.steps {
            if let Some(categories) = step.categories(index) {
                return Some(categories);
            }
            index = step.sources().iter().position(|&s| s == index)?;
        }
        None
    }

    // Only the first step reads the values as the chain's caller sent them: a later step's
    // range, or its idea of what was missing, is about values the steps before it changed.
    fn fitted_range(&self, feature: usize) -> Option<(f64, f64)> {
        self.steps.first()?.1.fitted_range(feature)
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        self.steps.first()?.1.fitted_missing(feature)
    }

    fn transform(&self, mut data: Data) -> Result<Data, Refusal> {
        for (k, (_, step)) in self.steps.iter().enumerate() {
            data = step.transform(data).map_err(|mut refusal| {
                // Say which of the chain's own inputs the refused value came from (worked
                // out only here, so that the rows that pass pay nothing for it).
                refusal.feature = self.sources_through(k)[refusal.feature];
                refusal
            })?;
        }
        Ok(data)
    }

    fn chain(&self) -> Vec<String> {
        self.steps.iter().flat_map(|(_, s)| s.chain()).collect()
    }

    fn mixes_features(&self) -> bool {
        self.steps.iter().any(|(_, s)| s.mixes_features())
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let mut names = input.to_vec();
        let steps: Vec<serde_json::Value> = self
            .steps
            .iter()
            .map(|(name, step)| {
                let mut d = step.describe(&names);
                if let Some(obj) = d.as_object_mut() {
                    obj.insert("step".into(), name.clone().into());
                }
                names = step.feature_names_out(&names);
                d
            })
            .collect();
        serde_json::json!({ "class": "Pipeline", "steps": steps })
    }
}

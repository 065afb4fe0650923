//! ColumnTransformer: its fitted `transformers_` (the remainder among them), each given the
//! columns it selects, outputs side by side in order (`np.hstack`: a float32 block next to a
//! float64 one gives float64), `transformer_weights` applied, output names prefixed by the
//! transformer's name when `verbose_feature_names_out` is true (or formatted by it when it is
//! a string). A transformer whose selection is empty is skipped, as scikit-learn skips it.

use super::columns::resolve;
use super::{Step, StepReader, combine, needs_before};
use crate::model::LoadError;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::input::ColumnKind;
use crate::model::state::{State, number_of};
use crate::model::value::{Node, Value};

/// What one entry of `transformers_` does with its columns.
#[derive(Debug)]
enum Part {
    Transformer(Box<dyn Transformer>),
    Passthrough,
}

#[derive(Debug)]
struct Entry {
    name: String,
    part: Part,
    /// The input positions it is given.
    columns: Vec<usize>,
    weight: Option<f64>,
}

/// How output names are made.
#[derive(Clone, Debug, PartialEq)]
enum Naming {
    /// `{transformer}__{feature}`, or a format string with those two fields.
    Prefixed(String),
    Plain,
}

#[derive(Debug)]
pub struct ColumnTransformer {
    n_features: usize,
    entries: Vec<Entry>,
    naming: Naming,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<ColumnTransformer, LoadError> {
    let names = state.feature_names()?;
    let n_features = match (state.count("n_features_in_")?, &names, width) {
        (Some(n), _, _) => n,
        (None, Some(names), _) => names.len(),
        (None, None, Some(w)) => w,
        (None, None, None) => return Err(state.malformed("n_features_in_", "is missing")),
    };
    state.check_n_features(n_features, "its input")?;
    if let Some(w) = width
        && w != n_features
    {
        return Err(state.malformed(
            "n_features_in_",
            format!("is {n_features} but it is given {w} columns"),
        ));
    }
    let weights: Vec<(String, f64)> = match state.attr("transformer_weights") {
        None | Some(Value::None) => Vec::new(),
        Some(value) => match state.heap.node(value) {
            Some(Node::Dict(items)) => items
                .iter()
                .map(|(k, v)| {
                    let name = state.heap.str(*k).map(str::to_owned);
                    let weight = number_of(state.heap, *v);
                    name.zip(weight).ok_or_else(|| {
                        state.malformed("transformer_weights", "is not a dict of names to numbers")
                    })
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(state.malformed("transformer_weights", "is not a dict")),
        },
    };
    let items = state.items("transformers_")?;
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let attr = format!("transformers_[{i}]");
        let triple = state
            .heap
            .tuple(*item)
            .filter(|t| t.len() == 3)
            .ok_or_else(|| {
                state.malformed(&attr, "is not a (name, transformer, columns) triple")
            })?;
        let name = state
            .heap
            .str(triple[0])
            .ok_or_else(|| state.malformed(&attr, "has a name that is not a string"))?;
        let columns = resolve(
            state,
            &format!("{attr} columns"),
            triple[2],
            n_features,
            names.as_deref(),
        )?;
        if columns.is_empty() {
            continue;
        }
        let part = match state.heap.str(triple[1]) {
            Some("drop") => continue,
            Some("passthrough") => Part::Passthrough,
            Some(other) => {
                return Err(state.malformed(
                    &attr,
                    format!("holds the string {other:?}, not a transformer"),
                ));
            }
            None => match reader.read(triple[1], &state.path.join(name), Some(columns.len()))? {
                Step::Drop => continue,
                Step::Passthrough => Part::Passthrough,
                Step::Transformer(t) => {
                    if t.n_features_in() != columns.len() {
                        return Err(state.malformed(
                            &attr,
                            format!(
                                "'{name}' takes {} features but selects {} columns",
                                t.n_features_in(),
                                columns.len()
                            ),
                        ));
                    }
                    Part::Transformer(t)
                }
                Step::Model(m) => {
                    let class = m.predictor.class();
                    match m.into_transformer() {
                        Some(t) if t.n_features_in() == columns.len() => Part::Transformer(t),
                        _ => {
                            return Err(LoadError::Unsupported(format!(
                                "step {} ({class}) predicts; a ColumnTransformer holds \
                                 transformers",
                                state.path.join(name),
                            )));
                        }
                    }
                }
            },
        };
        let weight = weights.iter().find(|(n, _)| n == name).map(|(_, w)| *w);
        entries.push(Entry {
            name: name.to_owned(),
            part,
            columns,
            weight,
        });
    }
    let naming = match state.attr("verbose_feature_names_out") {
        None | Some(Value::Bool(true)) => {
            Naming::Prefixed("{transformer_name}__{feature_name}".into())
        }
        Some(Value::Bool(false)) => Naming::Plain,
        Some(v) => match state.heap.str(v) {
            Some(format) => Naming::Prefixed(format.to_owned()),
            None => {
                return Err(state.unsupported(
                    "verbose_feature_names_out is a callable; skserve runs no code from a file",
                ));
            }
        },
    };
    Ok(ColumnTransformer {
        n_features,
        entries,
        naming,
    })
}

impl Entry {
    fn width_out(&self) -> usize {
        match &self.part {
            Part::Transformer(t) => t.sources().len(),
            Part::Passthrough => self.columns.len(),
        }
    }
}

impl ColumnTransformer {
    /// What the first transformer given `feature` says of it (at its own position), if any.
    fn first_known<T>(
        &self,
        feature: usize,
        ask: impl Fn(&dyn Transformer, usize) -> Option<T>,
    ) -> Option<T> {
        self.entries.iter().find_map(|e| match &e.part {
            Part::Transformer(t) => {
                let local = e.columns.iter().position(|&c| c == feature)?;
                ask(t.as_ref(), local)
            }
            Part::Passthrough => None,
        })
    }
}

impl Transformer for ColumnTransformer {
    fn class(&self) -> &'static str {
        "ColumnTransformer"
    }

    fn mixes_features(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(&e.part, Part::Transformer(t) if t.mixes_features()))
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        self.entries
            .iter()
            .flat_map(|e| match &e.part {
                Part::Transformer(t) => t
                    .sources()
                    .iter()
                    .map(|&s| e.columns[s])
                    .collect::<Vec<_>>(),
                Part::Passthrough => e.columns.clone(),
            })
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.entries {
            let given: Vec<String> = e.columns.iter().map(|&c| input[c].clone()).collect();
            let names = match &e.part {
                Part::Transformer(t) => t.feature_names_out(&given),
                Part::Passthrough => given,
            };
            out.extend(names.into_iter().map(|n| {
                match &self.naming {
                    Naming::Plain => n,
                    Naming::Prefixed(format) => format
                        .replace("{transformer_name}", &e.name)
                        .replace("{feature_name}", &n),
                }
            }));
        }
        out
    }

    fn needs(&self) -> Vec<Needs> {
        let mut per_column: Vec<Vec<Needs>> = vec![Vec::new(); self.n_features];
        for e in &self.entries {
            let needs = match &e.part {
                Part::Transformer(t) => {
                    needs_before(t.as_ref(), &vec![Needs::AsOutput; t.sources().len()])
                }
                Part::Passthrough => vec![Needs::AsOutput; e.columns.len()],
            };
            for (need, &column) in needs.into_iter().zip(&e.columns) {
                per_column[column].push(need);
            }
        }
        per_column
            .into_iter()
            .map(|needs| {
                if needs.is_empty() {
                    Needs::Kind(ColumnKind::Unused)
                } else {
                    combine(needs)
                }
            })
            .collect()
    }

    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        self.first_known(feature, |t, local| t.categories(local))
    }

    fn fitted_range(&self, feature: usize) -> Option<(f64, f64)> {
        self.first_known(feature, |t, local| t.fitted_range(local))
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        self.first_known(feature, |t, local| t.fitted_missing(local))
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let n_rows = data.n_rows();
        let mut parts = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let selected = data.select(&e.columns);
            let mut out = match &e.part {
                Part::Transformer(t) => t.transform(selected).map_err(|mut refusal| {
                    refusal.feature = e.columns[refusal.feature];
                    refusal
                })?,
                Part::Passthrough => selected,
            };
            if let (Some(w), Data::Numbers { values, dtype }) = (e.weight, &mut out) {
                let d = *dtype;
                values.mapv_inplace(|v| d.round(v * w));
            }
            debug_assert_eq!(out.n_columns(), e.width_out());
            parts.push(out);
        }
        if parts.is_empty() {
            return Ok(Data::Numbers {
                values: ndarray::Array2::zeros((n_rows, 0)),
                dtype: crate::model::input::Dtype::F64,
            });
        }
        Ok(Data::hstack(parts, n_rows))
    }

    fn chain(&self) -> Vec<String> {
        vec!["ColumnTransformer".into()]
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let transformers: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| {
                let given: Vec<String> = e.columns.iter().map(|&c| input[c].clone()).collect();
                let mut d = match &e.part {
                    Part::Transformer(t) => t.describe(&given),
                    Part::Passthrough => serde_json::json!({"class": "passthrough"}),
                };
                if let Some(obj) = d.as_object_mut() {
                    obj.insert("name".into(), e.name.clone().into());
                    obj.entry("columns").or_insert_with(|| given.into());
                }
                d
            })
            .collect();
        let used: std::collections::HashSet<usize> = self
            .entries
            .iter()
            .flat_map(|e| e.columns.iter().copied())
            .collect();
        let dropped: Vec<&String> = (0..self.n_features)
            .filter(|c| !used.contains(c))
            .map(|c| &input[c])
            .collect();
        serde_json::json!({ "class": "ColumnTransformer", "transformers": transformers, "dropped": dropped })
    }
}

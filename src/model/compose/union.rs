//! FeatureUnion: every transformer of `transformer_list` given the whole input, outputs side
//! by side in order (`np.hstack`), each multiplied by its `transformer_weights` entry;
//! `"drop"` left out, `"passthrough"` the input itself; output names prefixed by the
//! transformer's name unless `verbose_feature_names_out` is false (1.5+).

use super::{Step, StepReader, combine, needs_before};
use crate::model::LoadError;
use crate::model::estimator::{Data, Needs, Refusal, Transformer};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::state::{State, number_of};
use crate::model::value::{Node, Value};

#[derive(Debug)]
enum Part {
    Transformer(Box<dyn Transformer>),
    Passthrough,
}

#[derive(Debug)]
struct Entry {
    name: String,
    part: Part,
    weight: Option<f64>,
}

#[derive(Debug)]
pub struct FeatureUnion {
    n_features: usize,
    entries: Vec<Entry>,
    prefixed: bool,
}

pub fn read(
    state: &State<'_>,
    reader: &dyn StepReader,
    width: Option<usize>,
) -> Result<FeatureUnion, LoadError> {
    let weights: Vec<(String, f64)> = match state.attr("transformer_weights") {
        None | Some(Value::None) => Vec::new(),
        Some(value) => match state.heap.node(value) {
            Some(Node::Dict(items)) => items
                .iter()
                .map(|(k, v)| {
                    let name = state.heap.str(*k).map(str::to_owned);
                    let weight = number_of(state.heap, *v).filter(|w| w.is_finite());
                    name.zip(weight).ok_or_else(|| {
                        state.malformed("transformer_weights", "is not a dict of names to numbers")
                    })
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(state.malformed("transformer_weights", "is not a dict")),
        },
    };
    let items = state.items("transformer_list")?;
    let mut width = match (state.count("n_features_in_")?, width) {
        (Some(n), Some(w)) if n != w => {
            return Err(state.malformed(
                "n_features_in_",
                format!("is {n} but it is given {w} columns"),
            ));
        }
        (Some(n), _) | (None, Some(n)) => Some(n),
        (None, None) => None,
    };
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let attr = format!("transformer_list[{i}]");
        let pair = state
            .heap
            .tuple(*item)
            .filter(|t| t.len() == 2)
            .ok_or_else(|| state.malformed(&attr, "is not a (name, transformer) pair"))?;
        let name = state
            .heap
            .str(pair[0])
            .ok_or_else(|| state.malformed(&attr, "has a name that is not a string"))?;
        let part = match (state.heap.str(pair[1]), pair[1]) {
            (Some("drop"), _) | (None, Value::None) => continue,
            (Some("passthrough"), _) => Part::Passthrough,
            (Some(other), _) => {
                return Err(state.malformed(
                    &attr,
                    format!("holds the string {other:?}, not a transformer"),
                ));
            }
            (None, value) => match reader.read(value, &state.path.join(name), width)? {
                Step::Drop => continue,
                Step::Passthrough => Part::Passthrough,
                Step::Transformer(t) => Part::Transformer(t),
                Step::Model(m) => {
                    let class = m.predictor.class();
                    match m.into_transformer() {
                        Some(t) => Part::Transformer(t),
                        None => {
                            return Err(LoadError::Unsupported(format!(
                                "step {} ({class}) predicts; a FeatureUnion holds transformers",
                                state.path.join(name),
                            )));
                        }
                    }
                }
            },
        };
        if let Part::Transformer(t) = &part {
            match width {
                Some(w) if w != t.n_features_in() => {
                    return Err(state.malformed(
                        &attr,
                        format!(
                            "'{name}' takes {} features but the union is given {w}",
                            t.n_features_in()
                        ),
                    ));
                }
                _ => width = Some(t.n_features_in()),
            }
        }
        let weight = weights.iter().find(|(n, _)| n == name).map(|(_, w)| *w);
        entries.push(Entry {
            name: name.to_owned(),
            part,
            weight,
        });
    }
    let n_features = width.ok_or_else(|| {
        state.malformed(
            "transformer_list",
            "holds no transformer that says its input's width",
        )
    })?;
    Ok(FeatureUnion {
        n_features,
        entries,
        prefixed: state.bool_or("verbose_feature_names_out", true)?,
    })
}

impl Entry {
    fn sources(&self, n_features: usize) -> Vec<usize> {
        match &self.part {
            Part::Transformer(t) => t.sources(),
            Part::Passthrough => (0..n_features).collect(),
        }
    }
}

impl Transformer for FeatureUnion {
    fn class(&self) -> &'static str {
        "FeatureUnion"
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        self.entries
            .iter()
            .flat_map(|e| e.sources(self.n_features))
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.entries {
            let names = match &e.part {
                Part::Transformer(t) => t.feature_names_out(input),
                Part::Passthrough => input.to_vec(),
            };
            out.extend(names.into_iter().map(|n| {
                if self.prefixed {
                    format!("{}__{n}", e.name)
                } else {
                    n
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
                Part::Passthrough => vec![Needs::AsOutput; self.n_features],
            };
            for (column, need) in needs.into_iter().enumerate() {
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
        self.entries.iter().find_map(|e| match &e.part {
            Part::Transformer(t) => t.categories(feature),
            Part::Passthrough => None,
        })
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let n_rows = data.n_rows();
        let mut parts = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let mut out = match &e.part {
                Part::Transformer(t) => t.transform(data.clone())?,
                Part::Passthrough => data.clone(),
            };
            if let Some(w) = e.weight {
                out = weighted(out, w, &e.name)?;
            }
            parts.push(out);
        }
        if parts.is_empty() {
            return Ok(Data::Numbers {
                values: ndarray::Array2::zeros((n_rows, 0)),
                dtype: Dtype::F64,
            });
        }
        Ok(Data::hstack(parts, n_rows))
    }

    fn chain(&self) -> Vec<String> {
        vec!["FeatureUnion".into()]
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let transformers: Vec<serde_json::Value> = self
            .entries
            .iter()
            .map(|e| {
                let mut d = match &e.part {
                    Part::Transformer(t) => t.describe(input),
                    Part::Passthrough => serde_json::json!({"class": "passthrough"}),
                };
                if let Some(obj) = d.as_object_mut() {
                    obj.insert("name".into(), e.name.clone().into());
                    if let Some(w) = e.weight {
                        obj.insert("weight".into(), w.into());
                    }
                }
                d
            })
            .collect();
        serde_json::json!({ "class": "FeatureUnion", "transformers": transformers })
    }
}

/// `res * weight`: numbers multiplied (integers become float64 for a float weight).
fn weighted(data: Data, weight: f64, name: &str) -> Result<Data, Refusal> {
    let (mut values, dtype) = data.into_numbers(name)?;
    let dtype = match dtype {
        Dtype::F32 => Dtype::F32,
        _ => Dtype::F64,
    };
    values.mapv_inplace(|v| dtype.round(v * weight));
    Ok(Data::Numbers { values, dtype })
}

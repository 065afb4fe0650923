//! OneHotEncoder and OrdinalEncoder, as `_BaseEncoder._transform` and each encoder's
//! `transform` compute them: a value's index in its feature's categories, unknown values by
//! `handle_unknown` (`error`, `ignore`, `infrequent_if_exist`/`warn`, `use_encoded_value`),
//! infrequent categories grouped, then OneHotEncoder's `drop` (indices after grouping:
//! `_drop_idx_after_grouping` from 1.2 on, `drop_idx_` before) and OrdinalEncoder's
//! `encoded_missing_value` and `unknown_value`.

use ndarray::Array2;

use super::categories::{Categories, Infrequent, positions, read_infrequent};
use crate::model::LoadError;
use crate::model::allow::{Callable, SkClass};
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::input::{Cell, ColumnKind, Dtype, quoted_list};
use crate::model::state::{State, describe, number_of};
use crate::model::value::{Kind as ValueKind, Node, Value};

/// What to do with a category training did not see.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unknown {
    Error,
    /// One-hot: all zeros.
    Ignore,
    /// One-hot: the infrequent category if the feature has one, else all zeros.
    Infrequent,
    /// Ordinal: this code.
    Encoded(f64),
}

/// One encoded feature.
#[derive(Clone, Debug, PartialEq)]
struct Feature {
    categories: Categories,
    infrequent: Option<Infrequent>,
}

/// Reads `categories_` and the infrequent grouping shared by both encoders. `ungrouped` names,
/// per feature, a missing category left out of the grouping (OrdinalEncoder's
/// `_missing_indices`).
fn read_features(
    state: &State<'_>,
    categories: Vec<Categories>,
    ungrouped: &[Option<usize>],
) -> Result<Vec<Feature>, LoadError> {
    let infrequent = read_infrequent(state, &categories, ungrouped)?;
    Ok(categories
        .into_iter()
        .zip(infrequent)
        .map(|(categories, infrequent)| Feature {
            categories,
            infrequent,
        })
        .collect())
}

pub(super) fn read_categories(state: &State<'_>) -> Result<Vec<Categories>, LoadError> {
    let list = state.items("categories_")?;
    if list.is_empty() {
        return Err(state.malformed("categories_", "is empty"));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| Categories::read(state, &format!("categories_[{i}]"), *v))
        .collect()
}

/// The dtype an encoder writes (`dtype=np.float64` is pickled as the type `numpy.float64`).
fn read_dtype(state: &State<'_>) -> Result<Dtype, LoadError> {
    let Some(value) = state.attr("dtype") else {
        return Ok(Dtype::F64);
    };
    let name = match state.heap.node(value) {
        Some(Node::Global(Callable::Inert(name))) => {
            name.rsplit('.').next().unwrap_or("").to_owned()
        }
        Some(Node::Dtype(d)) => match d.kind {
            ValueKind::Float if d.size == 4 => "float32".into(),
            ValueKind::Float => "float64".into(),
            ValueKind::Int | ValueKind::UInt => "int64".into(),
            ValueKind::Bool => "bool_".into(),
            _ => "object".into(),
        },
        Some(Node::Str(s)) => s.to_string(),
        _ => return Err(state.malformed("dtype", "is not a numpy dtype")),
    };
    match name.as_str() {
        "float64" | "float" => Ok(Dtype::F64),
        "float32" => Ok(Dtype::F32),
        "float16" => Err(state.unsupported("dtype=float16 is not served")),
        "bool_" | "bool" => Ok(Dtype::Bool),
        n if n.starts_with("int") || n.starts_with("uint") || n == "longlong" || n == "intc" => {
            Ok(Dtype::Int)
        }
        other => Err(state.malformed("dtype", format!("is {other}, not a numeric dtype"))),
    }
}

/// The index of a value among a feature's categories after `handle_unknown` and grouping,
/// and whether it counts (`X_mask`), as `_transform` and `_map_infrequent_categories` leave
/// them. `keep_missing` leaves the missing category ungrouped (OrdinalEncoder).
#[inline]
fn code(
    feature: &Feature,
    cell: Cell<'_>,
    unknown: Unknown,
    missing_ungrouped: Option<usize>,
    label: &str,
    row: usize,
    index: usize,
) -> Result<(usize, bool), Refusal> {
    let (mut j, mut valid) = match feature.categories.find(cell) {
        Some(j) => (j, true),
        None if unknown == Unknown::Error => {
            let problem = if cell == Cell::Missing {
                Problem::Missing {
                    step: label.to_owned(),
                }
            } else {
                Problem::UnknownCategory {
                    value: cell.describe(),
                    allowed: quoted_list(&feature.categories.names()),
                }
            };
            return Err(Refusal {
                row,
                feature: index,
                problem,
            });
        }
        None => (0, false),
    };
    if let Some(grouped) = &feature.infrequent {
        if !valid {
            j = grouped.indices[0];
            if unknown == Unknown::Infrequent {
                valid = true;
            }
        }
        if missing_ungrouped != Some(j) {
            j = grouped.mapping[j];
        }
    }
    Ok((j, valid))
}

fn read_unknown(state: &State<'_>, one_hot: bool) -> Result<Unknown, LoadError> {
    match state.text("handle_unknown").unwrap_or("error") {
        "error" => Ok(Unknown::Error),
        "ignore" if one_hot => Ok(Unknown::Ignore),
        "infrequent_if_exist" | "warn" if one_hot => Ok(Unknown::Infrequent),
        "use_encoded_value" if !one_hot => {
            let value = state
                .attr("unknown_value")
                .and_then(|v| number_of(state.heap, v))
                .ok_or_else(|| state.malformed("unknown_value", "is not a number"))?;
            Ok(Unknown::Encoded(value))
        }
        other => Err(state.unsupported(format!("handle_unknown={other:?} is not served"))),
    }
}

fn needs_of(features: &[Feature]) -> Vec<Needs> {
    features
        .iter()
        .map(|f| {
            Needs::Kind(if f.categories.is_text() {
                ColumnKind::Text
            } else {
                ColumnKind::Number
            })
        })
        .collect()
}

/// A fitted OneHotEncoder.
#[derive(Clone, Debug, PartialEq)]
pub struct OneHotEncoder {
    label: String,
    features: Vec<Feature>,
    /// Per feature, the grouped index that is dropped.
    drop: Vec<Option<usize>>,
    /// Per feature, where its outputs start, and the total as the last entry.
    offsets: Vec<usize>,
    unknown: Unknown,
    dtype: Dtype,
}

impl OneHotEncoder {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let categories = read_categories(state)?;
        let n = categories.len();
        let features = read_features(state, categories, &vec![None; n])?;
        state.check_n_features(n, "categories_")?;
        let unknown = read_unknown(state, true)?;
        let grouped: Vec<usize> = features
            .iter()
            .map(|f| {
                f.infrequent
                    .as_ref()
                    .map_or(f.categories.len(), Infrequent::n_grouped)
            })
            .collect();
        let drop_attr = if state.has("_drop_idx_after_grouping") {
            "_drop_idx_after_grouping"
        } else {
            "drop_idx_"
        };
        let drop = match state.attr(drop_attr) {
            None | Some(Value::None) => vec![None; n],
            Some(value) => {
                if let Some(a) = state.heap.array(value) {
                    state.charge_copy(drop_attr, a)?;
                }
                let items: Vec<Value> = match state.heap.array(value) {
                    Some(a) if a.shape.len() == 1 => match &a.elements {
                        crate::model::value::Elements::Object(v) => v.clone(),
                        _ => a
                            .to_f64()
                            .ok_or_else(|| {
                                state.malformed(drop_attr, "is not an array of indices")
                            })?
                            .into_iter()
                            .map(|v| Value::Int(v as i64))
                            .collect(),
                    },
                    _ => return Err(state.malformed(drop_attr, "is not a 1-D array")),
                };
                if items.len() != n {
                    return Err(state.malformed(
                        drop_attr,
                        format!("has {} entries for {n} features", items.len()),
                    ));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::None => Ok(None),
                        Value::Int(d) if *d >= 0 && (*d as usize) < grouped[i] => {
                            Ok(Some(*d as usize))
                        }
                        Value::Int(d) => Err(state.malformed(
                            &format!("{drop_attr}[{i}]"),
                            format!("is {d}, not a category index below {}", grouped[i]),
                        )),
                        other => Err(state.malformed(
                            &format!("{drop_attr}[{i}]"),
                            format!(
                                "is {}, not a category index below {}",
                                describe(state.heap, *other),
                                grouped[i]
                            ),
                        )),
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        let widths: Vec<usize> = grouped
            .iter()
            .zip(&drop)
            .map(|(g, d)| g - usize::from(d.is_some()))
            .collect();
        if let Some(stored) = state.attr("_n_features_outs") {
            let stored = positions(state, "_n_features_outs", stored, usize::MAX)?;
            if stored != widths {
                return Err(state.malformed(
                    "_n_features_outs",
                    format!("is {stored:?} but the categories make {widths:?}"),
                ));
            }
        }
        let mut offsets = vec![0];
        for w in &widths {
            offsets.push(offsets.last().expect("starts at 0") + w);
        }
        Ok(Self {
            label: state.label(),
            features,
            drop,
            offsets,
            unknown,
            dtype: read_dtype(state)?,
        })
    }

    /// The output categories of feature `i` by name: the frequent ones, then
    /// `infrequent_sklearn`, without the dropped one.
    fn output_names(&self, i: usize) -> Vec<String> {
        let mut names = self.grouped_names(i);
        if let Some(d) = self.drop[i]
            && d < names.len()
        {
            names.remove(d);
        }
        names
    }

    /// The categories of feature `i` after grouping, before `drop`.
    fn grouped_names(&self, i: usize) -> Vec<String> {
        let f = &self.features[i];
        match &f.infrequent {
            None => f.categories.names(),
            Some(grouped) => {
                let max = grouped.n_grouped() - 1;
                let mut names: Vec<String> = (0..f.categories.len())
                    .filter(|&j| grouped.mapping[j] < max)
                    .map(|j| f.categories.name(j))
                    .collect();
                names.push("infrequent_sklearn".into());
                names
            }
        }
    }
}

impl Transformer for OneHotEncoder {
    fn class(&self) -> &'static str {
        SkClass::OneHotEncoder.name()
    }

    fn n_features_in(&self) -> usize {
        self.features.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.features.len())
            .flat_map(|i| std::iter::repeat_n(i, self.offsets[i + 1] - self.offsets[i]))
            .collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        (0..self.features.len())
            .flat_map(|i| {
                self.output_names(i)
                    .into_iter()
                    .map(move |c| format!("{}_{c}", input[i]))
            })
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        needs_of(&self.features)
    }

    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        Some(self.features[feature].categories.names())
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        Some(self.features.get(feature)?.categories.missing.is_some())
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let n_rows = data.n_rows();
        let width = *self.offsets.last().expect("offsets end with the total");
        let mut out = Array2::zeros((n_rows, width));
        for (i, feature) in self.features.iter().enumerate() {
            for row in 0..n_rows {
                let (mut j, mut valid) = code(
                    feature,
                    data.cell(row, i),
                    self.unknown,
                    None,
                    &self.label,
                    row,
                    i,
                )?;
                if let Some(d) = self.drop[i] {
                    if j == d {
                        valid = false;
                    } else if j > d {
                        j -= 1;
                    }
                }
                if valid {
                    out[[row, self.offsets[i] + j]] = 1.0;
                }
            }
        }
        Ok(Data::Numbers {
            values: out,
            dtype: self.dtype,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let columns: Vec<serde_json::Value> = self
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                serde_json::json!({
                    "column": input[i],
                    "categories": f.categories.names(),
                    "infrequent": f.infrequent.as_ref().map(|g| g.indices.iter().map(|&j| f.categories.name(j)).collect::<Vec<_>>()),
                    "dropped": self.drop[i].map(|d| self.grouped_names(i)[d].clone()),
                })
            })
            .collect();
        serde_json::json!({
            "class": "OneHotEncoder",
            "handle_unknown": match self.unknown {
                Unknown::Error => "error",
                Unknown::Ignore => "ignore",
                _ => "infrequent_if_exist",
            },
            "columns": columns,
        })
    }
}

/// A fitted OrdinalEncoder.
#[derive(Clone, Debug, PartialEq)]
pub struct OrdinalEncoder {
    label: String,
    features: Vec<Feature>,
    /// `_missing_indices`: per feature, the index of its missing category.
    missing: Vec<Option<usize>>,
    encoded_missing_value: f64,
    unknown: Unknown,
    dtype: Dtype,
}

impl OrdinalEncoder {
    pub fn read(state: &State<'_>) -> Result<Self, LoadError> {
        let categories = read_categories(state)?;
        let n = categories.len();
        state.check_n_features(n, "categories_")?;
        let mut missing = vec![None; n];
        if let Some(value) = state.attr("_missing_indices") {
            let Some(Node::Dict(items)) = state.heap.node(value) else {
                return Err(state.malformed("_missing_indices", "is not a dict"));
            };
            for (key, index) in items {
                let (Value::Int(feature), Value::Int(index)) = (key, index) else {
                    return Err(
                        state.malformed("_missing_indices", "holds something other than integers")
                    );
                };
                let feature = usize::try_from(*feature)
                    .ok()
                    .filter(|&f| f < n)
                    .ok_or_else(|| {
                        state.malformed(
                            "_missing_indices",
                            format!("names feature {feature} of {n}"),
                        )
                    })?;
                if *index < 0 || Some(*index as usize) != categories[feature].missing {
                    return Err(state.malformed(
                        "_missing_indices",
                        format!(
                            "names category {index} of feature {feature}, which is not its \
                             missing category"
                        ),
                    ));
                }
                missing[feature] = Some(*index as usize);
            }
        }
        let unknown = read_unknown(state, false)?;
        // scikit-learn refuses to fit an unknown_value that is some category's code: an
        // unknown value would then read as that category.
        if let Unknown::Encoded(value) = unknown
            && let Some(feature) = categories
                .iter()
                .position(|c| value >= 0.0 && value < c.len() as f64)
        {
            return Err(state.malformed(
                "unknown_value",
                format!(
                    "is {value}, the code of one of the {} categories of feature {feature}",
                    categories[feature].len()
                ),
            ));
        }
        let features = read_features(state, categories, &missing)?;
        let encoded_missing_value = state.number("encoded_missing_value")?.unwrap_or(f64::NAN);
        Ok(Self {
            label: state.label(),
            features,
            missing,
            encoded_missing_value,
            unknown,
            dtype: read_dtype(state)?,
        })
    }
}

impl Transformer for OrdinalEncoder {
    fn class(&self) -> &'static str {
        SkClass::OrdinalEncoder.name()
    }

    fn n_features_in(&self) -> usize {
        self.features.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.features.len()).collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn needs(&self) -> Vec<Needs> {
        needs_of(&self.features)
    }

    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        Some(self.features[feature].categories.names())
    }

    fn fitted_missing(&self, feature: usize) -> Option<bool> {
        Some(self.features.get(feature)?.categories.missing.is_some())
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let n_rows = data.n_rows();
        let mut out = Array2::zeros((n_rows, self.features.len()));
        for (i, feature) in self.features.iter().enumerate() {
            for row in 0..n_rows {
                let (j, valid) = code(
                    feature,
                    data.cell(row, i),
                    self.unknown,
                    self.missing[i],
                    &self.label,
                    row,
                    i,
                )?;
                out[[row, i]] = match self.unknown {
                    Unknown::Encoded(value) if !valid => value,
                    _ if self.missing[i] == Some(j) => self.encoded_missing_value,
                    _ => j as f64,
                };
            }
        }
        Ok(Data::Numbers {
            values: out,
            dtype: self.dtype,
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let columns: Vec<serde_json::Value> = self
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| serde_json::json!({"column": input[i], "categories": f.categories.names()}))
            .collect();
        serde_json::json!({ "class": "OrdinalEncoder", "columns": columns })
    }
}

//! The categories of one encoded feature (`categories_[i]`), how a value finds its index among
//! them, and the infrequent-category grouping both encoders share (`_infrequent_indices`,
//! `_default_to_infrequent_mappings`), read and validated.
//!
//! A missing value (the client's null, an empty CSV cell) is the missing category, whether
//! scikit-learn stored it as `None` or as `NaN`; it is always the last category.

use std::collections::HashMap;

use crate::model::LoadError;
use crate::model::input::Cell;
use crate::model::state::State;
use crate::model::value::{Elements, Heap, Value};

/// One feature's categories, in scikit-learn's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Categories {
    pub kind: Kind,
    /// Index of the missing category, if training saw missing values.
    pub missing: Option<usize>,
    /// Lookup by text.
    texts: HashMap<String, usize>,
    /// Lookup by the bits of a number (`-0.0` stored as `0.0`).
    numbers: HashMap<u64, usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Numeric categories; `integers` when they came from an integer column (named `7`, not
    /// `7.0`).
    Numbers {
        values: Vec<f64>,
        integers: bool,
    },
    Texts(Vec<String>),
}

fn number_key(v: f64) -> u64 {
    if v == 0.0 { 0 } else { v.to_bits() }
}

/// How a missing category was stored, for its name (`nan` or `None`).
#[derive(Clone, Copy)]
enum MissingAs {
    Nan,
    None,
}

impl Categories {
    /// Reads `categories_[feature]` from the value `array`.
    pub fn read(state: &State<'_>, attr: &str, value: Value) -> Result<Self, LoadError> {
        let heap = state.heap;
        let array = heap
            .array(value)
            .ok_or_else(|| state.malformed(attr, "is not an array"))?;
        if array.shape.len() != 1 {
            return Err(state.malformed(
                attr,
                format!("has shape {:?}, expected one dimension", array.shape),
            ));
        }
        state.charge_copy(attr, array)?;
        let (kind, missing) = match &array.elements {
            Elements::Float(v) => numbers(v.clone(), false),
            Elements::Int(v) => numbers(v.iter().map(|&x| x as f64).collect(), true),
            Elements::UInt(v) => numbers(v.iter().map(|&x| x as f64).collect(), true),
            Elements::Bool(v) => numbers(v.iter().map(|&b| f64::from(u8::from(b))).collect(), true),
            Elements::Str(v) => (Kind::Texts(v.clone()), None),
            Elements::Bytes(v) => (
                Kind::Texts(
                    v.iter()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .collect(),
                ),
                None,
            ),
            Elements::Object(values) => {
                let missing_inside = values[..values.len().saturating_sub(1)].iter().any(|v| {
                    matches!(v, Value::None) || matches!(v, Value::Float(f) if f.is_nan())
                });
                if missing_inside {
                    return Err(
                        state.malformed(attr, "has a missing category that is not the last one")
                    );
                }
                objects(heap, values).ok_or_else(|| {
                    state.malformed(
                        attr,
                        "mixes strings and numbers, or holds objects other than strings, numbers and a missing value",
                    )
                })?
            }
            Elements::Records(_) => {
                return Err(state.malformed(attr, "holds records, not categories"));
            }
        };
        let len = match &kind {
            Kind::Numbers { values, .. } => values.len(),
            Kind::Texts(v) => v.len(),
        };
        if len == 0 {
            return Err(state.malformed(attr, "holds no categories"));
        }
        if let Some(m) = missing
            && m + 1 != len
        {
            return Err(state.malformed(attr, "has a missing category that is not the last one"));
        }
        let (mut texts, mut numbers) = (HashMap::new(), HashMap::new());
        for i in 0..len {
            if Some(i) == missing {
                continue;
            }
            let fresh = match &kind {
                Kind::Numbers { values, .. } if values[i].is_nan() => {
                    return Err(
                        state.malformed(attr, "has a missing category that is not the last one")
                    );
                }
                Kind::Numbers { values, .. } => numbers.insert(number_key(values[i]), i).is_none(),
                Kind::Texts(v) => texts.insert(v[i].clone(), i).is_none(),
            };
            if !fresh {
                return Err(state.malformed(attr, format!("holds category {i} twice")));
            }
        }
        Ok(Self {
            kind,
            missing,
            texts,
            numbers,
        })
    }

    pub fn len(&self) -> usize {
        match &self.kind {
            Kind::Numbers { values, .. } => values.len(),
            Kind::Texts(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_text(&self) -> bool {
        matches!(self.kind, Kind::Texts(_))
    }

    /// The index of a value, or `None` for a category training did not see.
    #[inline]
    pub fn find(&self, cell: Cell<'_>) -> Option<usize> {
        match (cell, &self.kind) {
            (Cell::Missing, _) => self.missing,
            (Cell::Number(v), Kind::Numbers { .. }) => self.numbers.get(&number_key(v)).copied(),
            (Cell::Text(s), Kind::Texts(_)) => self.texts.get(s).copied(),
            _ => None,
        }
    }

    /// Category `i` as `str()` prints it, for feature names (`Grupo LATAM`, `7`, `7.5`, `nan`).
    pub fn name(&self, i: usize) -> String {
        if Some(i) == self.missing {
            return match &self.kind {
                Kind::Texts(v) if v[i] == "None" => "None".into(),
                _ => "nan".into(),
            };
        }
        match &self.kind {
            Kind::Numbers {
                values,
                integers: true,
            } => format!("{}", values[i] as i64),
            Kind::Numbers { values, .. } => crate::model::python_float(values[i]),
            Kind::Texts(v) => v[i].clone(),
        }
    }

    /// Every category by name, for messages and `inspect`.
    pub fn names(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.name(i)).collect()
    }
}

fn numbers(values: Vec<f64>, integers: bool) -> (Kind, Option<usize>) {
    let missing = values
        .last()
        .filter(|v| v.is_nan())
        .map(|_| values.len() - 1);
    (Kind::Numbers { values, integers }, missing)
}

/// An object array: strings, or numbers, with at most a missing value (`None` or `NaN`) at the
/// end.
fn objects(heap: &Heap<'_>, values: &[Value]) -> Option<(Kind, Option<usize>)> {
    let is_missing =
        |v: &Value| matches!(v, Value::None) || matches!(v, Value::Float(f) if f.is_nan());
    let missing_as = values.last().filter(|v| is_missing(v)).map(|v| {
        if matches!(v, Value::None) {
            MissingAs::None
        } else {
            MissingAs::Nan
        }
    });
    let body = if missing_as.is_some() {
        &values[..values.len() - 1]
    } else {
        values
    };
    let missing = missing_as.map(|_| values.len() - 1);
    let name_of_missing = match missing_as {
        Some(MissingAs::None) => "None",
        _ => "nan",
    };
    if let Some(mut strings) = body
        .iter()
        .map(|v| heap.str(*v).map(str::to_owned))
        .collect::<Option<Vec<String>>>()
    {
        if missing.is_some() {
            strings.push(name_of_missing.to_owned());
        }
        return Some((Kind::Texts(strings), missing));
    }
    let integers = body.iter().all(|v| matches!(v, Value::Int(_)));
    let mut numbers = body
        .iter()
        .map(|v| match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        })
        .collect::<Option<Vec<f64>>>()?;
    if missing.is_some() {
        numbers.push(f64::NAN);
    }
    Some((
        Kind::Numbers {
            values: numbers,
            integers,
        },
        missing,
    ))
}

/// Infrequent categories of one feature, grouped into one output.
#[derive(Clone, Debug, PartialEq)]
pub struct Infrequent {
    /// `_infrequent_indices[i]`: the categories grouped.
    pub indices: Vec<usize>,
    /// `_default_to_infrequent_mappings[i]`: category index → grouped index.
    pub mapping: Vec<usize>,
}

impl Infrequent {
    /// The number of codes after grouping (the frequent categories and the infrequent one).
    pub fn n_grouped(&self) -> usize {
        self.mapping.iter().max().map_or(0, |m| m + 1)
    }
}

/// Reads the infrequent grouping of every feature, `None` each where there is none. A missing
/// category named in `ungrouped` takes no part in it (OrdinalEncoder leaves it out).
pub fn read_infrequent(
    state: &State<'_>,
    categories: &[Categories],
    ungrouped: &[Option<usize>],
) -> Result<Vec<Option<Infrequent>>, LoadError> {
    let none = vec![None; categories.len()];
    if !state.bool_or("_infrequent_enabled", false)? {
        return Ok(none);
    }
    let indices = state.items("_infrequent_indices")?;
    let mappings = state.items("_default_to_infrequent_mappings")?;
    if indices.len() != categories.len() || mappings.len() != categories.len() {
        return Err(state.malformed(
            "_infrequent_indices",
            format!(
                "describe {} features but categories_ has {}",
                indices.len(),
                categories.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(categories.len());
    for (i, cats) in categories.iter().enumerate() {
        let attr = format!("_infrequent_indices[{i}]");
        match (indices[i], mappings[i]) {
            (Value::None, Value::None) => out.push(None),
            (index, mapping) => {
                // The categories grouped: all, or all but a missing one left out (the last).
                let n = cats.len() - usize::from(ungrouped.get(i).copied().flatten().is_some());
                let index = positions(state, &attr, index, n)?;
                let map_attr = format!("_default_to_infrequent_mappings[{i}]");
                let mapping = positions(state, &map_attr, mapping, n)?;
                if mapping.len() != n {
                    return Err(state.malformed(
                        &map_attr,
                        format!("has {} entries for {n} categories", mapping.len()),
                    ));
                }
                if index.is_empty() {
                    return Err(state.malformed(&attr, "is empty"));
                }
                let grouped = Infrequent {
                    indices: index,
                    mapping,
                };
                out.push(Some(grouped));
            }
        }
    }
    Ok(out)
}

/// An integer array (or list) of indices below `limit`.
pub fn positions(
    state: &State<'_>,
    attr: &str,
    value: Value,
    limit: usize,
) -> Result<Vec<usize>, LoadError> {
    let values: Vec<f64> = match state.heap.array(value) {
        Some(array) => {
            state.charge_copy(attr, array)?;
            array
                .to_f64()
                .ok_or_else(|| state.malformed(attr, "is not an integer array"))?
        }
        None => state
            .heap
            .tuple(value)
            .ok_or_else(|| state.malformed(attr, "is not an integer array"))?
            .iter()
            .map(|v| {
                if let Value::Int(i) = v {
                    Ok(*i as f64)
                } else {
                    Err(state.malformed(attr, "holds something other than integers"))
                }
            })
            .collect::<Result<_, _>>()?,
    };
    values
        .iter()
        .map(|&v| {
            if v >= 0.0 && v.fract() == 0.0 && (v as usize) < limit {
                Ok(v as usize)
            } else {
                Err(state.malformed(attr, format!("holds {v}, not an index below {limit}")))
            }
        })
        .collect()
}

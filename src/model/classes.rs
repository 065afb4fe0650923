//! Class labels as `classes_` holds them, in their original type (integers, floats, booleans
//! or strings), and how they print: as JSON, and as Python's `str()`.

use super::LoadError;
use super::state::State;
use super::value::{Elements, NdArray, Node, Value};

/// Class labels in their original type, as `classes_` holds them.
#[derive(Clone, Debug, PartialEq)]
pub enum Classes {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

impl Classes {
    pub fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::Float(v) => v.len(),
            Self::Bool(v) => v.len(),
            Self::Str(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn label(&self, index: usize) -> Label<'_> {
        match self {
            Self::Int(v) => Label::Int(v[index]),
            Self::Float(v) => Label::Float(v[index]),
            Self::Bool(v) => Label::Bool(v[index]),
            Self::Str(v) => Label::Str(&v[index]),
        }
    }

    /// The labels as JSON values (numbers, booleans, strings).
    pub fn to_json(&self) -> serde_json::Value {
        (0..self.len()).map(|i| self.label(i).to_json()).collect()
    }
}

/// One class label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Label<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(&'a str),
}

impl Label<'_> {
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Self::Int(v) => v.into(),
            Self::Float(v) => v.into(),
            Self::Bool(v) => v.into(),
            Self::Str(v) => v.into(),
        }
    }
}

impl std::fmt::Display for Label<'_> {
    /// As Python's `str()` prints the label.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{}", crate::model::python_float(*v)),
            Self::Bool(true) => f.write_str("True"),
            Self::Bool(false) => f.write_str("False"),
            Self::Str(v) => f.write_str(v),
        }
    }
}

/// Reads a classifier's `classes_` (or another attribute of labels) from its state.
pub fn read_classes(state: &State<'_>, name: &str) -> Result<Classes, LoadError> {
    classes_of(state, name, state.array(name)?)
}

/// A classifier's `classes_` for each of its outputs: one array for one output, a list of
/// arrays (one per output) for several, as scikit-learn stores them.
pub fn read_output_classes(state: &State<'_>, name: &str) -> Result<Vec<Classes>, LoadError> {
    let value = state.get(name)?;
    if !matches!(state.heap.node(value), Some(Node::List(_))) {
        return Ok(vec![read_classes(state, name)?]);
    }
    let items = state.items(name)?;
    if items.is_empty() {
        return Err(state.malformed(name, "is an empty list"));
    }
    items
        .iter()
        .enumerate()
        .map(|(k, &item)| {
            let at = format!("{name}[{k}]");
            let array = state
                .heap
                .array(item)
                .ok_or_else(|| state.malformed(&at, "is not an array"))?;
            classes_of(state, &at, array)
        })
        .collect()
}

fn classes_of(state: &State<'_>, name: &str, array: &NdArray) -> Result<Classes, LoadError> {
    if array.shape.len() != 1 {
        return Err(state.malformed(
            name,
            format!("has shape {:?}, expected one dimension", array.shape),
        ));
    }
    state.charge_copy(name, array)?;
    Ok(match &array.elements {
        Elements::Int(v) => Classes::Int(v.clone()),
        Elements::UInt(v) => Classes::Int(v.iter().map(|&x| x as i64).collect()),
        Elements::Float(v) => Classes::Float(v.clone()),
        Elements::Bool(v) => Classes::Bool(v.clone()),
        Elements::Str(v) => Classes::Str(v.clone()),
        Elements::Bytes(v) => Classes::Str(
            v.iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
        ),
        Elements::Object(values) => object_classes(state, name, values)?,
        Elements::Records(_) => return Err(state.malformed(name, "holds records, not labels")),
    })
}

/// Labels of dtype object (from a pandas column): all strings or all integers.
fn object_classes(state: &State<'_>, name: &str, values: &[Value]) -> Result<Classes, LoadError> {
    if let Some(strings) = values
        .iter()
        .map(|v| state.heap.str(*v).map(str::to_owned))
        .collect()
    {
        return Ok(Classes::Str(strings));
    }
    if let Some(ints) = values
        .iter()
        .map(|v| {
            if let Value::Int(i) = v {
                Some(*i)
            } else {
                None
            }
        })
        .collect()
    {
        return Ok(Classes::Int(ints));
    }
    Err(state.malformed(
        name,
        "mixes label types or holds objects other than strings and integers",
    ))
}

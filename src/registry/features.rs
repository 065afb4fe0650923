//! Named columns, and turning a named instance (`{"OPERA": "Grupo LATAM", "MES": 7}`) into the
//! model's row the way `pandas.get_dummies` made the training columns: a column `FIELD_VALUE`
//! is 1 when the instance's FIELD is VALUE, and a column named exactly like a field takes the
//! field's number.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::model::python_float;

/// A model's column names, indexed for encoding.
#[derive(Clone, Debug)]
pub struct FeatureSchema {
    names: Vec<String>,
    /// Column by its exact name.
    exact: HashMap<String, usize>,
    /// Columns `PREFIX_…` by every prefix ending before an underscore, so that a field whose
    /// own name holds underscores is found too.
    groups: HashMap<String, Vec<usize>>,
    /// What a person would call the fields: a column's name up to its first underscore when
    /// several columns share that prefix (one-hot groups), else the whole name.
    fields: Vec<String>,
}

/// Why a named instance cannot be encoded. Messages name the field and what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    #[error("unknown field \"{field}\"; the model's fields are {known}")]
    UnknownField { field: String, known: String },
    #[error("{field}={value} is not a value the model knows; allowed values of {field}: {allowed}")]
    UnknownValue {
        field: String,
        value: String,
        allowed: String,
    },
    #[error("field \"{field}\" must be a number, not {value}")]
    NotANumber { field: String, value: String },
    #[error("{field}={value}: a field's value must be a string, number or boolean")]
    BadValue { field: String, value: String },
    #[error("missing field(s) {0}: every column of the model needs a value")]
    Missing(String),
}

impl FeatureSchema {
    pub fn new(names: Vec<String>) -> Self {
        let mut exact = HashMap::with_capacity(names.len());
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            exact.insert(name.clone(), i);
            for (at, _) in name.match_indices('_') {
                groups.entry(name[..at].to_owned()).or_default().push(i);
            }
        }
        let mut schema = Self {
            names,
            exact,
            groups,
            fields: Vec::new(),
        };
        let fields: BTreeSet<&str> = schema.names.iter().map(|n| schema.field_of(n)).collect();
        schema.fields = fields.into_iter().map(str::to_owned).collect();
        schema
    }

    /// The field a column belongs to, as [`FeatureSchema::fields`] names it.
    fn field_of<'a>(&self, name: &'a str) -> &'a str {
        match name.split_once('_') {
            Some((prefix, _)) if self.groups.get(prefix).is_some_and(|g| g.len() > 1) => prefix,
            _ => name,
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The fields an instance names, for messages and metadata.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Appends the row encoding `instance` to `out` (`names().len()` values).
    pub fn encode(
        &self,
        instance: &Map<String, Value>,
        out: &mut Vec<f64>,
    ) -> Result<(), EncodeError> {
        self.encode_fields(
            instance
                .iter()
                .map(|(field, value)| (field.as_str(), FieldValue::of(value))),
            out,
        )
    }

    /// Appends the row encoding an instance's fields to `out` (`names().len()` values), the
    /// fields as a reader of the request met them.
    pub fn encode_fields<'v>(
        &self,
        fields: impl IntoIterator<Item = (&'v str, FieldValue<'v>)>,
        out: &mut Vec<f64>,
    ) -> Result<(), EncodeError> {
        let start = out.len();
        out.resize(start + self.names.len(), 0.0);
        let row = &mut out[start..];
        let mut covered = vec![false; self.names.len()];
        for (field, value) in fields {
            if let Some(&column) = self.exact.get(field) {
                row[column] = number(field, &value)?;
                covered[column] = true;
                continue;
            }
            let Some(columns) = self.groups.get(field) else {
                return Err(EncodeError::UnknownField {
                    field: field.to_owned(),
                    known: self.fields.join(", "),
                });
            };
            let column = self.one_hot_column(field, &value)?;
            row[column] = 1.0;
            for &c in columns {
                covered[c] = true;
            }
        }
        if covered.iter().all(|&c| c) {
            return Ok(());
        }
        let missing: BTreeSet<&str> = covered
            .iter()
            .zip(&self.names)
            .filter(|(c, _)| !**c)
            .map(|(_, name)| self.field_of(name))
            .collect();
        Err(EncodeError::Missing(
            missing.into_iter().collect::<Vec<_>>().join(", "),
        ))
    }

    fn one_hot_column(&self, field: &str, value: &FieldValue<'_>) -> Result<usize, EncodeError> {
        let candidates: Vec<String> = match value {
            FieldValue::Text(s) => vec![(*s).to_owned()],
            FieldValue::Bool(b) => vec![if *b { "True" } else { "False" }.to_owned()],
            FieldValue::Int(i) => vec![i.to_string(), python_float(*i as f64)],
            FieldValue::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                vec![python_float(*f), format!("{f:.0}")]
            }
            FieldValue::Float(f) => vec![python_float(*f)],
            FieldValue::Other(_) => {
                return Err(EncodeError::BadValue {
                    field: field.to_owned(),
                    value: value.to_string(),
                });
            }
        };
        candidates
            .iter()
            .find_map(|v| self.exact.get(&format!("{field}_{v}")).copied())
            .ok_or_else(|| EncodeError::UnknownValue {
                field: field.to_owned(),
                value: value.to_string(),
                allowed: self.groups[field]
                    .iter()
                    .map(|&c| format!("\"{}\"", &self.names[c][field.len() + 1..]))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// A field's value in a named instance, as JSON wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// A number written without a fraction or exponent.
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(&'a str),
    /// Anything else (`null`, a list, an object), as JSON writes it, for messages.
    Other(String),
}

impl<'a> FieldValue<'a> {
    /// The value of a parsed JSON field.
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => n
                    .as_f64()
                    .map_or_else(|| Self::Other(n.to_string()), Self::Float),
            },
            Value::Bool(b) => Self::Bool(*b),
            Value::String(s) => Self::Text(s),
            other => Self::Other(other.to_string()),
        }
    }
}

impl std::fmt::Display for FieldValue<'_> {
    /// As JSON writes the value (`"Pan Am"`, `7`, `7.5`, `true`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(v) => match serde_json::Number::from_f64(*v) {
                Some(n) => write!(f, "{n}"),
                None => f.write_str("null"),
            },
            Self::Bool(b) => write!(f, "{b}"),
            Self::Text(s) => write!(f, "{}", Value::from(*s)),
            Self::Other(text) => f.write_str(text),
        }
    }
}

fn number(field: &str, value: &FieldValue<'_>) -> Result<f64, EncodeError> {
    match value {
        FieldValue::Int(i) => Ok(*i as f64),
        FieldValue::Float(v) => Ok(*v),
        FieldValue::Bool(b) => Ok(f64::from(u8::from(*b))),
        other => Err(EncodeError::NotANumber {
            field: field.to_owned(),
            value: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> FeatureSchema {
        FeatureSchema::new(
            [
                "OPERA_Grupo LATAM",
                "OPERA_Sky Airline",
                "MES_7",
                "MES_12",
                "dep_delay",
            ]
            .map(String::from)
            .to_vec(),
        )
    }

    fn encode(instance: Value) -> Result<Vec<f64>, EncodeError> {
        let mut out = Vec::new();
        schema()
            .encode(instance.as_object().unwrap(), &mut out)
            .map(|()| out)
    }

    #[test]
    fn one_hot_and_exact_columns() {
        assert_eq!(
            encode(json!({"OPERA": "Sky Airline", "MES": 7, "dep_delay": 2.5})).unwrap(),
            vec![0.0, 1.0, 1.0, 0.0, 2.5]
        );
    }

    #[test]
    fn unknown_value_lists_the_allowed_ones() {
        let err = encode(json!({"OPERA": "Pan Am", "MES": 7, "dep_delay": 0}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "OPERA=\"Pan Am\" is not a value the model knows; allowed values of OPERA: \
             \"Grupo LATAM\", \"Sky Airline\""
        );
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let err =
            encode(json!({"OPERA": "Sky Airline", "MES": 7, "dep_delay": 0, "X": 1})).unwrap_err();
        assert!(err.to_string().starts_with("unknown field \"X\""), "{err}");
        let err = encode(json!({"OPERA": "Sky Airline"})).unwrap_err();
        assert_eq!(
            err,
            EncodeError::Missing("MES, dep_delay".into()),
            "a one-hot group is named by its prefix, a lone column by its name"
        );
    }

    #[test]
    fn numbers_must_be_numbers() {
        let err =
            encode(json!({"OPERA": "Sky Airline", "MES": 7, "dep_delay": "late"})).unwrap_err();
        assert!(matches!(err, EncodeError::NotANumber { .. }));
    }
}

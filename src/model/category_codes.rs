//! The categories a booster was trained with, served as the model's first step: XGBoost (3.1
//! and later) keeps each categorical feature's categories in its model (`cats`), LightGBM keeps
//! a DataFrame's (`pandas_categorical`). A client sends a category by its name (or its value,
//! for numeric categories); the trees read its code, the category's position in training's
//! list, as the libraries' own DataFrame handling gives it.
//!
//! A category training never saw is refused (XGBoost refuses it) or read as missing (LightGBM
//! makes it NaN); a missing value stays missing.
//!
//! What must not live here: reading either library's model (their rooms).

use std::collections::HashMap;

use super::estimator::{Data, Needs, Problem, Refusal, Transformer};
use super::input::{ColumnKind, Dtype};

/// One categorical column's categories, in code order.
#[derive(Clone, Debug, PartialEq)]
pub enum Categories {
    Names(Vec<String>),
    Numbers(Vec<f64>),
}

impl Categories {
    fn names(&self) -> Vec<String> {
        match self {
            Self::Names(names) => names.clone(),
            Self::Numbers(values) => values
                .iter()
                .map(|v| super::python_float_or_int(*v))
                .collect(),
        }
    }
}

/// What a category training never saw becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unknown {
    Refused,
    Missing,
}

#[derive(Debug)]
pub struct CategoryCodes {
    /// Each input column's categories, `None` for a numeric one.
    columns: Vec<Option<Categories>>,
    names: Vec<HashMap<String, usize>>,
    numbers: Vec<HashMap<u64, usize>>,
    unknown: Unknown,
    /// The estimator whose categories they are, for messages.
    step: &'static str,
}

fn key(v: f64) -> u64 {
    if v == 0.0 { 0 } else { v.to_bits() }
}

impl CategoryCodes {
    pub fn new(columns: Vec<Option<Categories>>, unknown: Unknown, step: &'static str) -> Self {
        let names = columns
            .iter()
            .map(|c| match c {
                Some(Categories::Names(names)) => names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.clone(), i))
                    .collect(),
                _ => HashMap::new(),
            })
            .collect();
        let numbers = columns
            .iter()
            .map(|c| match c {
                Some(Categories::Numbers(values)) => values
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (key(v), i))
                    .collect(),
                _ => HashMap::new(),
            })
            .collect();
        Self {
            columns,
            names,
            numbers,
            unknown,
            step,
        }
    }

    /// A category that training never saw, at `row` of `feature`.
    fn unknown(&self, row: usize, feature: usize, value: String) -> Result<f64, Refusal> {
        match self.unknown {
            Unknown::Missing => Ok(f64::NAN),
            Unknown::Refused => Err(Refusal {
                row,
                feature,
                problem: Problem::UnknownCategory {
                    value,
                    allowed: self.columns[feature]
                        .as_ref()
                        .map(|c| c.names().join(", "))
                        .unwrap_or_default(),
                },
            }),
        }
    }
}

impl Transformer for CategoryCodes {
    fn class(&self) -> &'static str {
        self.step
    }

    fn n_features_in(&self) -> usize {
        self.columns.len()
    }

    fn sources(&self) -> Vec<usize> {
        (0..self.columns.len()).collect()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn needs(&self) -> Vec<Needs> {
        self.columns
            .iter()
            .map(|c| match c {
                Some(Categories::Names(_)) => Needs::Kind(ColumnKind::Text),
                _ => Needs::Kind(ColumnKind::Number),
            })
            .collect()
    }

    fn categories(&self, feature: usize) -> Option<Vec<String>> {
        self.columns.get(feature)?.as_ref().map(Categories::names)
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let n_rows = data.n_rows();
        let mut values = ndarray::Array2::zeros((n_rows, self.columns.len()));
        for (j, categories) in self.columns.iter().enumerate() {
            for row in 0..n_rows {
                let cell = data.cell(row, j);
                let v = match (categories, cell) {
                    (_, super::Cell::Missing) => f64::NAN,
                    (None, super::Cell::Number(v)) => v,
                    (Some(Categories::Names(_)), super::Cell::Text(t)) => {
                        match self.names[j].get(t) {
                            Some(&code) => code as f64,
                            None => self.unknown(row, j, t.to_owned())?,
                        }
                    }
                    (Some(Categories::Numbers(_)), super::Cell::Number(v)) => {
                        match self.numbers[j].get(&key(v)) {
                            Some(&code) => code as f64,
                            None => self.unknown(row, j, super::python_float_or_int(v))?,
                        }
                    }
                    (_, super::Cell::Text(_)) => {
                        return Err(Refusal {
                            row,
                            feature: j,
                            problem: Problem::Text {
                                step: self.step.to_owned(),
                            },
                        });
                    }
                    (Some(Categories::Names(_)), super::Cell::Number(v)) => {
                        self.unknown(row, j, super::python_float_or_int(v))?
                    }
                };
                values[[row, j]] = v;
            }
        }
        Ok(Data::Numbers {
            values,
            dtype: Dtype::F64,
        })
    }

    fn chain(&self) -> Vec<String> {
        Vec::new()
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        let columns: Vec<serde_json::Value> = self
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.as_ref()
                    .map(|c| serde_json::json!({"column": input[i], "categories": c.names()}))
            })
            .collect();
        serde_json::json!({
            "class": "categories",
            "of": self.step,
            "unknown": match self.unknown { Unknown::Refused => "refused", Unknown::Missing => "missing" },
            "columns": columns,
        })
    }
}

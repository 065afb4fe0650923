//! Rows of named features, what DictVectorizer and FeatureHasher take: each row a mapping of
//! feature names to a number, a string, or a list of strings. A model whose input is such a
//! mapping has one input column of kind [`ColumnKind::Mapping`]; every name a request gives
//! (a V1 object's keys, V2 inputs, a CSV header) is then a feature of that column, not a column
//! of its own, and a missing value (JSON null, an empty CSV cell) is a feature the row does
//! not have. [`MappingRows`] collects them for `FrameBuilder`.
//!
//! What must not live here: any protocol's syntax, and what a vectorizer makes of a feature
//! (`crate::model::text::dict`).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::input::{Cell, Column, InputError};

/// One feature's value in a row.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureValue {
    Number(f64),
    Text(Arc<str>),
    /// Several strings (DictVectorizer counts each `name=value`).
    Texts(Vec<Arc<str>>),
}

/// A row's features in the order the request gave them.
pub type Mapping = Vec<(Arc<str>, FeatureValue)>;

/// The features of a request being read, row by row. Features are numbered as they are first
/// named, so that protocols set them as they set columns.
#[derive(Debug)]
pub struct MappingRows {
    names: Vec<Arc<str>>,
    numbers: FxHashMap<Arc<str>, usize>,
    /// Whether a feature was given whole (a V2 input): a second one of its name is refused.
    claimed: Vec<bool>,
    rows: Vec<Mapping>,
}

impl MappingRows {
    pub fn new(n_rows: usize) -> Self {
        Self {
            names: Vec::new(),
            numbers: FxHashMap::default(),
            claimed: Vec::new(),
            rows: vec![Vec::new(); n_rows],
        }
    }

    /// The number of feature `name`, from 0.
    pub fn feature(&mut self, name: &str) -> usize {
        if let Some(&k) = self.numbers.get(name) {
            return k;
        }
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.claimed.push(false);
        self.numbers.insert(name, self.names.len() - 1);
        self.names.len() - 1
    }

    pub fn name(&self, feature: usize) -> &str {
        &self.names[feature]
    }

    /// Sets feature `feature` of row `row` (from 0); a missing value leaves it out.
    pub fn set(&mut self, row: usize, feature: usize, cell: Cell<'_>) -> Result<(), InputError> {
        let value = match cell {
            Cell::Missing => return Ok(()),
            Cell::Number(v) if !v.is_finite() => {
                if v.is_nan() {
                    return Ok(());
                }
                return Err(InputError::NotFiniteIn {
                    row: row + 1,
                    column: self.names[feature].to_string(),
                    value: cell.describe(),
                });
            }
            Cell::Number(v) => FeatureValue::Number(v),
            Cell::Text(s) => FeatureValue::Text(Arc::from(s)),
        };
        self.rows[row].push((self.names[feature].clone(), value));
        Ok(())
    }

    /// Sets feature `feature` of row `row` to several strings (a JSON list).
    pub fn set_texts<'a>(
        &mut self,
        row: usize,
        feature: usize,
        texts: impl IntoIterator<Item = &'a str>,
    ) {
        let texts = texts.into_iter().map(Arc::from).collect();
        self.rows[row].push((self.names[feature].clone(), FeatureValue::Texts(texts)));
    }

    /// Marks a feature as given whole; a second input of its name is refused.
    pub fn claim(&mut self, feature: usize) -> Result<(), InputError> {
        if std::mem::replace(&mut self.claimed[feature], true) {
            return Err(InputError::DuplicateColumn {
                column: self.names[feature].to_string(),
            });
        }
        Ok(())
    }

    /// The column of mappings.
    pub fn finish(self) -> Column {
        Column::Mappings(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_numbered_once_and_missing_values_left_out() {
        let mut rows = MappingRows::new(2);
        let city = rows.feature("city");
        let temp = rows.feature("temp");
        assert_eq!(rows.feature("city"), city);
        rows.set(0, city, Cell::Text("Paris")).unwrap();
        rows.set(0, temp, Cell::Number(21.5)).unwrap();
        rows.set(1, city, Cell::Missing).unwrap();
        rows.set(1, temp, Cell::Number(f64::NAN)).unwrap();
        let err = rows.set(1, temp, Cell::Number(f64::INFINITY)).unwrap_err();
        assert!(err.to_string().contains("\"temp\""), "{err}");
        rows.claim(temp).unwrap();
        assert!(rows.claim(temp).is_err());
        let Column::Mappings(rows) = rows.finish() else {
            panic!("a column of mappings");
        };
        assert_eq!(rows[0].len(), 2);
        assert!(rows[1].is_empty());
    }
}

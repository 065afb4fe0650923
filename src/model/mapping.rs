//! Rows of named features, what DictVectorizer and FeatureHasher take: each row a mapping of
//! feature names to a number, a string, or a list of strings, or (FeatureHasher with
//! `input_type='string'`) a bare list of strings. A model whose input is such a mapping has one
//! input column of kind [`ColumnKind::Mapping`]; every name a request gives (a V1 object's keys,
//! V2 inputs, a CSV header) is then a feature of that column, not a column of its own.
//!
//! A feature's value is kept as the client gave it, for the vectorizer to read as
//! scikit-learn reads the same Python value: a missing value (JSON null, an empty CSV cell) is
//! Python's `None`, NaN stays NaN, and a feature named twice in one row keeps its last value, as
//! Python's `json.loads` keeps the last of a repeated key. [`MappingRows`] collects them for
//! `FrameBuilder`.
//!
//! What must not live here: any protocol's syntax, and what a vectorizer makes of a feature
//! (`crate::model::text::dict`).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::input::{Cell, Column, InputError};

/// One feature's value in a row.
#[derive(Clone, Debug, PartialEq)]
pub enum FeatureValue {
    /// Python's `None` (a JSON null, an empty CSV cell).
    Missing,
    Number(f64),
    Text(Arc<str>),
    /// Several strings (DictVectorizer counts each `name=value`).
    Texts(Vec<Arc<str>>),
    /// A row given as a bare list of strings, no feature named (what FeatureHasher with
    /// `input_type='string'` takes); its name in the mapping is empty.
    Unnamed(Vec<Arc<str>>),
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
    /// Where each feature was last set: its row and its place in that row, so that a feature
    /// named again in the same row replaces its value.
    written: Vec<Option<(usize, usize)>>,
    rows: Vec<Mapping>,
}

impl MappingRows {
    pub fn new(n_rows: usize) -> Self {
        Self {
            names: Vec::new(),
            numbers: FxHashMap::default(),
            claimed: Vec::new(),
            written: Vec::new(),
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
        self.written.push(None);
        self.numbers.insert(name, self.names.len() - 1);
        self.names.len() - 1
    }

    pub fn name(&self, feature: usize) -> &str {
        &self.names[feature]
    }

    /// Sets feature `feature` of row `row` (from 0), replacing a value it has in that row.
    pub fn set(&mut self, row: usize, feature: usize, cell: Cell<'_>) -> Result<(), InputError> {
        let value = match cell {
            Cell::Missing => FeatureValue::Missing,
            Cell::Number(v) if v.is_infinite() => {
                return Err(InputError::NotFiniteIn {
                    row: row + 1,
                    column: self.names[feature].to_string(),
                    value: cell.describe(),
                });
            }
            Cell::Number(v) => FeatureValue::Number(v),
            Cell::Text(s) => FeatureValue::Text(Arc::from(s)),
        };
        self.put(row, feature, value);
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
        self.put(row, feature, FeatureValue::Texts(texts));
    }

    /// Sets row `row` to a bare list of strings, no feature named.
    pub fn set_unnamed<'a>(&mut self, row: usize, texts: impl IntoIterator<Item = &'a str>) {
        let feature = self.feature("");
        let texts = texts.into_iter().map(Arc::from).collect();
        self.put(row, feature, FeatureValue::Unnamed(texts));
    }

    fn put(&mut self, row: usize, feature: usize, value: FeatureValue) {
        match self.written[feature] {
            Some((at, place)) if at == row => self.rows[row][place].1 = value,
            _ => {
                self.written[feature] = Some((row, self.rows[row].len()));
                self.rows[row].push((self.names[feature].clone(), value));
            }
        }
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
    fn features_are_numbered_once_missing_values_kept_and_the_last_of_a_name_counts() {
        let mut rows = MappingRows::new(2);
        let city = rows.feature("city");
        let temp = rows.feature("temp");
        assert_eq!(rows.feature("city"), city);
        rows.set(0, city, Cell::Text("Paris")).unwrap();
        rows.set(0, temp, Cell::Number(21.5)).unwrap();
        rows.set(0, city, Cell::Text("Rome")).unwrap();
        rows.set(1, city, Cell::Missing).unwrap();
        rows.set(1, temp, Cell::Number(f64::NAN)).unwrap();
        let err = rows.set(1, temp, Cell::Number(f64::INFINITY)).unwrap_err();
        assert!(err.to_string().contains("\"temp\""), "{err}");
        rows.claim(temp).unwrap();
        assert!(rows.claim(temp).is_err());
        let Column::Mappings(rows) = rows.finish() else {
            panic!("a column of mappings");
        };
        assert_eq!(
            rows[0],
            vec![
                (Arc::from("city"), FeatureValue::Text("Rome".into())),
                (Arc::from("temp"), FeatureValue::Number(21.5)),
            ]
        );
        assert_eq!(rows[1][0].1, FeatureValue::Missing);
        assert!(matches!(rows[1][1].1, FeatureValue::Number(v) if v.is_nan()));
    }
}

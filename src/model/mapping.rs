//! Rows of named features, what DictVectorizer and FeatureHasher take: each row a mapping of
//! feature names to a number, a string, or a list of strings, or (FeatureHasher with
//! `input_type='string'`) a bare list of strings. A model whose input is such a mapping has one
//! input column of kind `ColumnKind::Mapping`; every name a request gives (a V1 object's keys,
//! V2 inputs, a CSV header) is then a feature of that column, not a column of its own.
//!
//! A feature's value is kept as the client gave it, for the vectorizer to read as
//! scikit-learn reads the same Python value: a missing value (JSON null, an empty CSV cell) is
//! Python's `None`, NaN stays NaN, and a feature named twice in one row keeps its last value, as
//! Python's `json.loads` keeps the last of a repeated key. [`MappingRows`] collects them for
//! `FrameBuilder`.
//!
//! What must not live here: any protocol's syntax, the checks of a value as a client sent it
//! (`crate::model::input`, which builds these rows), and what a vectorizer makes of a feature
//! (`crate::model::text::dict`).

use std::sync::Arc;

use rustc_hash::FxHashMap;

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
    pub fn set(&mut self, row: usize, feature: usize, value: FeatureValue) {
        self.put(row, feature, value);
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

    /// Marks a feature as given whole: `false` when it already was (a second input of its name,
    /// which the caller refuses).
    pub fn claim(&mut self, feature: usize) -> bool {
        !std::mem::replace(&mut self.claimed[feature], true)
    }

    /// Each row's features.
    pub fn finish(self) -> Vec<Mapping> {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_numbered_once_and_the_last_of_a_name_in_a_row_counts() {
        let mut rows = MappingRows::new(2);
        let city = rows.feature("city");
        let temp = rows.feature("temp");
        assert_eq!(rows.feature("city"), city);
        rows.set(0, city, FeatureValue::Text("Paris".into()));
        rows.set(0, temp, FeatureValue::Number(21.5));
        rows.set(0, city, FeatureValue::Text("Rome".into()));
        rows.set(1, city, FeatureValue::Missing);
        rows.set_unnamed(1, ["a", "b"]);
        assert!(rows.claim(temp));
        assert!(!rows.claim(temp));
        let rows = rows.finish();
        assert_eq!(
            rows[0],
            vec![
                (Arc::from("city"), FeatureValue::Text("Rome".into())),
                (Arc::from("temp"), FeatureValue::Number(21.5)),
            ]
        );
        assert_eq!(
            rows[1],
            vec![
                (Arc::from("city"), FeatureValue::Missing),
                (
                    Arc::from(""),
                    FeatureValue::Unnamed(vec!["a".into(), "b".into()])
                ),
            ]
        );
    }
}

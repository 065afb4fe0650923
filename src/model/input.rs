//! The input every protocol hands a model: a [`Frame`] of rows whose columns are numbers
//! (float64, float32, integers or booleans as the client typed them) or strings, with missing
//! values. V1 objects, V2 tensors (one per column, or one 2-D tensor), the seed's form and the
//! CLI's CSV all build one, through [`FrameBuilder`] for named columns or [`Frame::from_rows`]
//! for positional numbers, so that every protocol meets the same checks and the same messages.
//!
//! A model says what it takes in its [`InputSchema`]: each column's name and whether it takes
//! numbers or strings. What must not live here: any protocol's syntax (that is `crate::http`
//! and `crate::commands`) and any estimator's arithmetic.

use std::sync::Arc;

use super::mapping::{FeatureValue, Mapping, MappingRows};

/// The numeric type of a column, as numpy would hold it. Only float32 changes arithmetic
/// (steps that keep float32 round every result to it); the others decide how columns combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    Bool,
    Int,
    F32,
    F64,
}

impl Dtype {
    /// numpy's result type of two arrays stacked side by side (`np.hstack`).
    pub fn promote(self, other: Self) -> Self {
        use Dtype::*;
        match (self, other) {
            (Bool, x) | (x, Bool) => x,
            (Int, Int) => Int,
            (F32, F32) => F32,
            _ => F64,
        }
    }

    /// What scikit-learn's `check_array(dtype=FLOAT_DTYPES)` turns it into.
    pub fn as_float(self) -> Self {
        if self == Self::F32 {
            Self::F32
        } else {
            Self::F64
        }
    }

    /// Rounds a value to this type's precision (float32 rounds, the rest are already exact).
    #[inline]
    pub fn round(self, v: f64) -> f64 {
        if self == Self::F32 {
            v as f32 as f64
        } else {
            v
        }
    }
}

/// One column of a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numbers, `NaN` where a value is missing.
    Numbers { values: Vec<f64>, dtype: Dtype },
    /// Strings, `None` where a value is missing.
    Texts(Vec<Option<Arc<str>>>),
    /// One mapping of feature names to values per row (a DictVectorizer's or FeatureHasher's
    /// input), the features each row names.
    Mappings(Vec<Mapping>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Self::Numbers { values, .. } => values.len(),
            Self::Texts(values) => values.len(),
            Self::Mappings(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of one row.
    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Self::Numbers { values, .. } if values[row].is_nan() => Cell::Missing,
            Self::Numbers { values, .. } => Cell::Number(values[row]),
            Self::Texts(values) => values[row].as_deref().map_or(Cell::Missing, Cell::Text),
            // A mapping is no one value: encoders and imputers never read one.
            Self::Mappings(_) => Cell::Missing,
        }
    }
}

/// Rows by columns, column by column: what a DataFrame is to scikit-learn.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub n_rows: usize,
    pub columns: Vec<Column>,
}

/// One value as a client sent it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    Missing,
    Number(f64),
    Text(&'a str),
}

impl Cell<'_> {
    /// The value as a message shows it: `"July"`, `7.5`, `a missing value`.
    pub fn describe(&self) -> String {
        match self {
            Self::Missing => "a missing value".into(),
            Self::Number(v) => crate::model::python_float_or_int(*v),
            Self::Text(s) => format!("{s:?}"),
        }
    }
}

impl Frame {
    /// Positional numbers, row-major (the wire form of a 2-D tensor or a headerless CSV).
    pub fn from_rows(values: &[f64], n_columns: usize, dtype: Dtype) -> Self {
        let n_rows = values.len().checked_div(n_columns).unwrap_or(0);
        let columns = (0..n_columns)
            .map(|j| Column::Numbers {
                values: values.iter().skip(j).step_by(n_columns).copied().collect(),
                dtype,
            })
            .collect();
        Self { n_rows, columns }
    }
}

/// What a model takes: its columns in order, each with what it accepts.
#[derive(Clone, Debug, PartialEq)]
pub struct InputSchema {
    pub columns: Vec<InputColumn>,
    /// Whether the names are the model's own (`feature_names_in_`) or made up (`x0`, `x1`…).
    pub named: bool,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct InputColumn {
    pub name: String,
    pub kind: ColumnKind,
}

/// What a column accepts, decided by the steps that read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    /// Numbers (or a missing value where a step accepts one).
    Number,
    /// Strings: the categories of an encoder, or what an imputer fills.
    Text,
    /// Read by no step (dropped by a ColumnTransformer): anything, or nothing.
    Unused,
    /// Each row a mapping of feature names to values (DictVectorizer, FeatureHasher): a
    /// request's named fields are the features, not columns of the model.
    Mapping,
}

impl ColumnKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Number => "numbers",
            Self::Text => "strings",
            Self::Unused => "anything (the model does not use it)",
            Self::Mapping => "a mapping of feature names to numbers or strings",
        }
    }
}

/// A caller's input that failed validation against a model. Rows and columns are numbered
/// from 1, as a person counts them; columns are named where the model names them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("row {row} has {got} values, expected {expected} features")]
    WrongWidth {
        row: usize,
        got: usize,
        expected: usize,
    },
    #[error("row {row}, column {column}: {value} is not a finite number")]
    NotFinite {
        row: usize,
        column: usize,
        value: f64,
    },
    #[error("no rows to predict")]
    Empty,
    #[error("unknown column \"{column}\"; the model's columns are {known}")]
    UnknownColumn { column: String, known: String },
    #[error("missing column \"{column}\"; the model's columns are {known}")]
    MissingColumn { column: String, known: String },
    #[error("column \"{column}\" is given twice")]
    DuplicateColumn { column: String },
    #[error("column \"{column}\" has {got} values but the other columns have {expected}")]
    ColumnLength {
        column: String,
        got: usize,
        expected: usize,
    },
    #[error("row {row}, column \"{column}\": {value} is not a number; {column} takes numbers")]
    NotANumber {
        row: usize,
        column: String,
        value: String,
    },
    #[error(
        "row {row}, column \"{column}\": {value} is not a string; {column} takes strings{allowed}"
    )]
    NotAString {
        row: usize,
        column: String,
        value: String,
        /// `: one of "a", "b"` when the column's categories are known.
        allowed: String,
    },
    #[error("row {row}, column \"{column}\": {value} is not a finite number")]
    NotFiniteIn {
        row: usize,
        column: String,
        value: String,
    },
    #[error(
        "row {row}, column \"{column}\": {value} is too large for float32, which {step} reads \
         its input as (at most ±3.4028235e38)"
    )]
    TooLargeForFloat32 {
        row: usize,
        column: String,
        value: String,
        step: String,
    },
    #[error(
        "row {row}, column \"{column}\": {value} is not a category the model knows; allowed: {allowed}"
    )]
    UnknownCategory {
        row: usize,
        column: String,
        value: String,
        allowed: String,
    },
    #[error(
        "row {row}, column \"{column}\": a missing value, which {step} does not accept; {column} needs a value"
    )]
    MissingValue {
        row: usize,
        column: String,
        step: String,
    },
    #[error("row {row}, column \"{column}\": {step} cannot transform this value exactly: {reason}")]
    Inexact {
        row: usize,
        column: String,
        step: String,
        reason: String,
    },
    #[error("row {row}, column \"{column}\": strings reach {step}, which takes numbers")]
    TextReachesNumbers {
        row: usize,
        column: String,
        step: String,
    },
    #[error(
        "this model takes named columns ({columns}); send them by name, not as a row of numbers"
    )]
    NamedColumnsNeeded { columns: String },
    #[error("row {row}, column \"{column}\": {step} has no answer for it: {reason}")]
    OutOfRange {
        row: usize,
        column: String,
        step: String,
        reason: String,
    },
    #[error("row {row}: {step} has no answer for it: {reason}")]
    NoAnswer {
        row: usize,
        step: String,
        reason: String,
    },
    #[error("this model takes text, one document per row; send strings, not numbers")]
    TextNeeded,
    #[error(
        "this model takes rows of named features (a mapping of feature names to numbers or \
         strings per row); send each row's features by name, not as a row of numbers"
    )]
    MappingsNeeded,
}

/// Whether a column a request does not name is a missing value in every row (V1 objects, as
/// a missing key) or a mistake (V2 inputs, CSV headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {
    Missing,
    Refused,
}

/// Builds a frame for a model from named columns, checking each value as it is set: unknown
/// columns, strings where numbers are needed and numbers where strings are, naming the column.
#[derive(Debug)]
pub struct FrameBuilder<'s> {
    schema: &'s InputSchema,
    n_rows: usize,
    columns: Vec<Option<Column>>,
    /// Categories per column for messages (`one of "a", "b"`), when the model knows them.
    categories: &'s [Option<Vec<String>>],
    /// The features of a model whose rows are mappings, numbered after its columns.
    mappings: Option<(usize, MappingRows)>,
}

impl InputSchema {
    /// Positional columns `x0`, `x1`, … of numbers.
    pub fn positional(n: usize) -> Self {
        Self {
            columns: (0..n)
                .map(|i| InputColumn {
                    name: format!("x{i}"),
                    kind: ColumnKind::Number,
                })
                .collect(),
            named: false,
        }
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The one column of a model that takes a single column of text (a vectorizer's
    /// documents), whose rows may be sent as plain strings.
    pub fn text_column(&self) -> Option<&InputColumn> {
        match self.columns.as_slice() {
            [only] if only.kind == ColumnKind::Text => Some(only),
            _ => None,
        }
    }

    /// Every column is a number (or unused): a row of numbers can stand for a named row.
    pub fn all_numeric(&self) -> bool {
        self.columns
            .iter()
            .all(|c| matches!(c.kind, ColumnKind::Number | ColumnKind::Unused))
    }

    /// The column of mappings of a model whose rows are mappings of features
    /// (`crate::model::mapping`): every name a request gives is one of its features.
    pub fn mapping_column(&self) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.kind == ColumnKind::Mapping)
    }

    /// The column names joined for a message.
    pub fn names(&self) -> String {
        self.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The columns with what they take, for a message: `OPERA (strings), MES (numbers)`.
    pub fn described(&self) -> String {
        self.columns
            .iter()
            .filter(|c| c.kind != ColumnKind::Unused)
            .map(|c| format!("{} ({})", c.name, c.kind.describe()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<'s> FrameBuilder<'s> {
    pub fn new(
        schema: &'s InputSchema,
        categories: &'s [Option<Vec<String>>],
        n_rows: usize,
    ) -> Self {
        Self {
            schema,
            n_rows,
            columns: vec![None; schema.len()],
            categories,
            mappings: schema
                .mapping_column()
                .map(|at| (at, MappingRows::new(n_rows))),
        }
    }

    /// The index of a named column, or the error naming what the model takes. For a model
    /// whose rows are mappings, every name is a feature, numbered after the columns.
    pub fn column(&mut self, name: &str) -> Result<usize, InputError> {
        if let Some((_, features)) = &mut self.mappings {
            return Ok(self.schema.len() + features.feature(name));
        }
        self.schema
            .position(name)
            .ok_or_else(|| InputError::UnknownColumn {
                column: name.to_owned(),
                known: self.schema.names(),
            })
    }

    fn slot(&mut self, index: usize, text: bool) -> &mut Column {
        let n_rows = self.n_rows;
        self.columns[index].get_or_insert_with(|| {
            if text {
                Column::Texts(vec![None; n_rows])
            } else {
                Column::Numbers {
                    values: vec![f64::NAN; n_rows],
                    dtype: Dtype::F64,
                }
            }
        })
    }

    /// The features of a mapping, when `index` is one.
    fn feature(&mut self, index: usize) -> Option<(&mut MappingRows, usize)> {
        let n = self.schema.len();
        match &mut self.mappings {
            Some((_, features)) if index >= n => Some((features, index - n)),
            _ => None,
        }
    }

    /// Whether column `index` takes a list of strings: a feature of a model of mappings.
    pub fn takes_lists(&self, index: usize) -> bool {
        self.mappings.is_some() && index >= self.schema.len()
    }

    /// Sets row `row` (from 0) of column `index`.
    pub fn set(&mut self, row: usize, index: usize, cell: Cell<'_>) -> Result<(), InputError> {
        if let Some((features, feature)) = self.feature(index) {
            return set_feature(features, row, feature, cell);
        }
        let column = &self.schema.columns[index];
        match (column.kind, cell) {
            (ColumnKind::Unused, _) => Ok(()),
            // The mapping's features are set by name; the column itself takes nothing.
            (ColumnKind::Mapping, _) => Ok(()),
            (ColumnKind::Number, Cell::Number(v)) if !v.is_finite() && !v.is_nan() => {
                Err(InputError::NotFiniteIn {
                    row: row + 1,
                    column: column.name.clone(),
                    value: cell.describe(),
                })
            }
            (ColumnKind::Number, Cell::Number(v)) => {
                if let Column::Numbers { values, .. } = self.slot(index, false) {
                    values[row] = v;
                }
                Ok(())
            }
            (ColumnKind::Number, Cell::Missing) => {
                self.slot(index, false);
                Ok(())
            }
            (ColumnKind::Number, Cell::Text(_)) => Err(InputError::NotANumber {
                row: row + 1,
                column: column.name.clone(),
                value: cell.describe(),
            }),
            (ColumnKind::Text, Cell::Text(s)) => {
                if let Column::Texts(values) = self.slot(index, true) {
                    values[row] = Some(Arc::from(s));
                }
                Ok(())
            }
            (ColumnKind::Text, Cell::Missing) => {
                self.slot(index, true);
                Ok(())
            }
            (ColumnKind::Text, Cell::Number(_)) => Err(InputError::NotAString {
                row: row + 1,
                column: column.name.clone(),
                value: cell.describe(),
                allowed: self.allowed(index),
            }),
        }
    }

    /// Sets feature `index` of a mapping in row `row` to several strings (a JSON list).
    pub fn set_texts<'a>(
        &mut self,
        row: usize,
        index: usize,
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), InputError> {
        match self.feature(index) {
            Some((features, feature)) => {
                features.set_texts(row, feature, texts);
                Ok(())
            }
            None => {
                let column = &self.schema.columns[index];
                let (row, column, value) = (row + 1, column.name.clone(), "a list".to_owned());
                Err(match self.schema.columns[index].kind {
                    ColumnKind::Text => InputError::NotAString {
                        row,
                        column,
                        value,
                        allowed: String::new(),
                    },
                    _ => InputError::NotANumber { row, column, value },
                })
            }
        }
    }

    /// Sets row `row` of a model of rows of named features to a bare list of strings, no
    /// feature named (FeatureHasher with `input_type='string'` takes it).
    pub fn set_unnamed<'a>(
        &mut self,
        row: usize,
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), InputError> {
        match &mut self.mappings {
            Some((_, features)) => {
                features.set_unnamed(row, texts);
                Ok(())
            }
            None => Err(InputError::NotANumber {
                row: row + 1,
                column: self.schema.names(),
                value: "a list of strings".into(),
            }),
        }
    }

    /// Sets a whole numeric column at once (a V2 tensor), with the type the client declared.
    pub fn set_numbers(
        &mut self,
        index: usize,
        values: Vec<f64>,
        dtype: Dtype,
    ) -> Result<(), InputError> {
        let n_rows = self.n_rows;
        if let Some((features, feature)) = self.feature(index) {
            if values.len() != n_rows {
                return Err(InputError::ColumnLength {
                    column: features.name(feature).to_owned(),
                    got: values.len(),
                    expected: n_rows,
                });
            }
            claim_feature(features, feature)?;
            for (row, v) in values.into_iter().enumerate() {
                set_feature(features, row, feature, Cell::Number(dtype.round(v)))?;
            }
            return Ok(());
        }
        let column = &self.schema.columns[index];
        if values.len() != self.n_rows {
            return Err(InputError::ColumnLength {
                column: column.name.clone(),
                got: values.len(),
                expected: self.n_rows,
            });
        }
        if self.columns[index].is_some() {
            return Err(InputError::DuplicateColumn {
                column: column.name.clone(),
            });
        }
        match column.kind {
            ColumnKind::Unused | ColumnKind::Mapping => {}
            ColumnKind::Text => {
                let value = values.iter().find(|v| !v.is_nan()).copied();
                if let Some(v) = value {
                    return Err(InputError::NotAString {
                        row: values.iter().position(|x| *x == v).unwrap_or(0) + 1,
                        column: column.name.clone(),
                        value: Cell::Number(v).describe(),
                        allowed: self.allowed(index),
                    });
                }
                self.columns[index] = Some(Column::Texts(vec![None; self.n_rows]));
            }
            ColumnKind::Number => {
                if let Some(row) = values.iter().position(|v| v.is_infinite()) {
                    return Err(InputError::NotFiniteIn {
                        row: row + 1,
                        column: column.name.clone(),
                        value: Cell::Number(values[row]).describe(),
                    });
                }
                let values = values.into_iter().map(|v| dtype.round(v)).collect();
                self.columns[index] = Some(Column::Numbers { values, dtype });
            }
        }
        Ok(())
    }

    /// Marks a column as given (V2 inputs and CSV headers refuse a column given twice).
    pub fn claim(&mut self, index: usize) -> Result<(), InputError> {
        if let Some((features, feature)) = self.feature(index) {
            return claim_feature(features, feature);
        }
        if self.schema.columns[index].kind == ColumnKind::Mapping {
            return Ok(());
        }
        if self.columns[index].is_some() {
            return Err(InputError::DuplicateColumn {
                column: self.schema.columns[index].name.clone(),
            });
        }
        let text = self.schema.columns[index].kind == ColumnKind::Text;
        self.slot(index, text);
        Ok(())
    }

    fn allowed(&self, index: usize) -> String {
        match self.categories.get(index) {
            Some(Some(categories)) => format!(": one of {}", quoted_list(categories)),
            _ => String::new(),
        }
    }

    /// The frame, with columns never set treated as `absent` says.
    pub fn finish(mut self, absent: Absent) -> Result<Frame, InputError> {
        if self.n_rows == 0 {
            return Err(InputError::Empty);
        }
        let mut columns = Vec::with_capacity(self.columns.len());
        let mut mappings = self.mappings.take();
        for index in 0..self.columns.len() {
            let info = &self.schema.columns[index];
            let text = info.kind == ColumnKind::Text;
            let column = match self.columns[index].take() {
                Some(column) => column,
                // A row that names none of the features is a row without them.
                None if info.kind == ColumnKind::Mapping => match mappings.take() {
                    Some((_, features)) => Column::Mappings(features.finish()),
                    None => Column::Mappings(vec![Mapping::new(); self.n_rows]),
                },
                None if absent == Absent::Refused && info.kind != ColumnKind::Unused => {
                    return Err(InputError::MissingColumn {
                        column: info.name.clone(),
                        known: self.schema.names(),
                    });
                }
                None if text => Column::Texts(vec![None; self.n_rows]),
                None => Column::Numbers {
                    values: vec![f64::NAN; self.n_rows],
                    dtype: Dtype::F64,
                },
            };
            columns.push(column);
        }
        Ok(Frame {
            n_rows: self.n_rows,
            columns,
        })
    }
}

/// `"a", "b", "c"`, at most 20 items (then `… (N in all)`).
pub fn quoted_list(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut out: Vec<String> = items.iter().take(SHOWN).map(|s| format!("{s:?}")).collect();
    if items.len() > SHOWN {
        out.push(format!("… ({} in all)", items.len()));
    }
    out.join(", ")
}

/// Sets a feature of a row of named features to `cell` as the client sent it: a missing value
/// is Python's `None`, NaN stays NaN; an infinite number is refused, as in any column.
fn set_feature(
    features: &mut MappingRows,
    row: usize,
    feature: usize,
    cell: Cell<'_>,
) -> Result<(), InputError> {
    let value = match cell {
        Cell::Missing => FeatureValue::Missing,
        Cell::Number(v) if v.is_infinite() => {
            return Err(InputError::NotFiniteIn {
                row: row + 1,
                column: features.name(feature).to_owned(),
                value: cell.describe(),
            });
        }
        Cell::Number(v) => FeatureValue::Number(v),
        Cell::Text(s) => FeatureValue::Text(Arc::from(s)),
    };
    features.set(row, feature, value);
    Ok(())
}

/// Marks a feature as given whole (a V2 input, a CSV header); a second of its name is refused.
fn claim_feature(features: &mut MappingRows, feature: usize) -> Result<(), InputError> {
    if features.claim(feature) {
        return Ok(());
    }
    Err(InputError::DuplicateColumn {
        column: features.name(feature).to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> InputSchema {
        InputSchema {
            columns: vec![
                InputColumn {
                    name: "OPERA".into(),
                    kind: ColumnKind::Text,
                },
                InputColumn {
                    name: "MES".into(),
                    kind: ColumnKind::Number,
                },
            ],
            named: true,
        }
    }

    #[test]
    fn values_are_checked_against_the_column_kind() {
        let schema = schema();
        let categories = [Some(vec!["Grupo LATAM".to_owned()]), None];
        let mut b = FrameBuilder::new(&schema, &categories, 2);
        b.set(0, 0, Cell::Text("Grupo LATAM")).unwrap();
        b.set(0, 1, Cell::Number(7.0)).unwrap();
        let err = b.set(1, 1, Cell::Text("July")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 2, column \"MES\": \"July\" is not a number; MES takes numbers"
        );
        let err = b.set(1, 0, Cell::Number(3.0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 2, column \"OPERA\": 3 is not a string; OPERA takes strings: one of \"Grupo LATAM\""
        );
        assert!(matches!(
            b.column("DIA").unwrap_err(),
            InputError::UnknownColumn { .. }
        ));
        let frame = b.finish(Absent::Missing).unwrap();
        assert_eq!(frame.columns[0].cell(1), Cell::Missing);
        assert_eq!(frame.columns[1].cell(0), Cell::Number(7.0));
    }

    #[test]
    fn an_absent_column_is_missing_or_refused() {
        let schema = schema();
        let b = FrameBuilder::new(&schema, &[], 1);
        assert!(matches!(
            b.finish(Absent::Refused).unwrap_err(),
            InputError::MissingColumn { .. }
        ));
        let b = FrameBuilder::new(&schema, &[], 1);
        let frame = b.finish(Absent::Missing).unwrap();
        assert_eq!(frame.columns[1].cell(0), Cell::Missing);
    }

    #[test]
    fn positional_rows_become_columns() {
        let frame = Frame::from_rows(&[1.0, 2.0, 3.0, 4.0], 2, Dtype::F64);
        assert_eq!(frame.n_rows, 2);
        assert_eq!(
            frame.columns[1],
            Column::Numbers {
                values: vec![2.0, 4.0],
                dtype: Dtype::F64
            }
        );
    }

    #[test]
    fn dtypes_promote_like_numpy() {
        assert_eq!(Dtype::F32.promote(Dtype::Bool), Dtype::F32);
        assert_eq!(Dtype::F32.promote(Dtype::Int), Dtype::F64);
        assert_eq!(Dtype::F32.promote(Dtype::F64), Dtype::F64);
        assert_eq!(Dtype::Int.as_float(), Dtype::F64);
    }
}

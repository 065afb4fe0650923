//! The V1 body without a JSON tree: `{"instances": [...]}` read straight from the bytes into
//! the model's input (rows of numbers, or the cells of named columns, with strings borrowed
//! from the body), and the answer written straight from the inference.
//!
//! This is V1's one reader of requests: every request a model can take, it takes. What it
//! gives up on is a request with something wrong in it, which the handler then reads again as
//! a `serde_json::Value` only to word the error (see `v1.rs`): one place says what is wrong. A
//! test feeds both the same bodies and checks that they agree.

use std::borrow::Cow;
use std::fmt;

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::inference::Explanation;
use crate::model::{Absent, Cell, Classes, Frame, Label, Model, Prediction, Target};
use crate::registry::{FeatureSchema, FieldValue, LoadedModel};

/// What the instances become: positional rows of numbers, or named typed columns.
#[derive(Debug, PartialEq)]
pub(super) enum Input {
    Rows(Vec<f64>),
    Named(Frame),
}

/// How a model takes named instances.
#[derive(Clone, Copy)]
pub(super) enum Expect<'m> {
    /// Objects of the model's own columns (a Pipeline's typed columns), or rows.
    Columns,
    /// Objects one-hot encoded through feature names (a bare estimator's `features.json` or
    /// its own names), or rows, mixed as they come.
    Encoded(&'m FeatureSchema),
    /// Rows only.
    Rows,
    /// Documents, each a string (or an object naming the model's one text column).
    Text(&'m str),
    /// Rows of named features: objects of features, or bare lists of strings.
    Mappings,
}

impl<'m> Expect<'m> {
    /// How `loaded` takes instances.
    pub(super) fn of(loaded: &'m LoadedModel) -> Self {
        if let Some(column) = loaded.model().input().text_column() {
            return Self::Text(&column.name);
        }
        if loaded.model().input().mapping_column().is_some() {
            return Self::Mappings;
        }
        match loaded.features() {
            Some(schema) => Self::Encoded(schema),
            None if loaded.model().input().named => Self::Columns,
            None => Self::Rows,
        }
    }
}

/// The instances of a request the model can take, or `None` when something in it is wrong.
pub(super) fn read(model: &Model, body: &[u8], expect: Expect<'_>) -> Option<Input> {
    // As a JSON object is read into a map: the last of a repeated key counts, and "instances"
    // wins over "inputs". Each is kept as its raw text until the one that counts is known.
    let mut de = serde_json::Deserializer::from_slice(body);
    let keys = Keys::deserialize(&mut de).ok()?;
    de.end().ok()?;
    let chosen = keys.instances.or(keys.inputs)?;
    let mut de = serde_json::Deserializer::from_str(chosen.get());
    let parsed = Instances {
        expect,
        n_features: model.n_features(),
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    match parsed {
        Parsed::Rows(values) => Some(Input::Rows(values)),
        Parsed::Named { cells, n_rows } => {
            let mut builder = model.frame_builder(n_rows);
            for (row, name, value) in &cells {
                if let Raw::Row(texts) = value {
                    builder
                        .set_unnamed(*row, texts.iter().map(AsRef::as_ref))
                        .ok()?;
                    continue;
                }
                let column = builder.column(name).ok()?;
                let cell = match value {
                    Raw::Row(_) => continue,
                    Raw::Texts(texts) => {
                        builder
                            .set_texts(*row, column, texts.iter().map(AsRef::as_ref))
                            .ok()?;
                        continue;
                    }
                    Raw::Missing => Cell::Missing,
                    Raw::Int(v) => Cell::Number(*v as f64),
                    Raw::Float(v) => Cell::Number(*v),
                    Raw::Bool(v) => Cell::Number(f64::from(u8::from(*v))),
                    Raw::Text(s) => Cell::Text(s),
                };
                builder.set(*row, column, cell).ok()?;
            }
            builder.finish(Absent::Missing).ok().map(Input::Named)
        }
        Parsed::Mixed {
            instances,
            rows,
            cells,
        } => {
            let Expect::Encoded(schema) = expect else {
                return None;
            };
            let n = model.n_features();
            let mut values = Vec::with_capacity(instances.len() * n);
            let (mut row, mut cell) = (0, 0);
            for instance in instances {
                match instance {
                    Shape::Rows => {
                        values.extend_from_slice(rows.get(row * n..(row + 1) * n)?);
                        row += 1;
                    }
                    Shape::Objects(count) => {
                        let fields = cells.get(cell..cell + count)?;
                        cell += count;
                        let fields = fields
                            .iter()
                            .map(|(_, name, value)| (name.as_ref(), value.field()));
                        schema.encode_fields(fields, &mut values).ok()?;
                    }
                    // Documents are taken only by a model of text, never encoded.
                    Shape::Text => return None,
                }
            }
            Some(Input::Rows(values))
        }
    }
}

enum Parsed<'de> {
    Rows(Vec<f64>),
    /// Per cell: its row, its column's name, its value.
    Named {
        cells: Vec<(usize, Cow<'de, str>, Raw<'de>)>,
        n_rows: usize,
    },
    /// Rows and objects in the order they came (a model that one-hot encodes named fields).
    Mixed {
        instances: Vec<Shape>,
        rows: Vec<f64>,
        cells: Vec<(usize, Cow<'de, str>, Raw<'de>)>,
    },
}

/// One value as JSON wrote it.
#[derive(Clone, Debug, PartialEq)]
enum Raw<'de> {
    Missing,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(Cow<'de, str>),
    /// A list of strings: several values of one feature of a mapping.
    Texts(Vec<Cow<'de, str>>),
    /// A whole instance that is a list of strings: a row of strings naming no feature.
    Row(Vec<Cow<'de, str>>),
}

impl Raw<'_> {
    /// The value as a one-hot encoding reads it.
    fn field(&self) -> FieldValue<'_> {
        match self {
            Self::Missing => FieldValue::Other("null".into()),
            Self::Int(v) => FieldValue::Int(*v),
            Self::Float(v) => FieldValue::Float(*v),
            Self::Bool(v) => FieldValue::Bool(*v),
            Self::Text(s) => FieldValue::Text(s),
            Self::Texts(_) | Self::Row(_) => FieldValue::Other("a list".into()),
        }
    }

    /// The value in a row of numbers (a boolean is 0 or 1, null missing); `None` for text.
    fn number(&self) -> Option<f64> {
        match self {
            Self::Missing => Some(f64::NAN),
            Self::Int(v) => Some(*v as f64),
            Self::Float(v) => Some(*v),
            Self::Bool(v) => Some(f64::from(u8::from(*v))),
            Self::Text(_) | Self::Texts(_) | Self::Row(_) => None,
        }
    }
}

/// Gives up the read; the message is never shown.
fn give_up<E: de::Error>() -> E {
    E::custom("not a request the model can take")
}

/// The request's two keys for instances, each as its raw JSON: the last of each counts.
#[derive(Default)]
struct Keys<'a> {
    instances: Option<&'a RawValue>,
    inputs: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Keys<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with \"instances\"")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys<'de>, A::Error> {
                let mut keys = Keys::default();
                while let Some(Text(key)) = map.next_key()? {
                    let value: &'de RawValue = map.next_value()?;
                    match key.as_ref() {
                        "instances" => keys.instances = Some(value),
                        "inputs" => keys.inputs = Some(value),
                        _ => {}
                    }
                }
                Ok(keys)
            }
        }
        de.deserialize_map(V)
    }
}

struct Instances<'m> {
    expect: Expect<'m>,
    n_features: usize,
}

impl<'de> DeserializeSeed<'de> for Instances<'_> {
    type Value = Parsed<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Instances<'_> {
    type Value = Parsed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of instances")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut sink = Sink {
            expect: self.expect,
            n_features: self.n_features,
            instances: Vec::new(),
            rows: Vec::new(),
            cells: Vec::new(),
            n_rows: 0,
        };
        while seq.next_element_seed(Instance(&mut sink))?.is_some() {
            sink.n_rows += 1;
        }
        let first = sink.instances.first().copied().ok_or_else(give_up)?;
        let mixed = sink.instances.iter().any(|&s| !same_kind(s, first));
        Ok(match (sink.expect, first) {
            (Expect::Encoded(_), Shape::Objects(_)) => Parsed::Mixed {
                instances: sink.instances,
                rows: sink.rows,
                cells: sink.cells,
            },
            (Expect::Encoded(_), Shape::Rows) if mixed => Parsed::Mixed {
                instances: sink.instances,
                rows: sink.rows,
                cells: sink.cells,
            },
            (_, _) if mixed => return Err(give_up()),
            (Expect::Text(_), Shape::Rows) => return Err(give_up()),
            (_, Shape::Rows) => Parsed::Rows(sink.rows),
            (
                Expect::Columns | Expect::Mappings | Expect::Text(_),
                Shape::Objects(_) | Shape::Text,
            ) => Parsed::Named {
                cells: sink.cells,
                n_rows: sink.n_rows,
            },
            (_, Shape::Text) | (Expect::Rows, Shape::Objects(_)) => return Err(give_up()),
        })
    }
}

/// What an instance was: a row, an object of so many fields, or a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Rows,
    Objects(usize),
    Text,
}

/// Whether two instances may come in one request: rows with rows, objects with objects (and
/// documents, which are objects of one field).
fn same_kind(a: Shape, b: Shape) -> bool {
    matches!(
        (a, b),
        (Shape::Rows, Shape::Rows)
            | (
                Shape::Objects(_) | Shape::Text,
                Shape::Objects(_) | Shape::Text
            )
    )
}

/// Where the instances go.
struct Sink<'de, 'm> {
    expect: Expect<'m>,
    n_features: usize,
    instances: Vec<Shape>,
    rows: Vec<f64>,
    cells: Vec<(usize, Cow<'de, str>, Raw<'de>)>,
    n_rows: usize,
}

struct Instance<'s, 'de, 'm>(&'s mut Sink<'de, 'm>);

impl<'de> DeserializeSeed<'de> for Instance<'_, 'de, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Instance<'_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row of numbers or an object of named values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let sink = self.0;
        if matches!(sink.expect, Expect::Mappings) {
            let mut texts = Vec::new();
            while let Some(Text(text)) = seq.next_element()? {
                texts.push(text);
            }
            sink.cells
                .push((sink.n_rows, Cow::Borrowed(""), Raw::Row(texts)));
            sink.instances.push(Shape::Objects(1));
            return Ok(());
        }
        let mut n = 0;
        while let Some(Scalar(value)) = seq.next_element::<Scalar>()? {
            sink.rows.push(value.number().ok_or_else(give_up)?);
            n += 1;
        }
        if n != sink.n_features {
            return Err(give_up());
        }
        sink.instances.push(Shape::Rows);
        Ok(())
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.document(Raw::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.document(Raw::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.document(Raw::Text(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.document(Raw::Missing)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.0;
        if matches!(sink.expect, Expect::Rows) {
            return Err(give_up());
        }
        let start = sink.cells.len();
        while let Some(Text(name)) = map.next_key()? {
            let Scalar(value) = map.next_value()?;
            // A field named twice counts once, its last value, as in a map.
            match sink.cells[start..].iter_mut().find(|(_, n, _)| *n == name) {
                Some(cell) => cell.2 = value,
                None => sink.cells.push((sink.n_rows, name, value)),
            }
        }
        sink.instances
            .push(Shape::Objects(sink.cells.len() - start));
        Ok(())
    }
}

impl<'de> Instance<'_, 'de, '_> {
    /// A document (or `null`, a missing one) for a model of one text column.
    fn document<E: de::Error>(self, value: Raw<'de>) -> Result<(), E> {
        let sink = self.0;
        let Expect::Text(column) = sink.expect else {
            return Err(give_up());
        };
        sink.cells
            .push((sink.n_rows, Cow::Owned(column.to_owned()), value));
        sink.instances.push(Shape::Text);
        Ok(())
    }
}

/// A string, borrowed from the body unless it holds escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        de.deserialize_str(V)
    }
}

/// One value of an instance: a number, a boolean, a string, null (missing), or a list of
/// strings (a mapping's feature of several values). Anything else in an instance is a mistake,
/// worded by the full reading.
struct Scalar<'de>(Raw<'de>);

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, a string, a boolean or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Missing))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Bool(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                // As `serde_json::Value` holds it: an integer while it fits an i64.
                Ok(Scalar(
                    i64::try_from(v).map_or(Raw::Float(v as f64), Raw::Int),
                ))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Int(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Float(v)))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Text(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Text(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Text(Cow::Owned(v))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut texts = Vec::new();
                while let Some(Text(text)) = seq.next_element()? {
                    texts.push(text);
                }
                Ok(Scalar(Raw::Texts(texts)))
            }
        }
        de.deserialize_any(V)
    }
}

/// The V1 answer, keys in the order `serde_json::Map` writes them.
#[derive(serde::Serialize)]
pub(super) struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Labels<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanations: Option<&'a [Explanation<'a>]>,
    pub predictions: Predictions<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<Rows<'a>>,
}

/// A prediction as V1 answers it: labels for a classifier, values for a regressor (one per
/// row, or a list per row when it predicts several), and the transformed rows of a model that
/// only transforms.
pub(super) struct Predictions<'a> {
    pub model: &'a Model,
    pub predicted: Option<&'a Prediction>,
    pub transformed: Option<&'a Array2<f64>>,
}

impl Serialize for Predictions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(predicted) = self.predicted else {
            return match self.transformed {
                Some(values) => Rows(values.view()).serialize(s),
                None => s.collect_seq(std::iter::empty::<f64>()),
            };
        };
        match (predicted, self.model.classes(), self.model.target()) {
            (Prediction::Classes(indices), Some(classes), _) => {
                s.collect_seq(indices.iter().map(|&i| LabelJson(classes.label(i))))
            }
            (Prediction::MultiClasses(indices), _, Target::MultiClasses(outputs)) => {
                s.collect_seq(indices.rows().into_iter().map(|row| LabelRow(row, outputs)))
            }
            (Prediction::MultiClasses(_), _, _) => s.collect_seq(std::iter::empty::<f64>()),
            (Prediction::Values(values), _, Target::Values { one_d: true, .. }) => {
                s.collect_seq(values.column(0).iter())
            }
            (Prediction::Values(values), _, _) => Rows(values.view()).serialize(s),
            (Prediction::Classes(_), None, _) => s.collect_seq(std::iter::empty::<f64>()),
        }
    }
}

/// The model's classes, in order: a list of labels, or a list of them per output.
pub(super) struct Labels<'a>(pub &'a [Classes]);

impl Serialize for Labels<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [classes] => OutputLabels(classes).serialize(s),
            outputs => s.collect_seq(outputs.iter().map(OutputLabels)),
        }
    }
}

struct OutputLabels<'a>(&'a Classes);

impl Serialize for OutputLabels<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.0.len()).map(|i| LabelJson(self.0.label(i))))
    }
}

/// One row's label for each output.
struct LabelRow<'a>(ArrayView1<'a, usize>, &'a [Classes]);

impl Serialize for LabelRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .iter()
                .zip(self.1)
                .map(|(&i, classes)| LabelJson(classes.label(i))),
        )
    }
}

struct LabelJson<'a>(Label<'a>);

impl Serialize for LabelJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Label::Int(v) => s.serialize_i64(v),
            Label::Float(v) => v.serialize(s),
            Label::Bool(v) => s.serialize_bool(v),
            Label::Str(v) => s.serialize_str(v),
        }
    }
}

/// A matrix as a list of rows.
pub(super) struct Rows<'a>(pub ArrayView2<'a, f64>);

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.rows().into_iter().map(Row))
    }
}

struct Row<'a>(ArrayView1<'a, f64>);

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

//! The V1 body without a JSON tree: `{"instances": [...]}` read straight from the bytes into
//! the model's typed input (rows of numbers, or the cells of named columns, with strings
//! borrowed from the body), and the answer written straight from the prediction.
//!
//! The fast read takes only a well-formed request (every instance of one shape, every value a
//! number, a string, a boolean or null, every column known, no more rows than allowed). On
//! anything else it gives up and the handler reads the body as a `serde_json::Value` (see
//! `v1.rs`), which is what words every error: one place says what is wrong with a request.

use std::borrow::Cow;
use std::fmt;

use ndarray::{ArrayView1, ArrayView2};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

use super::explain::Explanation;
use crate::model::{Absent, Cell, Classes, Frame, Label, Model, Prediction, Target};

/// What the instances become: positional rows of numbers, or named typed columns.
pub(super) enum Input {
    Rows(Vec<f64>),
    Named(Frame),
}

/// What the fast read needs to know of the model.
#[derive(Clone, Copy)]
pub(super) struct Expect {
    /// Objects are read by column name (a Pipeline's typed columns); otherwise only rows.
    pub named: bool,
    pub n_features: usize,
    pub max_rows: usize,
}

/// The instances of a well-formed request, or `None` for the handler's full reading.
pub(super) fn read(model: &Model, body: &[u8], expect: Expect) -> Option<Input> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Request(expect).deserialize(&mut de).ok()?;
    de.end().ok()?;
    match parsed {
        Parsed::Rows(values) => Some(Input::Rows(values)),
        Parsed::Named { cells, n_rows } => {
            let mut builder = model.frame_builder(n_rows);
            for (row, name, value) in &cells {
                let column = builder.column(name).ok()?;
                let cell = match value {
                    Raw::Missing => Cell::Missing,
                    Raw::Number(v) => Cell::Number(*v),
                    Raw::Text(s) => Cell::Text(s),
                };
                builder.set(*row, column, cell).ok()?;
            }
            builder.finish(Absent::Missing).ok().map(Input::Named)
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
}

enum Raw<'de> {
    Missing,
    Number(f64),
    Text(Cow<'de, str>),
}

/// Gives up the fast read; the message is never shown.
fn give_up<E: de::Error>() -> E {
    E::custom("not a request the fast read takes")
}

struct Request(Expect);

impl<'de> DeserializeSeed<'de> for Request {
    type Value = Parsed<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Request {
    type Value = Parsed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with \"instances\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut instances = None;
        while let Some(Text(key)) = map.next_key()? {
            if key == "instances" || key == "inputs" {
                // Both, or either twice: the full reading decides which one counts.
                if instances.is_some() {
                    return Err(give_up());
                }
                instances = Some(map.next_value_seed(Instances(self.0))?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        instances.ok_or_else(give_up)
    }
}

struct Instances(Expect);

impl<'de> DeserializeSeed<'de> for Instances {
    type Value = Parsed<'de>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Instances {
    type Value = Parsed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of instances")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut sink = Sink {
            expect: self.0,
            shape: None,
            rows: Vec::new(),
            cells: Vec::new(),
            n_rows: 0,
        };
        while seq.next_element_seed(Instance(&mut sink))?.is_some() {
            sink.n_rows += 1;
            if sink.n_rows > sink.expect.max_rows {
                return Err(give_up());
            }
        }
        match sink.shape {
            None => Err(give_up()),
            Some(Shape::Rows) => Ok(Parsed::Rows(sink.rows)),
            Some(Shape::Objects) => Ok(Parsed::Named {
                cells: sink.cells,
                n_rows: sink.n_rows,
            }),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Rows,
    Objects,
}

/// Where the instances go; the first decides their shape.
struct Sink<'de> {
    expect: Expect,
    shape: Option<Shape>,
    rows: Vec<f64>,
    cells: Vec<(usize, Cow<'de, str>, Raw<'de>)>,
    n_rows: usize,
}

impl Sink<'_> {
    fn take<E: de::Error>(&mut self, shape: Shape) -> Result<(), E> {
        match self.shape {
            None if shape == Shape::Objects && !self.expect.named => Err(give_up()),
            None => {
                self.shape = Some(shape);
                Ok(())
            }
            Some(s) if s == shape => Ok(()),
            Some(_) => Err(give_up()),
        }
    }
}

struct Instance<'s, 'de>(&'s mut Sink<'de>);

impl<'de> DeserializeSeed<'de> for Instance<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Instance<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row of numbers or an object of named values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let sink = self.0;
        sink.take(Shape::Rows)?;
        let mut n = 0;
        while let Some(value) = seq.next_element::<Scalar>()? {
            sink.rows.push(match value.0 {
                Raw::Number(v) => v,
                Raw::Missing => f64::NAN,
                Raw::Text(_) => return Err(give_up()),
            });
            n += 1;
        }
        if n != sink.expect.n_features {
            return Err(give_up());
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.0;
        sink.take(Shape::Objects)?;
        while let Some(Text(name)) = map.next_key()? {
            let Scalar(value) = map.next_value()?;
            sink.cells.push((sink.n_rows, name, value));
        }
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

/// One value of an instance: a number (a boolean as 0 or 1, as `serde_json` reads it into
/// `f64`), a string, or null (missing). A list or an object is left to the full reading.
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
                Ok(Scalar(Raw::Number(f64::from(u8::from(v)))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Number(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Number(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar(Raw::Number(v)))
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
    pub explanations: Option<Vec<Explanation<'a>>>,
    pub predictions: Predictions<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<Rows<'a>>,
}

/// A prediction as V1 answers it: labels for a classifier, values for a regressor (one per
/// row, or a list per row when it predicts several).
pub(super) struct Predictions<'a> {
    pub model: &'a Model,
    pub predicted: &'a Prediction,
}

impl Serialize for Predictions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.predicted, self.model.classes(), self.model.target()) {
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

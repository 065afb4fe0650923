//! XGBoost's model document (`Learner::SaveModel`, read back by `Learner::LoadModel`) as serde
//! reads it: the learner's parameters, objective, attributes, feature names and types, and the
//! booster (`gbtree`, `gblinear`) with its trees. JSON files are read as they are; UBJSON files
//! and a pickled `Booster`'s bytes are first turned into the JSON they encode (`ubjson`).
//!
//! Floats are read from their text as float32 (`F32`), exactly as XGBoost's own reader parses
//! them, never through a float64 first. Fields this crate does not use are skipped. Nothing here
//! checks what the values mean: `booster` does.
//!
//! What must not live here: checks of the trees (`booster`), arithmetic.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde_json::value::RawValue;

/// A float32 read from its decimal text (or from a string `"NaN"` / `"Infinity"`, how the
/// UBJSON reader writes those).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct F32(pub f32);

impl<'de> Deserialize<'de> for F32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: &RawValue = Deserialize::deserialize(deserializer)?;
        let text = raw.get();
        parse_f32(text.trim_matches('"'))
            .map(F32)
            .ok_or_else(|| de::Error::custom(format!("{text} is not a number")))
    }
}

/// A float32 from XGBoost's text (`5E-1`, `-1.2e0`, `NaN`, `Infinity`).
pub fn parse_f32(text: &str) -> Option<f32> {
    match text {
        "NaN" => Some(f32::NAN),
        "Infinity" => Some(f32::INFINITY),
        "-Infinity" => Some(f32::NEG_INFINITY),
        _ if text.starts_with(|c: char| c == '-' || c == '.' || c.is_ascii_digit()) => {
            text.parse().ok()
        }
        _ => None,
    }
}

/// A flag written as `0`/`1` (1.6 and later) or `false`/`true`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl Visitor<'_> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("0, 1, true or false")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                match v {
                    0 | 1 => Ok(Flag(v == 1)),
                    _ => Err(E::custom(format!("{v} is not 0 or 1"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                self.visit_u64(
                    u64::try_from(v).map_err(|_| E::custom(format!("{v} is not 0 or 1")))?,
                )
            }
        }
        deserializer.deserialize_any(FlagVisitor)
    }
}

/// A saved model (`save_model`, `{"learner": …, "version": […]}`).
#[derive(Debug, Deserialize)]
pub struct Document {
    /// `[major, minor, patch]` of the XGBoost that saved it (1.0 and later).
    #[serde(default)]
    pub version: Vec<u32>,
    pub learner: Learner,
}

/// What a pickled `Booster` keeps: the model and the training configuration.
#[derive(Debug, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "Model")]
    pub model: Document,
    #[serde(rename = "Config")]
    pub _config: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub struct Learner {
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub feature_names: Vec<String>,
    #[serde(default)]
    pub feature_types: Vec<String>,
    pub learner_model_param: ModelParam,
    pub objective: serde_json::Value,
    pub gradient_booster: GradientBooster,
}

/// `learner_model_param`: every value a string, as XGBoost's parameters are.
#[derive(Debug, Deserialize)]
pub struct ModelParam {
    pub base_score: String,
    #[serde(default)]
    pub num_class: Option<String>,
    pub num_feature: String,
    #[serde(default)]
    pub num_target: Option<String>,
}

/// `gradient_booster`: its name and its model, read once the name says what it is.
#[derive(Debug, Deserialize)]
pub struct GradientBooster {
    pub name: String,
    #[serde(default)]
    pub model: Option<Box<RawValue>>,
    /// DART keeps a `gbtree` inside, and a weight per tree.
    #[serde(default)]
    pub gbtree: Option<Box<RawValue>>,
    #[serde(default)]
    pub weight_drop: Option<Vec<F32>>,
}

/// A `gbtree`'s model.
#[derive(Debug, Deserialize)]
pub struct Gbtree {
    pub gbtree_model_param: GbtreeParam,
    pub trees: Vec<Tree>,
    pub tree_info: Vec<i64>,
    /// Where each iteration's trees start (2.0 and later).
    #[serde(default)]
    pub iteration_indptr: Option<Vec<i64>>,
    /// The categories each categorical feature was trained with (3.1 and later).
    #[serde(default)]
    pub cats: Option<Cats>,
}

#[derive(Debug, Deserialize)]
pub struct GbtreeParam {
    pub num_trees: String,
    #[serde(default)]
    pub num_parallel_tree: Option<String>,
}

/// One tree: parallel arrays, one entry per node.
#[derive(Debug, Deserialize)]
pub struct Tree {
    pub tree_param: TreeParam,
    #[serde(default)]
    pub id: Option<i64>,
    pub left_children: Vec<i64>,
    pub right_children: Vec<i64>,
    pub parents: Vec<i64>,
    pub split_indices: Vec<i64>,
    /// A split's threshold, a leaf's value (they share the field in XGBoost's nodes).
    pub split_conditions: Vec<F32>,
    pub default_left: Vec<Flag>,
    pub base_weights: Vec<F32>,
    /// Each node's cover; 2.x leaves it out of multi-target trees.
    #[serde(default)]
    pub sum_hessian: Vec<F32>,
    #[serde(default)]
    pub split_type: Option<Vec<u8>>,
    #[serde(default)]
    pub categories: Vec<i64>,
    #[serde(default)]
    pub categories_nodes: Vec<i64>,
    #[serde(default)]
    pub categories_segments: Vec<i64>,
    #[serde(default)]
    pub categories_sizes: Vec<i64>,
}

#[derive(Debug, Deserialize)]
pub struct TreeParam {
    pub num_nodes: String,
    #[serde(default)]
    pub size_leaf_vector: Option<String>,
    #[serde(default)]
    pub num_deleted: Option<String>,
}

/// A `gblinear`'s model: `num_feature × num_output_group` weights, then one bias per group.
#[derive(Debug, Deserialize)]
pub struct Gblinear {
    pub weights: Vec<F32>,
}

/// The categories of the training data (3.1 and later), one entry per categorical feature.
#[derive(Debug, Deserialize)]
pub struct Cats {
    #[serde(default)]
    pub enc: Vec<CatColumn>,
}

/// A feature's categories: strings as UTF-8 bytes cut at `offsets`, or numbers (`type` says
/// which array type they were).
#[derive(Debug, Deserialize)]
pub struct CatColumn {
    #[serde(default)]
    pub offsets: Option<Vec<i64>>,
    #[serde(default)]
    pub values: Option<Box<RawValue>>,
}

/// How a document's text failed to parse, said for a person: serde's message and the text
/// around where it stopped.
pub fn json_error(text: &str, error: &serde_json::Error) -> String {
    let line = text
        .lines()
        .nth(error.line().saturating_sub(1))
        .unwrap_or("");
    let column = error.column().saturating_sub(1);
    let start = line.floor_char_boundary(column.saturating_sub(24));
    let end = line.ceil_char_boundary((column + 24).min(line.len()));
    format!("{error} (near `{}`)", &line[start..end])
}

/// Reads a `T` out of `text`, saying where it failed. XGBoost writes a non-finite float as a
/// bare `NaN`, `Infinity` or `-Infinity` (a categorical split's condition is NaN in 2.x), which
/// JSON has no word for: those are read as the strings [`F32`] takes.
pub fn parse<T: for<'a> Deserialize<'a>>(text: &str) -> Result<T, String> {
    let text = quote_non_finite(text);
    serde_json::from_str(&text).map_err(|e| json_error(&text, &e))
}

/// `text` with every bare `NaN`, `Infinity` and `-Infinity` outside strings quoted; borrowed
/// when there is none.
fn quote_non_finite(text: &str) -> std::borrow::Cow<'_, str> {
    const WORDS: [&str; 3] = ["-Infinity", "Infinity", "NaN"];
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut in_string, mut escaped, mut copied) = (false, false, 0);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if let Some(word) = WORDS.iter().find(|w| bytes[i..].starts_with(w.as_bytes())) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
            out.push_str(&text[copied..i]);
            out.push('"');
            out.push_str(word);
            out.push('"');
            i += word.len();
            copied = i;
            continue;
        }
        i += 1;
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            std::borrow::Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_read_as_float32_from_their_text() {
        #[derive(Deserialize)]
        struct T {
            v: Vec<F32>,
        }
        let t: T =
            serde_json::from_str(r#"{"v": [5E-1, 1.0000001, -3, "NaN", 16777217]}"#).unwrap();
        assert_eq!(t.v[0].0, 0.5);
        assert_eq!(t.v[1].0, 1.000_000_1_f32);
        assert_eq!(t.v[2].0, -3.0);
        assert!(t.v[3].0.is_nan());
        assert_eq!(t.v[4].0, 16_777_216.0);
        let error = serde_json::from_str::<T>(r#"{"v": ["x"]}"#).err().unwrap();
        assert!(
            error.to_string().contains("\"x\" is not a number"),
            "{error}"
        );
    }

    #[test]
    fn errors_show_the_text_around_them() {
        let text = r#"{"learner": {"x": [1, 2, true, 4], "y": }}"#;
        let message = parse::<serde_json::Value>(text).err().unwrap();
        assert!(message.contains("\"y\": }"), "{message}");
    }

    #[test]
    fn bare_non_finite_floats_are_read_outside_strings_only() {
        #[derive(Deserialize)]
        struct T {
            v: Vec<F32>,
            s: String,
        }
        let t: T = parse(r#"{"v": [NaN, -Infinity, 1], "s": "NaN \" Infinity"}"#).unwrap();
        assert!(t.v[0].0.is_nan());
        assert_eq!(t.v[1].0, f32::NEG_INFINITY);
        assert_eq!(t.s, "NaN \" Infinity");
    }
}

//! `schema.json` as skops writes it: JSON read into a tree that keeps every object's keys in
//! the file's order (a dict's `key_types` are matched to its keys by position), refuses a key
//! written twice in one object, and nests no deeper than serde_json's limit of 128 levels.
//! Every value of the tree is charged to the load's budget before it is kept, so that a schema
//! of many small values cannot cost more than `--max-model-bytes` allows.
//!
//! Also the scalars of a `JsonNode`, whose `content` is Python's `json.dumps` of one value:
//! `NaN`, `Infinity` and integers wider than 64 bits included, and floats parsed exactly
//! (Rust's own float parser rounds correctly; serde_json's default one may not).
//!
//! What must not live here: what a state means (`names`, `build`).

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::model::LoadError;
use crate::model::budget::{Budget, TooLarge};

/// A JSON value with its objects' keys in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX`.
    UInt(u64),
    /// Only ever compared, never used as a number a model computes with.
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses `schema.json`, charging every value to `budget` as it is kept; a fault names the
    /// line and column.
    pub fn parse(bytes: &[u8], budget: &Budget) -> Result<Json, LoadError> {
        let seed = Seed {
            budget,
            too_large: &Cell::new(None),
        };
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        let parsed = seed.deserialize(&mut reader).and_then(|json| {
            reader.end()?;
            Ok(json)
        });
        parsed.map_err(|e| {
            if let Some(too_large) = seed.too_large.take() {
                LoadError::TooLarge(too_large)
            } else if e.to_string().contains("recursion limit") {
                malformed(format!("schema.json nests deeper than 128 levels ({e})"))
            } else {
                malformed(format!("schema.json is not valid JSON: {e}"))
            }
        })
    }

    /// The value of `key`, for an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn object(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Object(fields) => Some(fields),
            _ => None,
        }
    }
}

fn malformed(why: String) -> LoadError {
    LoadError::Malformed(format!("the skops archive: {why}"))
}

/// What one value of the tree costs beyond its text: its slot in its array, or its key's and
/// its slot in its object with the key's copy in the check for repeated keys; twice over, as a
/// growing vector may hold twice the room it uses.
const VALUE_BYTES: usize = 2 * std::mem::size_of::<Json>();
const FIELD_BYTES: usize =
    2 * std::mem::size_of::<(String, Json)>() + std::mem::size_of::<String>();

/// Reads one value, charging `budget` for what it keeps; the charge that did not fit is kept in
/// `too_large` (serde's errors carry only text).
#[derive(Clone, Copy)]
struct Seed<'b> {
    budget: &'b Budget,
    too_large: &'b Cell<Option<TooLarge>>,
}

impl Seed<'_> {
    fn charge<E: de::Error>(&self, bytes: usize, what: &str) -> Result<(), E> {
        self.budget
            .charge(bytes, || format!("schema.json's {what}"))
            .map_err(|e| {
                let told = e.to_string();
                self.too_large.set(Some(e));
                E::custom(told)
            })
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(i64::try_from(v).map_or(Json::UInt(v), Json::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        self.charge(v.len(), "strings")?;
        Ok(Json::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        self.charge(v.len(), "strings")?;
        Ok(Json::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        loop {
            self.charge(VALUE_BYTES, "arrays")?;
            match seq.next_element_seed(self)? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut fields: Vec<(String, Json)> = Vec::new();
        let mut keys = HashSet::new();
        loop {
            self.charge(FIELD_BYTES, "objects")?;
            let Some(key) = map.next_key::<String>()? else {
                break;
            };
            self.charge(key.len().saturating_mul(2), "keys")?;
            // Python keeps the last of a repeated key; a dict's key types are matched by
            // position, so a repeated key could shift them: refused.
            if !keys.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "the key {key:?} is written twice in one object"
                )));
            }
            let value = map.next_value_seed(self)?;
            fields.push((key, value));
        }
        Ok(Json::Object(fields))
    }
}

/// A scalar as `json.dumps` writes one (a `JsonNode`'s `content`).
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    None,
    Bool(bool),
    Int(i64),
    /// An integer wider than 64 bits, as little-endian two's complement bytes (as the pickle
    /// VM keeps one).
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
}

/// Digits an integer may have, as Python's `int` limits its text (`sys.int_info`).
const MAX_INT_DIGITS: usize = 4300;

/// Reads the text of one JSON scalar: `null`, `true`, `3`, `1e-05`, `NaN`, `"text"`.
pub fn scalar(text: &str) -> Result<Scalar, String> {
    let text = text.trim();
    Ok(match text {
        "null" => Scalar::None,
        "true" => Scalar::Bool(true),
        "false" => Scalar::Bool(false),
        "NaN" => Scalar::Float(f64::NAN),
        "Infinity" => Scalar::Float(f64::INFINITY),
        "-Infinity" => Scalar::Float(f64::NEG_INFINITY),
        _ if text.starts_with('"') => Scalar::Str(
            serde_json::from_str(text)
                .map_err(|e| format!("{text:?} is not a JSON string: {e}"))?,
        ),
        _ => number(text)?,
    })
}

/// A JSON number: an integer (of any width) or a float, parsed exactly.
fn number(text: &str) -> Result<Scalar, String> {
    let not_a_number = || format!("{text:?} is not a JSON scalar");
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() {
        return Err(not_a_number());
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = text.parse::<i64>() {
            return Ok(Scalar::Int(v));
        }
        if digits.len() > MAX_INT_DIGITS {
            return Err(format!(
                "an integer of {} digits (Python reads at most {MAX_INT_DIGITS})",
                digits.len()
            ));
        }
        return Ok(Scalar::BigInt(twos_complement(
            digits,
            text.starts_with('-'),
        )));
    }
    // JSON's number syntax, which Rust's parser would widen (`inf`, `+1`, `.5`).
    let json_like = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !json_like {
        return Err(not_a_number());
    }
    text.parse::<f64>()
        .map(Scalar::Float)
        .map_err(|_| not_a_number())
}

/// Decimal digits as little-endian two's complement bytes, one sign bit to spare.
fn twos_complement(digits: &str, negative: bool) -> Vec<u8> {
    let mut magnitude: Vec<u8> = Vec::new();
    for d in digits.bytes() {
        let mut carry = u32::from(d - b'0');
        for byte in &mut magnitude {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            magnitude.push(carry as u8);
            carry >>= 8;
        }
    }
    magnitude.push(0);
    if negative {
        let mut carry = true;
        for byte in &mut magnitude {
            let (v, overflow) = (!*byte).overflowing_add(u8::from(carry));
            *byte = v;
            carry = overflow;
        }
    }
    magnitude
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LoadLimits;

    fn parse(bytes: &[u8]) -> Result<Json, String> {
        Json::parse(bytes, &Budget::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_schema_of_many_small_values_is_charged_to_the_budget() {
        let text = format!("[{}0]", "0,".repeat(10_000));
        let budget = Budget::new(LoadLimits {
            max_model_bytes: 64 << 10,
        });
        let error = Json::parse(text.as_bytes(), &budget).unwrap_err();
        assert!(matches!(error, LoadError::TooLarge(_)), "{error}");
        assert!(
            error.to_string().contains("schema.json's arrays"),
            "{error}"
        );
        assert!(error.to_string().contains("--max-model-bytes"), "{error}");
        let budget = Budget::default();
        Json::parse(text.as_bytes(), &budget).unwrap();
        assert!(budget.held() >= 10_001 * VALUE_BYTES as u64);
    }

    #[test]
    fn objects_keep_their_order_and_refuse_repeated_keys() {
        let json = parse(br#"{"b": 1, "a": [true, null], "c": {"z": 1, "y": 2}}"#).unwrap();
        let keys: Vec<&str> = json.object().unwrap().iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        let inner: Vec<&str> = json
            .get("c")
            .unwrap()
            .object()
            .unwrap()
            .iter()
            .map(|(k, _)| &**k)
            .collect();
        assert_eq!(inner, ["z", "y"]);
        let error = parse(br#"{"a": 1, "a": 2}"#).unwrap_err();
        assert!(error.contains("written twice"), "{error}");
    }

    #[test]
    fn deep_nesting_is_refused_by_name() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let error = parse(deep.as_bytes()).unwrap_err();
        assert!(error.contains("nests deeper than 128"), "{error}");
    }

    #[test]
    fn scalars_read_as_python_writes_them() {
        assert_eq!(scalar("null"), Ok(Scalar::None));
        assert_eq!(scalar("true"), Ok(Scalar::Bool(true)));
        assert_eq!(scalar("-3"), Ok(Scalar::Int(-3)));
        assert_eq!(scalar("1e-05"), Ok(Scalar::Float(1e-5)));
        assert_eq!(scalar("0.1"), Ok(Scalar::Float(0.1)));
        assert!(matches!(scalar("NaN"), Ok(Scalar::Float(v)) if v.is_nan()));
        assert_eq!(scalar("-Infinity"), Ok(Scalar::Float(f64::NEG_INFINITY)));
        assert_eq!(scalar(r#""a\"b\u00e9""#), Ok(Scalar::Str("a\"bé".into())));
        for bad in ["inf", "+1", ".5", "", "-", "[1]", "0x10"] {
            assert!(scalar(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn floats_round_exactly() {
        // A value whose shortest repr needs all 17 digits.
        let text = "0.43884413297560365";
        assert_eq!(scalar(text), Ok(Scalar::Float(text.parse().unwrap())));
        // The largest subnormal, whose digits sit at a rounding boundary.
        let subnormal = "2.2250738585072011e-308";
        assert_eq!(
            scalar(subnormal),
            Ok(Scalar::Float(f64::from_bits(0x000f_ffff_ffff_ffff)))
        );
        assert_eq!(scalar("5e-324"), Ok(Scalar::Float(f64::from_bits(1))));
    }

    #[test]
    fn wide_integers_are_twos_complement() {
        // 2**64 and -(2**64): nine bytes plus a sign byte.
        assert_eq!(
            scalar("18446744073709551616"),
            Ok(Scalar::BigInt(vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 0]))
        );
        assert_eq!(
            scalar("-18446744073709551616"),
            Ok(Scalar::BigInt(vec![0, 0, 0, 0, 0, 0, 0, 0, 255, 255]))
        );
        assert_eq!(
            scalar("9223372036854775808"),
            Ok(Scalar::BigInt(vec![0, 0, 0, 0, 0, 0, 0, 128, 0]))
        );
        let long = "9".repeat(MAX_INT_DIGITS + 1);
        assert!(scalar(&long).is_err());
    }
}

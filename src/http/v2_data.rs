//! V2's JSON tensor data: numbers, booleans, strings and nulls, flat or in nested lists,
//! flattened row-major into one `Vec<f64>`, with strings and nulls (a BYTES column, a missing
//! value) beside it by position.
//!
//! [`scan`] reads the data byte by byte, checking its grammar as it goes: `v2_request` reads
//! the usual request's data with it straight from the body, and [`read`] the raw JSON text
//! (`RawValue`) serde_json hands over when it read the request. Through serde's visitor a
//! one-row request's 37 numbers cost about 200 instructions each (a `deserialize_any`
//! dispatch, a sequence step and serde_json's number parser per element), a fifth of all the
//! server did for the request; read here they cost a tenth of that. What a request means is
//! not decided here.

use std::borrow::Cow;

use crate::inference::{Element as TensorElement, TensorData};

/// How deep `data`'s lists may nest: far beyond any tensor's rank, and a bound on the work a
/// hostile body can ask for.
pub(super) const MAX_DEPTH: usize = 32;

/// Tensor data as read: the numbers, with `NaN` holding the place of each string or null, and
/// those beside them by position.
#[derive(Debug)]
pub(super) struct ElementData<'a> {
    numbers: Vec<f64>,
    others: Vec<(usize, Other<'a>)>,
}

#[derive(Debug)]
enum Other<'a> {
    Text(Cow<'a, [u8]>),
    Null,
}

/// Why data was not read.
#[derive(Debug)]
pub(super) enum Unread {
    /// The text is not well-formed JSON (serde_json, reading it, says how).
    Malformed,
    /// Well-formed, but not tensor data, in words.
    Refused(String),
}

/// Reads `json`, one JSON value that serde_json has already checked: see [`scan`].
pub(super) fn read(json: &str) -> Result<ElementData<'_>, String> {
    match scan(json.as_bytes(), 0) {
        Ok((data, _)) => Ok(data),
        Err(Unread::Refused(words)) => Err(words),
        Err(Unread::Malformed) => Err("is not well-formed JSON".to_string()),
    }
}

/// Reads the one JSON value at `bytes[start..]` and says where it ends, checking its grammar
/// as it goes (so it also reads a body serde_json has not seen): each number the double
/// serde_json reads from the same text (the nearest, ties to even), `true` 1 and `false` 0,
/// strings and nulls by position. An object, lists nested deeper than [`MAX_DEPTH`] or a
/// number beyond a double's range is refused, in words.
pub(super) fn scan(bytes: &[u8], start: usize) -> Result<(ElementData<'_>, usize), Unread> {
    let mut data = ElementData {
        // Room for a row of a typical width at once rather than growing through 4, 8, 16, 32.
        numbers: Vec::with_capacity(64),
        others: Vec::new(),
    };
    let mut depth = 0usize;
    let mut at = start;
    // Two states and no flags, so that a list of numbers goes round a short loop: at a value,
    // then after one (a `,`, a `]` or the end).
    loop {
        at = skip_whitespace(bytes, at);
        match *bytes.get(at).ok_or(Unread::Malformed)? {
            b'0'..=b'9' | b'-' => loop {
                // A run of numbers in a list, the usual data, goes round this loop alone.
                let (value, end) = number(bytes, at)?;
                data.numbers.push(value);
                at = end;
                match (bytes.get(at), bytes.get(at + 1)) {
                    (Some(b','), Some(b'0'..=b'9' | b'-')) if depth > 0 => at += 1,
                    _ => break,
                }
            },
            b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Unread::Refused(format!(
                        "nests lists more than {MAX_DEPTH} deep"
                    )));
                }
                at = skip_whitespace(bytes, at + 1);
                if bytes.get(at) != Some(&b']') {
                    continue;
                }
                // An empty list is a value.
                depth -= 1;
                at += 1;
            }
            b't' => {
                at = literal(bytes, at, b"true")?;
                data.numbers.push(1.0);
            }
            b'f' => {
                at = literal(bytes, at, b"false")?;
                data.numbers.push(0.0);
            }
            b'n' => {
                at = literal(bytes, at, b"null")?;
                data.other(Other::Null);
            }
            b'"' => {
                let (text, end) = string(bytes, at)?;
                data.other(Other::Text(text));
                at = end;
            }
            b'{' => {
                return Err(Unread::Refused(
                    "holds an object; send numbers, booleans, strings or nulls, in a list or \
                     nested lists"
                        .to_string(),
                ));
            }
            _ => return Err(Unread::Malformed),
        }
        // After a value: the lists it ends, then the next value's `,`, or the end.
        loop {
            if depth == 0 {
                return Ok((data, at));
            }
            at = skip_whitespace(bytes, at);
            match bytes.get(at) {
                Some(b',') => {
                    at += 1;
                    break;
                }
                Some(b']') => {
                    depth -= 1;
                    at += 1;
                }
                _ => return Err(Unread::Malformed),
            }
        }
    }
}

/// Where the JSON whitespace from `bytes[at..]` ends.
#[inline]
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// Where `word` (`true`, `false` or `null`) at `bytes[start..]` ends.
fn literal(bytes: &[u8], start: usize, word: &[u8]) -> Result<usize, Unread> {
    let end = start + word.len();
    match bytes.get(start..end) {
        Some(text) if text == word => Ok(end),
        _ => Err(Unread::Malformed),
    }
}

/// Where the digits from `bytes[start..]` end; at least one.
fn digits(bytes: &[u8], start: usize) -> Result<usize, Unread> {
    let mut at = start;
    while let Some(b'0'..=b'9') = bytes.get(at) {
        at += 1;
    }
    if at == start {
        return Err(Unread::Malformed);
    }
    Ok(at)
}

/// The double of the JSON number at `bytes[start..]`, and where the number ends. Up to 15
/// digits without a fraction or exponent is an integer a double holds exactly (serde_json reads
/// it through its integer path), read as the digits go by; anything else is Rust's correctly
/// rounded parse of the whole number, which is serde_json's with `float_roundtrip`.
#[inline]
fn number(bytes: &[u8], start: usize) -> Result<(f64, usize), Unread> {
    // One digit before a `,` or a `]`: the commonest datum of all (one-hot columns, flags and
    // small counts), read without the loops below.
    if let (Some(&digit @ b'0'..=b'9'), Some(b',' | b']')) =
        (bytes.get(start), bytes.get(start + 1))
    {
        return Ok((f64::from(digit - b'0'), start + 1));
    }
    let negative = bytes[start] == b'-';
    let first = start + usize::from(negative);
    let mut at = first;
    let mut magnitude = 0u64;
    while let Some(&digit @ b'0'..=b'9') = bytes.get(at) {
        magnitude = magnitude
            .wrapping_mul(10)
            .wrapping_add(u64::from(digit - b'0'));
        at += 1;
    }
    let n_digits = at - first;
    // JSON has no `-`, `.5` nor `012`.
    if n_digits == 0 || (n_digits > 1 && bytes[first] == b'0') {
        return Err(Unread::Malformed);
    }
    let mut integer = true;
    if bytes.get(at) == Some(&b'.') {
        at = digits(bytes, at + 1)?;
        integer = false;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        at = digits(bytes, at)?;
        integer = false;
    }
    if integer && n_digits <= 15 {
        // `-0` is negative zero, as serde_json reads it. Fifteen digits fit an `i64`, whose
        // conversion is one instruction (a `u64`'s is five).
        let value = magnitude as i64 as f64;
        return Ok((if negative { -value } else { value }, at));
    }
    // ASCII digits, signs and exponents only: always UTF-8, and a well-formed number.
    let text = std::str::from_utf8(&bytes[start..at]).unwrap_or_default();
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok((value, at)),
        // serde_json's own words for it.
        _ => Err(Unread::Refused(format!(
            "holds {text}: number out of range"
        ))),
    }
}

/// The JSON string at `bytes[start..]` (its opening quote), and where it ends: borrowed from
/// the body unless it has escapes, which serde_json decodes.
fn string(bytes: &[u8], start: usize) -> Result<(Cow<'_, [u8]>, usize), Unread> {
    let mut at = start + 1;
    let mut escaped = false;
    let mut ascii = true;
    loop {
        match *bytes.get(at).ok_or(Unread::Malformed)? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                at += 2;
            }
            // JSON strings hold no control characters.
            0..=0x1f => return Err(Unread::Malformed),
            0x80.. => {
                ascii = false;
                at += 1;
            }
            _ => at += 1,
        }
    }
    let end = at + 1;
    if !escaped {
        let text = &bytes[start + 1..at];
        if !ascii && std::str::from_utf8(text).is_err() {
            return Err(Unread::Malformed);
        }
        return Ok((Cow::Borrowed(text), end));
    }
    serde_json::from_slice::<String>(&bytes[start..end])
        .map(|text| (Cow::Owned(text.into_bytes()), end))
        .map_err(|e| Unread::Refused(format!("holds a string that does not read: {e}")))
}

impl<'a> ElementData<'a> {
    fn other(&mut self, other: Other<'a>) {
        self.others.push((self.numbers.len(), other));
        self.numbers.push(f64::NAN);
    }

    /// Numbers alone, or every element in order when there are strings or nulls (which of
    /// those an input may hold is `crate::inference`'s to say).
    pub(super) fn into_tensor_data(self) -> TensorData<'a> {
        if self.others.is_empty() {
            return TensorData::Numbers(self.numbers);
        }
        let mut elements: Vec<TensorElement<'a>> = self
            .numbers
            .into_iter()
            .map(TensorElement::Number)
            .collect();
        for (at, other) in self.others {
            elements[at] = match other {
                Other::Text(text) => TensorElement::Text(text),
                Other::Null => TensorElement::Missing,
            };
        }
        TensorData::Elements(elements)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// What serde_json reads from the same text, flattened: `Some(number)` or the string, `None`
    /// for null.
    fn reference(json: &str) -> Vec<Result<f64, Option<String>>> {
        fn flatten(value: Value, out: &mut Vec<Result<f64, Option<String>>>) {
            match value {
                Value::Array(items) => items.into_iter().for_each(|item| flatten(item, out)),
                Value::Number(n) => out.push(Ok(n.as_f64().unwrap())),
                Value::Bool(b) => out.push(Ok(f64::from(u8::from(b)))),
                Value::String(s) => out.push(Err(Some(s))),
                Value::Null => out.push(Err(None)),
                Value::Object(_) => panic!("an object"),
            }
        }
        let mut out = Vec::new();
        flatten(serde_json::from_str(json).unwrap(), &mut out);
        out
    }

    fn elements(json: &str) -> Vec<Result<f64, Option<String>>> {
        let data = read(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        let mut out: Vec<_> = data.numbers.iter().map(|&v| Ok(v)).collect();
        for (at, other) in data.others {
            out[at] = Err(match other {
                Other::Text(text) => Some(String::from_utf8(text.into_owned()).unwrap()),
                Other::Null => None,
            });
        }
        out
    }

    /// Every number reads as the double Python reads from the same text: the shortest text that
    /// round-trips (what `json.dumps` and numpy's `tolist` write), at magnitudes features have.
    #[test]
    fn tensor_data_reads_every_float_as_python_does() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let values: Vec<f64> = (0..20_000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
                mantissa * 10f64.powi(i % 13 - 6)
            })
            .collect();
        let text = serde_json::to_string(&values).unwrap();
        let data = read(&text).unwrap();
        let wrong = values
            .iter()
            .zip(&data.numbers)
            .filter(|(sent, read)| sent.to_bits() != read.to_bits())
            .count();
        assert_eq!(
            wrong,
            0,
            "{wrong} of {} numbers read otherwise",
            values.len()
        );
    }

    /// Every form an element takes reads as serde_json reads it, bit for bit.
    #[test]
    fn elements_read_as_serde_json_reads_them() {
        for json in [
            "[0,1,0,0,1]",
            "[[9,8],[7 ,6 ], [5] ,[4,3.5,21]]",
            "[[1, 2.5], [-3, 4e2]]",
            " [ [ [ -0 , 0 , -0.0 ] ] ] ",
            "[true, false, 1]",
            "[123456789012345, -123456789012345, 1234567890123456, 12345678901234567890]",
            "[99999999999999999999999999, -9223372036854775808, -9223372036854775809]",
            "[1e-320, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1E5, 1e+5, 5e-1]",
            "[0.30000000000000004, 3.141592653589793, -2.718281828459045e-10]",
            r#"["a", 1, null, "b\"c", "\u00e9t\u00e9 \ud83d\ude00", "Ωμέγα 東京", ""]"#,
            r#"[["x\\y", "tab\there"], [null, 2]]"#,
            "7",
            r#""alone""#,
            "null",
            "[]",
            "[[],[[]]]",
        ] {
            let bits = |v: Vec<Result<f64, Option<String>>>| {
                v.into_iter()
                    .map(|e| e.map(f64::to_bits))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(elements(json)), bits(reference(json)), "{json}");
        }
    }

    /// An object, lists nested too deep and a number no double holds are refused in words.
    #[test]
    fn what_is_not_tensor_data_is_refused_in_words() {
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        for (json, words) in [
            (r#"[{"a": 1}]"#, "holds an object"),
            ("[1e400]", "holds 1e400: number out of range"),
            ("[-1e400]", "holds -1e400"),
            (&format!("[1{}]", "0".repeat(400)), "number out of range"),
            (&deep, "nests lists more than 32 deep"),
        ] {
            let error = read(json).err().unwrap_or_else(|| panic!("read {json}"));
            assert!(error.contains(words), "{json}: {error}");
        }
        let shallow = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(elements(&shallow), vec![Ok(1.0)]);
    }
}

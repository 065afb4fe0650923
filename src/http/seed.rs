//! The seed's API, byte for byte: `POST /` with a form `x=[0,1,...]` answers
//! `{"model_prediction":"[1]","received_data":{"x":"[0,1,...]"}}` plus a newline, as the
//! original Cloud Function (Flask, sorted keys, ASCII-only JSON) did. Unlike the seed, a bad
//! request is a 4xx with `{"error": ...}`, not a 200. A Pipeline is served here only when
//! every column it takes is numeric (`x` lists them in order); a regressor answers its value
//! as numpy prints it (`[1.5]`).
//!
//! Here: the form handler, a parser for the list syntax Python's `ast.literal_eval` accepts,
//! numpy's `str()` of a one-element prediction array, and Python's `json.dumps` string escaping.

use std::borrow::Cow;
use std::fmt::Write;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;

use super::error::ApiError;
use super::{Body, require_content_type, set_model_version, word_scan};
use crate::inference;
use crate::model::{Dtype, Label, Prediction, Target};
use crate::service::AppState;

/// `POST /`: one row as the form field `x`, answered as the seed answered it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn predict(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    require_content_type(
        request.headers(),
        "application/x-www-form-urlencoded",
        "a form",
    )?;
    let Body(body) = Body::from_request(request, &state).await?;
    let mut fields = parse_form(&body);
    let x = &fields
        .iter()
        .find(|(name, _)| name == "x")
        .ok_or_else(|| {
            ApiError::BadRequest("the form has no field 'x' (send x=[v1,v2,...])".into())
        })?
        .1;

    let loaded = state.registry.default_model().load();
    let model = loaded.model();
    let mut values = Vec::with_capacity(model.n_features());
    parse_python_list(x, &mut values)
        .map_err(|e| ApiError::BadRequest(format!("x is not a list of numbers: {e}")))?;
    if values.len() != model.n_features() {
        return Err(ApiError::Unprocessable(format!(
            "x has {} values, but the model expects {} features",
            values.len(),
            model.n_features()
        )));
    }
    // The seed's answer holds one label or one value: say so before predicting anything.
    let refusal = match model.target() {
        _ if !model.predicts() => Some("transforms its input and predicts nothing"),
        Target::Classes(_) | Target::Values { n_outputs: 1, .. } => None,
        Target::MultiClasses(_) | Target::Values { .. } => Some("predicts several values per row"),
    };
    if let Some(refusal) = refusal {
        return Err(ApiError::Unprocessable(format!(
            "this model ({}) {refusal}, which the seed's answer cannot hold; use V2 \
             (/v2/models/{}/infer)",
            model.chain(),
            loaded.name()
        )));
    }
    let inference = state.infer(
        &loaded,
        inference::Request::new(inference::Input::Rows {
            values,
            dtype: Dtype::F64,
        }),
    )?;
    let prediction = match (inference.predicted(), model.classes()) {
        (Some(Prediction::Classes(indices)), Some(classes)) => {
            numpy_str_one(classes.label(indices[0]))
        }
        (Some(Prediction::Values(v)), _) => numpy_str_one(Label::Float(v[[0, 0]])),
        _ => {
            return Err(ApiError::Internal(
                "the one-answer check let a model through".into(),
            ));
        }
    };

    let mut response = Response::new(axum::body::Body::from(render(&prediction, &mut fields)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    set_model_version(headers, loaded.version());
    Ok(response)
}

/// The fields of a form body, in order. A field is borrowed from the body unless it needs
/// percent-decoding (then `form_urlencoded` decodes it, invalid UTF-8 replaced as Flask does).
fn parse_form(body: &[u8]) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let plain = memchr::memchr2(b'%', b'+', pair).is_none();
            if plain && let Ok(text) = std::str::from_utf8(pair) {
                let (name, value) = text.split_once('=').unwrap_or((text, ""));
                return Some((Cow::Borrowed(name), Cow::Borrowed(value)));
            }
            form_urlencoded::parse(pair).next()
        })
        .collect()
}

/// The seed's JSON: keys sorted, the first value of a repeated field, a trailing newline.
fn render(prediction: &str, fields: &mut Vec<(Cow<'_, str>, Cow<'_, str>)>) -> String {
    // Stable: among repeated names the first stays first, and dedup keeps it.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    fields.dedup_by(|later, first| later.0 == first.0);
    let capacity = 48
        + prediction.len()
        + fields
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>();
    let mut out = String::with_capacity(capacity);
    out.push_str("{\"model_prediction\":");
    push_python_json_str(&mut out, prediction);
    out.push_str(",\"received_data\":{");
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_python_json_str(&mut out, name);
        out.push(':');
        push_python_json_str(&mut out, value);
    }
    out.push_str("}}\n");
    out
}

/// A string as Python's `json.dumps` writes it with `ensure_ascii=True` (Flask's default).
fn push_python_json_str(out: &mut String, s: &str) {
    out.push('"');
    if word_scan::python_plain(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// numpy's `str()` of a one-element array holding `label`: `[1]`, `[ True]`, `[1.]`,
/// `[1.5e-05]`, `['delayed']` (default print options: precision 8, bools padded to 5).
pub fn numpy_str_one(label: Label<'_>) -> String {
    match label {
        Label::Int(v) => format!("[{v}]"),
        Label::Bool(true) => "[ True]".into(),
        Label::Bool(false) => "[False]".into(),
        Label::Float(v) => format!("[{}]", numpy_float(v)),
        Label::Str(s) => format!("[{}]", python_str_repr(s)),
    }
}

/// One float as numpy prints it alone in an array: positional with at most 8 decimals and the
/// trailing zeros dropped (`1.`, `0.3`), scientific from 1e8 up or below 1e-4 (`1.e+20`).
fn numpy_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-4..1e8).contains(&magnitude) {
        let text = format!("{v:.8e}");
        let (mantissa, exponent) = text.split_once('e').expect("`{:e}` has an exponent");
        let mantissa = mantissa.trim_end_matches('0');
        let (sign, digits) = exponent
            .strip_prefix('-')
            .map_or(("+", exponent), |d| ("-", d));
        format!("{mantissa}e{sign}{digits:0>2}")
    } else {
        let text = format!("{v:.8}");
        text.trim_end_matches('0').to_owned()
    }
}

/// Python's `repr()` of a string: single quotes unless the text holds a single quote and no
/// double quote; backslashes, the quote and unprintable characters escaped.
fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let code = c as u32;
                let _ = if code < 0x100 {
                    write!(out, "\\x{code:02x}")
                } else if code < 0x10000 {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Parses the literal the seed gave to `ast.literal_eval`: a list `[…]` or tuple `(…)` of
/// numbers — ints, floats (`1.5`, `.5`, `1e-3`, `1_000`), an optional sign, `True`/`False` —
/// with spaces and a trailing comma allowed. Anything else is refused with the position.
pub fn parse_python_list(text: &str, out: &mut Vec<f64>) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    let close = match bytes.get(at) {
        Some(b'[') => b']',
        Some(b'(') => b')',
        Some(_) => return Err(format!("expected '[' at position {at}")),
        None => return Err("it is empty".into()),
    };
    at = skip_space(bytes, at + 1);
    let mut saw_comma = false;
    loop {
        if bytes.get(at) == Some(&close) {
            at += 1;
            break;
        }
        let (value, end) = parse_number(text, at)?;
        out.push(value);
        at = skip_space(bytes, end);
        match bytes.get(at) {
            Some(b',') => {
                saw_comma = true;
                at = skip_space(bytes, at + 1);
            }
            Some(&c) if c == close => {
                at += 1;
                break;
            }
            Some(_) => {
                return Err(format!(
                    "expected ',' or '{}' at position {at}",
                    close as char
                ));
            }
            None => return Err(format!("missing '{}' at the end", close as char)),
        }
    }
    if close == b')' && out.len() == 1 && !saw_comma {
        // `(1)` is a parenthesised number in Python, not a tuple.
        return Err("a single value in parentheses is not a list".into());
    }
    at = skip_space(bytes, at);
    if at != bytes.len() {
        return Err(format!("unexpected text after the list at position {at}"));
    }
    Ok(())
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
    {
        at += 1;
    }
    at
}

/// One number (or `True`/`False`) starting at `start`: its value and where it ends.
fn parse_number(text: &str, start: usize) -> Result<(f64, usize), String> {
    let bytes = text.as_bytes();
    // The usual one-hot value: one digit, then a separator.
    if let [d @ b'0'..=b'9', b',' | b']' | b')' | b' ', ..] = bytes[start..] {
        return Ok((f64::from(d - b'0'), start + 1));
    }
    let mut at = start;
    let negative = match bytes.get(at) {
        Some(b'-') => true,
        Some(b'+') => false,
        _ => {
            for (word, value) in [("True", 1.0), ("False", 0.0)] {
                if text[at..].starts_with(word)
                    && !bytes
                        .get(at + word.len())
                        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    return Ok((value, at + word.len()));
                }
            }
            let (v, end) = parse_unsigned(text, at)?;
            return Ok((v, end));
        }
    };
    at = skip_space(bytes, at + 1);
    let (v, end) = parse_unsigned(text, at)?;
    Ok((if negative { -v } else { v }, end))
}

/// An unsigned decimal int or float: digits with single `_` between them, an optional
/// fraction and exponent. Plain integers (the usual one-hot 0 and 1) are read without
/// allocating or calling the float parser.
fn parse_unsigned(text: &str, start: usize) -> Result<(f64, usize), String> {
    let bytes = text.as_bytes();
    let mut at = start;
    let mut underscores = false;
    let int_digits = scan_digits(bytes, &mut at, &mut underscores);
    let mut plain_int = true;
    let mut frac_digits = 0;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        plain_int = false;
        frac_digits = scan_digits(bytes, &mut at, &mut underscores);
    }
    if int_digits + frac_digits == 0 {
        let found = text[start..]
            .chars()
            .next()
            .map_or_else(|| "the end".to_owned(), |c| format!("'{c}'"));
        return Err(format!(
            "expected a number at position {start}, found {found}"
        ));
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        let mut end = at + 1;
        if matches!(bytes.get(end), Some(b'+' | b'-')) {
            end += 1;
        }
        if scan_digits(bytes, &mut end, &mut underscores) == 0 {
            return Err(format!("malformed exponent at position {at}"));
        }
        plain_int = false;
        at = end;
    }
    if bytes
        .get(at)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
    {
        return Err(format!(
            "'{}' at position {at} is not part of a number",
            text[at..].chars().next().unwrap_or(' ')
        ));
    }
    let token = &text[start..at];
    let value: Result<f64, _> = if plain_int && !underscores && int_digits <= 15 {
        // Exact: fewer than 2^53.
        Ok(token
            .bytes()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) as f64)
    } else if underscores {
        token.replace('_', "").parse()
    } else {
        token.parse()
    };
    let value = value.map_err(|_| format!("'{token}' at position {start} is not a number"))?;
    Ok((value, at))
}

/// Advances over digits with single underscores between them; the number of digits.
fn scan_digits(bytes: &[u8], at: &mut usize, underscores: &mut bool) -> usize {
    let mut digits = 0;
    while let Some(&b) = bytes.get(*at) {
        if b.is_ascii_digit() {
            digits += 1;
            *at += 1;
        } else if b == b'_' && digits > 0 && bytes.get(*at + 1).is_some_and(u8::is_ascii_digit) {
            *underscores = true;
            *at += 1;
        } else {
            break;
        }
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<f64>, String> {
        let mut out = Vec::new();
        parse_python_list(text, &mut out).map(|()| out)
    }

    #[test]
    fn accepts_what_literal_eval_accepts() {
        assert_eq!(parse("[0,1, 0]").unwrap(), vec![0.0, 1.0, 0.0]);
        assert_eq!(
            parse(" [ 1.5 , -2, +3e2, .5, 5., 1_000, True, False, ] ").unwrap(),
            vec![1.5, -2.0, 300.0, 0.5, 5.0, 1000.0, 1.0, 0.0]
        );
        assert_eq!(parse("(0,1)").unwrap(), vec![0.0, 1.0]);
        assert_eq!(parse("(1,)").unwrap(), vec![1.0]);
        assert_eq!(parse("(1, )").unwrap(), vec![1.0]);
        assert_eq!(parse("[]").unwrap(), Vec::<f64>::new());
        assert_eq!(parse("[- 1]").unwrap(), vec![-1.0]);
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "", "0,1", "[0,1", "[0,,1]", "[nan]", "[inf]", "['1']", "[[0,1]]", "[1 2]", "[0x1]",
            "[1e]", "[1__0]", "[Truee]", "(1)", "[1] x", "{1}", "[1j]", "[--1]",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            parse("[0,a]").unwrap_err(),
            "expected a number at position 3, found 'a'"
        );
    }

    #[test]
    fn numpy_prints_one_element_arrays() {
        for (label, text) in [
            (Label::Int(1), "[1]"),
            (Label::Int(-1), "[-1]"),
            (Label::Bool(true), "[ True]"),
            (Label::Bool(false), "[False]"),
            (Label::Float(1.5), "[1.5]"),
            (Label::Float(1.0), "[1.]"),
            (Label::Float(0.0), "[0.]"),
            (Label::Float(-2.0), "[-2.]"),
            (Label::Float(1e20), "[1.e+20]"),
            (Label::Float(1e-5), "[1.e-05]"),
            (Label::Float(0.1 + 0.2), "[0.3]"),
            (Label::Float(1.123456789), "[1.12345679]"),
            (Label::Float(123456789.123), "[1.23456789e+08]"),
            (Label::Float(12345678.0), "[12345678.]"),
            (Label::Float(0.0001), "[0.0001]"),
            (Label::Float(2.5e-5), "[2.5e-05]"),
            (Label::Str("delayed"), "['delayed']"),
            (Label::Str("it's"), "[\"it's\"]"),
            (Label::Str("a\"b'c"), "['a\"b\\'c']"),
            (Label::Str("é\n\\"), "['é\\n\\\\']"),
        ] {
            assert_eq!(numpy_str_one(label), text, "{label:?}");
        }
    }

    #[test]
    fn renders_like_flask() {
        let mut fields: Vec<(Cow<'_, str>, Cow<'_, str>)> = vec![
            ("x".into(), "[0]".into()),
            ("b".into(), "é\u{7f}\"".into()),
            ("a".into(), "1".into()),
            ("x".into(), "2".into()),
        ];
        assert_eq!(
            render("[1]", &mut fields),
            "{\"model_prediction\":\"[1]\",\"received_data\":{\"a\":\"1\",\"b\":\"\\u00e9\\u007f\\\"\",\"x\":\"[0]\"}}\n"
        );
        let mut astral: Vec<(Cow<'_, str>, Cow<'_, str>)> = vec![("x".into(), "😀".into())];
        assert!(render("[1]", &mut astral).contains("\\ud83d\\ude00"));
    }
}

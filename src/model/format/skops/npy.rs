//! numpy's `.npy` format (versions 1 to 3), as skops stores every array that is not of objects:
//! a magic string, a header that is a Python dict literal (`{'descr': '<f8', 'fortran_order':
//! False, 'shape': (3, 4), }`), then the elements.
//!
//! The header is read by a parser of that literal alone (strings, integers, booleans, tuples
//! and lists, a few levels deep), never evaluated. Its dtype is a plain type string or a
//! record's list of `(name, type)` fields, padding included, as `np.save` writes a tree's
//! nodes. An object dtype is refused (it would be a pickle). The shape times the item size
//! must be exactly the bytes that follow, before anything is decoded.
//!
//! What must not live here: decoding the elements (`crate::model::numpy`), or where the member
//! comes from (`archive`).

use crate::model::numpy;
use crate::model::value::{Dtype, Kind, NdArray};

/// The largest header read, as numpy's own `np.load` limits it (`max_header_size`).
const MAX_HEADER_BYTES: usize = 10_000;
/// Elements an array of zero-width items (`<U0`) may claim: they cost memory but no bytes.
const MAX_ZERO_WIDTH_ELEMENTS: usize = 1 << 16;
/// How deep the header's literal may nest (a dict of a list of tuples is three).
const MAX_LITERAL_DEPTH: usize = 4;

/// Decodes a `.npy` member into an array in C order, once `charge` has taken the decoded
/// size (the element count and dtype the header gives, checked against the bytes present).
pub fn read(
    bytes: &[u8],
    charge: impl FnOnce(usize, &Dtype) -> Result<(), String>,
) -> Result<NdArray, String> {
    let rest = bytes
        .strip_prefix(b"\x93NUMPY")
        .ok_or("it is not a .npy array (no \\x93NUMPY magic)")?;
    let (length, rest) = match rest {
        [1, 0, a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        [2 | 3, 0, a, b, c, d, rest @ ..] => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, rest),
        [major, minor, ..] => return Err(format!(".npy version {major}.{minor} is not read")),
        _ => return Err("its .npy header is cut short".into()),
    };
    if length > MAX_HEADER_BYTES {
        return Err(format!(
            "its .npy header claims {length} bytes (numpy reads at most {MAX_HEADER_BYTES})"
        ));
    }
    if length > rest.len() {
        return Err(format!(
            "its .npy header claims {length} bytes but {} follow",
            rest.len()
        ));
    }
    let (header, data) = rest.split_at(length);
    let header = std::str::from_utf8(header).map_err(|_| "its .npy header is not text")?;
    let header = Header::parse(header)?;
    let count = numpy::element_count(&header.shape)?;
    if header.dtype.size == 0 && count > MAX_ZERO_WIDTH_ELEMENTS {
        return Err(format!(
            "its shape {:?} claims {count} elements of zero bytes each",
            header.shape
        ));
    }
    numpy::check_layout(&header.dtype, &header.shape, data.len())?;
    charge(count, &header.dtype)?;
    numpy::from_bytes(&header.dtype, header.shape, data, header.fortran)
}

/// What a `.npy` header says.
#[derive(Debug, PartialEq)]
struct Header {
    dtype: Dtype,
    fortran: bool,
    shape: Vec<usize>,
}

impl Header {
    fn parse(text: &str) -> Result<Self, String> {
        let literal = Parser::new(text).whole()?;
        let Literal::Dict(entries) = literal else {
            return Err("its .npy header is not a dict".into());
        };
        let field = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)
                .ok_or_else(|| format!("its .npy header has no '{name}'"))
        };
        if entries.len() != 3 {
            return Err(format!(
                "its .npy header has {} keys, not descr, fortran_order and shape",
                entries.len()
            ));
        }
        let fortran = match field("fortran_order")? {
            Literal::Bool(b) => *b,
            _ => return Err("its .npy fortran_order is not a boolean".into()),
        };
        let shape = match field("shape")? {
            Literal::Tuple(items) => items
                .iter()
                .map(|item| match item {
                    Literal::Int(n) => usize::try_from(*n)
                        .map_err(|_| format!("its .npy shape holds the size {n}")),
                    _ => Err("its .npy shape holds something other than sizes".into()),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err("its .npy shape is not a tuple".into()),
        };
        let dtype = descr(field("descr")?)?;
        Ok(Self {
            dtype,
            fortran,
            shape,
        })
    }
}

/// The dtype a header's `descr` names: a type string, or a record's fields.
fn descr(literal: &Literal) -> Result<Dtype, String> {
    match literal {
        Literal::Str(text) => type_string(text),
        Literal::List(fields) => record(fields),
        _ => Err("its .npy descr is neither a type string nor a list of fields".into()),
    }
}

/// `'<f8'`, `'|b1'`, `'<U7'`: a byte order, then a type numpy pickles the same way.
fn type_string(text: &str) -> Result<Dtype, String> {
    let (order, code) = match text.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (c.to_string(), &text[1..]),
        _ => ("|".to_owned(), text),
    };
    if code.starts_with('O') {
        return Err(format!(
            "its .npy dtype is '{text}', an object array, which would be a pickle"
        ));
    }
    let mut dtype = Dtype::parse(code)?;
    dtype.apply_state(Some(&order), -1)?;
    Ok(dtype)
}

/// A record: `[('left_child', '<i8'), …, ('', '|V7')]`, fields laid out one after the other,
/// unnamed ones being padding.
fn record(fields: &[Literal]) -> Result<Dtype, String> {
    if fields.len() > numpy::MAX_RECORD_FIELDS + 1 {
        return Err(format!("its .npy record has {} fields", fields.len()));
    }
    let mut offset = 0usize;
    let mut named = Vec::new();
    for field in fields {
        let (name, dtype) = match field {
            Literal::Tuple(parts) => match &parts[..] {
                [Literal::Str(name), Literal::Str(text)] => (name, type_string(text)?),
                [Literal::Str(name), _, Literal::Tuple(_)] => {
                    return Err(format!(
                        "its .npy record field '{name}' is a sub-array, which is not read"
                    ));
                }
                _ => return Err("its .npy record has a field that is not (name, type)".into()),
            },
            _ => return Err("its .npy record has a field that is not a tuple".into()),
        };
        let size = dtype.size;
        if !name.is_empty() {
            named.push((name.clone(), dtype, offset as i64));
        } else if dtype.kind != Kind::Record {
            return Err("its .npy record has an unnamed field that is not padding".into());
        }
        offset = offset
            .checked_add(size)
            .ok_or("its .npy record is impossibly large")?;
    }
    let mut dtype = Dtype::parse(&format!("V{offset}"))?;
    dtype.apply_fields(named, offset as i64)?;
    Ok(dtype)
}

/// The Python literals a `.npy` header is written with.
#[derive(Debug, PartialEq)]
enum Literal {
    Str(String),
    Int(i64),
    Bool(bool),
    Tuple(Vec<Literal>),
    List(Vec<Literal>),
    Dict(Vec<(String, Literal)>),
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
        }
    }

    fn fault(&self, what: &str) -> String {
        format!("its .npy header is malformed at byte {}: {what}", self.at)
    }

    /// The one literal the text holds, white space around it.
    fn whole(mut self) -> Result<Literal, String> {
        let literal = self.literal(0)?;
        self.space();
        if self.at != self.text.len() {
            return Err(self.fault("text after the dict"));
        }
        Ok(literal)
    }

    fn space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.text.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fault(&format!("expected '{}'", byte as char)))
        }
    }

    fn literal(&mut self, depth: usize) -> Result<Literal, String> {
        if depth > MAX_LITERAL_DEPTH {
            return Err(self.fault("nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                let mut entries = Vec::new();
                while self.peek() != Some(b'}') {
                    let Literal::Str(key) = self.literal(depth + 1)? else {
                        return Err(self.fault("a dict key that is not a string"));
                    };
                    self.expect(b':')?;
                    entries.push((key, self.literal(depth + 1)?));
                    if self.peek() != Some(b'}') {
                        self.expect(b',')?;
                    }
                }
                self.at += 1;
                Ok(Literal::Dict(entries))
            }
            Some(open @ (b'(' | b'[')) => {
                self.at += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                while self.peek() != Some(close) {
                    items.push(self.literal(depth + 1)?);
                    if self.peek() != Some(close) {
                        self.expect(b',')?;
                    }
                }
                self.at += 1;
                Ok(if open == b'(' {
                    Literal::Tuple(items)
                } else {
                    Literal::List(items)
                })
            }
            Some(quote @ (b'\'' | b'"')) => self.string(quote),
            Some(b'0'..=b'9' | b'-') => self.integer(),
            Some(_) => self.word(),
            None => Err(self.fault("the text ends early")),
        }
    }

    /// A quoted string; numpy's names and type strings need no escapes but `\\` and quotes.
    fn string(&mut self, quote: u8) -> Result<Literal, String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.text.get(self.at).copied() {
                None => return Err(self.fault("an unterminated string")),
                Some(b'\\') => {
                    match self.text.get(self.at + 1).copied() {
                        Some(c @ (b'\\' | b'\'' | b'"')) => out.push(c),
                        _ => return Err(self.fault("an escape other than \\\\, \\' or \\\"")),
                    }
                    self.at += 2;
                }
                Some(c) if c == quote => {
                    self.at += 1;
                    break;
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        String::from_utf8(out)
            .map(Literal::Str)
            .map_err(|_| self.fault("a string that is not UTF-8"))
    }

    fn integer(&mut self) -> Result<Literal, String> {
        let start = self.at;
        if self.text.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        while self.text.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        // Python 2 wrote `3L` for a long.
        let digits = std::str::from_utf8(&self.text[start..self.at]).unwrap_or_default();
        if self.text.get(self.at) == Some(&b'L') {
            self.at += 1;
        }
        digits
            .parse()
            .map(Literal::Int)
            .map_err(|_| self.fault("an integer out of range"))
    }

    fn word(&mut self) -> Result<Literal, String> {
        let start = self.at;
        while self.text.get(self.at).is_some_and(u8::is_ascii_alphabetic) {
            self.at += 1;
        }
        match &self.text[start..self.at] {
            b"True" => Ok(Literal::Bool(true)),
            b"False" => Ok(Literal::Bool(false)),
            _ => {
                self.at = start;
                Err(self.fault("something other than a string, a number, True or False"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::Elements;

    /// [`super::read`] with no budget to charge.
    fn read(bytes: &[u8]) -> Result<NdArray, String> {
        super::read(bytes, |_, _| Ok(()))
    }

    /// A `.npy` file as `np.save` writes one: header padded with spaces to 64 bytes, a newline.
    pub(crate) fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut text = header.to_owned();
        while !(10 + text.len() + 1).is_multiple_of(64) {
            text.push(' ');
        }
        text.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((text.len() as u16).to_le_bytes());
        out.extend(text.as_bytes());
        out.extend(data);
        out
    }

    fn floats(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn plain_arrays_and_scalars_read() {
        let a = read(&npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
            &floats(&[1.0, 2.0, 3.0, 4.0]),
        ))
        .unwrap();
        assert_eq!(a.shape, [2, 2]);
        assert_eq!(a.elements, Elements::Float(vec![1.0, 2.0, 3.0, 4.0]));
        let f = read(&npy(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
            &floats(&[1.0, 3.0, 2.0, 4.0]),
        ))
        .unwrap();
        assert_eq!(f.elements, a.elements);
        let scalar = read(&npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
            &7i64.to_le_bytes(),
        ))
        .unwrap();
        assert_eq!(
            (scalar.shape.len(), scalar.elements),
            (0, Elements::Int(vec![7]))
        );
        let text = read(&npy(
            "{'descr': '<U2', 'fortran_order': False, 'shape': (1,), }",
            &[b'h', 0, 0, 0, b'i', 0, 0, 0],
        ))
        .unwrap();
        assert_eq!(text.elements, Elements::Str(vec!["hi".into()]));
    }

    #[test]
    fn a_record_with_padding_reads_its_fields() {
        let header = "{'descr': [('left', '<i8'), ('x', '|u1'), ('', '|V7')], 'fortran_order': False, 'shape': (1,), }";
        let mut data = 5i64.to_le_bytes().to_vec();
        data.extend([1u8; 8]);
        let a = read(&npy(header, &data)).unwrap();
        assert_eq!(a.dtype.size, 16);
        assert_eq!(a.field("left"), Some(Elements::Int(vec![5])));
        assert_eq!(a.field("x"), Some(Elements::UInt(vec![1])));
    }

    #[test]
    fn lying_and_hostile_headers_are_refused() {
        let cases = [
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                "needs 24 bytes but the file holds 16",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                "needs 8 bytes but the file holds 16",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
                "impossibly large",
            ),
            (
                "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                "object array",
            ),
            (
                "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
                "unsupported numpy dtype",
            ),
            (
                "{'descr': '<U0', 'fortran_order': False, 'shape': (1000000000000,), }",
                "zero bytes each",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }",
                "size -2",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                "4 keys",
            ),
            (
                "{'descr': [('a', '<f8', (2,))], 'fortran_order': False, 'shape': (1,), }",
                "sub-array",
            ),
            (
                "{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (1,), }",
                "object array",
            ),
            (
                "{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,), }",
                "malformed",
            ),
            (
                "{'descr': ((((('<f8',),),),),), 'fortran_order': False, 'shape': (1,), }",
                "nested too deeply",
            ),
        ];
        for (header, why) in cases {
            let error = read(&npy(header, &floats(&[0.0, 0.0]))).unwrap_err();
            assert!(error.contains(why), "{header}: {error}");
        }
        let mut long = npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }",
            &[],
        );
        long[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(read(&long).unwrap_err().contains("at most 10000"));
        assert!(read(b"\x93NUMPY\x01").unwrap_err().contains("cut short"));
        assert!(read(b"PK\x03\x04").unwrap_err().contains("magic"));
    }
}

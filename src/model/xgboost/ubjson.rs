//! Universal Binary JSON (ubjson.org), as XGBoost writes it (`save_model("model.ubj")`, and
//! the bytes a pickled `Booster` carries), turned into the JSON text it encodes, so that one
//! reader (`document`) reads both. Numbers keep their exact values: a float32 is written as
//! its shortest decimal, which reads back as the same float32.
//!
//! Every length in the file is checked against the bytes that remain before anything is
//! reserved for it, containers nest at most [`MAX_DEPTH`] deep, and the text made is a few
//! times the size of the file at most. A non-finite float is written as the JSON string
//! `"NaN"` or `"Infinity"`, which the reader refuses where it wants a number, by name.
//!
//! What must not live here: what XGBoost's fields mean (`document`).

use std::fmt::Write;

/// Containers nested deeper than this are refused: XGBoost's models nest about eight deep.
pub const MAX_DEPTH: usize = 64;

/// Why bytes are not UBJSON, and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("not valid UBJSON at byte {offset}: {problem}")]
pub struct UbjsonError {
    pub offset: usize,
    pub problem: String,
}

/// The JSON text `bytes` encode, or why they are not UBJSON.
pub fn to_json(bytes: &[u8]) -> Result<String, UbjsonError> {
    let mut reader = Reader {
        bytes,
        at: 0,
        out: String::with_capacity(bytes.len() * 2),
    };
    let marker = reader.byte()?;
    reader.value(marker, 0)?;
    if reader.at != bytes.len() {
        return Err(reader.error(format!(
            "{} bytes follow the document",
            bytes.len() - reader.at
        )));
    }
    Ok(reader.out)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    out: String,
}

/// The size of one value of a typed array's type, or `None` for a type that has none.
fn fixed_size(marker: u8) -> Option<usize> {
    match marker {
        b'i' | b'U' | b'C' => Some(1),
        b'I' => Some(2),
        b'l' | b'd' => Some(4),
        b'L' | b'D' => Some(8),
        _ => None,
    }
}

impl Reader<'_> {
    fn error(&self, problem: impl Into<String>) -> UbjsonError {
        UbjsonError {
            offset: self.at,
            problem: problem.into(),
        }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, UbjsonError> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| self.error("the document ends early"))?;
        self.at += 1;
        Ok(b)
    }

    fn peek(&self) -> Result<u8, UbjsonError> {
        self.bytes
            .get(self.at)
            .copied()
            .ok_or_else(|| self.error("the document ends early"))
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], UbjsonError> {
        let slice = self
            .bytes
            .get(self.at..self.at + N)
            .ok_or_else(|| self.error("the document ends early"))?;
        self.at += N;
        Ok(slice.try_into().expect("N bytes"))
    }

    /// An integer of the type `marker` names, big-endian.
    fn integer(&mut self, marker: u8) -> Result<i64, UbjsonError> {
        Ok(match marker {
            b'i' => i64::from(i8::from_be_bytes(self.take()?)),
            b'U' => i64::from(u8::from_be_bytes(self.take()?)),
            b'C' => i64::from(self.byte()?),
            b'I' => i64::from(i16::from_be_bytes(self.take()?)),
            b'l' => i64::from(i32::from_be_bytes(self.take()?)),
            b'L' => i64::from_be_bytes(self.take()?),
            other => return Err(self.error(format!("{:?} is not an integer type", other as char))),
        })
    }

    /// A length: an integer of its own type, at least 0, and at most `per_item` bytes per
    /// item within what remains of the file.
    fn length(&mut self, per_item: usize) -> Result<usize, UbjsonError> {
        let marker = self.byte()?;
        let n = self.integer(marker)?;
        let n = usize::try_from(n).map_err(|_| self.error(format!("a length of {n}")))?;
        if n.saturating_mul(per_item.max(1)) > self.remaining() {
            return Err(self.error(format!(
                "a length of {n} where {} bytes remain",
                self.remaining()
            )));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<(), UbjsonError> {
        let n = self.length(1)?;
        let raw = &self.bytes[self.at..self.at + n];
        let text = std::str::from_utf8(raw).map_err(|_| self.error("a string is not UTF-8"))?;
        self.at += n;
        // serde_json writes a string as JSON quotes and escapes it; writing to a String cannot
        // fail.
        self.out
            .push_str(&serde_json::to_string(text).expect("a string serialises"));
        Ok(())
    }

    fn float(&mut self, v: f64, single: bool) {
        if v.is_nan() {
            self.out.push_str("\"NaN\"");
        } else if v.is_infinite() {
            self.out.push_str(if v > 0.0 {
                "\"Infinity\""
            } else {
                "\"-Infinity\""
            });
        } else if single {
            let _ = write!(self.out, "{:e}", v as f32);
        } else {
            let _ = write!(self.out, "{v:e}");
        }
    }

    /// One value whose marker has been read.
    fn value(&mut self, marker: u8, depth: usize) -> Result<(), UbjsonError> {
        match marker {
            b'Z' => self.out.push_str("null"),
            b'T' => self.out.push_str("true"),
            b'F' => self.out.push_str("false"),
            b'i' | b'U' | b'I' | b'l' | b'L' | b'C' => {
                let v = self.integer(marker)?;
                let _ = write!(self.out, "{v}");
            }
            b'd' => {
                let v = f32::from_be_bytes(self.take()?);
                self.float(f64::from(v), true);
            }
            b'D' => {
                let v = f64::from_be_bytes(self.take()?);
                self.float(v, false);
            }
            b'S' => self.string()?,
            b'[' | b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(self.error(format!("containers nest deeper than {MAX_DEPTH}")));
                }
                self.container(marker == b'{', depth + 1)?;
            }
            b'N' => return Err(self.error("a no-op marker where a value belongs")),
            b'H' => return Err(self.error("a high-precision number, which XGBoost never writes")),
            other => {
                return Err(self.error(format!("{:?} does not start a value", other as char)));
            }
        }
        Ok(())
    }

    /// An array or object after its opening marker: typed (`$`), counted (`#`), or closed by
    /// its end marker.
    fn container(&mut self, object: bool, depth: usize) -> Result<(), UbjsonError> {
        let (open, close) = if object { ('{', '}') } else { ('[', ']') };
        self.out.push(open);
        let mut item_type = None;
        if self.peek()? == b'$' {
            self.at += 1;
            item_type = Some(self.byte()?);
            if self.peek()? != b'#' {
                return Err(self.error("a typed container without a count"));
            }
        }
        let count = if self.peek()? == b'#' {
            self.at += 1;
            // A key takes at least two bytes, a value of a fixed-size type its size, any other
            // value at least one byte (its marker), or none for a type without a payload.
            let per_item = match item_type {
                Some(t) => fixed_size(t).unwrap_or(usize::from(!matches!(t, b'Z' | b'T' | b'F'))),
                None => 1,
            } + if object { 2 } else { 0 };
            Some(self.length(per_item)?)
        } else {
            None
        };
        let mut i = 0;
        loop {
            match count {
                Some(n) if i == n => break,
                None if self.peek()? == close as u8 => {
                    self.at += 1;
                    break;
                }
                _ => {}
            }
            if i > 0 {
                self.out.push(',');
            }
            if object {
                self.string()?;
                self.out.push(':');
            }
            let marker = match item_type {
                Some(t) => t,
                None => self.byte()?,
            };
            self.value(marker, depth)?;
            i += 1;
        }
        self.out.push(close);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_containers_become_json() {
        let mut bytes =
            b"{L\x00\x00\x00\x00\x00\x00\x00\x01aSL\x00\x00\x00\x00\x00\x00\x00\x02hi".to_vec();
        bytes.extend(b"L\x00\x00\x00\x00\x00\x00\x00\x01b[$d#L\x00\x00\x00\x00\x00\x00\x00\x02");
        bytes.extend(0.1f32.to_be_bytes());
        bytes.extend(f32::NAN.to_be_bytes());
        bytes.extend(b"i\x01c[i\xffTZ]}");
        let json = to_json(&bytes).unwrap();
        assert_eq!(json, r#"{"a":"hi","b":[1e-1,"NaN"],"c":[-1,true,null]}"#);
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["b"][0].to_string().parse::<f32>().unwrap(), 0.1f32);
    }

    #[test]
    fn lengths_beyond_the_file_and_deep_nesting_are_refused() {
        let error = to_json(b"[$d#L\x00\x00\x00\x00\x10\x00\x00\x00").unwrap_err();
        assert!(error.problem.contains("where 0 bytes remain"), "{error}");
        let error = to_json(b"SL\xff\xff\xff\xff\xff\xff\xff\xff").unwrap_err();
        assert!(error.problem.contains("a length of -1"), "{error}");
        let deep = vec![b'['; 100];
        assert!(to_json(&deep).unwrap_err().problem.contains("nest deeper"));
        assert!(
            to_json(b"[i\x01")
                .unwrap_err()
                .problem
                .contains("ends early")
        );
        assert!(
            to_json(b"Zx")
                .unwrap_err()
                .problem
                .contains("follow the document")
        );
    }
}

//! numpy arrays and dtypes rebuilt from their pickled form: element kind and width, byte order
//! from the dtype's state, C or Fortran order (always stored here in C order).
//!
//! Every size read from a file is checked against the bytes actually present before anything is
//! allocated, so a declared shape cannot ask for more memory than the file holds.
//!
//! Structured dtypes (records of named numeric fields, as a tree's nodes are stored) are read
//! too: every field must be a plain number lying wholly inside the record, and the record's
//! bytes are kept as they are until a reader asks for one field ([`NdArray::field`]).

use super::value::{Dtype, Elements, Field, Kind, NdArray, Value};

/// Fields a record dtype may have: real ones have a dozen or so.
pub const MAX_RECORD_FIELDS: usize = 64;

impl Dtype {
    /// Parses the type string numpy pickles a dtype with (`'f8'`, `'i4'`, `'b1'`, `'U7'`, `'O8'`).
    pub fn parse(descr: &str) -> Result<Self, String> {
        let unsupported = || format!("unsupported numpy dtype '{descr}'");
        let mut chars = descr.chars();
        let code = chars.next().ok_or_else(unsupported)?;
        let digits = chars.as_str();
        let width: usize = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| unsupported())?
        };
        let (kind, size) = match (code, width) {
            ('f', 4 | 8) => (Kind::Float, width),
            ('i', 1 | 2 | 4 | 8) => (Kind::Int, width),
            ('u', 1 | 2 | 4 | 8) => (Kind::UInt, width),
            ('b', 1) | ('?', 0) => (Kind::Bool, 1),
            ('U', n) => (Kind::Unicode, n.checked_mul(4).ok_or_else(unsupported)?),
            ('S', n) => (Kind::Bytes, n),
            ('O', 4 | 8) => (Kind::Object, width),
            // A record's fields arrive with the dtype's state (see `apply_fields`).
            ('V', n) if n > 0 => (Kind::Record, n),
            _ => return Err(unsupported()),
        };
        Ok(Self {
            kind,
            size,
            little_endian: true,
            fields: Vec::new(),
        })
    }

    /// Gives a record dtype its fields, from the dtype's pickled state: `names` in order and,
    /// for each, its dtype and byte offset. Every field must be a plain number (no text,
    /// objects or nested records) lying wholly inside the record, and `item_size` (the
    /// state's own record size) must agree with the type string's.
    pub fn apply_fields(
        &mut self,
        fields: Vec<(String, Dtype, i64)>,
        item_size: i64,
    ) -> Result<(), String> {
        if self.kind != Kind::Record {
            return Err(format!("a {} dtype with record fields", self.name()));
        }
        if item_size >= 0 && item_size as usize != self.size {
            return Err(format!(
                "a record dtype of {} bytes whose state says {item_size}",
                self.size
            ));
        }
        if fields.is_empty() || fields.len() > MAX_RECORD_FIELDS {
            return Err(format!(
                "a record dtype with {} fields (1 to {MAX_RECORD_FIELDS} are read)",
                fields.len()
            ));
        }
        let mut out: Vec<Field> = Vec::with_capacity(fields.len());
        for (name, dtype, offset) in fields {
            if !matches!(
                dtype.kind,
                Kind::Float | Kind::Int | Kind::UInt | Kind::Bool
            ) {
                return Err(format!(
                    "record field '{name}' is {}, not a number",
                    dtype.name()
                ));
            }
            let end = usize::try_from(offset)
                .ok()
                .and_then(|o| o.checked_add(dtype.size).map(|end| (o, end)));
            let Some((offset, end)) = end.filter(|(_, end)| *end <= self.size) else {
                return Err(format!(
                    "record field '{name}' at offset {offset} does not fit in {} bytes",
                    self.size
                ));
            };
            if out.iter().any(|f| f.name == name) {
                return Err(format!("record field '{name}' is named twice"));
            }
            debug_assert!(end <= self.size);
            out.push(Field {
                name,
                dtype,
                offset,
            });
        }
        self.fields = out;
        Ok(())
    }

    /// Applies the dtype's pickled state: its byte order (`'<'`, `'>'`, `'|'`, `'='`) and, for
    /// text, its item size.
    pub fn apply_state(&mut self, byte_order: Option<&str>, item_size: i64) -> Result<(), String> {
        match byte_order {
            // '=' is the pickling machine's native order; every platform numpy ships on is little-endian.
            Some("<" | "|" | "=") | None => self.little_endian = true,
            Some(">") => self.little_endian = false,
            Some(other) => return Err(format!("unknown byte order '{other}' in a dtype")),
        }
        if matches!(self.kind, Kind::Unicode | Kind::Bytes) && item_size > 0 {
            self.size = item_size as usize;
        }
        if self.kind == Kind::Unicode && !self.size.is_multiple_of(4) {
            return Err("unicode dtype with an item size that is not a multiple of 4".into());
        }
        Ok(())
    }
}

/// The number of elements of `shape`, refusing overflow.
pub fn element_count(shape: &[usize]) -> Result<usize, String> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("array shape {shape:?} is impossibly large"))
}

/// What one element of `dtype` takes once decoded ([`Elements`]): a number widened to 8
/// bytes, a text or bytes item as its own allocation (header, at most its width, and the
/// allocator's own word), a record as its bytes, an object as a reference.
pub fn decoded_item_bytes(dtype: &Dtype) -> usize {
    const OWNED: usize = std::mem::size_of::<String>() + 2 * std::mem::size_of::<usize>();
    match dtype.kind {
        Kind::Float | Kind::Int | Kind::UInt => 8,
        Kind::Bool => 1,
        Kind::Unicode | Kind::Bytes => OWNED + dtype.size,
        Kind::Record => dtype.size,
        Kind::Object => std::mem::size_of::<Value>(),
    }
}

/// Checks that `n_bytes` are exactly what `shape` of `dtype` needs, before anything is
/// allocated, and returns the number of elements. A zero-width dtype (`<U0`, `S0`) matches no
/// bytes for any count, so an array of one is refused unless it is empty: numpy widens such a
/// dtype to one character before it stores anything.
pub fn check_layout(dtype: &Dtype, shape: &[usize], n_bytes: usize) -> Result<usize, String> {
    if dtype.is_object() {
        return Err("object array with raw bytes".into());
    }
    if dtype.kind == Kind::Record && dtype.fields.is_empty() {
        return Err(format!(
            "unsupported numpy dtype 'V{}' (raw bytes)",
            dtype.size
        ));
    }
    let count = element_count(shape)?;
    if dtype.size == 0 && count > 0 {
        return Err(format!(
            "array shape {shape:?} of the zero-width dtype {} holds no bytes for its elements",
            dtype.name()
        ));
    }
    let expected = count
        .checked_mul(dtype.size)
        .ok_or_else(|| format!("array shape {shape:?} is impossibly large"))?;
    if expected != n_bytes {
        return Err(format!(
            "array shape {shape:?} of {} needs {expected} bytes but the file holds {n_bytes}",
            dtype.name(),
        ));
    }
    Ok(count)
}

/// Decodes raw array bytes laid out as `dtype`, `shape` and order.
pub fn from_bytes(
    dtype: &Dtype,
    shape: Vec<usize>,
    bytes: &[u8],
    fortran: bool,
) -> Result<NdArray, String> {
    let count = check_layout(dtype, &shape, bytes.len())?;
    if dtype.kind == Kind::Record {
        if fortran && shape.len() > 1 {
            return Err("record arrays in Fortran order are not supported".into());
        }
        return Ok(NdArray {
            shape,
            dtype: dtype.clone(),
            elements: Elements::Records(bytes.to_vec()),
        });
    }
    let items = bytes.chunks_exact(dtype.size.max(1)).take(count);
    let elements = match decode_plain(dtype, items) {
        Some(numbers) => numbers,
        None => decode_text(dtype, bytes, count)?,
    };
    Ok(in_c_order(dtype.clone(), shape, elements, fortran))
}

/// Numbers of a plain numeric dtype, one per item of `size` bytes (`None` for other kinds).
pub fn decode_plain<'b>(dtype: &Dtype, items: impl Iterator<Item = &'b [u8]>) -> Option<Elements> {
    let little = dtype.little_endian;
    Some(match (dtype.kind, dtype.size) {
        (Kind::Float, 8) => {
            Elements::Float(items.map(|b| f64::from_bits(word(b, little))).collect())
        }
        (Kind::Float, _) => Elements::Float(
            items
                .map(|b| f32::from_bits(word(b, little) as u32) as f64)
                .collect(),
        ),
        (Kind::Int, n) => Elements::Int(items.map(|b| sign_extend(word(b, little), n)).collect()),
        (Kind::UInt, _) => Elements::UInt(items.map(|b| word(b, little)).collect()),
        (Kind::Bool, _) => Elements::Bool(items.map(|b| b[0] != 0).collect()),
        _ => return None,
    })
}

/// Text items (`<U7`, `S3`).
fn decode_text(dtype: &Dtype, bytes: &[u8], count: usize) -> Result<Elements, String> {
    let items = bytes.chunks_exact(dtype.size.max(1)).take(count);
    let little = dtype.little_endian;
    Ok(match dtype.kind {
        // Only an empty array has a zero-width dtype (`check_layout`).
        _ if dtype.size == 0 && dtype.kind == Kind::Bytes => Elements::Bytes(Vec::new()),
        _ if dtype.size == 0 => Elements::Str(Vec::new()),
        Kind::Unicode => Elements::Str(items.map(|b| ucs4(b, little)).collect::<Result<_, _>>()?),
        Kind::Bytes => Elements::Bytes(
            items
                .map(|b| {
                    let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
                    b[..end].to_vec()
                })
                .collect(),
        ),
        other => return Err(format!("{other:?} arrays are not decoded as text")),
    })
}

impl NdArray {
    /// One field of every record, as the field's own dtype says (`None` when the array holds
    /// no records or its records have no such field).
    pub fn field(&self, name: &str) -> Option<Elements> {
        let Elements::Records(bytes) = &self.elements else {
            return None;
        };
        let field = self.dtype.field(name)?;
        let (start, end) = (field.offset, field.offset + field.dtype.size);
        let cells = bytes
            .chunks_exact(self.dtype.size)
            .map(|record| &record[start..end]);
        decode_plain(&field.dtype, cells)
    }
}

/// An object array from the list numpy pickles it as.
pub fn from_objects(
    shape: Vec<usize>,
    values: Vec<Value>,
    fortran: bool,
) -> Result<NdArray, String> {
    let count = element_count(&shape)?;
    if count != values.len() {
        return Err(format!(
            "object array shape {shape:?} needs {count} items but the file holds {}",
            values.len()
        ));
    }
    let dtype = Dtype {
        kind: Kind::Object,
        size: 8,
        little_endian: true,
        fields: Vec::new(),
    };
    Ok(in_c_order(dtype, shape, Elements::Object(values), fortran))
}

/// The array of `elements` as read, in C order whatever order they were stored in.
fn in_c_order(dtype: Dtype, shape: Vec<usize>, elements: Elements, fortran: bool) -> NdArray {
    let elements = if fortran {
        to_c_order(elements, &shape)
    } else {
        elements
    };
    NdArray {
        shape,
        dtype,
        elements,
    }
}

/// Reads up to 8 bytes as an unsigned integer in the given byte order.
fn word(bytes: &[u8], little: bool) -> u64 {
    let mut buf = [0u8; 8];
    if little {
        buf[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(buf)
    } else {
        buf[8 - bytes.len()..].copy_from_slice(bytes);
        u64::from_be_bytes(buf)
    }
}

fn sign_extend(raw: u64, size: usize) -> i64 {
    let shift = 64 - 8 * size as u32;
    ((raw << shift) as i64) >> shift
}

fn ucs4(bytes: &[u8], little: bool) -> Result<String, String> {
    bytes
        .chunks_exact(4)
        .map(|c| word(c, little) as u32)
        .take_while(|&c| c != 0)
        .map(|c| {
            char::from_u32(c).ok_or_else(|| format!("invalid code point {c:#x} in a text array"))
        })
        .collect()
}

/// `array.transpose(axes)` made C-ordered: output axis `k` is input axis `axes[k]`.
pub fn transposed(array: NdArray, axes: &[usize]) -> Result<NdArray, String> {
    let n = array.shape.len();
    let mut seen = vec![false; n];
    if axes.len() != n
        || axes
            .iter()
            .any(|&a| a >= n || std::mem::replace(&mut seen[a], true))
    {
        return Err(format!(
            "axis order {axes:?} is not a permutation of {n} axes"
        ));
    }
    fn permute<T: Clone>(data: Vec<T>, shape: &[usize], axes: &[usize]) -> Vec<T> {
        if data.is_empty() {
            return data;
        }
        let mut strides = vec![1usize; shape.len()];
        for axis in (0..shape.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * shape[axis + 1];
        }
        let out_shape: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
        let out_strides: Vec<usize> = axes.iter().map(|&a| strides[a]).collect();
        let mut index = vec![0usize; shape.len()];
        let mut offset = 0usize;
        let mut out = Vec::with_capacity(data.len());
        for _ in 0..data.len() {
            out.push(data[offset].clone());
            for axis in (0..out_shape.len()).rev() {
                index[axis] += 1;
                offset += out_strides[axis];
                if index[axis] < out_shape[axis] {
                    break;
                }
                offset -= out_strides[axis] * out_shape[axis];
                index[axis] = 0;
            }
        }
        out
    }
    let shape = &array.shape;
    let elements = match array.elements {
        Elements::Float(v) => Elements::Float(permute(v, shape, axes)),
        Elements::Int(v) => Elements::Int(permute(v, shape, axes)),
        Elements::UInt(v) => Elements::UInt(permute(v, shape, axes)),
        Elements::Bool(v) => Elements::Bool(permute(v, shape, axes)),
        Elements::Str(v) => Elements::Str(permute(v, shape, axes)),
        Elements::Bytes(v) => Elements::Bytes(permute(v, shape, axes)),
        Elements::Object(v) => Elements::Object(permute(v, shape, axes)),
        Elements::Records(_) if n > 1 => {
            return Err("record arrays in a permuted order are not supported".into());
        }
        records @ Elements::Records(_) => records,
    };
    Ok(NdArray {
        shape: axes.iter().map(|&a| array.shape[a]).collect(),
        dtype: array.dtype,
        elements,
    })
}

fn to_c_order(elements: Elements, shape: &[usize]) -> Elements {
    fn permute<T: Clone>(data: Vec<T>, shape: &[usize]) -> Vec<T> {
        if shape.len() < 2 || data.is_empty() {
            return data;
        }
        // Walk C order with a multi-index, tracking the Fortran offset incrementally.
        let mut fortran_strides = vec![1usize; shape.len()];
        for axis in 1..shape.len() {
            fortran_strides[axis] = fortran_strides[axis - 1] * shape[axis - 1];
        }
        let mut index = vec![0usize; shape.len()];
        let mut offset = 0usize;
        let mut out = Vec::with_capacity(data.len());
        for _ in 0..data.len() {
            out.push(data[offset].clone());
            for axis in (0..shape.len()).rev() {
                index[axis] += 1;
                offset += fortran_strides[axis];
                if index[axis] < shape[axis] {
                    break;
                }
                offset -= fortran_strides[axis] * shape[axis];
                index[axis] = 0;
            }
        }
        out
    }
    match elements {
        Elements::Float(v) => Elements::Float(permute(v, shape)),
        Elements::Int(v) => Elements::Int(permute(v, shape)),
        Elements::UInt(v) => Elements::UInt(permute(v, shape)),
        Elements::Bool(v) => Elements::Bool(permute(v, shape)),
        Elements::Str(v) => Elements::Str(permute(v, shape)),
        Elements::Bytes(v) => Elements::Bytes(permute(v, shape)),
        Elements::Object(v) => Elements::Object(permute(v, shape)),
        // Only one-dimensional record arrays are read, whose orders agree.
        records @ Elements::Records(_) => records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_order_becomes_c_order() {
        let dtype = Dtype::parse("i8").unwrap();
        // [[1, 2, 3], [4, 5, 6]] stored column by column.
        let bytes: Vec<u8> = [1i64, 4, 2, 5, 3, 6]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = from_bytes(&dtype, vec![2, 3], &bytes, true).unwrap();
        assert_eq!(a.elements, Elements::Int(vec![1, 2, 3, 4, 5, 6]));
    }

    #[test]
    fn an_axis_order_transposes_the_c_ordered_buffer() {
        // numpy 2.3+: np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1) pickles its buffer
        // in the (2, 3, 4) C order with axis order (2, 0, 1).
        let dtype = Dtype::parse("i8").unwrap();
        let bytes: Vec<u8> = (0..24i64).flat_map(|v| v.to_le_bytes()).collect();
        let a = transposed(
            from_bytes(&dtype, vec![2, 3, 4], &bytes, false).unwrap(),
            &[2, 0, 1],
        )
        .unwrap();
        assert_eq!(a.shape, vec![4, 2, 3]);
        let want: Vec<i64> = (0..4)
            .flat_map(|k| (0..2).flat_map(move |i| (0..3).map(move |j| i * 12 + j * 4 + k)))
            .collect();
        assert_eq!(a.elements, Elements::Int(want));
        let b = from_bytes(&dtype, vec![2, 3, 4], &bytes, false).unwrap();
        assert!(transposed(b.clone(), &[2, 2, 1]).is_err());
        assert!(transposed(b, &[0, 1]).is_err());
    }

    #[test]
    fn big_endian_and_unicode_decode() {
        let mut dtype = Dtype::parse("f8").unwrap();
        dtype.apply_state(Some(">"), -1).unwrap();
        let a = from_bytes(&dtype, vec![1], &1.5f64.to_be_bytes(), false).unwrap();
        assert_eq!(a.elements, Elements::Float(vec![1.5]));

        let text = Dtype::parse("U3").unwrap();
        let bytes: Vec<u8> = "ab"
            .chars()
            .map(|c| c as u32)
            .chain([0])
            .flat_map(u32::to_le_bytes)
            .collect();
        let a = from_bytes(&text, vec![1], &bytes, false).unwrap();
        assert_eq!(a.elements, Elements::Str(vec!["ab".into()]));
    }

    #[test]
    fn shape_must_match_bytes() {
        let dtype = Dtype::parse("f8").unwrap();
        let err = from_bytes(&dtype, vec![10_000_000, 10_000_000], &[0; 8], false).unwrap_err();
        assert!(err.contains("needs 800000000000000 bytes"), "{err}");
        let err = from_bytes(&dtype, vec![usize::MAX, 2], &[0; 8], false).unwrap_err();
        assert!(err.contains("impossibly large"), "{err}");
    }
}

//! Tensors as the Open Inference Protocol carries them: the datatypes, the element counts of
//! shapes, and the two encodings of the same elements, numbers (JSON `data`, gRPC's typed
//! contents) and raw little-endian bytes (the REST binary extension, gRPC's raw contents).
//!
//! Decoding casts as numpy casts to the declared datatype and then to float64 (an FP32 tensor's
//! values are rounded to single precision, an INT8 tensor's must be integers in −128…127), so
//! that the model sees what scikit-learn would. Sizes are checked against the shape before
//! anything is allocated: a declared shape can never make the server reserve memory the
//! request did not bring.

use std::borrow::Cow;

use super::InferError;

/// The datatypes skserve takes in and gives out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Datatype {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp16,
    Fp32,
    Fp64,
    Bytes,
}

/// What an error message lists as the datatypes there are.
const DATATYPES: &str =
    "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64 or BYTES";

impl Datatype {
    pub const ALL: [Self; 13] = [
        Self::Bool,
        Self::Uint8,
        Self::Uint16,
        Self::Uint32,
        Self::Uint64,
        Self::Int8,
        Self::Int16,
        Self::Int32,
        Self::Int64,
        Self::Fp16,
        Self::Fp32,
        Self::Fp64,
        Self::Bytes,
    ];

    /// The datatype named `text` (as the protocol spells it), for input `input`.
    pub fn parse(input: &str, text: &str) -> Result<Self, InferError> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == text)
            .ok_or_else(|| {
                InferError::Invalid(format!(
                    "input '{input}' has unknown datatype '{text}' (expected {DATATYPES})"
                ))
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "BOOL",
            Self::Uint8 => "UINT8",
            Self::Uint16 => "UINT16",
            Self::Uint32 => "UINT32",
            Self::Uint64 => "UINT64",
            Self::Int8 => "INT8",
            Self::Int16 => "INT16",
            Self::Int32 => "INT32",
            Self::Int64 => "INT64",
            Self::Fp16 => "FP16",
            Self::Fp32 => "FP32",
            Self::Fp64 => "FP64",
            Self::Bytes => "BYTES",
        }
    }

    /// Bytes per element in raw form; `None` for BYTES, whose elements vary in length.
    pub fn element_size(self) -> Option<usize> {
        match self {
            Self::Bool | Self::Uint8 | Self::Int8 => Some(1),
            Self::Uint16 | Self::Int16 | Self::Fp16 => Some(2),
            Self::Uint32 | Self::Int32 | Self::Fp32 => Some(4),
            Self::Uint64 | Self::Int64 | Self::Fp64 => Some(8),
            Self::Bytes => None,
        }
    }

    /// The range of an integer datatype, as float64 bounds.
    fn integer_range(self) -> Option<(f64, f64)> {
        match self {
            Self::Uint8 => Some((0.0, 255.0)),
            Self::Uint16 => Some((0.0, 65_535.0)),
            Self::Uint32 => Some((0.0, 4_294_967_295.0)),
            Self::Uint64 => Some((0.0, u64::MAX as f64)),
            Self::Int8 => Some((-128.0, 127.0)),
            Self::Int16 => Some((-32_768.0, 32_767.0)),
            Self::Int32 => Some((-2_147_483_648.0, 2_147_483_647.0)),
            Self::Int64 => Some((i64::MIN as f64, i64::MAX as f64)),
            _ => None,
        }
    }
}

/// A tensor's elements as they arrived.
#[derive(Debug)]
pub enum TensorData<'a> {
    /// Numbers, row-major (BOOL as 0 and 1): JSON `data`, gRPC's typed contents.
    Numbers(Vec<f64>),
    /// The elements of a BYTES tensor.
    Strings(Vec<Cow<'a, [u8]>>),
    /// Elements of more than one kind, in order: JSON `data` holding strings or nulls (a
    /// column of a named input with missing values).
    Elements(Vec<Element<'a>>),
    /// Little-endian elements without padding (BYTES: a 4-byte length before each).
    Raw(&'a [u8]),
}

/// One element of [`TensorData::Elements`].
#[derive(Clone, Debug, PartialEq)]
pub enum Element<'a> {
    Number(f64),
    Text(Cow<'a, [u8]>),
    /// JSON `null`: a missing value.
    Missing,
}

/// An input tensor of a request.
#[derive(Debug)]
pub struct InputTensor<'a> {
    pub name: Cow<'a, str>,
    pub datatype: Datatype,
    pub shape: Vec<i64>,
    pub data: TensorData<'a>,
}

impl InputTensor<'_> {
    /// How many elements the shape holds; refuses negative dimensions and overflow.
    pub fn element_count(&self) -> Result<usize, InferError> {
        element_count(&self.name, &self.shape)
    }

    /// Checks that the data holds exactly the elements of the shape, before any decoding.
    pub fn check_size(&self) -> Result<usize, InferError> {
        let count = self.element_count()?;
        let (name, shape) = (&self.name, &self.shape);
        let datatype = self.datatype.name();
        match (&self.data, self.datatype.element_size()) {
            (TensorData::Numbers(values), _) if values.len() != count => {
                Err(InferError::Invalid(format!(
                    "input '{name}': shape {shape:?} holds {count} values but data has {}",
                    values.len()
                )))
            }
            (TensorData::Strings(values), _) if values.len() != count => {
                Err(InferError::Invalid(format!(
                    "input '{name}': shape {shape:?} holds {count} values but data has {}",
                    values.len()
                )))
            }
            (TensorData::Elements(values), _) if values.len() != count => {
                Err(InferError::Invalid(format!(
                    "input '{name}': shape {shape:?} holds {count} values but data has {}",
                    values.len()
                )))
            }
            (TensorData::Raw(bytes), Some(size)) => {
                let expected = count.checked_mul(size);
                if expected == Some(bytes.len()) {
                    Ok(count)
                } else {
                    Err(InferError::Invalid(format!(
                        "input '{name}': shape {shape:?} of {datatype} is {} bytes \
                         ({size} per element) but {} bytes were sent",
                        expected
                            .map_or_else(|| "more than can be addressed".into(), |n| n.to_string()),
                        bytes.len()
                    )))
                }
            }
            (TensorData::Raw(bytes), None) => {
                let found = raw_strings(name, bytes, count)?.len();
                if found == count {
                    Ok(count)
                } else {
                    Err(InferError::Invalid(format!(
                        "input '{name}': shape {shape:?} holds {count} BYTES elements but \
                         {found} were sent"
                    )))
                }
            }
            _ => Ok(count),
        }
    }

    /// The elements as the model sees them: numpy's cast to the declared datatype, then to
    /// float64. A missing value (JSON `null`) is refused: a matrix of numbers has none. Call
    /// [`InputTensor::check_size`] first.
    pub fn into_values(self) -> Result<Vec<f64>, InferError> {
        self.values(false)
    }

    /// [`InputTensor::into_values`] for one column of a named input, where a missing value
    /// is `NaN`, as pandas holds it.
    pub fn into_column_values(self) -> Result<Vec<f64>, InferError> {
        self.values(true)
    }

    /// Refuses the strings and nulls a tensor of rows of numbers cannot hold, whatever its
    /// shape.
    pub fn check_numbers(&self) -> Result<(), InferError> {
        let name = &self.name;
        let TensorData::Elements(elements) = &self.data else {
            return Ok(());
        };
        match elements.iter().find(|e| !matches!(e, Element::Number(_))) {
            Some(Element::Missing) => Err(InferError::Invalid(format!(
                "input '{name}': data holds null; send numbers"
            ))),
            Some(Element::Text(text)) if self.datatype != Datatype::Bytes => {
                Err(InferError::Invalid(format!(
                    "input '{name}': data holds the string {:?}; send numbers",
                    String::from_utf8_lossy(text)
                )))
            }
            _ => Ok(()),
        }
    }

    fn values(self, as_column: bool) -> Result<Vec<f64>, InferError> {
        if !as_column {
            self.check_numbers()?;
        }
        let name = self.name;
        let datatype = self.datatype;
        match self.data {
            _ if datatype == Datatype::Bytes => Err(InferError::Unprocessable(format!(
                "input '{name}' is BYTES; this model takes numbers (FP64, FP32, INT64, BOOL…)"
            ))),
            TensorData::Strings(_) => Err(InferError::Invalid(format!(
                "input '{name}' is {} but its data holds strings; send numbers",
                datatype.name()
            ))),
            TensorData::Elements(elements) => {
                // Missing values are cast as numbers would be (0 passes every datatype's
                // checks), then put back: numpy holds them as NaN whatever the datatype.
                let mut missing = Vec::new();
                let mut values = Vec::with_capacity(elements.len());
                for (i, element) in elements.into_iter().enumerate() {
                    values.push(match element {
                        Element::Number(v) => v,
                        // Refused by `check_numbers` unless this is a column.
                        Element::Missing => {
                            missing.push(i);
                            0.0
                        }
                        Element::Text(_) if !as_column => f64::NAN,
                        Element::Text(text) => {
                            return Err(InferError::Invalid(format!(
                                "input '{name}' is {} but holds the string {:?}; send strings \
                                 as BYTES",
                                datatype.name(),
                                String::from_utf8_lossy(&text)
                            )));
                        }
                    });
                }
                let mut values = cast_numbers(&name, datatype, values)?;
                missing.into_iter().for_each(|i| values[i] = f64::NAN);
                Ok(values)
            }
            TensorData::Numbers(values) => cast_numbers(&name, datatype, values),
            TensorData::Raw(bytes) => decode_raw(&name, datatype, bytes),
        }
    }
}

/// The number of elements of `shape`, for input `name`.
pub fn element_count(name: &str, shape: &[i64]) -> Result<usize, InferError> {
    if let Some(d) = shape.iter().find(|&&d| d < 0) {
        return Err(InferError::Invalid(format!(
            "input '{name}': shape {shape:?} has a negative dimension {d}"
        )));
    }
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?))
        .ok_or_else(|| {
            InferError::Invalid(format!(
                "input '{name}': shape {shape:?} holds more elements than can be addressed"
            ))
        })
}

/// Numbers rounded and checked as numpy stores them in `datatype`.
fn cast_numbers(
    name: &str,
    datatype: Datatype,
    mut values: Vec<f64>,
) -> Result<Vec<f64>, InferError> {
    match datatype {
        Datatype::Fp64 => {}
        Datatype::Fp32 => values.iter_mut().for_each(|v| *v = f64::from(*v as f32)),
        Datatype::Fp16 => values
            .iter_mut()
            .for_each(|v| *v = f16_to_f64(f64_to_f16(*v))),
        Datatype::Bool => {
            if let Some(v) = values.iter().find(|&&v| v != 0.0 && v != 1.0) {
                return Err(InferError::Unprocessable(format!(
                    "input '{name}' is BOOL but holds {v}"
                )));
            }
        }
        integer => {
            let (low, high) = integer
                .integer_range()
                .expect("the other datatypes are integers");
            if let Some(v) = values.iter().find(|v| v.fract() != 0.0) {
                return Err(InferError::Unprocessable(format!(
                    "input '{name}' is {} but holds {v}, which is not an integer",
                    integer.name()
                )));
            }
            if let Some(v) = values.iter().find(|&&v| v < low || v > high) {
                return Err(InferError::Unprocessable(format!(
                    "input '{name}' is {} but holds {v}, outside {low}…{high}",
                    integer.name()
                )));
            }
        }
    }
    Ok(values)
}

/// Little-endian elements of `datatype` as float64; the length was checked against the shape.
fn decode_raw(name: &str, datatype: Datatype, bytes: &[u8]) -> Result<Vec<f64>, InferError> {
    fn each<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> f64) -> Vec<f64> {
        bytes
            .chunks_exact(N)
            .map(|c| f(c.try_into().expect("chunks of N bytes")))
            .collect()
    }
    Ok(match datatype {
        Datatype::Fp64 => each(bytes, f64::from_le_bytes),
        Datatype::Fp32 => each(bytes, |b| f64::from(f32::from_le_bytes(b))),
        Datatype::Fp16 => each(bytes, |b| f16_to_f64(u16::from_le_bytes(b))),
        Datatype::Int64 => each(bytes, |b| i64::from_le_bytes(b) as f64),
        Datatype::Int32 => each(bytes, |b| f64::from(i32::from_le_bytes(b))),
        Datatype::Int16 => each(bytes, |b| f64::from(i16::from_le_bytes(b))),
        Datatype::Int8 => each(bytes, |b| f64::from(i8::from_le_bytes(b))),
        Datatype::Uint64 => each(bytes, |b| u64::from_le_bytes(b) as f64),
        Datatype::Uint32 => each(bytes, |b| f64::from(u32::from_le_bytes(b))),
        Datatype::Uint16 => each(bytes, |b| f64::from(u16::from_le_bytes(b))),
        Datatype::Uint8 => each(bytes, |[b]| f64::from(b)),
        Datatype::Bool => {
            if let Some((i, b)) = bytes.iter().enumerate().find(|&(_, &b)| b > 1) {
                return Err(InferError::Unprocessable(format!(
                    "input '{name}' is BOOL but element {i} is the byte {b} (BOOL elements \
                     are one byte, 0 or 1)"
                )));
            }
            each(bytes, |[b]| f64::from(b))
        }
        Datatype::Bytes => unreachable!("BYTES tensors are refused before decoding"),
    })
}

/// The elements of raw BYTES data: each a 4-byte little-endian length, then that many bytes.
/// Stops with an error at a length that runs past the data, and past `at_most` elements (the
/// shape's count), so that a hostile length prefix cannot make it collect without bound.
pub fn raw_strings<'a>(
    name: &str,
    mut bytes: &'a [u8],
    at_most: usize,
) -> Result<Vec<&'a [u8]>, InferError> {
    let mut elements = Vec::new();
    while !bytes.is_empty() {
        if elements.len() == at_most {
            return Err(InferError::Invalid(format!(
                "input '{name}': more BYTES elements were sent than its shape holds ({at_most})"
            )));
        }
        let Some((length, rest)) = bytes.split_first_chunk::<4>() else {
            return Err(InferError::Invalid(format!(
                "input '{name}': BYTES element {} is cut short in its 4-byte length",
                elements.len()
            )));
        };
        let length = u32::from_le_bytes(*length) as usize;
        if length > rest.len() {
            return Err(InferError::Invalid(format!(
                "input '{name}': BYTES element {} declares {length} bytes but only {} follow",
                elements.len(),
                rest.len()
            )));
        }
        let (element, rest) = rest.split_at(length);
        elements.push(element);
        bytes = rest;
    }
    Ok(elements)
}

/// An IEEE 754 half-precision number as float64 (exact: every half is a double).
pub fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    sign * match exponent {
        0 => mantissa * 2f64.powi(-24),
        0x1f if mantissa == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        _ => (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
    }
}

/// `value` rounded to the nearest half-precision number (ties to even), as numpy's
/// `astype(float16)` rounds it; overflow is infinity.
pub fn f64_to_f16(value: f64) -> u16 {
    let sign: u16 = if value.is_sign_negative() { 0x8000 } else { 0 };
    let magnitude = value.abs();
    if magnitude.is_nan() {
        return sign | 0x7e00;
    }
    // Halves are multiples of 2^-24; above 2^-14 the spacing doubles with each binade.
    let exponent = if magnitude < 2f64.powi(-14) {
        -14
    } else {
        binade(magnitude)
    };
    let step = 2f64.powi(exponent - 10);
    let mut steps = magnitude / step;
    let floor = steps.floor();
    let fraction = steps - floor;
    steps = if fraction > 0.5 || (fraction == 0.5 && floor % 2.0 == 1.0) {
        floor + 1.0
    } else {
        floor
    };
    let rounded = steps * step;
    if rounded >= 65_520.0 || magnitude.is_infinite() {
        return sign | 0x7c00;
    }
    if rounded < 2f64.powi(-14) {
        return sign | (rounded * 2f64.powi(24)) as u16;
    }
    let exponent = binade(rounded);
    let mantissa = (rounded / 2f64.powi(exponent) - 1.0) * 1024.0;
    sign | (((exponent + 15) as u16) << 10) | mantissa as u16
}

/// The exponent `e` of a positive normal float64 `x`: `2^e <= x < 2^(e+1)`, read from its bits.
fn binade(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(datatype: Datatype, shape: Vec<i64>, bytes: &'a [u8]) -> InputTensor<'a> {
        InputTensor {
            name: "x".into(),
            datatype,
            shape,
            data: TensorData::Raw(bytes),
        }
    }

    #[test]
    fn raw_elements_decode_little_endian_for_every_numeric_datatype() {
        let cases: [(Datatype, Vec<u8>, f64); 12] = [
            (Datatype::Fp64, (-2.5f64).to_le_bytes().to_vec(), -2.5),
            (
                Datatype::Fp32,
                0.1f32.to_le_bytes().to_vec(),
                f64::from(0.1f32),
            ),
            (
                Datatype::Fp16,
                0x3555u16.to_le_bytes().to_vec(),
                0.333_251_953_125,
            ),
            (Datatype::Int64, (-7i64).to_le_bytes().to_vec(), -7.0),
            (Datatype::Int32, (-7i32).to_le_bytes().to_vec(), -7.0),
            (Datatype::Int16, (-7i16).to_le_bytes().to_vec(), -7.0),
            (Datatype::Int8, (-7i8).to_le_bytes().to_vec(), -7.0),
            (
                Datatype::Uint64,
                u64::MAX.to_le_bytes().to_vec(),
                u64::MAX as f64,
            ),
            (Datatype::Uint32, 70_000u32.to_le_bytes().to_vec(), 70_000.0),
            (Datatype::Uint16, 65_535u16.to_le_bytes().to_vec(), 65_535.0),
            (Datatype::Uint8, vec![200], 200.0),
            (Datatype::Bool, vec![1], 1.0),
        ];
        for (datatype, bytes, expected) in cases {
            let tensor = raw(datatype, vec![1], &bytes);
            assert_eq!(tensor.check_size().unwrap(), 1, "{datatype:?}");
            assert_eq!(tensor.into_values().unwrap(), [expected], "{datatype:?}");
        }
    }

    #[test]
    fn sizes_are_checked_against_the_shape_before_decoding() {
        let bytes = [0u8; 16];
        assert!(raw(Datatype::Fp64, vec![2], &bytes).check_size().is_ok());
        let wrong = raw(Datatype::Fp64, vec![3], &bytes)
            .check_size()
            .unwrap_err();
        assert!(
            wrong
                .to_string()
                .contains("is 24 bytes (8 per element) but 16 bytes"),
            "{wrong}"
        );
        let huge = raw(Datatype::Fp64, vec![i64::MAX, i64::MAX], &bytes).check_size();
        assert!(
            huge.unwrap_err()
                .to_string()
                .contains("more elements than can be addressed")
        );
        let negative = raw(Datatype::Fp64, vec![-2], &bytes).check_size();
        assert!(
            negative
                .unwrap_err()
                .to_string()
                .contains("negative dimension")
        );
    }

    #[test]
    fn bool_bytes_other_than_0_and_1_are_refused() {
        let error = raw(Datatype::Bool, vec![2], &[1, 2])
            .into_values()
            .unwrap_err();
        assert!(
            error.to_string().contains("element 1 is the byte 2"),
            "{error}"
        );
    }

    #[test]
    fn raw_strings_are_length_prefixed_and_bounded_by_the_shape() {
        let mut bytes = Vec::new();
        for s in ["Grupo LATAM", "", "I"] {
            bytes.extend((s.len() as u32).to_le_bytes());
            bytes.extend(s.as_bytes());
        }
        let strings = raw_strings("x", &bytes, 3).unwrap();
        assert_eq!(strings, [&b"Grupo LATAM"[..], b"", b"I"]);
        assert!(
            raw_strings("x", &bytes, 2).is_err(),
            "more elements than the shape"
        );
        assert!(
            raw_strings("x", &bytes[..bytes.len() - 1], 3).is_err(),
            "cut short"
        );
        assert!(
            raw_strings("x", &[1, 0, 0], 1).is_err(),
            "a length cut short"
        );
        let claims_more = [0xff, 0xff, 0xff, 0xff, b'a'];
        assert!(
            raw_strings("x", &claims_more, 1)
                .unwrap_err()
                .to_string()
                .contains("declares")
        );
    }

    #[test]
    fn numbers_are_cast_as_numpy_casts_them() {
        let numbers = |datatype, values: &[f64]| {
            InputTensor {
                name: "x".into(),
                datatype,
                shape: vec![values.len() as i64],
                data: TensorData::Numbers(values.to_vec()),
            }
            .into_values()
        };
        assert_eq!(
            numbers(Datatype::Fp32, &[0.1]).unwrap(),
            [f64::from(0.1f32)]
        );
        assert_eq!(numbers(Datatype::Fp16, &[0.1]).unwrap(), [0.0999755859375]);
        assert!(numbers(Datatype::Int8, &[127.0]).is_ok());
        let range = numbers(Datatype::Int8, &[128.0]).unwrap_err();
        assert!(range.to_string().contains("outside -128…127"), "{range}");
        assert!(numbers(Datatype::Uint8, &[-1.0]).is_err());
        assert!(numbers(Datatype::Int64, &[0.5]).is_err());
        assert!(numbers(Datatype::Bool, &[2.0]).is_err());
    }

    #[test]
    fn half_precision_round_trips_and_rounds_to_nearest_even() {
        for bits in (0u16..=0xffff).filter(|b| b & 0x7c00 != 0x7c00) {
            assert_eq!(f64_to_f16(f16_to_f64(bits)), bits, "{bits:#06x}");
        }
        assert_eq!(f64_to_f16(1.0), 0x3c00);
        assert_eq!(f64_to_f16(65_504.0), 0x7bff);
        assert_eq!(f64_to_f16(65_520.0), 0x7c00, "overflows to infinity");
        // 1 + 2^-11 lies halfway between 1 and the next half: ties go to the even mantissa.
        assert_eq!(f64_to_f16(1.0 + 2f64.powi(-11)), 0x3c00);
        assert_eq!(f64_to_f16(1.0 + 3.0 * 2f64.powi(-11)), 0x3c02);
        assert_eq!(
            f64_to_f16(2f64.powi(-25)),
            0,
            "half the smallest subnormal ties to 0"
        );
        assert!(f16_to_f64(0x7e00).is_nan());
        assert_eq!(f16_to_f64(0xfc00), f64::NEG_INFINITY);
    }
}

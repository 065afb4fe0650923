//! The binary tensor data extension of V2 over REST (Triton's `binary_tensor_data`, what
//! `tritonclient.http` sends by default): the body is the JSON request followed by the raw
//! little-endian elements of some inputs, `Inference-Header-Content-Length` gives the JSON's
//! length, and each such input says how many bytes are its own with the parameter
//! `binary_data_size`, in the order of `inputs`. Outputs come back the same way when asked
//! (`binary_data: true` on an output, `binary_data_output: true` on the request for all).
//!
//! Here: splitting a body and handing each input its bytes, and writing a response with binary
//! outputs. The elements themselves are `crate::inference::tensor`'s. Every length is checked
//! against the body before it is used, so no declared length can read out of bounds or make
//! the server allocate what the body did not bring (the body itself is bounded by
//! `--max-body-bytes`, 413 beyond).

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;

use super::error::ApiError;

/// The header giving the length of the JSON part of a body with binary tensors.
pub const HEADER_LENGTH: HeaderName = HeaderName::from_static("inference-header-content-length");

/// A request body split into its JSON and the binary tensor data after it.
pub struct Body<'a> {
    pub json: &'a [u8],
    /// The bytes after the JSON, handed out to inputs in order.
    pub binary: Sections<'a>,
}

/// Splits `body` at `Inference-Header-Content-Length` (no header: all JSON).
pub fn split<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<Body<'a>, ApiError> {
    let Some(value) = headers.get(&HEADER_LENGTH) else {
        return Ok(Body {
            json: body,
            binary: Sections::absent(),
        });
    };
    let length = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Inference-Header-Content-Length: {:?} is not a length in bytes",
                String::from_utf8_lossy(value.as_bytes())
            ))
        })?;
    if length > body.len() {
        return Err(ApiError::BadRequest(format!(
            "Inference-Header-Content-Length is {length} but the body has only {} bytes",
            body.len()
        )));
    }
    let (json, binary) = body.split_at(length);
    Ok(Body {
        json,
        binary: Sections {
            rest: binary,
            given: true,
            taken: 0,
        },
    })
}

/// The binary data after the JSON, consumed input by input.
pub struct Sections<'a> {
    rest: &'a [u8],
    /// Whether the request had `Inference-Header-Content-Length` at all.
    given: bool,
    taken: usize,
}

impl<'a> Sections<'a> {
    fn absent() -> Self {
        Self {
            rest: &[],
            given: false,
            taken: 0,
        }
    }

    /// The next `size` bytes, for input `input`.
    pub fn take(&mut self, input: &str, size: u64) -> Result<&'a [u8], ApiError> {
        if !self.given {
            return Err(ApiError::BadRequest(format!(
                "input '{input}' has parameters.binary_data_size but the request has no \
                 Inference-Header-Content-Length header saying where its JSON ends"
            )));
        }
        let available = self.rest.len();
        match usize::try_from(size).ok().filter(|&size| size <= available) {
            Some(size) => {
                let (section, rest) = self.rest.split_at(size);
                self.rest = rest;
                self.taken += size;
                Ok(section)
            }
            None => Err(ApiError::BadRequest(format!(
                "input '{input}' has binary_data_size {size} but only {available} bytes of \
                 binary data are left after the JSON and the inputs before it ({} bytes)",
                self.taken
            ))),
        }
    }

    /// Checks that every byte after the JSON belonged to an input.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ApiError::BadRequest(format!(
                "{} bytes follow the JSON and the inputs' binary data ({} bytes); \
                 Inference-Header-Content-Length or a binary_data_size is wrong",
                self.rest.len(),
                self.taken
            )))
        }
    }
}

/// A response of `json` followed by binary output data, or plain JSON when there is none.
pub fn response(mut json: Vec<u8>, binary: &[u8]) -> Response {
    let json_length = json.len();
    json.extend_from_slice(binary);
    // Built directly: `Vec<u8>`'s `IntoResponse` would set a content type only to have it
    // replaced below.
    let mut response = Response::new(axum::body::Body::from(json));
    let headers = response.headers_mut();
    if binary.is_empty() {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    } else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(HEADER_LENGTH, HeaderValue::from(json_length));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_length(length: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER_LENGTH, HeaderValue::from_str(length).unwrap());
        headers
    }

    #[test]
    fn a_body_splits_at_the_header_and_hands_out_sections_in_order() {
        let body = b"{\"a\":1}abcdefg";
        let mut split = split(&with_length("7"), body).unwrap();
        assert_eq!(split.json, b"{\"a\":1}");
        assert_eq!(split.binary.take("x", 3).unwrap(), b"abc");
        assert_eq!(split.binary.take("y", 4).unwrap(), b"defg");
        split.binary.finish().unwrap();
    }

    #[test]
    fn lengths_past_the_body_are_refused() {
        let body = b"{}abc";
        assert!(split(&with_length("6"), body).is_err());
        assert!(split(&with_length("-1"), body).is_err());
        assert!(split(&with_length("1e3"), body).is_err());
        let mut sections = split(&with_length("2"), body).unwrap().binary;
        let error = sections.take("x", u64::MAX).unwrap_err().to_string();
        assert!(error.contains("only 3 bytes"), "{error}");
        assert!(sections.take("x", 4).is_err());
    }

    #[test]
    fn leftover_bytes_and_binary_without_the_header_are_refused() {
        let mut sections = split(&with_length("2"), b"{}abc").unwrap().binary;
        sections.take("x", 2).unwrap();
        assert!(
            sections
                .finish()
                .unwrap_err()
                .to_string()
                .contains("1 bytes follow")
        );
        let mut absent = split(&HeaderMap::new(), b"{}abc").unwrap().binary;
        assert!(absent.take("x", 0).is_err());
    }
}

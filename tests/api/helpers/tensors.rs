//! Tensors as bytes, for the V2 binary extension over REST and gRPC's raw contents: rows
//! encoded little-endian in any datatype, request bodies of JSON followed by binary data, and
//! answers split back into their JSON and their binary outputs.

use reqwest::Response;
use serde_json::{Value, json};

/// Every datatype a numeric input may have, with the byte size of its elements.
pub const NUMERIC_DATATYPES: [(&str, usize); 12] = [
    ("FP64", 8),
    ("FP32", 4),
    ("FP16", 2),
    ("INT64", 8),
    ("INT32", 4),
    ("INT16", 2),
    ("INT8", 1),
    ("UINT64", 8),
    ("UINT32", 4),
    ("UINT16", 2),
    ("UINT8", 1),
    ("BOOL", 1),
];

/// `values` little-endian as `datatype` (the challenge data are 0s and 1s, which every
/// datatype holds exactly).
pub fn encode(datatype: &str, values: &[f64]) -> Vec<u8> {
    let mut out = Vec::new();
    for &v in values {
        match datatype {
            "FP64" => out.extend(v.to_le_bytes()),
            "FP32" => out.extend((v as f32).to_le_bytes()),
            "FP16" => out.extend(half(v).to_le_bytes()),
            "INT64" => out.extend((v as i64).to_le_bytes()),
            "INT32" => out.extend((v as i32).to_le_bytes()),
            "INT16" => out.extend((v as i16).to_le_bytes()),
            "INT8" => out.extend((v as i8).to_le_bytes()),
            "UINT64" => out.extend((v as u64).to_le_bytes()),
            "UINT32" => out.extend((v as u32).to_le_bytes()),
            "UINT16" => out.extend((v as u16).to_le_bytes()),
            "UINT8" | "BOOL" => out.push(v as u8),
            other => panic!("no encoding for {other}"),
        }
    }
    out
}

/// 0, 1 and small integers as IEEE half-precision bits.
fn half(v: f64) -> u16 {
    match v {
        0.0 => 0,
        1.0 => 0x3c00,
        other => panic!("{other} is not a test value for FP16"),
    }
}

/// Strings as the binary forms carry BYTES elements: a 4-byte little-endian length, then the
/// UTF-8.
pub fn length_prefixed<'a>(strings: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = Vec::new();
    for s in strings {
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
    }
    out
}

/// A V2 request body: `request` as JSON, then `binary`; the JSON's length for the header.
pub fn binary_body(request: &Value, binary: &[u8]) -> (Vec<u8>, usize) {
    let mut body = serde_json::to_vec(request).unwrap();
    let json_length = body.len();
    body.extend_from_slice(binary);
    (body, json_length)
}

/// A binary V2 request for `rows` in `datatype`, its outputs as given (`null`: defaults), with
/// `binary_data_output: true` as tritonclient sets it.
pub fn binary_request(rows: &[Vec<f64>], datatype: &str, outputs: Value) -> (Vec<u8>, usize) {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let data = encode(datatype, &flat);
    let mut request = json!({
        "inputs": [{
            "name": "x",
            "shape": [rows.len(), rows[0].len()],
            "datatype": datatype,
            "parameters": {"binary_data_size": data.len()},
        }],
        "parameters": {"binary_data_output": true},
    });
    if !outputs.is_null() {
        request["outputs"] = outputs;
    }
    binary_body(&request, &data)
}

/// An answer with binary outputs, split.
#[derive(Debug)]
pub struct BinaryAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    /// `Inference-Header-Content-Length`, when present.
    pub header_length: Option<usize>,
    pub json: Value,
    pub binary: Vec<u8>,
}

impl BinaryAnswer {
    pub async fn of(response: Response) -> Self {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let content_type = header("content-type");
        let header_length = header("inference-header-content-length").map(|v| v.parse().unwrap());
        let bytes = response.bytes().await.unwrap().to_vec();
        let split = header_length.unwrap_or(bytes.len());
        let json = serde_json::from_slice(&bytes[..split])
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&bytes)));
        Self {
            status,
            content_type,
            header_length,
            json,
            binary: bytes[split..].to_vec(),
        }
    }

    /// The binary bytes of output `name` (outputs' sections follow in their order).
    pub fn section(&self, name: &str) -> &[u8] {
        let mut at = 0;
        for output in self.json["outputs"].as_array().unwrap() {
            let size = output["parameters"]["binary_data_size"].as_u64();
            if output["name"] == name {
                let size =
                    size.unwrap_or_else(|| panic!("{name} is not binary: {output}")) as usize;
                return &self.binary[at..at + size];
            }
            at += size.unwrap_or(0) as usize;
        }
        panic!("no output {name} in {}", self.json)
    }
}

/// Little-endian float64s.
pub fn f64s(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Little-endian int64s.
pub fn i64s(bytes: &[u8]) -> Vec<i64> {
    bytes
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// BYTES elements: each a 4-byte little-endian length, then its bytes.
pub fn strings(mut bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let length = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
        out.push(String::from_utf8(bytes[4..4 + length].to_vec()).unwrap());
        bytes = &bytes[4 + length..];
    }
    out
}

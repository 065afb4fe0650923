//! The V2 (Open Inference) protocol over REST, as MLServer's scikit-learn runtime and Triton's
//! clients speak it: server and model metadata, model readiness, and `infer` with the outputs
//! `predict` (default) and `predict_proba` (asked in `outputs`, or with the request parameter
//! `predict_proba: true`).
//!
//! Inputs: one tensor of shape `[N, n_features]` (or `[n_features]` for one row), any numeric
//! or BOOL datatype; or, for a model that names its columns, one input per column (shape `[N]`
//! or `[N, 1]`), `BYTES` for strings, `null` for a missing value. Data flat or nested in JSON,
//! or binary after the JSON (`binary`, the binary tensor data extension; BYTES elements each
//! after a 4-byte little-endian length). String labels come back as BYTES, a regressor's values
//! as FP64. The request parameter `explain: true` adds per-row explanations in the response's
//! `parameters`.
//!
//! This file reads and writes the JSON; what a request means and what the model answers is
//! `crate::inference`'s, shared with gRPC. JSON tensor data is read into one `Vec<f64>`
//! (strings and nulls, where a column has them, beside it) by `v2_data`.

use std::hash::{BuildHasher, RandomState};
use std::io;
use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};
use serde_json::{Value, json};

use super::error::ApiError;
use super::v2_request::{self, InferenceRequest};
use super::{ApiPath, HeadersAndBody, parse_json, read_body, set_model_version};
use super::{binary, word_scan};
use crate::inference::{self, Datatype, Explanation, OutputData, TensorMetadata};
use crate::model::Label;
use crate::registry::LoadedModel;
use crate::service::AppState;

/// `GET /v2`: server metadata.
pub async fn server_metadata() -> Json<Value> {
    Json(json!({
        "name": "skserve",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": inference::EXTENSIONS,
    }))
}

/// `GET /v2/models/{name}`.
pub async fn model_metadata(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let loaded = state.model(&name)?;
    Ok(metadata(&loaded))
}

/// `GET /v2/models/{name}/versions/{version}`.
pub async fn model_version_metadata(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let loaded = state.model_version(&name, &version)?;
    Ok(metadata(&loaded))
}

/// `GET /v2/models/{name}/ready`.
pub async fn model_ready(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let loaded = state.model(&name)?;
    Ok(readiness(&state, &loaded))
}

/// `GET /v2/models/{name}/versions/{version}/ready`.
pub async fn model_version_ready(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let loaded = state.model_version(&name, &version)?;
    Ok(readiness(&state, &loaded))
}

fn readiness(state: &AppState, loaded: &LoadedModel) -> Response {
    if let Some(reason) = state.not_ready() {
        return ApiError::NotReady(reason.into()).into_response();
    }
    with_version(
        Json(json!({ "name": loaded.name(), "ready": true })).into_response(),
        loaded,
    )
}

fn metadata(loaded: &LoadedModel) -> Response {
    let model = loaded.model();
    let tensors = |tensors: Vec<TensorMetadata>| -> Vec<Value> {
        tensors
            .iter()
            .map(|t| json!({ "name": t.name, "datatype": t.datatype.name(), "shape": t.shape }))
            .collect()
    };
    let body = json!({
        "name": loaded.name(),
        "versions": [loaded.version()],
        "platform": model.platform(),
        "inputs": tensors(inference::inputs_of(model)),
        "outputs": tensors(inference::outputs_of(model)),
        "parameters": {
            "estimator": model.predictor().class(),
            "chain": model.chain(),
            "sklearn_version": model.sklearn_version(),
            "classes": model.classes_json(),
            "feature_names": loaded
                .features()
                .map(|f| f.names().to_vec())
                .or_else(|| model.feature_names()),
        },
    });
    with_version(Json(body).into_response(), loaded)
}

/// `POST /v2/models/{name}/infer`.
#[tracing::instrument(level = "debug", skip_all, fields(model = %name))]
pub async fn infer(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    HeadersAndBody { headers, body }: HeadersAndBody,
) -> Result<Response, ApiError> {
    let loaded = state.model(&name)?;
    run_inference(&state, &loaded, &headers, &body)
}

/// `POST /v2/models/{name}/infer` for [`Routes`](super::Routes), which found the name at
/// `name_at` in the path, needing no decoding, without the router: the same steps as
/// [`infer`].
#[tracing::instrument(level = "debug", skip_all, fields(model))]
pub async fn infer_named(
    state: AppState,
    request: Request,
    name_at: Range<usize>,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let body = read_body(&parts.headers, body, state.limits.max_body_bytes).await?;
    let name = &parts.uri.path()[name_at];
    tracing::Span::current().record("model", name);
    let loaded = state.model(name)?;
    run_inference(&state, &loaded, &parts.headers, &body)
}

/// `POST /v2/models/{name}/versions/{version}/infer`.
pub async fn infer_version(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, String)>,
    HeadersAndBody { headers, body }: HeadersAndBody,
) -> Result<Response, ApiError> {
    let loaded = state.model_version(&name, &version)?;
    run_inference(&state, &loaded, &headers, &body)
}

fn run_inference(
    state: &AppState,
    loaded: &LoadedModel,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let binary::Body {
        json,
        binary: mut sections,
    } = binary::split(headers, body)?;
    let request: InferenceRequest<'_> = match v2_request::read(json) {
        Some(request) => request,
        None => parse_json(headers, json, "an inference request {\"inputs\": [...]}")?,
    };
    let parameters = request.parameters;
    let binary_for = |name: &str| {
        request
            .outputs
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.parameters.binary_data)
            .unwrap_or(parameters.binary_data_output)
    };
    let mut inputs = Vec::with_capacity(request.inputs.len());
    for input in request.inputs {
        inputs.push(input.into_tensor(&mut sections)?);
    }
    sections.finish()?;
    let inference = state.infer(
        loaded,
        inference::Request {
            input: inference::Input::Tensors(inputs),
            outputs: request.outputs.iter().map(|o| o.name.clone()).collect(),
            predict_proba: parameters.predict_proba,
            explain: parameters.explain,
            score: false,
        },
    )?;

    let generated;
    let id = match &request.id {
        Some(id) => id,
        None => {
            generated = generated_id();
            // Hex digits only: always UTF-8.
            std::str::from_utf8(&generated).unwrap_or_default()
        }
    };
    let mut json = Vec::with_capacity(256);
    let mut binary_data = Vec::new();
    write_response(
        &mut json,
        &mut binary_data,
        loaded,
        id,
        inference.explanations(),
        inference
            .outputs()
            .map(|output| (binary_for(output.name), output)),
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(with_version(binary::response(json, &binary_data), loaded))
}

fn with_version(mut response: Response, loaded: &LoadedModel) -> Response {
    set_model_version(response.headers_mut(), loaded.version());
    response
}

/// A request id when the client sent none: 16 hex digits to find a log line by. A counter from
/// a random start per process, mixed by a bijection: never repeated within a process, and
/// unlikely to be shared by two instances. Not a secret: anyone may work back to the counter.
fn generated_id() -> [u8; 16] {
    static KEY: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let key = *KEY.get_or_init(|| RandomState::new().hash_one(std::time::Instant::now()));
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mixed = splitmix64(key.wrapping_add(n));
    // Written on the stack rather than by `format!`: one allocation fewer per request.
    std::array::from_fn(|i| b"0123456789abcdef"[(mixed >> (60 - 4 * i)) as usize & 0xf])
}

/// SplitMix64's finaliser: a bijection of 64-bit words that mixes every bit into every other.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Writes the inference response's JSON into `json` (in the order and shape of the V2
/// protocol's `$inference_response`), and the raw data of outputs sent binary into `binary`.
/// Written by hand rather than derived: serde would escape each of the response's fixed keys on
/// every request, a tenth of a small request's own work. Every string that is not a constant
/// here still goes through serde_json.
fn write_response<'a>(
    json: &mut Vec<u8>,
    binary: &mut Vec<u8>,
    loaded: &LoadedModel,
    id: &str,
    explanations: Option<&[Explanation<'_>]>,
    outputs: impl Iterator<Item = (bool, inference::Output<'a>)>,
) -> io::Result<()> {
    json.extend_from_slice(b"{\"model_name\":");
    write_str(json, loaded.name())?;
    json.extend_from_slice(b",\"model_version\":");
    write_str(json, loaded.version())?;
    json.extend_from_slice(b",\"id\":");
    write_str(json, id)?;
    json.extend_from_slice(b",\"parameters\":{");
    if let Some(explanations) = explanations {
        json.extend_from_slice(b"\"explanations\":");
        serde_json::to_writer(&mut *json, explanations)?;
    }
    json.extend_from_slice(b"},\"outputs\":[");
    for (n, (as_binary, output)) in outputs.enumerate() {
        if n > 0 {
            json.push(b',');
        }
        json.extend_from_slice(b"{\"name\":");
        write_str(json, output.name)?;
        let [rows, columns] = output.shape;
        json.extend_from_slice(b",\"shape\":[");
        serde_json::to_writer(&mut *json, &rows)?;
        json.push(b',');
        serde_json::to_writer(&mut *json, &columns)?;
        json.extend_from_slice(b"],\"datatype\":");
        write_str(json, output.datatype.name())?;
        // MLServer's NumpyCodec marks its outputs with `{"content_type": "np"}`; a binary
        // output also says how many bytes of the binary data are its own.
        json.extend_from_slice(b",\"parameters\":{\"content_type\":\"np\"");
        if as_binary {
            output.data.write_raw(binary);
            json.extend_from_slice(b",\"binary_data_size\":");
            serde_json::to_writer(&mut *json, &output.data.raw_len())?;
            json.extend_from_slice(b"}}");
        } else {
            json.extend_from_slice(b"},\"data\":");
            serde_json::to_writer(&mut *json, &JsonData(output.data))?;
            json.push(b'}');
        }
    }
    json.extend_from_slice(b"]}");
    Ok(())
}

/// `text` as a JSON string: copied between quotes when nothing in it needs an escape (names,
/// versions, ids and datatypes nearly always), else written by serde_json, which escapes
/// exactly the bytes `word_scan::json_plain` looks for.
fn write_str(json: &mut Vec<u8>, text: &str) -> io::Result<()> {
    if word_scan::json_plain(text.as_bytes()) {
        json.reserve(text.len() + 2);
        json.push(b'"');
        json.extend_from_slice(text.as_bytes());
        json.push(b'"');
        Ok(())
    } else {
        Ok(serde_json::to_writer(json, text)?)
    }
}

/// An output's elements as JSON.
struct JsonData<'a>(OutputData<'a>);

impl Serialize for JsonData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            OutputData::Floats(values) => values.serialize(serializer),
            OutputData::Labels { classes, indices } => {
                let text = inference::label_datatype(classes) == Datatype::Bytes;
                let mut seq = serializer.serialize_seq(Some(indices.len()))?;
                for label in inference::labels(classes, indices) {
                    match label {
                        _ if text => seq.serialize_element(&inference::label_text(label))?,
                        Label::Int(v) => seq.serialize_element(&v)?,
                        Label::Float(v) => seq.serialize_element(&v)?,
                        Label::Bool(v) => seq.serialize_element(&v)?,
                        Label::Str(v) => seq.serialize_element(v)?,
                    }
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copied or escaped, every string comes out as serde_json writes it.
    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in [
            "",
            "pickle_model",
            "0123abcdef",
            "a b~c",
            "quote\"",
            "back\\slash",
            "tab\there",
            "\u{7f}",
            "été",
            "\u{1}",
        ] {
            let mut written = Vec::new();
            write_str(&mut written, text).unwrap();
            assert_eq!(written, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }
}

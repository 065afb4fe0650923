//! The V2 (Open Inference) protocol as MLServer's scikit-learn runtime speaks it: server and
//! model metadata, model readiness, and `infer` with the outputs `predict` (default) and
//! `predict_proba` (asked in `outputs`, or with the request parameter `predict_proba: true`).
//!
//! Inputs: one tensor of shape `[N, n_features]` (or `[n_features]` for one row), data flat or
//! nested, any numeric or BOOL datatype. String labels come back as BYTES. The request
//! parameter `explain: true` adds per-row explanations in the response's `parameters`.
//!
//! The tensor data is read straight into one `Vec<f64>` while the JSON is parsed.

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::explain::{Explanation, explain};
use super::{ApiPath, AppState, Body, MODEL_VERSION, parse_json};
use crate::model::{Classes, Model};
use crate::registry::LoadedModel;

const PREDICT: &str = "predict";
const PREDICT_PROBA: &str = "predict_proba";

/// `GET /v2`: server metadata.
pub async fn server_metadata() -> Json<Value> {
    Json(json!({
        "name": "skserve",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": [],
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
    if !state.is_ready() {
        return ApiError::NotReady("the server is shutting down".into()).into_response();
    }
    with_version(
        Json(json!({ "name": loaded.name(), "ready": true })).into_response(),
        loaded,
    )
}

fn metadata(loaded: &LoadedModel) -> Response {
    let model = loaded.model();
    let n_features = model.n_features();
    let mut outputs = vec![json!({
        "name": PREDICT,
        "datatype": label_datatype(model.classes()),
        "shape": [-1, 1],
    })];
    if model.has_predict_proba() {
        outputs.push(json!({
            "name": PREDICT_PROBA,
            "datatype": "FP64",
            "shape": [-1, model.classes().len()],
        }));
    }
    let body = json!({
        "name": loaded.name(),
        "versions": [loaded.version()],
        "platform": "sklearn",
        "inputs": [{ "name": "x", "datatype": "FP64", "shape": [-1, n_features] }],
        "outputs": outputs,
        "parameters": {
            "estimator": model.estimator().name(),
            "sklearn_version": model.sklearn_version(),
            "classes": model.classes().to_json(),
            "feature_names": loaded.features().map(|f| f.names()),
        },
    });
    with_version(Json(body).into_response(), loaded)
}

/// `POST /v2/models/{name}/infer`.
#[tracing::instrument(level = "debug", skip_all, fields(model = %name))]
pub async fn infer(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let loaded = state.model(&name)?;
    run_inference(&state, &loaded, &headers, &body)
}

/// `POST /v2/models/{name}/versions/{version}/infer`.
pub async fn infer_version(
    State(state): State<AppState>,
    ApiPath((name, version)): ApiPath<(String, String)>,
    headers: HeaderMap,
    Body(body): Body,
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
    let request: InferenceRequest<'_> =
        parse_json(headers, body, "an inference request {\"inputs\": [...]}")?;
    let model = loaded.model();
    let input = match request.inputs.as_slice() {
        [input] => input,
        inputs => {
            return Err(ApiError::BadRequest(format!(
                "expected exactly one input tensor, got {}",
                inputs.len()
            )));
        }
    };
    let n_rows = input.rows(model.n_features())?;
    if n_rows > state.max_batch_rows {
        return Err(ApiError::TooManyRows {
            rows: n_rows,
            limit: state.max_batch_rows,
        });
    }
    let data = input.data_as_model_input()?;
    let rows = model.rows(&data)?;

    let mut want_proba = request.parameters.predict_proba;
    let mut want_predict = request.outputs.is_empty();
    for output in &request.outputs {
        match output.name.as_ref() {
            PREDICT => want_predict = true,
            PREDICT_PROBA => want_proba = true,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "only '{PREDICT}' and '{PREDICT_PROBA}' are outputs of this model \
                     ('{other}' was asked for)"
                )));
            }
        }
    }
    if want_proba && !model.has_predict_proba() {
        return Err(ApiError::Unprocessable(format!(
            "this model ({}) has no '{PREDICT_PROBA}'",
            model.estimator().name()
        )));
    }

    let predicted = model.predict(rows);
    let proba = if want_proba {
        model.predict_proba(rows)
    } else {
        None
    };
    let explanations = request
        .parameters
        .explain
        .then(|| explain(loaded, rows, &predicted));
    state.count_rows(loaded.name(), rows.len());

    let mut outputs = Vec::with_capacity(2);
    if want_predict || !want_proba {
        outputs.push(ResponseOutput {
            name: PREDICT,
            shape: [n_rows, 1],
            datatype: label_datatype(model.classes()),
            parameters: NUMPY,
            data: OutputData::Labels {
                classes: model.classes(),
                indices: &predicted,
            },
        });
    }
    if let Some(proba) = &proba {
        outputs.push(ResponseOutput {
            name: PREDICT_PROBA,
            shape: [n_rows, model.classes().len()],
            datatype: "FP64",
            parameters: NUMPY,
            data: OutputData::Floats(proba),
        });
    }
    let id = match request.id {
        Some(id) => id,
        None => Cow::Owned(generated_id()),
    };
    let response = InferenceResponse {
        model_name: loaded.name(),
        model_version: loaded.version(),
        id,
        parameters: ResponseParameters { explanations },
        outputs,
    };
    let body = serde_json::to_vec(&response).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(with_version(response, loaded))
}

fn with_version(mut response: Response, loaded: &LoadedModel) -> Response {
    if let Ok(version) = HeaderValue::from_str(loaded.version()) {
        response.headers_mut().insert(MODEL_VERSION, version);
    }
    response
}

fn label_datatype(classes: &Classes) -> &'static str {
    match classes {
        Classes::Int(_) => "INT64",
        Classes::Float(_) => "FP64",
        Classes::Bool(_) => "BOOL",
        Classes::Str(_) => "BYTES",
    }
}

/// A request id when the client sent none: 16 hex digits, unique enough to find a log line.
fn generated_id() -> String {
    format!(
        "{:016x}",
        RandomState::new().hash_one(std::time::Instant::now())
    )
}

#[derive(Deserialize)]
struct InferenceRequest<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    parameters: RequestParameters,
    inputs: Vec<RequestInput<'a>>,
    #[serde(default, borrow)]
    outputs: Vec<RequestOutput<'a>>,
}

#[derive(Default, Deserialize)]
struct RequestParameters {
    #[serde(default, deserialize_with = "flag")]
    explain: bool,
    #[serde(default, deserialize_with = "flag")]
    predict_proba: bool,
}

#[derive(Deserialize)]
struct RequestOutput<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Deserialize)]
struct RequestInput<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    shape: Vec<i64>,
    #[serde(borrow)]
    datatype: Cow<'a, str>,
    data: TensorData,
}

impl RequestInput<'_> {
    /// Checks shape against data and the model's width; the number of rows.
    fn rows(&self, n_features: usize) -> Result<usize, ApiError> {
        let name = &self.name;
        let shape = &self.shape;
        if let Some(d) = shape.iter().find(|&&d| d < 0) {
            return Err(ApiError::BadRequest(format!(
                "input '{name}': shape {shape:?} has a negative dimension {d}"
            )));
        }
        let count = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d as usize))
            .unwrap_or(usize::MAX);
        if count != self.data.0.len() {
            return Err(ApiError::BadRequest(format!(
                "input '{name}': shape {shape:?} holds {count} values but data has {}",
                self.data.0.len()
            )));
        }
        let rows = match shape.as_slice() {
            [features] if *features as usize == n_features => 1,
            [rows, features] if *features as usize == n_features => *rows as usize,
            [_] | [_, _] => {
                return Err(ApiError::Unprocessable(format!(
                    "input '{name}' has shape {shape:?}; the model expects [N, {n_features}] \
                     ({n_features} features per row)"
                )));
            }
            _ => {
                return Err(ApiError::Unprocessable(format!(
                    "input '{name}' has shape {shape:?}; expected [N, {n_features}]"
                )));
            }
        };
        if rows == 0 {
            return Err(ApiError::Unprocessable(format!(
                "input '{name}' has no rows"
            )));
        }
        Ok(rows)
    }

    /// The data as the model sees it after numpy's cast to the declared datatype.
    fn data_as_model_input(&self) -> Result<Cow<'_, [f64]>, ApiError> {
        let name = &self.name;
        let values = &self.data.0;
        let datatype = self.datatype.as_ref();
        match datatype {
            "FP64" => Ok(Cow::Borrowed(values)),
            // Rounded to single precision, as numpy stores an FP32 (or FP16, approximately) tensor.
            "FP32" | "FP16" => Ok(Cow::Owned(
                values.iter().map(|&v| f64::from(v as f32)).collect(),
            )),
            "INT8" | "INT16" | "INT32" | "INT64" | "UINT8" | "UINT16" | "UINT32" | "UINT64" => {
                match values.iter().find(|v| v.fract() != 0.0) {
                    Some(v) => Err(ApiError::Unprocessable(format!(
                        "input '{name}' is {datatype} but holds {v}, which is not an integer"
                    ))),
                    None => Ok(Cow::Borrowed(values)),
                }
            }
            "BOOL" => match values.iter().find(|&&v| v != 0.0 && v != 1.0) {
                Some(v) => Err(ApiError::Unprocessable(format!(
                    "input '{name}' is BOOL but holds {v}"
                ))),
                None => Ok(Cow::Borrowed(values)),
            },
            "BYTES" => Err(ApiError::Unprocessable(format!(
                "input '{name}' is BYTES; this model takes numbers (FP64, FP32, INT64, BOOL…)"
            ))),
            other => Err(ApiError::BadRequest(format!(
                "input '{name}' has unknown datatype '{other}' (expected FP64, FP32, FP16, \
                 INT8…INT64, UINT8…UINT64 or BOOL)"
            ))),
        }
    }
}

/// Tensor data, flat or nested lists of numbers or booleans, flattened row-major.
struct TensorData(Vec<f64>);

impl<'de> Deserialize<'de> for TensorData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut values = Vec::new();
        Element { out: &mut values }.deserialize(deserializer)?;
        Ok(TensorData(values))
    }
}

/// One element of tensor data: a number, a boolean, or a nested list.
struct Element<'v> {
    out: &'v mut Vec<f64>,
}

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("numbers or booleans, in a list or nested lists")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.out.push(v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.out.push(v as f64);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.out.push(v as f64);
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.out.push(f64::from(u8::from(v)));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Err(E::custom(format_args!(
            "data holds the string {v:?}; send numbers"
        )))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom("data holds null; send numbers"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.out.reserve(n);
        }
        while seq.next_element_seed(Element { out: self.out })?.is_some() {}
        Ok(())
    }
}

fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    match Flag::deserialize(deserializer)? {
        Flag::Bool(b) => Ok(b),
        Flag::Text(t) if t.eq_ignore_ascii_case("true") => Ok(true),
        Flag::Text(t) if t.eq_ignore_ascii_case("false") => Ok(false),
        Flag::Text(t) => Err(de::Error::custom(format_args!(
            "expected true or false, found {t:?}"
        ))),
    }
}

#[derive(Serialize)]
struct InferenceResponse<'a> {
    model_name: &'a str,
    model_version: &'a str,
    id: Cow<'a, str>,
    parameters: ResponseParameters<'a>,
    outputs: Vec<ResponseOutput<'a>>,
}

#[derive(Serialize)]
struct ResponseParameters<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    explanations: Option<Vec<Explanation<'a>>>,
}

#[derive(Serialize)]
struct ResponseOutput<'a> {
    name: &'static str,
    shape: [usize; 2],
    datatype: &'static str,
    parameters: Parameters,
    data: OutputData<'a>,
}

/// MLServer's NumpyCodec marks its outputs with `{"content_type": "np"}`.
#[derive(Clone, Copy, Serialize)]
struct Parameters {
    content_type: &'static str,
}

const NUMPY: Parameters = Parameters { content_type: "np" };

enum OutputData<'a> {
    Labels {
        classes: &'a Classes,
        indices: &'a [usize],
    },
    Floats(&'a [f64]),
}

impl Serialize for OutputData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Floats(values) => values.serialize(serializer),
            Self::Labels { classes, indices } => {
                let mut seq = serializer.serialize_seq(Some(indices.len()))?;
                for &i in *indices {
                    match classes {
                        Classes::Int(v) => seq.serialize_element(&v[i])?,
                        Classes::Float(v) => seq.serialize_element(&v[i])?,
                        Classes::Bool(v) => seq.serialize_element(&v[i])?,
                        Classes::Str(v) => seq.serialize_element(&v[i])?,
                    }
                }
                seq.end()
            }
        }
    }
}

/// Used by the V1 handler too: a model's labels for the given class indices as JSON.
pub(super) fn labels_json(model: &Model, indices: &[usize]) -> Vec<Value> {
    indices
        .iter()
        .map(|&i| model.classes().label(i).to_json())
        .collect()
}

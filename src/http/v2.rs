//! The V2 (Open Inference) protocol as MLServer's scikit-learn runtime speaks it: server and
//! model metadata, model readiness, and `infer` with the outputs `predict` (default) and
//! `predict_proba` (asked in `outputs`, or with the request parameter `predict_proba: true`).
//!
//! Inputs: one tensor of shape `[N, n_features]` (or `[n_features]` for one row), data flat or
//! nested, any numeric or BOOL datatype; or, for a model that names its columns, one input per
//! column (shape `[N]` or `[N, 1]`), `BYTES` for strings, `null` for a missing value. A single
//! 2-D tensor stays valid for a model whose columns are all numeric. String labels come back as
//! BYTES, a regressor's values as FP64. The request parameter `explain: true` adds per-row
//! explanations in the response's `parameters`.
//!
//! The tensor data is read straight into one `Vec<f64>` while the JSON is parsed (strings and
//! nulls, where a column has them, beside it).

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
use crate::model::{Absent, Cell, Classes, ColumnKind, Dtype, Frame, Model, Prediction, Target};
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
    let mut outputs = vec![match model.classes() {
        Some(classes) => json!({
            "name": PREDICT,
            "datatype": label_datatype(classes),
            "shape": [-1, 1],
        }),
        None => json!({ "name": PREDICT, "datatype": "FP64", "shape": [-1, n_outputs(model)] }),
    }];
    if model.has_predict_proba()
        && let Some(classes) = model.classes()
    {
        outputs.push(json!({
            "name": PREDICT_PROBA,
            "datatype": "FP64",
            "shape": [-1, classes.len()],
        }));
    }
    // A Pipeline that names its columns takes one input per column.
    let inputs: Vec<Value> = if model.is_pipeline() && model.input().named {
        model
            .input()
            .columns
            .iter()
            .filter(|c| c.kind != ColumnKind::Unused)
            .map(|c| {
                let datatype = if c.kind == ColumnKind::Text {
                    "BYTES"
                } else {
                    "FP64"
                };
                json!({ "name": c.name, "datatype": datatype, "shape": [-1, 1] })
            })
            .collect()
    } else {
        vec![json!({ "name": "x", "datatype": "FP64", "shape": [-1, n_features] })]
    };
    let body = json!({
        "name": loaded.name(),
        "versions": [loaded.version()],
        "platform": "sklearn",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {
            "estimator": model.predictor().class(),
            "chain": model.chain(),
            "sklearn_version": model.sklearn_version(),
            "classes": model.classes().map(Classes::to_json),
            "feature_names": loaded
                .features()
                .map(|f| f.names().to_vec())
                .or_else(|| model.feature_names()),
        },
    });
    with_version(Json(body).into_response(), loaded)
}

/// The values a regressor predicts per row.
fn n_outputs(model: &Model) -> usize {
    match model.target() {
        Target::Values { n_outputs, .. } => n_outputs,
        Target::Classes(_) => 1,
    }
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
    let positional;
    let (features, frame) = match request.inputs.as_slice() {
        // One tensor not named like a column: rows of every column's numbers.
        [input] if model.input().position(&input.name).is_none() || input.shape.len() != 1 => {
            // Strings and nulls are a malformed tensor, whatever its shape.
            if !input.data.others.is_empty() {
                input.data_as_model_input()?;
            }
            let n_rows = input.rows(model.n_features())?;
            if n_rows > state.max_batch_rows {
                return Err(ApiError::TooManyRows {
                    rows: n_rows,
                    limit: state.max_batch_rows,
                });
            }
            positional = input.data_as_model_input()?;
            (model.rows_typed(&positional.0, positional.1)?, None)
        }
        [] => {
            return Err(ApiError::BadRequest(
                "expected exactly one input tensor, got 0".into(),
            ));
        }
        inputs if model.input().named => {
            let frame = named_inputs(state, model, inputs)?;
            (model.features(&frame)?, Some(frame))
        }
        inputs => {
            return Err(ApiError::BadRequest(format!(
                "expected exactly one input tensor, got {} (this model does not name its columns)",
                inputs.len()
            )));
        }
    };
    let n_rows = features.len();

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
            model.chain()
        )));
    }

    let predicted = model.predict(&features);
    let proba = if want_proba {
        model.predict_proba(&features)
    } else {
        None
    };
    let explanations = if request.parameters.explain {
        Some(explain(loaded, &features, &predicted, frame.as_ref())?)
    } else {
        None
    };
    state.count_rows(loaded.name(), n_rows);

    let mut outputs = Vec::with_capacity(2);
    if want_predict || !want_proba {
        outputs.push(match (&predicted, model.classes()) {
            (Prediction::Classes(indices), Some(classes)) => ResponseOutput {
                name: PREDICT,
                shape: [n_rows, 1],
                datatype: label_datatype(classes),
                parameters: NUMPY,
                data: OutputData::Labels { classes, indices },
            },
            (Prediction::Values(values), _) => ResponseOutput {
                name: PREDICT,
                shape: [n_rows, values.ncols()],
                datatype: "FP64",
                parameters: NUMPY,
                data: OutputData::Floats(values.as_slice().unwrap_or(&[])),
            },
            (Prediction::Classes(_), None) => {
                return Err(ApiError::Internal("a classifier without classes".into()));
            }
        });
    }
    if let (Some(proba), Some(classes)) = (&proba, model.classes()) {
        outputs.push(ResponseOutput {
            name: PREDICT_PROBA,
            shape: [n_rows, classes.len()],
            datatype: "FP64",
            parameters: NUMPY,
            data: OutputData::Floats(proba.as_slice().unwrap_or(&[])),
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
        if count != self.data.numbers.len() {
            return Err(ApiError::BadRequest(format!(
                "input '{name}': shape {shape:?} holds {count} values but data has {}",
                self.data.numbers.len()
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

    /// The data as the model sees it after numpy's cast to the declared datatype, and the type
    /// numpy would hold it as.
    fn data_as_model_input(&self) -> Result<(Cow<'_, [f64]>, Dtype), ApiError> {
        let name = &self.name;
        if let Some((_, other)) = self.data.others.first() {
            return Err(ApiError::BadRequest(match other {
                Other::Text(s) => {
                    format!("input '{name}': data holds the string {s:?}; send numbers")
                }
                Other::Null => format!("input '{name}': data holds null; send numbers"),
            }));
        }
        let values = &self.data.numbers;
        let datatype = self.datatype.as_ref();
        match datatype {
            "FP64" => Ok((Cow::Borrowed(values), Dtype::F64)),
            // Rounded to single precision, as numpy stores an FP32 (or FP16, approximately) tensor.
            "FP32" | "FP16" => Ok((
                Cow::Owned(values.iter().map(|&v| f64::from(v as f32)).collect()),
                Dtype::F32,
            )),
            "INT8" | "INT16" | "INT32" | "INT64" | "UINT8" | "UINT16" | "UINT32" | "UINT64" => {
                match values.iter().find(|v| v.fract() != 0.0) {
                    Some(v) => Err(ApiError::Unprocessable(format!(
                        "input '{name}' is {datatype} but holds {v}, which is not an integer"
                    ))),
                    None => Ok((Cow::Borrowed(values), Dtype::Int)),
                }
            }
            "BOOL" => match values.iter().find(|&&v| v != 0.0 && v != 1.0) {
                Some(v) => Err(ApiError::Unprocessable(format!(
                    "input '{name}' is BOOL but holds {v}"
                ))),
                None => Ok((Cow::Borrowed(values), Dtype::Bool)),
            },
            "BYTES" => Err(ApiError::Unprocessable(format!(
                "input '{name}' is BYTES; this model takes numbers (FP64, FP32, INT64, BOOL…)"
            ))),
            other => Err(unknown_datatype(name, other)),
        }
    }
}

fn unknown_datatype(name: &str, datatype: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "input '{name}' has unknown datatype '{datatype}' (expected FP64, FP32, FP16, \
         INT8…INT64, UINT8…UINT64, BOOL or BYTES)"
    ))
}

/// One input per column: each of shape `[N]` or `[N, 1]`, BYTES for strings, a numeric
/// datatype for numbers, `null` for a missing value.
fn named_inputs(
    state: &AppState,
    model: &Model,
    inputs: &[RequestInput<'_>],
) -> Result<Frame, ApiError> {
    let n_rows = inputs[0].data.numbers.len();
    if n_rows > state.max_batch_rows {
        return Err(ApiError::TooManyRows {
            rows: n_rows,
            limit: state.max_batch_rows,
        });
    }
    let mut builder = model.frame_builder(n_rows);
    for input in inputs {
        let name = input.name.as_ref();
        let column = builder.column(name)?;
        let n = input.data.numbers.len();
        let shape_ok = match input.shape.as_slice() {
            [rows] | [rows, 1] => *rows >= 0 && *rows as usize == n,
            _ => false,
        };
        if !shape_ok {
            return Err(ApiError::BadRequest(format!(
                "input '{name}' has shape {:?} for {n} values; a column's input has shape [N] or [N, 1]",
                input.shape
            )));
        }
        if n != n_rows {
            return Err(crate::model::InputError::ColumnLength {
                column: name.to_owned(),
                got: n,
                expected: n_rows,
            }
            .into());
        }
        let datatype = input.datatype.as_ref();
        match datatype {
            "BYTES" => {
                builder.claim(column)?;
                let mut others = input.data.others.iter().peekable();
                for (row, v) in input.data.numbers.iter().enumerate() {
                    let cell = match others.peek() {
                        Some((at, other)) if *at == row => {
                            others.next();
                            match other {
                                Other::Text(s) => Cell::Text(s),
                                Other::Null => Cell::Missing,
                            }
                        }
                        _ => Cell::Number(*v),
                    };
                    builder.set(row, column, cell)?;
                }
            }
            "FP64" | "FP32" | "FP16" | "INT8" | "INT16" | "INT32" | "INT64" | "UINT8"
            | "UINT16" | "UINT32" | "UINT64" | "BOOL" => {
                if let Some((_, Other::Text(s))) = input
                    .data
                    .others
                    .iter()
                    .find(|(_, o)| matches!(o, Other::Text(_)))
                {
                    return Err(ApiError::BadRequest(format!(
                        "input '{name}' is {datatype} but holds the string {s:?}; send strings as BYTES"
                    )));
                }
                let dtype = match datatype {
                    "FP32" | "FP16" => Dtype::F32,
                    "BOOL" => Dtype::Bool,
                    "FP64" => Dtype::F64,
                    _ => Dtype::Int,
                };
                builder.set_numbers(column, input.data.numbers.clone(), dtype)?;
            }
            other => return Err(unknown_datatype(name, other)),
        }
    }
    Ok(builder.finish(Absent::Refused)?)
}

/// Tensor data, flat or nested lists, flattened row-major: numbers and booleans as numbers;
/// strings and nulls (a BYTES column, a missing value) beside them by position, with `NaN`
/// holding their place among the numbers.
struct TensorData {
    numbers: Vec<f64>,
    others: Vec<(usize, Other)>,
}

enum Other {
    Text(String),
    Null,
}

impl<'de> Deserialize<'de> for TensorData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut data = TensorData {
            numbers: Vec::new(),
            others: Vec::new(),
        };
        Element { out: &mut data }.deserialize(deserializer)?;
        Ok(data)
    }
}

/// One element of tensor data: a number, a boolean, a string, null, or a nested list.
struct Element<'v> {
    out: &'v mut TensorData,
}

impl<'de> DeserializeSeed<'de> for Element<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Element<'_> {
    fn other(self, other: Other) {
        self.out.others.push((self.out.numbers.len(), other));
        self.out.numbers.push(f64::NAN);
    }
}

impl<'de> Visitor<'de> for Element<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("numbers, booleans or strings, in a list or nested lists")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.out.numbers.push(v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.out.numbers.push(v as f64);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.out.numbers.push(v as f64);
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.out.numbers.push(f64::from(u8::from(v)));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.other(Other::Text(v.to_owned()));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.other(Other::Null);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.out.numbers.reserve(n);
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

/// Used by the V1 handler too: a prediction as JSON, labels for a classifier, values for a
/// regressor (one per row, or a list per row when it predicts several).
pub(super) fn prediction_json(model: &Model, predicted: &Prediction) -> Vec<Value> {
    match (predicted, model.classes(), model.target()) {
        (Prediction::Classes(indices), Some(classes), _) => indices
            .iter()
            .map(|&i| classes.label(i).to_json())
            .collect(),
        (Prediction::Values(values), _, Target::Values { one_d: true, .. }) => {
            values.column(0).iter().map(|&v| Value::from(v)).collect()
        }
        (Prediction::Values(values), _, _) => values
            .rows()
            .into_iter()
            .map(|row| Value::from(row.to_vec()))
            .collect(),
        (Prediction::Classes(_), None, _) => Vec::new(),
    }
}

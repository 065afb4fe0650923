//! KServe's V1 protocol with named input: `POST /v1/models/{name}:predict` takes
//! `{"instances": [...]}` where an instance is either a row of numbers or an object of named
//! values (`{"OPERA": "Grupo LATAM", "MES": 7}`). A Pipeline takes the raw values of its
//! columns (strings for categorical columns; `null` or a missing key for a missing value) and
//! encodes them itself; a bare estimator with one-hot column names (a `features.json` or its
//! own) has them one-hot encoded by name.
//!
//! Answer: `{"predictions": [labels or values]}`; with `?proba=true` also `"classes"` and
//! `"probabilities"` (one row per instance, in the order of `classes`); with `?explain=true`
//! (or the `:explain` verb) also `"explanations"`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::explain::explain;
use super::v1_body::{self, Answer, Expect, Input, Labels, Predictions, Rows};
use super::{ApiPath, AppState, HeadersAndBody, MODEL_VERSION, parse_json};
use crate::model::{Absent, Cell};
use crate::registry::LoadedModel;

/// `GET /v1/models`: the served model names.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({ "models": state.registry.names() }))
}

/// `GET /v1/models/{name}`: the model's readiness.
pub async fn status(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let loaded = state.model(&name)?;
    Ok(Json(
        json!({ "name": loaded.name(), "ready": state.is_ready() }),
    ))
}

#[derive(Default, Deserialize)]
struct Query {
    #[serde(default)]
    explain: Option<String>,
    #[serde(default)]
    proba: Option<String>,
}

/// `POST /v1/models/{name}:predict` (and `:explain`).
#[tracing::instrument(level = "debug", skip_all, fields(target = %target))]
pub async fn predict(
    State(state): State<AppState>,
    ApiPath(target): ApiPath<String>,
    uri: Uri,
    HeadersAndBody { headers, body }: HeadersAndBody,
) -> Result<Response, ApiError> {
    let (name, verb) = target.split_once(':').ok_or_else(|| {
        ApiError::RouteNotFound(format!(
            "POST /v1/models/{target} (use /v1/models/{target}:predict)"
        ))
    })?;
    let query: Query = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(format!("invalid query string: {e}")))?;
    let mut want_explain = query_flag("explain", query.explain.as_deref())?;
    let want_proba = query_flag("proba", query.proba.as_deref())?;
    match verb {
        "predict" => {}
        "explain" => want_explain = true,
        other => {
            return Err(ApiError::RouteNotFound(format!(
                "POST /v1/models/{name}:{other} (the verbs are :predict and :explain)"
            )));
        }
    }
    let loaded = state.model(name)?;
    let model = loaded.model();

    let expect = Expect {
        named: model.input().named && loaded.features().is_none(),
        n_features: model.n_features(),
        max_rows: state.max_batch_rows,
    };
    let input = match v1_body::read(model, &body, expect) {
        Some(input) => input,
        // Whatever the fast read does not take, read in full: that is where errors are worded.
        None => {
            let instances = parse_instances(&headers, &body)?;
            if instances.len() > state.max_batch_rows {
                return Err(ApiError::TooManyRows {
                    rows: instances.len(),
                    limit: state.max_batch_rows,
                });
            }
            read_instances(&loaded, &instances)?
        }
    };
    let features = match &input {
        Input::Rows(values) => model.rows(values)?,
        Input::Named(frame) => model.features(frame)?,
    };
    if want_proba && !model.has_predict_proba() {
        return Err(ApiError::Unprocessable(format!(
            "this model ({}) has no predict_proba",
            model.chain()
        )));
    }

    let predicted = model.predict(&features);
    let proba = if want_proba {
        model.predict_proba(&features).zip(model.output_classes())
    } else {
        None
    };
    let explanations = if want_explain {
        let frame = match &input {
            Input::Named(frame) => Some(frame),
            Input::Rows(_) => None,
        };
        Some(explain(&loaded, &features, &predicted, frame)?)
    } else {
        None
    };
    let answer = Answer {
        classes: proba.as_ref().map(|(_, classes)| Labels(classes)),
        explanations,
        predictions: Predictions {
            model,
            predicted: &predicted,
        },
        probabilities: proba.as_ref().map(|(p, _)| Rows(p.view())),
    };
    let body = serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.count_rows(loaded.name(), features.len());

    let mut response = body.into_response();
    if let Ok(version) = HeaderValue::from_str(loaded.version()) {
        response.headers_mut().insert(MODEL_VERSION, version);
    }
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn query_flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None => Ok(false),
        Some("true" | "1" | "") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(other) => Err(ApiError::BadRequest(format!(
            "query parameter {name}={other}: expected true or false"
        ))),
    }
}

fn parse_instances(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Value>, ApiError> {
    let request: Value = parse_json(headers, body, "{\"instances\": [...]}")?;
    let Value::Object(mut request) = request else {
        return Err(ApiError::BadRequest(
            "expected a JSON object {\"instances\": [...]}".into(),
        ));
    };
    let instances = request
        .remove("instances")
        .or_else(|| request.remove("inputs"))
        .ok_or_else(|| {
            ApiError::BadRequest("the request has no \"instances\" (a list of rows)".into())
        })?;
    match instances {
        Value::Array(list) if list.is_empty() => {
            Err(ApiError::Unprocessable("\"instances\" is empty".into()))
        }
        Value::Array(list) => Ok(list),
        _ => Err(ApiError::BadRequest(
            "\"instances\" must be a list of rows".into(),
        )),
    }
}

/// Instances as the model takes them: rows of numbers as they are; objects by column name
/// (a Pipeline's typed columns) or through one-hot names (a bare estimator's).
fn read_instances(loaded: &LoadedModel, instances: &[Value]) -> Result<Input, ApiError> {
    let model = loaded.model();
    let objects = instances.iter().filter(|i| i.is_object()).count();
    if objects == 0 || loaded.features().is_some() {
        return encode_instances(loaded, instances).map(Input::Rows);
    }
    if !model.input().named {
        return encode_instances(loaded, instances).map(Input::Rows);
    }
    let mut builder = model.frame_builder(instances.len());
    for (i, instance) in instances.iter().enumerate() {
        let Value::Object(fields) = instance else {
            return Err(ApiError::Unprocessable(format!(
                "instance {i} is {}; send every instance as an object of the model's columns ({})",
                kind(instance),
                model.input().described()
            )));
        };
        for (name, value) in fields {
            let column = builder.column(name)?;
            let cell = match value {
                Value::Null => Cell::Missing,
                Value::Number(n) => Cell::Number(n.as_f64().unwrap_or(f64::NAN)),
                Value::Bool(b) => Cell::Number(f64::from(u8::from(*b))),
                Value::String(s) => Cell::Text(s),
                other => {
                    return Err(ApiError::Unprocessable(format!(
                        "instance {i}, column \"{name}\": {} is not a value; send a number, a \
                         string or null",
                        kind(other)
                    )));
                }
            };
            builder.set(i, column, cell)?;
        }
    }
    Ok(Input::Named(builder.finish(Absent::Missing)?))
}

/// Rows from instances: arrays of numbers as they are, objects through the feature names.
fn encode_instances(loaded: &LoadedModel, instances: &[Value]) -> Result<Vec<f64>, ApiError> {
    let n_features = loaded.model().n_features();
    let mut values = Vec::with_capacity(instances.len() * n_features);
    for (i, instance) in instances.iter().enumerate() {
        match instance {
            Value::Array(row) => {
                if row.len() != n_features {
                    return Err(ApiError::Unprocessable(format!(
                        "instance {i} has {} values, but the model expects {n_features} features",
                        row.len()
                    )));
                }
                for (j, v) in row.iter().enumerate() {
                    values.push(match v {
                        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                        Value::Bool(b) => f64::from(u8::from(*b)),
                        Value::Null => f64::NAN,
                        other => {
                            return Err(ApiError::Unprocessable(format!(
                                "instance {i}, value {j}: {other} is not a number"
                            )));
                        }
                    });
                }
            }
            Value::Object(fields) => {
                let schema = loaded.features().ok_or_else(|| {
                    ApiError::Unprocessable(format!(
                        "instance {i} names its fields, but this model has no feature names \
                         (no features.json beside it); send rows of {n_features} numbers"
                    ))
                })?;
                schema
                    .encode(fields, &mut values)
                    .map_err(|e| ApiError::Unprocessable(format!("instance {i}: {e}")))?;
            }
            other => {
                return Err(ApiError::Unprocessable(format!(
                    "instance {i} is {}, not a row of numbers or an object of named fields",
                    kind(other)
                )));
            }
        }
    }
    Ok(values)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

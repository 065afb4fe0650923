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
use super::v1_body::{self, Answer, Expect, Input, Labels, Predictions, Rows};
use super::{ApiPath, HeadersAndBody, parse_json, set_model_version};
use crate::inference::{self, InferError};
use crate::model::{Absent, Cell, Dtype, Method};
use crate::registry::LoadedModel;
use crate::service::AppState;

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
    let input = match v1_body::read(model, &body, Expect::of(&loaded)) {
        Some(input) => input,
        // The read takes every request the model can take: what it gives up on has something
        // wrong in it, which the full reading words.
        None => return Err(misread(&loaded, &headers, &body)),
    };
    let input = match input {
        Input::Rows(values) => inference::Input::Rows {
            values,
            dtype: Dtype::F64,
        },
        Input::Named(frame) => inference::Input::Frame(frame),
    };
    let inference = state
        .infer(
            &loaded,
            inference::Request {
                predict_proba: want_proba,
                explain: want_explain,
                ..inference::Request::new(input)
            },
        )
        .map_err(|e| match e {
            // V1 asks for probabilities by a query flag, not by an output's name.
            InferError::NoSuchOutput { method, chain } => {
                ApiError::Unprocessable(format!("this model ({chain}) has no {method}"))
            }
            other => other.into(),
        })?;

    let probabilities = inference.values(Method::PredictProba);
    let answer = Answer {
        classes: probabilities.and(model.output_classes()).map(Labels),
        explanations: inference.explanations(),
        predictions: Predictions {
            model,
            predicted: inference.predicted(),
            transformed: inference.values(Method::Transform),
        },
        probabilities: probabilities.map(|p| Rows(p.view())),
    };
    let body = serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(e.to_string()))?;

    let mut response = body.into_response();
    set_model_version(response.headers_mut(), loaded.version());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// What is wrong with a request the read gave up on, from a full reading of its JSON. Should
/// the full reading find nothing wrong (the test `v1_body` keeps the two in step), the request
/// is still refused, never read a second way.
fn misread(loaded: &LoadedModel, headers: &HeaderMap, body: &[u8]) -> ApiError {
    match parse_instances(headers, body).and_then(|instances| read_instances(loaded, &instances)) {
        Err(error) => error,
        Ok(_) => ApiError::BadRequest(
            "the request cannot be read as {\"instances\": [...]} of this model's input".into(),
        ),
    }
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

pub(super) fn parse_instances(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Value>, ApiError> {
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
/// (a Pipeline's typed columns) or through one-hot names (a bare estimator's). The full
/// reading, whose errors say what is wrong with a request.
pub(super) fn read_instances(loaded: &LoadedModel, instances: &[Value]) -> Result<Input, ApiError> {
    let model = loaded.model();
    if let Some(column) = model.input().text_column() {
        return read_documents(loaded, &column.name, instances);
    }
    // Rows of named features: objects of features, or bare lists of strings.
    let mapping = model.input().mapping_column().is_some();
    let objects = instances.iter().filter(|i| i.is_object()).count();
    if !mapping && (objects == 0 || loaded.features().is_some() || !model.input().named) {
        return encode_instances(loaded, instances).map(Input::Rows);
    }
    let mut builder = model.frame_builder(instances.len());
    for (i, instance) in instances.iter().enumerate() {
        let fields = match instance {
            Value::Object(fields) => fields,
            Value::Array(items) if mapping && items.iter().all(Value::is_string) => {
                builder.set_unnamed(i, items.iter().filter_map(Value::as_str))?;
                continue;
            }
            _ if mapping => {
                return Err(ApiError::Unprocessable(format!(
                    "instance {i} is {}; this model takes rows of named features: send each \
                     instance as an object of features ({{\"city\": \"Rome\", \"age\": 30}}), \
                     or, to a FeatureHasher of strings, a list of strings ([\"a\", \"b\"])",
                    kind(instance)
                )));
            }
            _ => {
                return Err(ApiError::Unprocessable(format!(
                    "instance {i} is {}; send every instance as an object of the model's \
                     columns ({})",
                    kind(instance),
                    model.input().described()
                )));
            }
        };
        for (name, value) in fields {
            let column = builder.column(name)?;
            let cell = match value {
                Value::Null => Cell::Missing,
                Value::Number(n) => Cell::Number(n.as_f64().unwrap_or(f64::NAN)),
                Value::Bool(b) => Cell::Number(f64::from(u8::from(*b))),
                Value::String(s) => Cell::Text(s),
                // Several strings of one feature, for a model of mappings.
                Value::Array(items)
                    if builder.takes_lists(column) && items.iter().all(Value::is_string) =>
                {
                    let texts = items.iter().filter_map(Value::as_str);
                    builder.set_texts(i, column, texts)?;
                    continue;
                }
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

/// Documents for a model of one text column: each instance a string, `null` (a missing
/// document) or an object naming the column.
fn read_documents(
    loaded: &LoadedModel,
    column: &str,
    instances: &[Value],
) -> Result<Input, ApiError> {
    let model = loaded.model();
    let mut builder = model.frame_builder(instances.len());
    for (i, instance) in instances.iter().enumerate() {
        let cell = |value: &'_ Value| -> Result<Option<String>, ApiError> {
            match value {
                Value::String(s) => Ok(Some(s.clone())),
                Value::Null => Ok(None),
                other => Err(ApiError::Unprocessable(format!(
                    "instance {i} is {}; this model takes text: send each instance as a \
                     string (or an object {{\"{column}\": \"…\"}})",
                    kind(other)
                ))),
            }
        };
        match instance {
            Value::Object(fields) => {
                for (name, value) in fields {
                    let index = builder.column(name)?;
                    match cell(value)? {
                        Some(text) => builder.set(i, index, Cell::Text(&text))?,
                        None => builder.set(i, index, Cell::Missing)?,
                    }
                }
            }
            other => {
                let text = cell(other)?;
                let cell = text.as_deref().map_or(Cell::Missing, Cell::Text);
                builder.set(i, 0, cell)?;
            }
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

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::{parse_instances, read_instances};
    use crate::http::v1_body::{self, Expect};
    use crate::registry::LoadedModel;
    use crate::store::{EMBEDDED_FEATURES, EMBEDDED_MODEL};

    /// The bundled model: a bare estimator whose named fields are one-hot encoded.
    fn encoded() -> LoadedModel {
        LoadedModel::from_bytes("m", EMBEDDED_MODEL, "m.pkl", Some(EMBEDDED_FEATURES)).unwrap()
    }

    /// A Pipeline over the challenge's raw columns (strings and numbers).
    fn columns() -> LoadedModel {
        let bytes = include_bytes!("../../model-files/pipeline_model.pkl");
        LoadedModel::from_bytes("p", bytes, "pipeline_model.pkl", None).unwrap()
    }

    /// Feeds `body` to the read and to the full reading: when the read takes a request, the
    /// full reading takes it the same way; when the read gives up, the full reading finds
    /// something wrong to say.
    fn agree(loaded: &LoadedModel, body: &[u8]) {
        let read = v1_body::read(loaded.model(), body, Expect::of(loaded));
        let full = parse_instances(&HeaderMap::new(), body)
            .and_then(|instances| read_instances(loaded, &instances));
        let body = String::from_utf8_lossy(body);
        match (read, full) {
            // Debug text compares missing values (NaN) as equal.
            (Some(read), Ok(full)) => {
                assert_eq!(format!("{read:?}"), format!("{full:?}"), "{body}")
            }
            (None, Err(_)) => {}
            (Some(read), Err(error)) => {
                panic!("the read took {body} as {read:?}; the full reading says {error}")
            }
            (None, Ok(full)) => panic!("the read gave up on {body}, read in full as {full:?}"),
        }
    }

    #[test]
    fn the_read_and_the_full_reading_agree_on_every_kind_of_request() {
        let row: Vec<i64> = (0..37).map(|i| i % 2).collect();
        let named = json!({"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7});
        let bodies = [
            json!({"instances": [row]}),
            json!({"inputs": [row]}),
            json!({"inputs": [[0]], "instances": [row]}),
            json!({"instances": [named]}),
            json!({"instances": [named, row]}),
            json!({"instances": [row, named]}),
            json!({"instances": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7.0}]}),
            json!({"instances": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": "7"}]}),
            json!({"instances": [{"OPERA": "Pan Am", "TIPOVUELO": "I", "MES": 7}]}),
            json!({"instances": [{"OPERA": "Grupo LATAM", "MES": null}]}),
            json!({"instances": [{"OPERA": "Grupo LATAM", "TIPOVUELO": "I", "MES": 7, "x": 1}]}),
            json!({"instances": [{"OPERA": ["Grupo LATAM"], "TIPOVUELO": "I", "MES": 7}]}),
            json!({"instances": []}),
            json!({"instances": [[]]}),
            json!({"instances": [[true, null, 1.5]]}),
            json!({"instances": "x"}),
            json!({"instances": [1, 2]}),
            json!([row]),
            json!({"other": 1}),
        ];
        for model in [encoded(), columns()] {
            for body in &bodies {
                agree(&model, &serde_json::to_vec(body).unwrap());
            }
            for text in ["", "{", "{\"instances\": [[0, 1]], }", "null"] {
                agree(&model, text.as_bytes());
            }
        }
    }

    /// A value of an instance: numbers of both kinds, booleans, null, the strings the
    /// challenge's columns take and others, and now and then a list.
    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            (0i64..14).prop_map(Value::from),
            (0i64..14).prop_map(|v| Value::from(v as f64)),
            (-1e3..1e3f64).prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            prop::sample::select(vec!["Grupo LATAM", "Sky Airline", "I", "N", "7", "Pan Am"])
                .prop_map(Value::from),
            Just(json!([1])),
        ]
    }

    /// An instance: a row of about the width, or an object of known and unknown fields.
    fn instance() -> impl Strategy<Value = Value> {
        let fields = prop::sample::subsequence(
            vec![
                "OPERA",
                "TIPOVUELO",
                "MES",
                "DIANOM",
                "OPERA_Grupo LATAM",
                "MES_7",
                "SIGLADES",
                "nothing",
            ],
            0..6,
        );
        prop_oneof![
            prop_oneof![2usize..5, 35usize..39]
                .prop_flat_map(|n| prop::collection::vec(scalar(), n))
                .prop_map(Value::from),
            fields
                .prop_flat_map(|names| {
                    let n = names.len();
                    (Just(names), prop::collection::vec(scalar(), n))
                })
                .prop_map(|(names, values)| {
                    Value::Object(names.into_iter().map(str::to_owned).zip(values).collect())
                }),
        ]
    }

    fn body() -> impl Strategy<Value = Value> {
        let instances = || prop::collection::vec(instance(), 0..4).prop_map(Value::from);
        (prop::option::of(instances()), prop::option::of(instances())).prop_map(
            |(instances, inputs)| {
                let mut body = serde_json::Map::new();
                if let Some(instances) = instances {
                    body.insert("instances".into(), instances);
                }
                if let Some(inputs) = inputs {
                    body.insert("inputs".into(), inputs);
                }
                Value::Object(body)
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]

        #[test]
        fn the_read_and_the_full_reading_agree_on_any_body(body in body()) {
            let body = serde_json::to_vec(&body).unwrap();
            agree(&encoded(), &body);
            agree(&columns(), &body);
        }
    }
}

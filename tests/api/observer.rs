//! One path to the model: whichever protocol asks (the seed form, V1, V2 JSON, V2 binary,
//! gRPC) and `skserve predict`, the prediction passes the one observer hook of
//! `skserve::inference`, which sees the rows the model took and what it predicted, and the
//! requests the model's checks refused (a body that cannot even be read is the protocol's
//! refusal, before any model is asked).

use std::sync::{Arc, Mutex};

use serde_json::json;
use skserve::config::ServeSettings;
use skserve::inference::{Observer, Seen, SeenInput};
use skserve::model::Prediction;
use skserve::registry::LoadedModel;

use crate::helpers::{
    binary_request, grpc_client, json, raw_infer, repo, spawn_app_observed, v2_request, x_test,
};

/// What one call of the hook saw.
#[derive(Clone, Debug, PartialEq)]
enum Call {
    Answered {
        model: String,
        rows: usize,
        /// The first row's values as the model took them.
        first_row: Vec<f64>,
        /// The predicted class of every row.
        classes: Vec<usize>,
    },
    Refused {
        model: String,
        error: String,
    },
}

/// Records every call of the hook.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Call>>);

impl Recorder {
    fn take(&self) -> Vec<Call> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

impl Observer for Recorder {
    fn answered(&self, seen: &Seen<'_>) {
        let first_row = match seen.input {
            SeenInput::Rows { values, n_features } => values[..n_features].to_vec(),
            SeenInput::Frame(_) => panic!("the challenge model takes rows"),
        };
        let classes = match seen.predicted {
            Some(Prediction::Classes(classes)) => classes.clone(),
            other => panic!("the challenge model predicts classes, not {other:?}"),
        };
        self.0.lock().unwrap().push(Call::Answered {
            model: seen.model.name().to_owned(),
            rows: seen.n_rows,
            first_row,
            classes,
        });
    }

    fn refused(&self, model: &LoadedModel, error: &skserve::inference::InferError) {
        self.0.lock().unwrap().push(Call::Refused {
            model: model.name().to_owned(),
            error: error.to_string(),
        });
    }
}

/// The classes scikit-learn predicts for the first `n` rows of `x_test.csv`.
fn expected_classes(n: usize) -> Vec<usize> {
    crate::helpers::expected_test(n)
        .into_iter()
        .map(|(class, _)| class as usize)
        .collect()
}

fn answered(rows: usize) -> Call {
    Call::Answered {
        model: "pickle_model".into(),
        rows,
        first_row: x_test(1).remove(0),
        classes: expected_classes(rows),
    }
}

#[tokio::test]
async fn every_protocol_reaches_the_model_through_the_one_observed_path() {
    let recorder = Arc::new(Recorder::default());
    let app = spawn_app_observed(
        ServeSettings {
            grpc_listen: Some("127.0.0.1:0".parse().unwrap()),
            ..ServeSettings::default()
        },
        recorder.clone(),
    )
    .await;
    let rows = x_test(5);

    // The seed form: one row.
    let form = format!(
        "x={:?}",
        rows[0].iter().map(|&v| v as i64).collect::<Vec<_>>()
    );
    assert_eq!(app.post_seed_form(&form).await.status(), 200);
    assert_eq!(recorder.take(), [answered(1)], "the seed form");

    // KServe V1: two rows.
    let (status, _) = json(
        app.v1_predict("pickle_model", "", &json!({ "instances": &rows[..2] }))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(recorder.take(), [answered(2)], "V1");

    // V2 JSON: three rows.
    let (status, _) = json(app.infer("pickle_model", &v2_request(&rows[..3])).await).await;
    assert_eq!(status, 200);
    assert_eq!(recorder.take(), [answered(3)], "V2 JSON");

    // V2 binary: four rows.
    let (body, header_length) = binary_request(&rows[..4], "FP64", json!([]));
    let response = app
        .infer_binary("pickle_model", body, Some(header_length))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(recorder.take(), [answered(4)], "V2 binary");

    // gRPC: five rows.
    let mut client = grpc_client(&app).await;
    client
        .model_infer(raw_infer("pickle_model", &rows, "FP64", &["predict"]))
        .await
        .expect("gRPC answers");
    assert_eq!(recorder.take(), [answered(5)], "gRPC");

    // A request the model's checks refuse is seen as refused.
    let mut wrong_width = v2_request(&rows[..1]);
    wrong_width["inputs"][0]["shape"] = json!([37, 1]);
    let (status, _) = json(app.infer("pickle_model", &wrong_width).await).await;
    assert_eq!(status, 422);
    let refused = recorder.take();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        matches!(&refused[0], Call::Refused { model, error }
            if model == "pickle_model" && error.contains("[37, 1]")),
        "{refused:?}"
    );
}

#[test]
fn the_command_line_reaches_the_model_through_the_one_observed_path() {
    let recorder = Recorder::default();
    let input = tempfile_with(
        &x_test(6)
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| format!("{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let mut out = Vec::new();

    skserve::commands::predict_observed(
        &repo().join("model-files/pickle_model.pkl"),
        &input,
        skserve::model::LoadLimits::default(),
        &mut out,
        &recorder,
    )
    .unwrap();

    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 6);
    assert_eq!(recorder.take(), [answered(6)]);
}

/// A file holding `text`, removed when the test's process ends.
fn tempfile_with(text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "skserve-observer-{}-{:?}.csv",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

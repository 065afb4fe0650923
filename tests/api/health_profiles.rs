//! Profiles that cannot describe the model are refused with a message, and the model serves
//! without them, on a reference window: another model's profile, edges that do not increase,
//! shares that do not sum to 1, too many bins, a file too large, not JSON. A profile made for
//! another version of the model is used, and says so in `/slo.json` and a metric label. A new
//! version of the model brings the profile beside it, from a file or a Cloud Storage object. No
//! profile ever fails a request.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use skserve::config::ServeSettings;
use skserve::health::HealthSettings;
use skserve::store::ModelSource;

use crate::helpers::{
    BUCKET, GcsEmulator, OBJECT, TestApp, eventually, flights, flights_file, health, json,
    model_in, profile, repo, sample, scratch_dir, spawn_app_with, v1_body,
};

async fn spawn(model: &Path, health: HealthSettings) -> TestApp {
    spawn_app_with(ServeSettings {
        model: ModelSource::File(model.to_owned()),
        model_name: "flights".into(),
        refresh_interval: Duration::from_millis(200),
        health,
        ..ServeSettings::default()
    })
    .await
}

/// A prediction of fresh rows answers 200.
async fn serves(app: &TestApp) {
    let rows = flights("fresh.csv");
    let (status, body) = json(app.v1_predict("flights", "", &v1_body(&rows[..50])).await).await;
    assert_eq!(status, 200, "{body}");
}

/// The flights model's profile made from its training data, as JSON to edit.
fn good_profile(dir: &Path) -> Value {
    let model = model_in(dir, "flights.pkl", "source.pkl");
    let path = profile(&model, &flights_file("train.csv"), None);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_profile_that_cannot_describe_the_model_is_refused_and_the_model_serves() {
    let dir = scratch_dir("bad-profiles");
    let good = good_profile(&dir);
    let challenge = dir.join("pickle_model.pkl");
    std::fs::copy(repo().join("model-files/pickle_model.pkl"), &challenge).unwrap();
    let another_model = {
        let path = profile(&challenge, &repo().join("model-files/x_test.csv"), None);
        std::fs::read(path).unwrap()
    };
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut profile = good.clone();
        edit(&mut profile);
        serde_json::to_vec(&profile).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "another model",
            another_model,
            "it was made for another model: it describes 37 columns",
        ),
        (
            "edges not increasing",
            edited(&|p| p["columns"][0]["edges"][3] = 1.0.into()),
            "column 'distance': edges do not increase (edges[2] = 479.1, edges[3] = 1)",
        ),
        (
            "shares not summing to 1",
            edited(&|p| p["columns"][1]["shares"][0] = 0.5.into()),
            "the shares of column 'duration' (other and missing included) sum to",
        ),
        (
            "too many bins",
            edited(&|p| {
                let edges: Vec<f64> = (0..100).map(f64::from).collect();
                let shares = vec![1.0 / 101.0; 101];
                p["columns"][0]["edges"] = edges.into();
                p["columns"][0]["shares"] = shares.into();
            }),
            "column 'distance' lists 101 bins, more than a profile may (64)",
        ),
        (
            "too large",
            vec![b' '; 17 << 20],
            "more than a profile may (16777216 bytes)",
        ),
        (
            "not JSON",
            b"not json".to_vec(),
            "not a profile skserve reads",
        ),
    ];
    for (what, bytes, message) in cases {
        let case = dir.join(what.replace(' ', "-"));
        std::fs::create_dir_all(&case).unwrap();
        let model = model_in(&case, "flights.pkl", "flights.pkl");
        std::fs::write(case.join("flights.profile.json"), bytes).unwrap();

        let app = spawn(&model, HealthSettings::default()).await;
        serves(&app).await;
        let reference = &health(&app, "flights").await["reference"];

        assert_eq!(reference["source"], "pending", "{what}: {reference}");
        let error = reference["profile_error"].as_str().unwrap_or_default();
        assert!(
            error.contains(message),
            "{what}: {error:?} lacks {message:?}"
        );
        assert!(error.contains("flights.profile.json"), "{what}: {error}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_profile_for_another_version_is_used_and_says_so() {
    let dir = scratch_dir("other-version");
    let mut other = good_profile(&dir);
    other["model"]["version"] = "0123456789ab".into();
    let named = dir.join("named.json");
    std::fs::write(&named, serde_json::to_vec(&other).unwrap()).unwrap();
    let model = model_in(&dir, "flights.pkl", "flights.pkl");

    // Named with --profile rather than found beside the model.
    let app = spawn(
        &model,
        HealthSettings {
            profiles: vec![("flights".into(), ModelSource::File(named.clone()))],
            ..HealthSettings::default()
        },
    )
    .await;
    serves(&app).await;

    let reference = health(&app, "flights").await["reference"].clone();
    assert_eq!(reference["source"], "profile", "{reference}");
    assert_eq!(reference["for_version"], "other");
    assert_eq!(reference["location"], named.display().to_string());
    let scrape = app.metrics().await;
    let info = format!(
        r#"skserve_health_reference_info{{for_version="other",model="flights",reference="{}",source="profile"}}"#,
        reference["id"].as_str().unwrap()
    );
    assert_eq!(sample(&scrape, &info), 1.0, "no {info}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_new_version_of_the_model_brings_the_profile_beside_it() {
    let dir = scratch_dir("refresh");
    let model = model_in(&dir, "flights.pkl", "flights.pkl");
    profile(&model, &flights_file("train.csv"), None);
    let app = spawn(&model, HealthSettings::default()).await;
    serves(&app).await;
    let first = health(&app, "flights").await;
    assert_eq!(first["reference"]["for_version"], "served");

    // The new version and its own profile, made from half the data: written beside, then the
    // model replaced.
    let staging = scratch_dir("refresh-staging");
    let v2 = model_in(&staging, "flights_v2.pkl", "flights.pkl");
    let train = std::fs::read_to_string(flights_file("train.csv")).unwrap();
    let half: Vec<&str> = train.lines().take(1001).collect();
    std::fs::write(staging.join("half.csv"), half.join("\n")).unwrap();
    let new_profile = profile(&v2, &staging.join("half.csv"), None);
    std::fs::copy(&new_profile, dir.join("flights.profile.json")).unwrap();
    std::fs::copy(&v2, &model).unwrap();

    eventually("the new version's health", || async {
        let h = health(&app, "flights").await;
        h["version"] != first["version"] && h["reference"]["rows"] == 1000
    })
    .await;
    serves(&app).await;
    let second = health(&app, "flights").await;
    assert_eq!(second["reference"]["for_version"], "served", "{second}");
    assert_ne!(second["reference"]["id"], first["reference"]["id"]);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&staging);
}

#[tokio::test]
#[ignore = "full tier: needs fake-gcs-server from PyPI (tests/run.sh)"]
async fn a_profile_beside_a_cloud_storage_object_comes_with_each_generation() {
    let dir = scratch_dir("gcs-profile");
    let model = model_in(&dir, "flights.pkl", "model.pkl");
    let made = profile(&model, &flights_file("train.csv"), None);
    let emulator = GcsEmulator::start().await;
    let beside = "delays/model.profile.json";
    assert!(
        OBJECT.ends_with("/model.pkl"),
        "the profile is named after {OBJECT}"
    );
    emulator.upload(beside, std::fs::read(&made).unwrap()).await;
    emulator
        .upload(OBJECT, std::fs::read(&model).unwrap())
        .await;
    let app = spawn_app_with(ServeSettings {
        model: ModelSource::Gcs {
            bucket: BUCKET.into(),
            object: OBJECT.into(),
        },
        model_name: "flights".into(),
        refresh_interval: Duration::from_millis(200),
        storage_emulator_host: Some(emulator.host()),
        ..ServeSettings::default()
    })
    .await;
    serves(&app).await;
    let first = health(&app, "flights").await;
    let reference = &first["reference"];
    assert_eq!(reference["source"], "profile", "{first}");
    assert_eq!(reference["for_version"], "served", "{first}");
    assert_eq!(reference["rows"], 2000, "{first}");
    assert_eq!(
        reference["location"],
        format!("gs://{BUCKET}/{beside}"),
        "{first}"
    );

    // A new generation and its own profile, made from half the data: the profile uploaded
    // first, then the model.
    let v2 = model_in(&dir, "flights_v2.pkl", "v2.pkl");
    let train = std::fs::read_to_string(flights_file("train.csv")).unwrap();
    let half: Vec<&str> = train.lines().take(1001).collect();
    std::fs::write(dir.join("half.csv"), half.join("\n")).unwrap();
    let half_profile = profile(&v2, &dir.join("half.csv"), None);
    emulator
        .upload(beside, std::fs::read(&half_profile).unwrap())
        .await;
    let generation = emulator.upload(OBJECT, std::fs::read(&v2).unwrap()).await;
    eventually("the new generation's health", || async {
        let h = health(&app, "flights").await;
        h["version"] == generation.as_str() && h["reference"]["rows"] == 1000
    })
    .await;
    serves(&app).await;
    let second = health(&app, "flights").await;
    assert_eq!(second["reference"]["for_version"], "served", "{second}");
    assert_ne!(second["reference"]["id"], first["reference"]["id"]);
    let _ = std::fs::remove_dir_all(&dir);
}

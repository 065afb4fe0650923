//! Model health end to end, through every protocol: traffic drawn from the reference keeps every
//! column's PSI low, traffic with one column shifted raises that column's and no other's, with a
//! profile made by `skserve profile` and with a reference window; data-quality issues are
//! counted exactly, row by row, with or without a reference; and the dashboard's "Model
//! health" card shows the figures of `/slo.json` (headless Chromium, full tier).

use skserve::config::ServeSettings;
use skserve::health::HealthSettings;
use skserve::store::ModelSource;

use crate::helpers::{
    Flight, TestApp, chromium, column, complete, flights, flights_file, grpc_client, grpc_request,
    health, health_after, json, model_in, number, profile, psi, raw_infer, repo, sample,
    scratch_dir, spawn_app_with_grpc, v1_body, v2_body, v2_request, x_test,
};

/// The shifted column of the challenge model: one operator, 2.9 % of the reference's flights.
const SHIFTED: &str = "OPERA_Aerolineas Argentinas";

/// Every column's PSI over the last hour below `low`, but `shifted`'s (if any), at or over
/// `high`, with its status `drift`.
fn assert_only_shifted(health: &serde_json::Value, shifted: Option<&str>, low: f64, high: f64) {
    for c in health["columns"].as_array().unwrap() {
        let feature = c["feature"].as_str().unwrap();
        let value = psi(health, feature, "1h");
        if Some(feature) == shifted {
            assert!(value >= high, "{feature}: PSI {value} is not over {high}");
            assert_eq!(c["status"], "drift", "{feature}");
        } else {
            assert!(value < low, "{feature}: PSI {value} is not under {low}");
        }
    }
}

/// Sends the challenge rows through the seed form, V1, V2 and gRPC, a quarter-ish each.
async fn challenge_traffic(app: &TestApp, rows: &[Vec<f64>]) {
    let (seed, rest) = rows.split_at(10);
    for row in seed {
        let x: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
        let body = format!("x=[{}]", x.join(","));
        assert_eq!(app.post_seed_form(&body).await.status(), 200);
    }
    let third = rest.len() / 3;
    let (v1, rest) = rest.split_at(third);
    let (v2, grpc) = rest.split_at(third);
    for batch in v1.chunks(100) {
        let body = serde_json::json!({ "instances": batch });
        let (status, answer) = json(app.v1_predict("pickle_model", "", &body).await).await;
        assert_eq!(status, 200, "{answer}");
    }
    for batch in v2.chunks(100) {
        let (status, answer) = json(app.infer("pickle_model", &v2_request(batch)).await).await;
        assert_eq!(status, 200, "{answer}");
    }
    let mut client = grpc_client(app).await;
    for batch in grpc.chunks(100) {
        client
            .model_infer(raw_infer("pickle_model", batch, "FP64", &["predict"]))
            .await
            .expect("gRPC answers");
    }
}

#[tokio::test]
async fn a_profile_keeps_reference_traffic_low_and_names_a_shifted_column_in_every_protocol() {
    // A user's profile of the challenge model, made from its data by `skserve profile`.
    let dir = scratch_dir("challenge");
    let model = dir.join("pickle_model.pkl");
    std::fs::copy(repo().join("model-files/pickle_model.pkl"), &model).unwrap();
    std::fs::copy(
        repo().join("model-files/features.json"),
        dir.join("features.json"),
    )
    .unwrap();
    let written = profile(&model, &repo().join("model-files/x_test.csv"), None);
    assert_eq!(written, dir.join("pickle_model.profile.json"));
    let app = spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(model),
        model_name: "pickle_model".into(),
        ..ServeSettings::default()
    })
    .await;

    challenge_traffic(&app, &x_test(2000)).await;
    let normal = health_after(&app, "pickle_model", 2000).await;
    assert_eq!(normal["reference"]["source"], "profile", "{normal}");
    assert_eq!(normal["reference"]["for_version"], "served");
    assert_eq!(normal["reference"]["rows"], 22_508);
    assert_only_shifted(&normal, None, 0.02, 0.0);

    // A thousand more, all flown by one operator the reference rarely saw.
    let mut shifted = x_test(3000).split_off(2000);
    for row in &mut shifted {
        row[0] = 1.0;
    }
    challenge_traffic(&app, &shifted).await;
    let drifted = health_after(&app, "pickle_model", 3000).await;
    assert_only_shifted(&drifted, Some(SHIFTED), 0.02, 0.25);
    assert_eq!(
        drifted["columns"][0]["feature"], SHIFTED,
        "the most drifted first"
    );
    let scrape = app.metrics().await;
    let gauge = sample(
        &scrape,
        &format!(
            r#"skserve_feature_drift{{feature="{SHIFTED}",model="pickle_model",statistic="psi",window="1h"}}"#
        ),
    );
    // The same figure (serde_json's default parser may land one ulp away from the text).
    let shown = column(&drifted, SHIFTED)["drift"][0]["psi"]
        .as_f64()
        .unwrap();
    assert!(
        (gauge - shown).abs() <= 1e-12 * shown,
        "{gauge} against {shown}"
    );
    assert_eq!(
        sample(&scrape, r#"skserve_input_rows_total{model="pickle_model"}"#),
        3000.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Fresh rows through V2 (those without a missing value), V1 and gRPC: all of them once.
async fn flights_traffic(app: &TestApp, rows: &[Flight]) {
    let (head, tail) = rows.split_at(rows.len() * 2 / 5);
    let v2 = complete(head);
    let mut v1: Vec<Flight> = head.iter().filter(|r| !v2.contains(r)).cloned().collect();
    let (more, grpc) = tail.split_at(tail.len() / 2);
    v1.extend_from_slice(more);
    for batch in v2.chunks(100) {
        let (status, answer) = json(app.infer("flights", &v2_body(batch)).await).await;
        assert_eq!(status, 200, "{answer}");
    }
    for batch in v1.chunks(100) {
        let (status, answer) = json(app.v1_predict("flights", "", &v1_body(batch)).await).await;
        assert_eq!(status, 200, "{answer}");
    }
    let mut client = grpc_client(app).await;
    for batch in grpc.chunks(100) {
        client
            .model_infer(grpc_request("flights", batch))
            .await
            .expect("gRPC answers");
    }
}

async fn spawn_flights(model: std::path::PathBuf, health: HealthSettings) -> TestApp {
    spawn_app_with_grpc(ServeSettings {
        model: ModelSource::File(model),
        model_name: "flights".into(),
        health,
        ..ServeSettings::default()
    })
    .await
}

#[tokio::test]
async fn the_first_rows_become_the_reference_and_a_shifted_column_is_named() {
    let dir = scratch_dir("window");
    let model = model_in(&dir, "flights.pkl", "flights.pkl");
    let app = spawn_flights(
        model,
        HealthSettings {
            reference_rows: 1000,
            ..HealthSettings::default()
        },
    )
    .await;
    let before = health(&app, "flights").await;
    assert_eq!(before["reference"]["source"], "pending");

    // The reference: the first thousand rows served, training rows.
    let train = flights("train.csv");
    for batch in train[..1000].chunks(250) {
        let (status, _) = json(app.v1_predict("flights", "", &v1_body(batch)).await).await;
        assert_eq!(status, 200);
    }
    crate::helpers::eventually("the window to become the reference", || async {
        health(&app, "flights").await["reference"]["source"] == "window"
    })
    .await;

    let fresh = flights("fresh.csv");
    flights_traffic(&app, &fresh).await;
    let normal = health_after(&app, "flights", 1000).await;
    assert_eq!(normal["reference"]["rows"], 1000);
    assert_only_shifted(&normal, None, 0.1, 0.0);

    // The same rows again, their durations half as long again.
    let shifted: Vec<Flight> = fresh
        .iter()
        .map(|r| Flight {
            duration: r.duration.map(|d| d * 1.5),
            ..r.clone()
        })
        .collect();
    flights_traffic(&app, &shifted).await;
    let drifted = health_after(&app, "flights", 2000).await;
    assert_only_shifted(&drifted, Some("duration"), 0.1, 0.25);
    let _ = std::fs::remove_dir_all(&dir);
}

/// How many values of a column have an issue: (feature, issue, count).
type IssueCount = (&'static str, &'static str, f64);

/// Rows with known issues, how many of each they hold, and how many rows hold one.
fn rows_with_issues() -> (Vec<Flight>, [IssueCount; 4], u64) {
    let base = flights("train.csv")[0].clone();
    let row = |f: &dyn Fn(&mut Flight)| {
        let mut r = base.clone();
        f(&mut r);
        r
    };
    let mut rows = vec![base.clone(); 10];
    rows.extend((0..3).map(|_| row(&|r| r.airline = None)));
    rows.extend((0..2).map(|_| row(&|r| r.passengers = None)));
    rows.extend((0..4).map(|_| row(&|r| r.distance = Some(1e6))));
    rows.push(row(&|r| r.distance = Some(-5.0)));
    rows.extend((0..2).map(|_| row(&|r| r.airline = Some("Ryanair".into()))));
    rows.push(row(&|r| {
        r.airline = Some("Ryanair".into());
        r.duration = Some(1e4);
    }));
    let counts = [
        ("airline", "missing", 3.0),
        ("distance", "out_of_range", 5.0),
        ("airline", "unseen_category", 3.0),
        ("duration", "out_of_range", 1.0),
    ];
    // 3 + 4 + 1 + 2 + 1 rows hold an issue; the two without passengers do not.
    (rows, counts, 11)
}

async fn assert_counted_row_by_row(app: &TestApp) {
    let (rows, counts, with_issues) = rows_with_issues();
    let (status, body) = json(app.v1_predict("flights", "", &v1_body(&rows)).await).await;
    assert_eq!(status, 200, "{body}");
    // A missing distance reaches the classifier, which refuses it: counted apart.
    let mut refused = rows[0].clone();
    refused.distance = None;
    let (status, _) = json(app.v1_predict("flights", "", &v1_body(&[refused])).await).await;
    assert_eq!(status, 422);

    let scrape = app.metrics().await;
    for feature in ["distance", "duration", "airline", "passengers"] {
        for issue in ["missing", "unseen_category", "out_of_range"] {
            let expected = counts
                .iter()
                .find(|(f, i, _)| *f == feature && *i == issue)
                .map_or(0.0, |c| c.2);
            let name = format!(
                r#"skserve_input_issues_total{{feature="{feature}",issue="{issue}",model="flights"}}"#
            );
            assert!(scrape.contains(&format!("{name} ")), "no {name}");
            assert_eq!(sample(&scrape, &name), expected, "{name}");
        }
    }
    let rows_total = rows.len() as f64;
    assert_eq!(
        sample(&scrape, r#"skserve_input_rows_total{model="flights"}"#),
        rows_total
    );
    assert_eq!(
        sample(
            &scrape,
            r#"skserve_input_rows_with_issues_total{model="flights"}"#
        ),
        with_issues as f64
    );
    assert_eq!(
        sample(&scrape, r#"skserve_input_refused_total{model="flights"}"#),
        1.0
    );
    let quality = app.slo_json().await["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "data_quality")
        .cloned()
        .unwrap();
    assert_eq!(quality["total"], rows.len());
    assert_eq!(quality["good"], rows.len() as u64 - with_issues);
}

#[tokio::test]
async fn issues_are_counted_row_by_row_against_a_profile() {
    let dir = scratch_dir("issues-profile");
    let model = model_in(&dir, "flights.pkl", "flights.pkl");
    profile(&model, &flights_file("train.csv"), None);
    let app = spawn_flights(model, HealthSettings::default()).await;
    assert_counted_row_by_row(&app).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn what_the_model_knows_is_checked_without_a_reference() {
    // No profile and no window: the encoder's categories and the scaler's fitted range alone.
    let dir = scratch_dir("issues-model");
    let model = model_in(&dir, "flights.pkl", "flights.pkl");
    let app = spawn_flights(
        model,
        HealthSettings {
            reference_rows: 0,
            ..HealthSettings::default()
        },
    )
    .await;
    assert_eq!(health(&app, "flights").await["reference"]["source"], "none");
    assert_counted_row_by_row(&app).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[ignore = "full tier: needs Debian's chromium (tests/run.sh)"]
async fn the_model_health_card_shows_the_figures_of_slo_json() {
    let dir = scratch_dir("card");
    let model = model_in(&dir, "flights.pkl", "flights.pkl");
    profile(&model, &flights_file("train.csv"), None);
    let app = spawn_flights(model, HealthSettings::default()).await;
    let shifted: Vec<Flight> = flights("fresh.csv")
        .iter()
        .map(|r| Flight {
            duration: r.duration.map(|d| d * 1.5),
            ..r.clone()
        })
        .collect();
    flights_traffic(&app, &shifted).await;
    let figures = health_after(&app, "flights", 1000).await;
    // The page reads figures at most a couple of seconds old: wait until they stop moving.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let figures_now = health(&app, "flights").await;
    assert_eq!(figures["rows"], figures_now["rows"]);

    let chrome = dir.join("chromium");
    let dom = chromium(&chrome, &["--dump-dom"], &app.url("/slo")).await;
    let screenshot = repo().join("target/slo-model-health.png");
    chromium(
        &chrome,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2600",
        ],
        &app.url("/slo"),
    )
    .await;
    let shown = health(&app, "flights").await;

    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page never rendered"
    );
    let card_at = dom
        .find("id=\"health-flights\"")
        .expect("a Model health card");
    let card = &dom[card_at..];
    let card = &card[..card.find("</article>").unwrap()];
    assert!(card.contains("data-field=\"health-state\" data-state=\"bad\""));
    assert!(card.contains("data-source=\"profile\""));
    for c in shown["columns"].as_array().unwrap() {
        let feature = c["feature"].as_str().unwrap();
        for window in ["1h", "1d"] {
            let attributes = format!(
                "data-field=\"health-psi\" data-feature=\"{feature}\" data-window=\"{window}\""
            );
            let at = card
                .find(&attributes)
                .unwrap_or_else(|| panic!("no {attributes}"));
            let tag = &card[at..at + card[at..].find('>').unwrap()];
            let value = crate::helpers::attribute(tag, "data-value");
            let (drawn, figure) = (number(&value).unwrap(), psi(&shown, feature, window));
            assert!(
                (drawn - figure).abs() <= 1e-12 * figure.abs(),
                "{feature} {window}: {drawn} drawn, {figure} in /slo.json"
            );
        }
        let status = format!(
            "data-field=\"health-status\" data-feature=\"{feature}\" data-state=\"{}\"",
            match c["status"].as_str().unwrap() {
                "drift" => "bad",
                "warn" => "warn",
                "ok" => "ok",
                _ => "off",
            }
        );
        assert!(card.contains(&status), "{feature}: no {status}");
    }
    // Histograms of the most drifted columns, and of the predicted classes.
    assert!(card.contains("data-field=\"histogram\" data-feature=\"duration\""));
    assert!(card.contains("data-field=\"histogram\" data-feature=\"prediction\""));
    assert!(screenshot.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

//! The SLO engine seen from outside. Known traffic, with real bad events (requests abandoned at
//! the request timeout answer 503) and slow ones (a body that arrives late), gives the figures
//! of `/slo.json`; every metric `monitoring/` names exists in a live scrape; and `/slo`, loaded
//! in headless Chromium, shows the figures of `/slo.json` (a screenshot is saved under
//! `target/`). Chromium comes from Debian's `chromium`, installed by `tests/run.sh`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use skserve::config::ServeSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    README_X, TestApp, by_id, chromium, number, rendered, repo, slo, spawn_app, spawn_app_with,
    v2_request, x_test,
};

/// Requests abandoned at this timeout are answered 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// A body that arrives this late makes a request slower than every latency threshold, and is
/// still well within the timeout.
const SLOW_BODY: Duration = Duration::from_millis(450);

/// What `mixed_traffic` sent that the SLOs count.
struct Sent {
    /// 2xx answers.
    ok: u64,
    /// 2xx answers known to be slower than every latency threshold.
    ok_slow: u64,
    /// 503 answers after the request timeout.
    timeouts: u64,
}

async fn spawn_app_with_timeout() -> TestApp {
    spawn_app_with(ServeSettings {
        request_timeout: REQUEST_TIMEOUT,
        ..ServeSettings::default()
    })
    .await
}

/// Fast predictions, two large batches, caller mistakes and routes the SLOs leave out (not
/// counted), a request whose body arrives late, and two abandoned at the timeout.
async fn mixed_traffic(app: &TestApp) -> Sent {
    let form = format!("x={README_X}");
    for _ in 0..20 {
        assert_eq!(app.post_seed_form(&form).await.status(), 200);
    }
    let batch = v2_request(&x_test(5000));
    for _ in 0..2 {
        assert_eq!(app.infer("pickle_model", &batch).await.status(), 200);
    }
    for _ in 0..3 {
        assert_eq!(app.post_seed_form("x=[1,2").await.status(), 400);
    }
    assert_eq!(app.get("/no-such-route").await.status(), 404);
    assert_eq!(app.get("/v2/health/ready").await.status(), 200);
    app.metrics().await;

    let (slow, abandoned_1, abandoned_2) = tokio::join!(
        raw_seed_request(app.port, Some(SLOW_BODY)),
        raw_seed_request(app.port, None),
        raw_seed_request(app.port, None),
    );
    assert_eq!((slow, abandoned_1, abandoned_2), (200, 503, 503));
    Sent {
        ok: 23,
        ok_slow: 1,
        timeouts: 2,
    }
}

/// A seed form request sent over a raw connection: the head and two bytes of the body, then
/// the rest after `finish_after`, or never (the server gives up at its request timeout).
/// Returns the status.
async fn raw_seed_request(port: u16, finish_after: Option<Duration>) -> u16 {
    let body = format!("x={README_X}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..2]).await.unwrap();
    if let Some(delay) = finish_after {
        tokio::time::sleep(delay).await;
        stream.write_all(&body.as_bytes()[2..]).await.unwrap();
    }
    let mut response = Vec::new();
    // The server may reset the connection after answering a request it did not read fully.
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response);
    response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

#[tokio::test]
async fn slo_json_counts_known_traffic() {
    let app = spawn_app_with_timeout().await;
    let sent = mixed_traffic(&app).await;

    let figures = app.slo_json().await;

    let counted = sent.ok + sent.timeouts;
    let availability = slo(&figures, "availability");
    assert_eq!(availability["good"], sent.ok);
    assert_eq!(availability["total"], counted);
    let sli = sent.ok as f64 / counted as f64;
    let burn_rate = (1.0 - sli) / 0.0005;
    assert_eq!(availability["sli"].as_f64(), Some(sli));
    assert!((availability["burn_rate"].as_f64().unwrap() - burn_rate).abs() < 1e-9);
    assert!(
        (availability["error_budget_remaining"].as_f64().unwrap() - (1.0 - burn_rate)).abs() < 1e-9
    );
    for window in availability["windows"].as_array().unwrap() {
        assert_eq!(window["total"], counted, "window {}", window["window"]);
    }
    // 160x the budget, but 25 requests are fewer than min_events (200): nothing fires.
    assert_eq!(availability["status"], "ok");
    let fast_page = &availability["alerts"][0]["conditions"][0];
    assert_eq!(fast_page["enough_events"], false);
    assert!(fast_page["long_burn_rate"].as_f64().unwrap() > 14.4);

    for name in ["latency-400ms", "latency-50ms"] {
        let latency = slo(&figures, name);
        assert_eq!(latency["total"], counted, "{name}");
        // The late body and the abandoned requests are slower than any threshold.
        let slow = sent.ok_slow + sent.timeouts;
        assert!(
            latency["good"].as_u64().unwrap() <= counted - slow,
            "{latency}"
        );
    }
    // The 22 answers before `mixed_traffic` first scraped /metrics are missing from a
    // Prometheus' counts, and /slo.json says so (4xx other than 429 are no SLO events).
    let first = &figures["first_scrape"];
    assert_eq!(first["state"], "scraped", "{first}");
    assert_eq!(first["events_before"], 22);
    assert_eq!(first["events_uncounted"], true);
    assert_eq!(first["wait_seconds"], Value::Null);
    let memory = slo(&figures, "memory");
    assert_eq!(memory["limit_bytes"], 268_435_456);
    assert_eq!(figures["memory"]["limit_bytes"], 268_435_456);
    assert_eq!(figures["models"][0]["name"], "pickle_model");
    assert_eq!(figures["build"]["version"], env!("CARGO_PKG_VERSION"));
    let minute = figures["traffic"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(minute["requests_per_second"].as_f64().unwrap() > 0.0);
    assert!(minute["p99_seconds"].as_f64().unwrap() >= 0.4, "{minute}");
}

#[tokio::test]
async fn slo_figures_are_exported_as_metrics() {
    let app = spawn_app().await;
    app.post_seed_form(&format!("x={README_X}")).await;

    let scrape = app.metrics().await;

    for needle in [
        r#"skserve_slo_objective_ratio{slo="availability"} 0.9995"#,
        r#"skserve_slo_sli_ratio{slo="availability",window="5m"} 1"#,
        r#"skserve_slo_burn_rate{slo="availability",window="30d"} 0"#,
        r#"skserve_slo_error_budget_remaining_ratio{slo="latency-400ms"} 1"#,
        // Present, whatever its value: the test process's own memory may fire it.
        r#"skserve_slo_alert_firing{severity="page",slo="memory"} "#,
    ] {
        assert!(scrape.contains(needle), "/metrics lacks {needle}");
    }
}

/// Metric names in a rules, rule-test or dashboard file: every identifier that starts as
/// skserve's or the process collector's metrics do (recording rules, with colons, are not
/// exported, so not looked for).
fn metric_names(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|token| token.starts_with("skserve_") || token.starts_with("process_"))
        .filter(|token| !token.contains(':'))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_metric_named_in_monitoring_is_exported() {
    let app = spawn_app().await;
    app.post_seed_form(&format!("x={README_X}")).await;
    let scrape = app.metrics().await;
    let exported: BTreeSet<&str> = scrape
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();

    let monitoring = repo().join("monitoring");
    let mut files = vec![monitoring.join("prometheus/skserve-slos.yaml")];
    for dir in ["prometheus/tests", "grafana"] {
        for entry in std::fs::read_dir(monitoring.join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let mut checked = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for name in metric_names(&text) {
            assert!(
                exported.contains(name.as_str()),
                "{} names {name}, which a live /metrics does not export",
                file.display()
            );
            checked.insert(name);
        }
    }
    for expected in [
        "skserve_http_requests_total",
        "skserve_http_request_duration_seconds_bucket",
        "skserve_slo_burn_rate",
        "process_resident_memory_bytes",
    ] {
        assert!(checked.contains(expected), "no file names {expected}");
    }
}

#[tokio::test]
#[ignore = "full tier: needs Debian's chromium (tests/run.sh)"]
async fn the_dashboard_shows_the_figures_of_slo_json() {
    let app = spawn_app_with_timeout().await;
    mixed_traffic(&app).await;
    let before = app.slo_json().await;
    let profile = std::env::temp_dir().join(format!("skserve-chromium-{}", app.port));

    let dom = chromium(&profile, &["--dump-dom"], &app.url("/slo")).await;
    let screenshot = repo().join("target/slo-dashboard.png");
    chromium(
        &profile,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,1600",
        ],
        &app.url("/slo"),
    )
    .await;
    let _ = std::fs::remove_dir_all(&profile);

    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page never rendered:\n{dom}"
    );
    let figures = app.slo_json().await;
    for slo in figures["slos"].as_array().unwrap() {
        let name = slo["name"].as_str().unwrap();
        // The page drew what /slo.json says now: no request SLO event arrived meanwhile.
        if slo["kind"] != "memory" {
            let counts = |slo: &Value| -> Vec<(Value, Value)> {
                let windows = slo["windows"].as_array().unwrap();
                windows
                    .iter()
                    .map(|w| (w["good"].clone(), w["total"].clone()))
                    .collect()
            };
            let earlier = before["slos"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name);
            assert_eq!(counts(earlier.unwrap()), counts(slo), "{name} changed");
        }
        let sli = slo["sli"].as_f64();
        let (value, text) = rendered(&dom, name, "data-field=\"sli\"");
        assert_eq!(number(&value), sli, "{name} SLI");
        // An SLO with no events yet (model health before its first interval) shows a dash.
        let shown = sli.map_or("–".to_owned(), |sli| format!("{:.3} %", sli * 100.0));
        assert_eq!(text, shown, "{name} SLI");

        let (value, text) = rendered(&dom, name, "data-field=\"objective\"");
        assert_eq!(
            number(&value),
            slo["objective"].as_f64(),
            "{name} objective"
        );
        let percent = slo["objective_percent"].as_f64().unwrap();
        assert_eq!(text, format!("{percent} %"), "{name} objective");

        let remaining = slo["error_budget_remaining"].as_f64().unwrap();
        let (value, text) = rendered(&dom, name, "data-field=\"budget-remaining\"");
        assert_eq!(number(&value), Some(remaining), "{name} budget");
        let digits = if remaining.abs() >= 10.0 { 0 } else { 1 };
        let shown = format!("{:.digits$} %", remaining * 100.0);
        assert_eq!(text, shown, "{name} budget");

        for window in slo["windows"].as_array().unwrap() {
            let w = window["window"].as_str().unwrap();
            let burn_rate = window["burn_rate"].as_f64().unwrap();
            let (value, text) = rendered(
                &dom,
                name,
                &format!("data-field=\"burn-rate\" data-window=\"{w}\""),
            );
            assert_eq!(number(&value), Some(burn_rate), "{name} burn rate {w}");
            assert_eq!(text, format!("{burn_rate:.2}×"), "{name} burn rate {w}");
            if name != "memory" {
                let (value, _) = rendered(
                    &dom,
                    name,
                    &format!("data-field=\"window-sli\" data-window=\"{w}\""),
                );
                assert_eq!(number(&value), window["sli"].as_f64(), "{name} SLI {w}");
            }
        }
        for alert in slo["alerts"].as_array().unwrap() {
            let severity = alert["severity"].as_str().unwrap();
            let state = match (alert["enabled"].as_bool(), alert["firing"].as_bool()) {
                (Some(false), _) => "off",
                (_, Some(true)) => severity,
                _ => "ok",
            };
            assert!(
                dom.contains(&format!(
                    "data-field=\"alert\" data-severity=\"{severity}\" data-state=\"{state}\""
                )),
                "{name} {severity} alert is not shown {state}"
            );
        }
        assert!(dom.contains(&format!(
            "data-field=\"status\" data-state=\"{}\"",
            slo["status"].as_str().unwrap()
        )));
    }
    assert!(dom.contains(&format!(
        "id=\"memory-limit\" data-value=\"{}\"",
        figures["memory"]["limit_bytes"]
    )));
    assert!(dom.contains(&format!(
        "<td data-field=\"model-version\">{}</td>",
        figures["models"][0]["version"].as_str().unwrap()
    )));
    let (before, said) = by_id(&dom, "first-scrape");
    assert_eq!(before.as_deref(), Some("22"));
    assert!(
        said.starts_with("22 requests answered before the first scrape of /metrics"),
        "{said}"
    );
    assert!(screenshot.exists());
}

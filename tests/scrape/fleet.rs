//! The fleet view against a real Prometheus (Debian's `prometheus`, installed by
//! `tests/run.sh`): it scrapes two skserve instances on their admin ports every 500 ms and
//! evaluates `skserve slo rules`; each instance asks it for the fleet's SLOs. After a burst of
//! load during which one instance sheds, the fleet figures on `/slo.json` are the two
//! instances' own together, and the rules' availability SLI is the engines' within 3 %.
//! Headless Chromium shows the fleet panel and the budget chart (screenshots under `target/`);
//! with Prometheus stopped, or stalled behind a proxy that never answers, the panel goes stale
//! and says why, while `/slo.json` and predictions carry on.
//!
//! Prometheus' `increase` extrapolates each series' last sample to the end of the by
//! at most one scrape interval: over a series scraped for 30 s, counts are at most 1.7 % high,
//! which the 3 % tolerances cover; the instances' engines count exactly.

use std::time::{Duration, Instant};

use serde_json::Value;
use skserve::config::ServeSettings;
use skserve::slo::SloSpec;
use skserve::slo::fleet::FleetSettings;

use crate::helpers::{
    Fault, FaultProxy, Load, TestApp, attribute, by_id, chromium, number, rendered, repo, slo,
    spawn_app_with_admin, v2_request, x_test,
};
use crate::prometheus::{Prometheus, free_port};
use crate::window;

/// How often each instance may ask Prometheus for the fleet's figures (figures are fresh for
/// twice this: long enough for Chromium to start and load the page).
const REFRESH: Duration = Duration::from_secs(2);
/// Scraped at least this long before figures are compared, so that extrapolation stays small.
const SCRAPED_FOR: Duration = Duration::from_secs(30);
const TOLERANCE: f64 = 0.03;
/// Rows per prediction: enough work that concurrent requests overlap and the instance limited
/// to one in flight sheds.
const ROWS: usize = 200;

/// An instance serving on one port and its admin routes on another, asking `prometheus` for
/// the fleet's figures. Only its concurrency limit sheds: waiting in a queue never does, since
/// a machine busy with other tests can make any queue stand for a while.
async fn instance(prometheus: &str, max_concurrency: usize) -> (TestApp, TestApp) {
    spawn_app_with_admin(ServeSettings {
        fleet: Some(FleetSettings::new(prometheus, REFRESH)),
        max_concurrency,
        max_queue_wait: None,
        ..ServeSettings::default()
    })
    .await
}

fn count(value: &Value) -> f64 {
    value.as_f64().unwrap()
}

/// `actual` within `TOLERANCE` of `expected`, relatively.
fn close(actual: f64, expected: f64, what: &str) {
    let off = (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE);
    assert!(
        off <= TOLERANCE,
        "{what}: {actual} is {:.2} % off {expected}",
        off * 100.0
    );
}

/// Waits until the fleet figures an instance shows (and its budget charts, with `charts`) were
/// refreshed after `since` (unix s).
async fn fleet_refreshed_after(admin: &TestApp, since: f64, charts: bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let figures = admin.slo_json().await;
        let fleet = &figures["fleet"];
        let after = |field: &str| fleet[field].as_f64().is_some_and(|u| u > since);
        let charted = !charts || after("budget_history_updated");
        if fleet["state"] == "fresh" && after("updated") && charted {
            return figures;
        }
        assert!(
            Instant::now() < deadline,
            "the fleet figures never refreshed: {fleet}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Sum of the instances' figures for `slo` over `window`: good and total events.
fn together(instances: &[&Value], slo_name: &str, window_name: &str) -> (f64, f64) {
    instances.iter().fold((0.0, 0.0), |(good, total), figures| {
        let w = window(slo(figures, slo_name), window_name);
        (good + count(&w["good"]), total + count(&w["total"]))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full tier: needs Debian's prometheus (tests/run.sh)"]
async fn prometheus_over_two_instances_gives_the_fleet_the_instances_figures_together() {
    let _alone = crate::one_prometheus_at_a_time().await;
    // Arrange: Prometheus on a port chosen first, so that the instances know where to ask.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let (a, a_admin) = instance(&url, 4096).await;
    let (b, b_admin) = instance(&url, 1).await;
    let spec = SloSpec::embedded(skserve::metrics::LATENCY_BUCKETS);
    let rules = skserve::slo::prometheus_rules(&spec);
    let targets = [a_admin.port, b_admin.port].map(|p| format!("127.0.0.1:{p}").parse().unwrap());
    let prometheus = Prometheus::start(port, &targets, &rules).await;
    let scraped_since = Instant::now();

    // Act: a burst of predictions on both; B, limited to one in flight, sheds many of them.
    let body = v2_request(&x_test(ROWS));
    let loads = [&a, &b].map(|app| {
        let (url, body) = (app.url("/v2/models/pickle_model/infer"), body.clone());
        Load::start(6, move |client| client.post(&url).json(&body))
    });
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut answers = Vec::new();
    for load in loads {
        answers.push(load.stop().await);
    }
    let a_figures = a_admin.slo_json().await;
    let b_figures = b_admin.slo_json().await;
    let instances = [&a_figures, &b_figures];
    let (good, total) = together(&instances, "availability", "5m");
    let sheds = answers[1].iter().filter(|r| r.status == Some(503)).count() as f64;
    let a_refused: Vec<_> = answers[0]
        .iter()
        .filter(|r| r.status != Some(200))
        .collect();
    assert!(
        a_refused.is_empty(),
        "A is not limited and sheds nothing, yet answered {} requests otherwise, e.g. {:?}",
        a_refused.len(),
        a_refused.first()
    );
    assert!(sheds >= 0.01 * total, "B shed only {sheds} of {total}");
    assert_eq!(total - good, sheds, "every bad event is a shed");

    // Prometheus has scraped the last of it, and evaluated the rules since.
    let counted = r#"sum(skserve_http_requests_total{job="skserve",route!~"/metrics|/slo|/slo\\.json|/v2/health/live|/v2/health/ready",code=~"[1-35]..|429"})"#;
    prometheus
        .wait_for("the last requests scraped", |p| async move {
            p.value(counted).await == Some(total)
        })
        .await;
    let caught_up = unix_now();
    prometheus
        .wait_for("the rules evaluated since", |p| async move {
            p.value(r#"timestamp(slo:sli_error:ratio_rate5m{slo="availability"})"#)
                .await
                .is_some_and(|t| t > caught_up + 1.0)
        })
        .await;
    if let Some(rest) = SCRAPED_FOR.checked_sub(scraped_since.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let engines_error_ratio = (total - good) / total;
    let rules_error_ratio = prometheus
        .value(r#"slo:sli_error:ratio_rate5m{slo="availability"}"#)
        .await
        .expect("the availability recording");
    let figures = fleet_refreshed_after(&a_admin, caught_up, true).await;
    let fleet = &figures["fleet"];

    // Assert: Prometheus' rules against the engines, on a burst of sheds.
    println!(
        "availability error ratio over 5m: engines {engines_error_ratio:.5} ({} bad of {total}), \
         Prometheus' rules {rules_error_ratio:.5}",
        total - good
    );
    close(
        rules_error_ratio,
        engines_error_ratio,
        "the rules' error ratio",
    );

    // The fleet's figures are the two instances' together, in every window.
    assert_eq!(fleet["source"], url.as_str());
    assert_eq!(fleet["instances"], 2);
    assert_eq!(fleet["error"], Value::Null);
    for name in ["availability", "latency-400ms", "latency-50ms"] {
        let fleet_slo = slo(fleet, name);
        for w in fleet_slo["windows"].as_array().unwrap() {
            let window_name = w["window"].as_str().unwrap();
            let (good, total) = together(&instances, name, window_name);
            let what = format!("{name} over {window_name}");
            close(count(&w["total"]), total, &format!("{what}: total"));
            close(count(&w["good"]), good, &format!("{what}: good"));
            let fleet_bad = count(&w["total"]) - count(&w["good"]);
            if total > good {
                close(
                    fleet_bad / count(&w["total"]),
                    (total - good) / total,
                    &format!("{what}: error ratio"),
                );
            }
        }
        let (good, total) = together(&instances, name, "30d");
        println!(
            "{name}: fleet {} good of {}, SLI {}, budget left {}, status {}; the instances \
             together {good} of {total}, SLI {}",
            fleet_slo["good"],
            fleet_slo["total"],
            fleet_slo["sli"],
            fleet_slo["error_budget_remaining"],
            fleet_slo["status"],
            good / total
        );
        let history = &fleet_slo["budget_history"];
        let last = history["remaining"].as_array().unwrap().last().unwrap();
        let remaining = count(&fleet_slo["error_budget_remaining"]);
        assert!(
            (count(last) - remaining).abs() <= TOLERANCE * remaining.abs().max(1.0),
            "{name}: the budget chart ends at {last}, the budget left is {remaining}"
        );
    }
    let memory = slo(fleet, "memory");
    assert_eq!(memory["sli"], 1.0, "{memory}");
    assert!(count(&memory["total"]) > 0.0);

    // The page shows the fleet beside this instance, and the budget chart.
    let page = a_admin.url("/slo");
    let profile = std::env::temp_dir().join(format!("skserve-chromium-fleet-{}", a_admin.port));
    let screenshot = repo().join("target/slo-fleet-dashboard.png");
    let shot = format!("--screenshot={}", screenshot.display());
    fleet_refreshed_after(&a_admin, unix_now(), false).await;
    chromium(&profile, &[&shot, "--window-size=1280,1800"], &page).await;
    fleet_refreshed_after(&a_admin, unix_now(), false).await;
    // The page reads /slo.json while it loads: its figures are those read just before or
    // just after, since this instance's figures may move between two reads.
    let before = a_admin.slo_json().await;
    let dom = chromium(&profile, &["--dump-dom"], &page).await;
    let shown = a_admin.slo_json().await;
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page never rendered:\n{dom}"
    );
    assert_eq!(by_id(&dom, "fleet-state").1, "fresh");
    assert_eq!(by_id(&dom, "fleet-instances").0.as_deref(), Some("2"));
    for fleet_slo in shown["fleet"]["slos"].as_array().unwrap() {
        let name = fleet_slo["name"].as_str().unwrap();
        let (value, _) = rendered(&dom, name, "data-field=\"fleet-budget-remaining\"");
        let drawn = number(&value).unwrap();
        let now = count(&fleet_slo["error_budget_remaining"]);
        assert!(
            (drawn - now).abs() <= TOLERANCE * now.abs().max(1.0),
            "{name}: {drawn} != {now}"
        );
        let (value, _) = rendered(&dom, name, "data-field=\"sli\"");
        let read = [&before, &shown].map(|figures| slo(figures, name)["sli"].as_f64());
        assert!(
            read.contains(&number(&value)),
            "{name}: this instance shows {value:?}, /slo.json said {read:?}"
        );
        let chart_at = dom
            .find(&format!("aria-label=\"error budget left, {name}\""))
            .unwrap();
        let chart = &dom[chart_at..chart_at + dom[chart_at..].find('>').unwrap()];
        assert_eq!(
            attribute(chart, "data-source").as_deref(),
            Some("fleet"),
            "{name}"
        );
        assert!(
            attribute(chart, "data-points")
                .unwrap()
                .parse::<u32>()
                .unwrap()
                >= 2,
            "{chart}"
        );
    }
    assert!(screenshot.exists());

    // Prometheus stops: the panel goes stale and says why; predictions carry on. (The first
    // refresh after the stop may find a pooled connection closed; the next ones are refused.)
    prometheus.stop().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let stale = loop {
        let figures = a_admin.slo_json().await;
        let fleet = &figures["fleet"];
        let refused = fleet["error"]
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("refused"));
        if fleet["state"] == "stale" && refused {
            break figures;
        }
        assert!(
            Instant::now() < deadline,
            "never stale: {}",
            figures["fleet"]
        );
        assert_eq!(
            a.infer("pickle_model", &v2_request(&x_test(3)))
                .await
                .status(),
            200
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let why = stale["fleet"]["error"].as_str().unwrap();
    println!("with Prometheus stopped, the fleet panel says: {why}");
    assert!(
        why.starts_with(&url) && why.to_lowercase().contains("refused"),
        "{why}"
    );
    assert_eq!(stale["fleet"]["instances"], 2, "the last good figures stay");
    for app in [&a, &b] {
        assert_eq!(
            app.infer("pickle_model", &v2_request(&x_test(3)))
                .await
                .status(),
            200
        );
    }
    let dom = chromium(&profile, &["--dump-dom"], &page).await;
    let screenshot = repo().join("target/slo-fleet-stale.png");
    let shot = format!("--screenshot={}", screenshot.display());
    chromium(&profile, &[&shot, "--window-size=1280,900"], &page).await;
    let _ = std::fs::remove_dir_all(&profile);
    assert_eq!(by_id(&dom, "fleet-state").1, "stale");
    let (_, said) = by_id(&dom, "fleet-error");
    assert!(said.contains("refused"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full tier: needs Debian's prometheus (tests/run.sh)"]
async fn a_prometheus_that_never_answers_leaves_the_figures_stale_and_serving_untouched() {
    let _alone = crate::one_prometheus_at_a_time().await;
    let port = free_port();
    let proxy = FaultProxy::start(port).await;
    let (app, admin) = spawn_app_with_admin(ServeSettings {
        fleet: Some(FleetSettings {
            query_timeout: Duration::from_secs(1),
            ..FleetSettings::new(&proxy.url(), REFRESH)
        }),
        ..ServeSettings::default()
    })
    .await;
    let spec = SloSpec::embedded(skserve::metrics::LATENCY_BUCKETS);
    let target = format!("127.0.0.1:{}", admin.port).parse().unwrap();
    let prometheus =
        Prometheus::start(port, &[target], &skserve::slo::prometheus_rules(&spec)).await;
    let figures = fleet_refreshed_after(&admin, unix_now(), false).await;
    assert_eq!(figures["fleet"]["instances"], 1);

    proxy.set(Fault::Stall);
    let deadline = Instant::now() + Duration::from_secs(60);
    let stale = loop {
        // Every look answers at once with the last figures, and predictions are served.
        let figures = admin.slo_json().await;
        assert_eq!(figures["fleet"]["instances"], 1);
        assert_eq!(
            app.infer("pickle_model", &v2_request(&x_test(3)))
                .await
                .status(),
            200
        );
        if figures["fleet"]["state"] == "stale" {
            break figures;
        }
        assert!(
            Instant::now() < deadline,
            "never stale: {}",
            figures["fleet"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let why = stale["fleet"]["error"].as_str().unwrap();
    println!("with Prometheus stalled, the fleet panel says: {why}");
    assert_eq!(why, format!("{}: no answer within 1 s", proxy.url()));
    prometheus.stop().await;
}

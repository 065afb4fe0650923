//! The first scrape. A Prometheus starts every counter from its first sample, so the requests
//! an instance answers before its `/metrics` is first scraped are in that sample and in no
//! `increase()`: the fleet's SLOs never see them. With `--ready-after-first-scrape`, readiness
//! waits for that scrape, for at most the wait; `/slo.json` and the scrape say how many
//! requests came before it.
//!
//! In process (quick tier): a scraper that never comes holds readiness for the wait and no
//! longer; the first scrape opens it at once and fixes the count. Against a real Prometheus
//! (Debian's `prometheus`, full tier): two instances and a Prometheus scraping every 3 s start
//! together, and each instance takes traffic from the moment it says ready, as a load balancer
//! sends it. With the wait, Prometheus' `increase()` over the two instances is their own count
//! within 1 %; without it, it misses what came before its first scrape, which is what the
//! instances report.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use skserve::config::ServeSettings;
use skserve::slo::SloSpec;

use crate::helpers::{Load, TestApp, sample, slo, spawn_app_with_admin, v2_request, x_test};
use crate::prometheus::{Prometheus, free_port};
use crate::window;

/// `--ready-after-first-scrape` of the Prometheus runs: far longer than Prometheus takes.
const WAIT: Duration = Duration::from_secs(60);
const SCRAPE_INTERVAL: Duration = Duration::from_secs(3);
/// How long each instance takes traffic once it says ready.
const LOAD: Duration = Duration::from_secs(10);
const CLIENTS: usize = 4;
const TOLERANCE: f64 = 0.01;
/// The series of the requests the SLOs count (as `fleet.rs` and the rules select them).
const COUNTED: &str = r#"job="skserve",route!~"/metrics|/slo|/slo\\.json|/v2/health/live|/v2/health/ready",code=~"[1-35]..|429""#;

async fn spawn_waiting(wait: Option<Duration>) -> (TestApp, TestApp) {
    spawn_app_with_admin(ServeSettings {
        first_scrape_wait: wait,
        // Only the concurrency limit sheds: a machine busy with other tests can make a queue
        // stand for a while.
        max_queue_wait: None,
        ..ServeSettings::default()
    })
    .await
}

async fn predict(app: &TestApp) {
    let answer = app.infer("pickle_model", &v2_request(&x_test(3))).await;
    assert_eq!(answer.status(), 200);
}

/// Polls readiness every 20 ms until it is 200; when that was.
async fn ready(app: &TestApp, deadline: Duration) -> Instant {
    let give_up = Instant::now() + deadline;
    loop {
        let status = app.ready().await.status();
        if status == 200 {
            return Instant::now();
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < give_up, "not ready within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_scraper_that_never_comes_holds_readiness_for_the_wait_only() {
    let wait = Duration::from_secs(2);
    let (app, admin) = spawn_waiting(Some(wait)).await;

    let held = app.ready().await;
    assert_eq!(held.status(), 503);
    let body: Value = held.json().await.unwrap();
    let why = body["error"].as_str().unwrap();
    assert!(why.contains("first scrape of /metrics"), "{why}");
    // Readiness steers traffic; requests that come anyway are served, and counted as unseen.
    for _ in 0..3 {
        predict(&app).await;
    }
    let figures = admin.slo_json().await;
    let first = &figures["first_scrape"];
    assert_eq!(first["state"], "waiting", "{first}");
    assert_eq!(first["wait_seconds"], 2.0);
    assert_eq!(first["events_before"], 3);
    assert_eq!(first["events_uncounted"], true);

    // Nothing scrapes: the instance turns ready when the wait runs out.
    ready(&app, Duration::from_secs(30)).await;
    let first = admin.slo_json().await["first_scrape"].clone();
    assert_eq!(first["state"], "not_scraped", "{first}");
    assert_eq!(first["scraped_at"], Value::Null);
    predict(&app).await;

    // A late scrape exports the 4 requests it cannot count; later ones are counted.
    let scrape = admin.metrics().await;
    assert_eq!(sample(&scrape, "skserve_requests_before_first_scrape"), 4.0);
    predict(&app).await;
    let first = admin.slo_json().await["first_scrape"].clone();
    assert_eq!(first["state"], "scraped");
    assert_eq!(first["events_before"], 4);
    assert!(first["scraped_after_seconds"].as_f64().unwrap() >= 2.0);
}

#[tokio::test]
async fn the_first_scrape_makes_a_waiting_instance_ready_with_nothing_uncounted() {
    let (app, admin) = spawn_waiting(Some(WAIT)).await;
    assert_eq!(app.ready().await.status(), 503);
    // Probes and the dashboard are no requests of the SLOs.
    assert_eq!(admin.ready().await.status(), 503);
    assert_eq!(admin.get("/slo").await.status(), 200);

    let scrape = admin.metrics().await;
    assert!(scrape.contains("# TYPE skserve_requests_before_first_scrape gauge"));
    assert_eq!(sample(&scrape, "skserve_requests_before_first_scrape"), 0.0);
    assert_eq!(app.ready().await.status(), 200);
    for _ in 0..3 {
        predict(&app).await;
    }
    let scrape = admin.metrics().await;
    assert_eq!(sample(&scrape, "skserve_requests_before_first_scrape"), 0.0);
    let first = admin.slo_json().await["first_scrape"].clone();
    assert_eq!(first["state"], "scraped", "{first}");
    assert_eq!(first["events_before"], 0);
    assert_eq!(first["events_uncounted"], false);
    assert!(first["scraped_at"].as_f64().is_some());
}

/// What one run of two instances and a Prometheus counted.
#[derive(Debug)]
struct Run {
    /// The requests the instances' own engines counted.
    instances: f64,
    /// Prometheus' `increase()` of the same counters over the run, each instance's evaluated
    /// at its last scrape (so that `increase` adds nothing past the last sample).
    prometheus: f64,
    /// Prometheus' first sample of each counter, added up: its starting points.
    baselines: f64,
    /// The requests the instances answered before their first scrape (`/slo.json`), and what
    /// Prometheus read of `skserve_requests_before_first_scrape`.
    before: f64,
    before_scraped: f64,
}

impl Run {
    /// How far Prometheus' count is below the instances'.
    fn missing(&self) -> f64 {
        (self.instances - self.prometheus) / self.instances
    }
}

/// Two instances and a Prometheus started together; each instance takes [`LOAD`] from the
/// moment it says ready.
async fn two_instances_and_a_prometheus(wait: Option<Duration>) -> Run {
    let (a, a_admin) = spawn_waiting(wait).await;
    let (b, b_admin) = spawn_waiting(wait).await;
    let spec = SloSpec::embedded(skserve::metrics::LATENCY_BUCKETS);
    let targets = [&a_admin, &b_admin].map(|admin| format!("127.0.0.1:{}", admin.port));
    let addresses: [SocketAddr; 2] = targets.clone().map(|t| t.parse().unwrap());
    let prometheus = Prometheus::launch(
        free_port(),
        &addresses,
        &skserve::slo::prometheus_rules(&spec),
        SCRAPE_INTERVAL,
    );

    let body = v2_request(&x_test(10));
    let take_traffic = |app: &TestApp| {
        let (url, body) = (app.url("/v2/models/pickle_model/infer"), body.clone());
        let app = TestApp::at(app.port);
        async move {
            ready(&app, WAIT + Duration::from_secs(30)).await;
            let load = Load::start(CLIENTS, move |client| client.post(&url).json(&body));
            tokio::time::sleep(LOAD).await;
            load.stop().await
        }
    };
    let (a_answers, b_answers) = tokio::join!(take_traffic(&a), take_traffic(&b));
    for answer in a_answers.iter().chain(&b_answers) {
        assert_eq!(answer.status, Some(200), "{answer:?}");
    }

    let mut run = Run {
        instances: 0.0,
        prometheus: 0.0,
        baselines: 0.0,
        before: 0.0,
        before_scraped: 0.0,
    };
    for (admin, target) in [&a_admin, &b_admin].into_iter().zip(&targets) {
        let figures = admin.slo_json().await;
        let total = window(slo(&figures, "availability"), "5m")["total"]
            .as_f64()
            .unwrap();
        let series = format!(r#"skserve_http_requests_total{{{COUNTED},instance="{target}"}}"#);
        let counter = format!("sum({series})");
        prometheus
            .wait_for("the last requests scraped", |p| {
                let counter = counter.clone();
                async move { p.value(&counter).await == Some(total) }
            })
            .await;
        let up = format!(r#"timestamp(up{{instance="{target}"}})"#);
        let last_scrape = prometheus.value(&up).await.expect("a last scrape");
        let at = |promql: String| {
            let prometheus = &prometheus;
            async move {
                prometheus
                    .value_at(&promql, last_scrape)
                    .await
                    .unwrap_or_else(|| panic!("no value for {promql}"))
            }
        };
        run.instances += total;
        run.prometheus += at(format!("sum(increase({series}[5m]))")).await;
        run.baselines += at(format!("sum(min_over_time({series}[5m]))")).await;
        run.before += figures["first_scrape"]["events_before"].as_f64().unwrap();
        run.before_scraped += at(format!(
            r#"skserve_requests_before_first_scrape{{instance="{target}"}}"#
        ))
        .await;
    }
    prometheus.stop().await;
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full tier: needs Debian's prometheus (tests/run.sh)"]
async fn prometheus_counts_every_request_when_readiness_waits_for_its_first_scrape() {
    let _alone = crate::one_prometheus_at_a_time().await;
    let with = two_instances_and_a_prometheus(Some(WAIT)).await;
    let without = two_instances_and_a_prometheus(None).await;
    for (name, run) in [("with the wait", &with), ("without", &without)] {
        println!(
            "{name}: the instances counted {} requests, Prometheus' increase() {} ({:.2} % \
             missing); its first samples held {}; the instances answered {} before their \
             first scrape (skserve_requests_before_first_scrape: {})",
            run.instances,
            run.prometheus,
            run.missing() * 100.0,
            run.baselines,
            run.before,
            run.before_scraped
        );
    }

    // With the wait, every counter's first sample is 0: Prometheus counts every request.
    assert_eq!(
        (with.before, with.before_scraped, with.baselines),
        (0.0, 0.0, 0.0)
    );
    assert!(
        with.missing().abs() <= TOLERANCE,
        "with the wait, Prometheus counted {with:?}"
    );

    // Without it, the first samples hold what came before them, and Prometheus misses it; the
    // instances say how much, give or take the requests answered while the first scrape was
    // rendered: in its sample, after the instance marked itself scraped. How many that is
    // follows how fast the instance answers (alone on 2 cores, about 12,000 a second each, and
    // 43 such requests over both instances): a thousandth of the count, or twice the clients.
    assert!(without.before > 0.0, "{without:?}");
    let slack = (2.0 * CLIENTS as f64).max(without.before / 1000.0);
    assert!(
        (without.baselines - without.before).abs() <= slack,
        "{without:?}"
    );
    assert!(
        (without.before_scraped - without.before).abs() <= slack,
        "{without:?}"
    );
    assert!(
        without.missing() > TOLERANCE,
        "without the wait, Prometheus still counted {without:?}"
    );
}

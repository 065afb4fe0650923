//! `--admin-listen`: a second listener that serves the operators' routes (`/metrics`, `/slo`,
//! `/slo.json`, the probes) without a token, while the serving address keeps them behind the
//! access checks; the series known in advance, exported at 0 before any request; a refused
//! non-loopback admin address; and SIGTERM stopping both listeners.

use skserve::config::ServeSettings;
use skserve::http::CALLER_ROUTES;

use crate::helpers::{
    README_X, TestIssuer, TestKey, claims, json, sample, spawn_app_with_admin, spawn_binary,
};

#[tokio::test]
async fn under_google_auth_the_serving_port_refuses_metrics_and_the_admin_port_serves_them() {
    let key = TestKey::load("a");
    let issuer = TestIssuer::start(&[&key]).await;
    let (app, admin) = spawn_app_with_admin(ServeSettings {
        auth: issuer.settings(&[]),
        ..ServeSettings::default()
    })
    .await;
    let token = key.mint(&claims("ana@example.com"));

    for path in ["/metrics", "/slo", "/slo.json"] {
        let refused = app.get(path).await;
        assert_eq!(refused.status(), 401, "{path} on the serving port");
        assert!(refused.headers().contains_key("www-authenticate"));
        let with_token = app
            .client
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(with_token.status(), 200, "{path} with a token");
        assert_eq!(
            admin.get(path).await.status(),
            200,
            "{path} on the admin port"
        );
    }
    for probe in ["/v2/health/live", "/v2/health/ready"] {
        assert_eq!(app.get(probe).await.status(), 200);
        assert_eq!(admin.get(probe).await.status(), 200);
    }

    // The admin port serves nothing else, and says so in JSON.
    let (status, body) = json(admin.post_seed_form(&format!("x={README_X}")).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no route for POST /");
    let (status, _) = json(admin.get("/v2/models/pickle_model").await).await;
    assert_eq!(status, 404);

    // One registry behind both: the admin scrape counts the serving port's refusals.
    let scrape = admin.metrics().await;
    assert_eq!(
        sample(&scrape, r#"skserve_auth_failures_total{reason="missing"}"#),
        3.0
    );
    assert_eq!(
        sample(
            &scrape,
            r#"skserve_http_requests_total{code="401",method="GET",route="/metrics"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn series_known_in_advance_are_scraped_at_zero_before_any_request() {
    let (_app, admin) = spawn_app_with_admin(ServeSettings::default()).await;

    let scrape = admin.metrics().await;

    for (route, method) in CALLER_ROUTES {
        for code in ["200", "500", "503"] {
            let series = format!(
                r#"skserve_http_requests_total{{code="{code}",method="{method}",route="{route}"}} 0"#
            );
            assert!(scrape.contains(&series), "no {series}");
        }
        for class in ["2xx", "5xx"] {
            let series = format!(
                r#"skserve_http_request_duration_seconds_count{{code_class="{class}",method="{method}",route="{route}"}} 0"#
            );
            assert!(scrape.contains(&series), "no {series}");
        }
    }
    for reason in ["concurrency", "queue_wait", "connections"] {
        assert!(scrape.contains(&format!(
            r#"skserve_http_shed_total{{reason="{reason}"}} 0"#
        )));
    }
    assert!(scrape.contains(r#"skserve_prediction_rows_total{model="pickle_model"} 0"#));
    // What cannot happen is not exported: no access checks, a built-in model that never
    // refreshes, no 4xx known in advance.
    assert!(!scrape.contains("skserve_auth_failures_total{"));
    assert!(!scrape.contains("skserve_model_refresh_total{"));
    assert!(!scrape.contains(r#"code="404""#));
}

#[test]
fn a_non_loopback_admin_address_is_refused_without_the_insecure_flag() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["serve", "--admin-listen", "0.0.0.0:0"])
        .env_remove("PORT")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--admin-listen: refusing to serve /metrics, /slo and /slo.json without a token on 0.0.0.0:0"),
        "{stderr}"
    );
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");
}

#[tokio::test]
async fn sigterm_stops_both_listeners_and_the_process_exits_0() {
    let server = spawn_binary(&["--admin-listen", "127.0.0.1:0"], &[]).await;
    let admin = server.admin.as_ref().expect("the admin address is logged");
    assert_eq!(admin.ready().await.status(), 200);
    assert_eq!(server.ready().await.status(), 200);
    let (serving, admin) = (server.port, admin.port);

    server.sigterm();
    let (status, log) = server.exit().await;

    assert!(status.success(), "{status:?}\n{log}");
    for port in [serving, admin] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still accepts after the exit"
        );
    }
    assert!(log.contains("all requests finished; stopped"), "{log}");
}

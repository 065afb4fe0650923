//! Load shedding: beyond `--max-concurrency` requests in flight, a request is answered 503
//! with `Retry-After` at once instead of queueing; health probes and scrapes are never shed;
//! sheds burn the availability SLO; capacity returns as requests finish.

use skserve::config::ServeSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{README_X, json, spawn_app_with, start_request};

#[tokio::test]
async fn requests_beyond_the_limit_are_shed_with_retry_after() {
    // Arrange: a limit of 2, both taken by requests whose handlers wait for their bodies.
    let app = spawn_app_with(ServeSettings {
        max_concurrency: 2,
        ..ServeSettings::default()
    })
    .await;
    let body = format!("x={README_X}");
    let held = [
        start_request(app.port, body.len()).await,
        start_request(app.port, body.len()).await,
    ];

    // Act: a third request.
    let shed = app.post_seed_form(&body).await;

    // Assert: shed at once, with a reason and a hint when to come back; probes still answer.
    assert_eq!(shed.status(), 503);
    assert_eq!(shed.headers()["retry-after"], "1");
    let (_, error) = json(shed).await;
    assert_eq!(
        error["error"],
        "the server is at its limit of 2 requests in flight; retry shortly"
    );
    assert_eq!(app.live().await.status(), 200);
    assert_eq!(app.ready().await.status(), 200);
    assert!(
        app.metrics()
            .await
            .contains(r#"skserve_http_requests_total{code="503",method="POST",route="/"} 1"#)
    );
    let slo = app.slo_json().await;
    let availability = slo["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "availability")
        .unwrap();
    assert_eq!(
        availability["total"].as_u64().unwrap() - availability["good"].as_u64().unwrap(),
        1
    );

    // The held requests complete normally, and their permits come back.
    for mut stream in held {
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
    }
    assert_eq!(app.post_seed_form(&body).await.status(), 200);
}

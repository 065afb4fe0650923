//! Load shedding: beyond `--max-concurrency` requests in flight, a request is answered 503
//! with `Retry-After` at once instead of queueing; health probes and scrapes are never shed;
//! sheds burn the availability SLO; capacity returns as requests finish. Past `--max-connections`
//! a connection is refused, and an answer sent before a body it will not read still reaches a
//! client sending one.

use skserve::config::ServeSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    README_X, json, read_until_closed, spawn_app_with, spawn_binary, start_request,
};

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

/// The seed's request for `body`, as bytes on the wire.
fn raw_seed_request(body: &str) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn connections_past_the_limit_get_a_503_and_are_closed() {
    // Arrange: a limit of 2 connections, both open (kept alive after one request each).
    let app = spawn_app_with(ServeSettings {
        max_connections: 2,
        ..ServeSettings::default()
    })
    .await;
    let body = format!("x={README_X}");
    let request = raw_seed_request(&body);
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        open.push(stream);
    }

    // Act: a third connection.
    let mut third = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    third.write_all(request.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut third).await;

    // Assert: refused with a reason and a hint, then closed; counted as a shed.
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 1\r\n"), "{answer}");
    assert!(lower.contains("connection: close\r\n"), "{answer}");
    assert!(answer.ends_with(
        r#"{"error":"the server is at its limit of 2 open connections; retry shortly"}"#
    ));
    assert!(
        app.metrics()
            .await
            .contains(r#"skserve_http_shed_total{reason="connections"} 1"#)
    );

    // Once a connection closes, its place is free again.
    drop(open.pop());
    let mut served = false;
    for _ in 0..100 {
        if app.post_seed_form(&body).await.status() == 200 {
            served = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(served, "a closed connection's place was never freed");
}

#[tokio::test]
async fn a_client_sending_headers_too_slowly_is_cut_off() {
    // Arrange: headers must arrive within 300 ms.
    let app = spawn_app_with(ServeSettings {
        header_read_timeout: std::time::Duration::from_millis(300),
        ..ServeSettings::default()
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();

    // Act: a header a few bytes every 100 ms, which would take 10 s to finish.
    let header = "POST / HTTP/1.1\r\nHost: test\r\nX-Slow: ".to_owned() + &"a".repeat(300);
    let mut cut_off = false;
    for chunk in header.as_bytes().chunks(3) {
        if slow.write_all(chunk).await.is_err() {
            cut_off = true;
            break;
        }
        let mut byte = [0u8; 1];
        match tokio::time::timeout(std::time::Duration::from_millis(100), slow.read(&mut byte))
            .await
        {
            Ok(Ok(0) | Err(_)) => {
                cut_off = true;
                break;
            }
            Ok(Ok(_)) => panic!("the server answered a request it has not received"),
            Err(_) => {}
        }
    }

    // Assert: the server closed the connection, and serves everyone else.
    assert!(cut_off, "the slow client kept its connection for 10 s");
    assert_eq!(
        app.post_seed_form(&format!("x={README_X}")).await.status(),
        200
    );
}

#[tokio::test]
async fn past_the_refusal_limit_too_a_connection_is_closed_unread() {
    // Arrange: one connection admitted and one being refused, both idle.
    let app = spawn_app_with(ServeSettings {
        max_connections: 1,
        max_refusals: 1,
        ..ServeSettings::default()
    })
    .await;
    let connect = || tokio::net::TcpStream::connect(("127.0.0.1", app.port));
    let admitted = connect().await.unwrap();
    let mut refused = connect().await.unwrap();

    // Act: a third connection.
    let mut third = connect().await.unwrap();
    let answer = read_until_closed(&mut third).await;

    // Assert: closed without a word; the one being refused still gets its 503.
    assert_eq!(answer, "");
    let body = format!("x={README_X}");
    let request = raw_seed_request(&body);
    refused.write_all(request.as_bytes()).await.unwrap();
    assert!(
        read_until_closed(&mut refused)
            .await
            .starts_with("HTTP/1.1 503")
    );
    drop(admitted);
}

/// Sends the head of a request, reads the answer the server gives before the body, then sends
/// the body and reads to the end: the answer's status line, or what went wrong. A server that
/// closes a connection at once after such an answer makes the kernel reset it when the body
/// arrives, and the client, still sending, gets an error instead of the answer.
async fn answered_before_the_body(port: u16, head: String, body_len: usize) -> String {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.ends_with(b"}") {
            let n = stream.read(&mut chunk).unwrap();
            assert_ne!(n, 0, "closed before the answer was complete");
            answer.extend_from_slice(&chunk[..n]);
        }
        // Time for the server to close the connection, if it is going to.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let finished = stream
            .write_all(&vec![b' '; body_len])
            .and_then(|()| stream.shutdown(std::net::Shutdown::Write))
            .and_then(|()| stream.read_to_end(&mut answer));
        match finished {
            Ok(_) => String::from_utf8_lossy(&answer)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
            Err(e) => e.to_string(),
        }
    })
    .await
    .unwrap()
}

/// The head of a V2 request announcing a body of `len` bytes.
fn v2_head(len: usize) -> String {
    format!(
        "POST /v2/models/pickle_model/infer HTTP/1.1\r\nHost: test\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    )
}

// These two run the binary, as clients meet it: against a server in the test's own runtime the
// reset did not show, with or without the lingering close.

#[tokio::test]
async fn a_refused_client_still_sending_its_body_gets_the_503_not_a_reset() {
    // Arrange: the one connection allowed is taken.
    let server = spawn_binary(&["--max-connections", "1"], &[]).await;
    let _admitted = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();

    // Act: a request refused once its head is read, its 64 KiB body sent after the answer.
    let outcome = answered_before_the_body(server.port, v2_head(64 * 1024), 64 * 1024).await;

    // Assert
    assert_eq!(outcome, "HTTP/1.1 503 Service Unavailable");
}

#[tokio::test]
async fn a_client_sending_a_body_too_large_gets_the_413_not_a_reset() {
    // Arrange: bodies of at most 1 KiB.
    let server = spawn_binary(&["--max-body-bytes", "1024"], &[]).await;

    // Act: a request refused for its announced 64 KiB body, sent after the answer.
    let outcome = answered_before_the_body(server.port, v2_head(64 * 1024), 64 * 1024).await;

    // Assert
    assert_eq!(outcome, "HTTP/1.1 413 Payload Too Large");
}

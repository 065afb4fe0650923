//! Graceful shutdown of the real binary: SIGTERM while 50 requests are in flight, and all 50
//! complete. A request is known to be in flight, without any timing, by `Expect: 100-continue`:
//! the server answers `100 Continue` only once the handler has started reading the body.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{README_X, spawn_binary, start_request};

const ARGS: &[&str] = &["--shutdown-grace", "60s"];

#[tokio::test]
async fn sigterm_lets_50_in_flight_requests_finish() {
    // Arrange: 50 requests the server has started handling, each waiting for its body.
    let server = spawn_binary(ARGS, &[]).await;
    let port = server.port;
    let body = format!("x={README_X}");
    let mut in_flight = Vec::new();
    for _ in 0..50 {
        in_flight.push(start_request(port, body.len()).await);
    }

    // Act: SIGTERM, then let every request send its body.
    server.sigterm();
    let mut answers = Vec::new();
    for mut stream in in_flight {
        let body = body.clone();
        answers.push(tokio::spawn(async move {
            stream.write_all(body.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.unwrap();
            String::from_utf8(answer).unwrap()
        }));
    }

    // Assert: all 50 answered in full, and the process then exits cleanly.
    let expected =
        format!("{{\"model_prediction\":\"[1]\",\"received_data\":{{\"x\":\"{README_X}\"}}}}\n");
    for answer in answers {
        let answer = tokio::time::timeout(Duration::from_secs(60), answer)
            .await
            .expect("a request never completed")
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with(&expected), "{answer}");
    }
    let (status, log) = server.exit().await;
    assert!(status.success(), "exit status {status}");
    assert!(log.contains("received SIGTERM"), "{log}");
    assert!(log.contains("all requests finished"), "{log}");
}

#[tokio::test]
async fn the_server_refuses_new_connections_after_shutdown() {
    let server = spawn_binary(ARGS, &[]).await;
    let port = server.port;

    server.sigterm();
    let (status, _log) = server.exit().await;

    assert!(status.success(), "exit status {status}");
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

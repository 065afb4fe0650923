//! Graceful shutdown of the real binary: SIGTERM while 50 requests are in flight, and all 50
//! complete. A request is known to be in flight, without any timing, by `Expect: 100-continue`:
//! the server answers `100 Continue` only once the handler has started reading the body.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::helpers::{README_X, start_request};

/// Starts `skserve serve` on a free port; returns the child and its port.
async fn spawn_binary() -> (Child, u16, tokio::task::JoinHandle<Vec<String>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--shutdown-grace",
            "60s",
        ])
        .env_remove("PORT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the skserve binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("skserve exited before listening");
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            break rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
        }
    };
    // Keep reading the log so the pipe never fills; return it for the assertions.
    let log = tokio::spawn(async move {
        let mut rest = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push(line);
        }
        rest
    });
    (child, port, log)
}

#[tokio::test]
async fn sigterm_lets_50_in_flight_requests_finish() {
    // Arrange: 50 requests the server has started handling, each waiting for its body.
    let (mut child, port, log) = spawn_binary().await;
    let body = format!("x={README_X}");
    let mut in_flight = Vec::new();
    for _ in 0..50 {
        in_flight.push(start_request(port, body.len()).await);
    }

    // Act: SIGTERM, then let every request send its body.
    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
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
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("skserve did not exit after SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let log = log.await.unwrap().join("\n");
    assert!(log.contains("received SIGTERM"), "{log}");
    assert!(log.contains("all requests finished"), "{log}");
}

#[tokio::test]
async fn the_server_refuses_new_connections_after_shutdown() {
    let (mut child, port, _log) = spawn_binary().await;
    let pid = child.id().unwrap().to_string();

    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("skserve did not exit after SIGTERM")
        .unwrap();

    assert!(status.success(), "exit status {status}");
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

//! Raw HTTP/1.1 over a socket, for what a client library hides: a request known to be in flight,
//! an answer read to the connection's close, a status read off the wire.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends a seed request's headers with `Expect: 100-continue` and waits for `100 Continue`: from then on
/// the handler is running and waiting for the body, so the request is known to be in flight
/// without any timing.
pub async fn start_request(port: u16, body_len: usize) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {body_len}\r\nExpect: 100-continue\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.unwrap();
        assert_eq!(n, 1, "connection closed before 100 Continue");
        seen.push(byte[0]);
    }
    assert!(
        seen.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    stream
}

/// Reads what the server sends until it closes the connection.
pub async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status and body of a raw HTTP/1.1 response (`Content-Length` bodies; otherwise whatever
/// came before the connection closed). Status 0 when the connection closed without an answer.
pub async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> (u16, String) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut buffer).await {
            Ok(n) if n > 0 => seen.extend_from_slice(&buffer[..n]),
            _ => return (0, String::from_utf8_lossy(&seen).into_owned()),
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head}"));
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    let mut body = seen[head_end..].to_vec();
    while length.is_none_or(|length| body.len() < length) {
        match stream.read(&mut buffer).await {
            Ok(n) if n > 0 => body.extend_from_slice(&buffer[..n]),
            _ => break,
        }
    }
    (status, String::from_utf8_lossy(&body).into_owned())
}

//! gRPC clients of a running skserve (tonic's, over the stubs skserve generates), request
//! messages for the challenge rows, and calls held in flight: a `ModelInfer` whose message is
//! sent half, over a bare HTTP/2 connection, so that the server is handling it until the test
//! sends the rest.

use http_body_util::BodyExt;
use http_body_util::channel::{Channel as BodyChannel, Sender};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use skserve::grpc::generated::health::health_client::HealthClient;
use skserve::grpc::generated::inference::grpc_inference_service_client::GrpcInferenceServiceClient;
use skserve::grpc::generated::inference::model_infer_request::{
    InferInputTensor, InferRequestedOutputTensor,
};
use skserve::grpc::generated::inference::{InferTensorContents, ModelInferRequest};
use tonic::transport::Channel;

use super::{TestApp, encode};

pub type GrpcClient = GrpcInferenceServiceClient<Channel>;

/// A channel to the app's gRPC port.
pub async fn grpc_channel(app: &TestApp) -> Channel {
    let port = app.grpc_port.expect("the server was started with gRPC");
    Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .expect("connects to skserve's gRPC port")
}

/// A V2 client on a channel of its own.
pub async fn grpc_client(app: &TestApp) -> GrpcClient {
    GrpcInferenceServiceClient::new(grpc_channel(app).await)
}

pub async fn health_client(app: &TestApp) -> HealthClient<Channel> {
    HealthClient::new(grpc_channel(app).await)
}

/// `message` with `authorization: Bearer TOKEN` in its metadata.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn input(rows: &[Vec<f64>], datatype: &str) -> InferInputTensor {
    InferInputTensor {
        name: "x".into(),
        datatype: datatype.into(),
        shape: vec![rows.len() as i64, rows[0].len() as i64],
        ..Default::default()
    }
}

/// The outputs a call asks for, by name.
pub fn requested_outputs(names: &[&str]) -> Vec<InferRequestedOutputTensor> {
    names
        .iter()
        .map(|&name| InferRequestedOutputTensor {
            name: name.into(),
            ..Default::default()
        })
        .collect()
}

/// `ModelInfer` of `rows` as raw contents in `datatype`, as tritonclient sends them.
pub fn raw_infer(
    model: &str,
    rows: &[Vec<f64>],
    datatype: &str,
    asked: &[&str],
) -> ModelInferRequest {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    ModelInferRequest {
        model_name: model.into(),
        inputs: vec![input(rows, datatype)],
        outputs: requested_outputs(asked),
        raw_input_contents: vec![encode(datatype, &flat).into()],
        ..Default::default()
    }
}

/// `ModelInfer` of `rows` in `fp64_contents`.
pub fn typed_infer(model: &str, rows: &[Vec<f64>], asked: &[&str]) -> ModelInferRequest {
    ModelInferRequest {
        model_name: model.into(),
        inputs: vec![InferInputTensor {
            contents: Some(InferTensorContents {
                fp64_contents: rows.iter().flatten().copied().collect(),
                ..Default::default()
            }),
            ..input(rows, "FP64")
        }],
        outputs: requested_outputs(asked),
        ..Default::default()
    }
}

/// gRPC calls of any bytes over one bare HTTP/2 connection, for what tonic's client would not
/// send: malformed frames and messages.
pub struct RawGrpc {
    port: u16,
    sender: hyper::client::conn::http2::SendRequest<http_body_util::Full<Bytes>>,
}

impl RawGrpc {
    pub async fn connect(port: u16) -> Self {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        // Headers and body go in separate writes: without this, Nagle waits for an ACK.
        tcp.set_nodelay(true).unwrap();
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(connection);
        Self { port, sender }
    }

    /// `body` as the whole request body of a call to `path`; its `grpc-status`.
    pub async fn call(&mut self, path: &str, body: Vec<u8>) -> String {
        let request = hyper::Request::post(format!("http://127.0.0.1:{}{path}", self.port))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(http_body_util::Full::new(Bytes::from(body)))
            .unwrap();
        let response = self.sender.send_request(request).await.unwrap();
        let headers = response.headers().clone();
        let collected = response.into_body().collect().await.unwrap();
        let trailers = collected.trailers().cloned().unwrap_or_default();
        trailers
            .get("grpc-status")
            .or_else(|| headers.get("grpc-status"))
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

/// `message` in gRPC's framing: uncompressed, its length, its bytes.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut framed = vec![0u8];
    framed.extend((message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    framed
}

/// A `ModelInfer` the server is reading: its headers and half its message are sent.
pub struct HeldCall {
    rest: Bytes,
    body: Sender<Bytes>,
    answer: tokio::task::JoinHandle<(String, Vec<u8>)>,
}

/// Starts `message` on a connection of its own to `port` and holds it after half its bytes.
pub async fn hold_call(port: u16, message: &ModelInferRequest) -> HeldCall {
    let mut first = Bytes::from(frame(&message.encode_to_vec()));
    let rest = first.split_off(first.len() / 2);

    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let (mut body, frames) = BodyChannel::<Bytes>::new(4);
    let request = hyper::Request::post(format!(
        "http://127.0.0.1:{port}/inference.GRPCInferenceService/ModelInfer"
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(frames)
    .unwrap();
    body.send_data(first).await.unwrap();
    let answer = tokio::spawn(async move {
        let response = sender.send_request(request).await.unwrap();
        let headers = response.headers().clone();
        let collected = response.into_body().collect().await.unwrap();
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let status = trailers
            .get("grpc-status")
            .or_else(|| headers.get("grpc-status"))
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, collected.to_bytes().to_vec())
    });
    HeldCall { rest, body, answer }
}

/// A call held in the only place of a server run with `--max-concurrency 1`, once `shed()` (a
/// REST request) finds the place taken. Until the call is admitted a REST request may take the
/// place instead and the server turn the call away: then another call is held.
pub async fn hold_the_only_place<F: std::future::Future<Output = bool>>(
    port: u16,
    message: &ModelInferRequest,
    mut shed: impl FnMut() -> F,
) -> HeldCall {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let held = hold_call(port, message).await;
        while !held.answer.is_finished() {
            if shed().await {
                return held;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for the held call to take the only place"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl HeldCall {
    /// The answer the server gives without the rest of the message (its timeout's).
    pub async fn answer(self) -> (String, Vec<u8>) {
        let answered = self.answer.await.unwrap();
        drop(self.body);
        answered
    }

    /// Sends the rest of the message; the `grpc-status` and the body of the answer.
    pub async fn finish(mut self) -> (String, Vec<u8>) {
        self.body.send_data(self.rest).await.unwrap();
        drop(self.body);
        self.answer.await.unwrap()
    }
}

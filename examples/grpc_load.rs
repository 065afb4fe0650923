//! Closed-loop load of V2 `ModelInfer` calls over gRPC with tonic's client, as wrk loads REST:
//! `--concurrency` calls in flight at all times over `--connections` HTTP/2 connections, for
//! `--duration` seconds, each call the first `--rows` rows of `model-files/x_test.csv` as raw
//! FP64 contents, asking for `predict` (and `predict_proba` with `--proba`).
//!
//! ```console
//! cargo run --release --example grpc_load -- --target http://127.0.0.1:8081 --rows 1 \
//!     --concurrency 50 --connections 2 --duration 10
//! ```
//!
//! `--write-body FILE` writes the same call's body as gRPC frames it and exits, so that a
//! packaged HTTP/2 loader (h2load, from Debian's nghttp2-client) can send it.
//!
//! Prints one JSON object: calls answered OK per second (and rows per second), latency
//! percentiles (ms) of those calls, and the calls that failed by status code. Every answer is
//! checked to carry one 8-byte label per row, so that a fast wrong answer is not counted as
//! throughput.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use skserve::grpc::generated::inference::ModelInferRequest;
use skserve::grpc::generated::inference::grpc_inference_service_client::GrpcInferenceServiceClient;
use skserve::grpc::generated::inference::model_infer_request::{
    InferInputTensor, InferRequestedOutputTensor,
};
use tokio::sync::Mutex;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

// Only the summary of one set of latencies: gRPC calls have no HTTP status to group by.
#[allow(dead_code)]
#[path = "common/report.rs"]
mod report;

#[derive(Parser)]
struct Args {
    /// The gRPC address, e.g. `http://127.0.0.1:8081`.
    #[arg(long)]
    target: String,
    #[arg(long, default_value = "pickle_model")]
    model: String,
    /// Rows per call.
    #[arg(long, default_value_t = 1)]
    rows: usize,
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// HTTP/2 connections the calls share.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Where the rows come from: one row of numbers a line, comma-separated.
    #[arg(long, default_value = "model-files/x_test.csv")]
    rows_csv: String,
    /// Ask for `predict_proba` too.
    #[arg(long)]
    proba: bool,
    /// ID token sent as `authorization: Bearer …`, also read from TOKEN.
    #[arg(long, env = "TOKEN")]
    token: Option<String>,
    /// Write the call's body, as gRPC frames it on the wire (a 5-byte prefix, then the
    /// message), to this file and exit: for packaged HTTP/2 loaders such as h2load.
    #[arg(long)]
    write_body: Option<String>,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    failures: BTreeMap<String, usize>,
}

impl Tally {
    fn absorb(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (code, n) in other.failures {
            *self.failures.entry(code).or_default() += n;
        }
    }
}

/// The first `rows` rows of the CSV as one row-major FP64 tensor: its width and its
/// little-endian bytes.
fn raw_rows(csv: &str, rows: usize) -> (usize, Vec<u8>) {
    let text = std::fs::read_to_string(csv).unwrap_or_else(|e| panic!("reads {csv}: {e}"));
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() >= rows,
        "{csv} has {} rows, fewer than {rows}",
        lines.len()
    );
    let mut width = None;
    let mut bytes = Vec::new();
    for line in &lines[..rows] {
        let row: Vec<f64> = line
            .trim_end()
            .split(',')
            .map(|v| {
                v.trim()
                    .parse()
                    .unwrap_or_else(|e| panic!("{v:?} in {csv}: {e}"))
            })
            .collect();
        assert_eq!(
            *width.get_or_insert(row.len()),
            row.len(),
            "ragged rows in {csv}"
        );
        bytes.extend(row.iter().flat_map(|v| v.to_le_bytes()));
    }
    (width.unwrap_or(0), bytes)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    assert!(args.rows > 0 && args.concurrency > 0 && args.connections > 0);
    let (width, raw) = raw_rows(&args.rows_csv, args.rows);
    let mut request = tonic::Request::new(ModelInferRequest {
        model_name: args.model.clone(),
        inputs: vec![InferInputTensor {
            name: "x".into(),
            datatype: "FP64".into(),
            shape: vec![args.rows as i64, width as i64],
            ..Default::default()
        }],
        outputs: ["predict", "predict_proba"][..1 + usize::from(args.proba)]
            .iter()
            .map(|&name| InferRequestedOutputTensor {
                name: name.into(),
                ..Default::default()
            })
            .collect(),
        raw_input_contents: vec![raw.into()],
        ..Default::default()
    });
    if let Some(path) = &args.write_body {
        let message = prost::Message::encode_to_vec(request.get_ref());
        let length = u32::try_from(message.len()).expect("a message under 4 GiB");
        let mut framed = vec![0];
        framed.extend(length.to_be_bytes());
        framed.extend(message);
        std::fs::write(path, framed).unwrap_or_else(|e| panic!("writes {path}: {e}"));
        return;
    }
    if let Some(token) = &args.token {
        let value = MetadataValue::try_from(format!("Bearer {token}")).expect("a header value");
        request.metadata_mut().insert("authorization", value);
    }
    let (metadata, _, message) = request.into_parts();

    let mut channels = Vec::new();
    for _ in 0..args.connections {
        let channel = Channel::from_shared(args.target.clone())
            .expect("a URL")
            .tcp_nodelay(true)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("connects to {}: {e}", args.target));
        channels.push(channel);
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.duration);
    let mut workers = Vec::new();
    for i in 0..args.concurrency {
        let mut client = GrpcInferenceServiceClient::new(channels[i % channels.len()].clone());
        let (metadata, message, tally, rows) =
            (metadata.clone(), message.clone(), tally.clone(), args.rows);
        workers.push(tokio::spawn(async move {
            let mut mine = Tally::default();
            while Instant::now() < end {
                let request = tonic::Request::from_parts(
                    metadata.clone(),
                    Default::default(),
                    message.clone(),
                );
                let sent = Instant::now();
                match client.model_infer(request).await {
                    Ok(answer)
                        if answer
                            .get_ref()
                            .raw_output_contents
                            .first()
                            .map(|c| c.len())
                            == Some(rows * 8) =>
                    {
                        mine.latencies_us.push(sent.elapsed().as_micros() as u64);
                    }
                    Ok(_) => *mine.failures.entry("wrong answer".into()).or_default() += 1,
                    Err(status) => {
                        *mine
                            .failures
                            .entry(format!("{:?}", status.code()))
                            .or_default() += 1;
                    }
                }
            }
            tally.lock().await.absorb(mine);
        }));
    }
    for worker in workers {
        worker.await.expect("a worker ends");
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut tally = tally.lock().await;
    let ok = tally.latencies_us.len();
    let report = serde_json::json!({
        "rows": args.rows,
        "concurrency": args.concurrency,
        "connections": args.connections,
        "proba": args.proba,
        "seconds": elapsed,
        "ok": ok,
        "ok_per_second": ok as f64 / elapsed,
        "rows_per_second": (ok * args.rows) as f64 / elapsed,
        "latency_ms": report::summary(&mut tally.latencies_us),
        "failures": tally.failures,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

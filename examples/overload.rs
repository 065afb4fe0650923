//! Closed-loop overload: `--clients` clients, each sending the next request as soon as the last
//! is answered, the way a crowd of callers does. A client answered 503 with `Retry-After` waits
//! that long before its next request, as Google's client libraries and any well-behaved client
//! do (`--ignore-retry-after` makes them hammer on, as wrk does).
//!
//! ```console
//! cargo run --release --example overload -- --url http://127.0.0.1:8080/ --clients 1280 --duration 10
//! ```
//!
//! Prints one JSON object: requests per second, latency percentiles (ms) overall and by status,
//! so admitted (200) and shed (503) requests are reported apart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;

#[path = "common/report.rs"]
mod report;

#[path = "common/request.rs"]
mod request;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    request: request::RequestArgs,
    /// Clients sending at once, each on its own connection.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds to send for.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Send again at once after a 503 instead of waiting for `Retry-After`.
    #[arg(long)]
    ignore_retry_after: bool,
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    let body = args.request.body();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .unwrap();
    let latencies_us = Arc::new(Mutex::new(BTreeMap::<i32, Vec<u64>>::new()));
    let start = Instant::now();
    let stop = start + Duration::from_secs_f64(args.duration);
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            let (client, body, args, latencies_us) = (
                client.clone(),
                body.clone(),
                args.clone(),
                latencies_us.clone(),
            );
            tokio::spawn(async move {
                let mut mine = BTreeMap::<i32, Vec<u64>>::new();
                while Instant::now() < stop {
                    let request = args.request.build(&client, body.clone());
                    let sent = Instant::now();
                    let (status, retry_after) = match request.send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let retry_after = response
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.parse::<u64>().ok());
                            let _ = response.bytes().await;
                            (i32::from(status), retry_after)
                        }
                        Err(_) => (0, None),
                    };
                    mine.entry(status)
                        .or_default()
                        .push(sent.elapsed().as_micros() as u64);
                    if let Some(seconds) = retry_after.filter(|_| !args.ignore_retry_after) {
                        let resume = (Instant::now() + Duration::from_secs(seconds)).min(stop);
                        tokio::time::sleep_until(resume.into()).await;
                    }
                }
                let mut all = latencies_us.lock().unwrap();
                for (status, v) in mine {
                    all.entry(status).or_default().extend(v);
                }
            })
        })
        .collect();
    for client in clients {
        let _ = client.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let latencies_us = latencies_us.lock().unwrap();
    let requests: usize = latencies_us.values().map(Vec::len).sum();
    let (all, by_status) = report::latency_summaries(&latencies_us);
    let report = serde_json::json!({
        "url": args.request.url,
        "clients": args.clients,
        "honours_retry_after": !args.ignore_retry_after,
        "requests": requests,
        "rate": (requests as f64 / elapsed).round(),
        "latency_ms": all,
        "latency_ms_by_status": by_status,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

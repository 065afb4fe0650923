//! Closed-loop overload: `--clients` clients, each sending the next request as soon as the last
//! is answered, the way a crowd of callers does. A client answered 503 with `Retry-After` waits
//! that long before its next request, as Google's client libraries and any well-behaved client
//! do (`--ignore-retry-after` makes them hammer on, as wrk does).
//!
//! ```console
//! cargo run --release --example overload -- --url http://127.0.0.1:8080/ --clients 1280 --duration 10
//! ```
//!
//! Meanwhile a newcomer, on a thread of its own so that the crowd's scheduling does not delay
//! it, opens a new connection every `--newcomer-interval-ms` and sends one request on it: what
//! a client arriving at a full server sees, which during overload is a shed.
//!
//! Prints one JSON object: requests per second, latency percentiles (ms) overall and by status,
//! so admitted (200) and shed (503) requests are reported apart, the newcomer's by status, and
//! what went wrong with the requests that got no answer.

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
    /// Milliseconds between the newcomer's requests (0: no newcomer).
    #[arg(long, default_value_t = 5.0)]
    newcomer_interval_ms: f64,
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
    let all_errors = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
    let start = Instant::now();
    let stop = start + Duration::from_secs_f64(args.duration);
    let newcomer = (args.newcomer_interval_ms > 0.0).then(|| {
        let (args, body) = (args.clone(), body.clone());
        let interval = Duration::from_secs_f64(args.newcomer_interval_ms / 1000.0);
        std::thread::spawn(move || newcomer(&args, body, interval, stop))
    });
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            let (client, body, args, latencies_us, all_errors) = (
                client.clone(),
                body.clone(),
                args.clone(),
                latencies_us.clone(),
                all_errors.clone(),
            );
            tokio::spawn(async move {
                let mut mine = BTreeMap::<i32, Vec<u64>>::new();
                let mut errors = BTreeMap::<String, u64>::new();
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
                        Err(e) => {
                            *errors.entry(request::describe_error(&e)).or_default() += 1;
                            (0, None)
                        }
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
                let mut all = all_errors.lock().unwrap();
                for (error, n) in errors {
                    *all.entry(error).or_default() += n;
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
    let newcomer = newcomer
        .map(|thread| report::latency_summaries(&thread.join().unwrap()).1)
        .unwrap_or_default();
    let report = serde_json::json!({
        "url": args.request.url,
        "clients": args.clients,
        "honours_retry_after": !args.ignore_retry_after,
        "requests": requests,
        "rate": (requests as f64 / elapsed).round(),
        "latency_ms": all,
        "latency_ms_by_status": by_status,
        "newcomer_latency_ms_by_status": newcomer,
        "connection_errors": *all_errors.lock().unwrap(),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

/// One request on a new connection every `interval` until `stop`, on a runtime of its own;
/// latencies in µs by status.
fn newcomer(
    args: &Args,
    body: Vec<u8>,
    interval: Duration,
    stop: Instant,
) -> BTreeMap<i32, Vec<u64>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let mut latencies_us = BTreeMap::<i32, Vec<u64>>::new();
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while Instant::now() < stop {
            tick.tick().await;
            let sent = Instant::now();
            let status = match args.request.build(&client, body.clone()).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    i32::from(status)
                }
                Err(_) => 0,
            };
            latencies_us
                .entry(status)
                .or_default()
                .push(sent.elapsed().as_micros() as u64);
        }
        latencies_us
    })
}

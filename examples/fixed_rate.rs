//! Open-loop load at a fixed request rate, latency measured from when each request was *due*.
//!
//! wrk is closed-loop: a stalled server slows wrk down with it and the stall hides in a few
//! samples (coordinated omission). Here request `i` is due at `start + i / rate` whatever
//! happened before, and its latency counts from that moment, so queueing shows. (wrk2 does the
//! same; it is not packaged for Debian.)
//!
//! ```console
//! cargo run --release --example fixed_rate -- --url http://127.0.0.1:8080/ --rate 2000 --duration 30
//! cargo run --release --example fixed_rate -- --url http://127.0.0.1:8080/v2/models/pickle_model/infer \
//!     --body-file body.json --content-type application/json --rate 1000 --duration 10
//! ```
//!
//! Prints one JSON object: achieved rate, latency percentiles (ms) overall and by status (so
//! admitted and shed requests can be told apart), connection errors and what they were.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::sync::{Mutex, Semaphore};

#[path = "common/request.rs"]
mod request;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    request: request::RequestArgs,
    /// Requests per second.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds to send for.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Most requests in flight; a due request waits for a slot, and that wait counts.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
}

#[path = "common/report.rs"]
mod report;

/// Latencies (µs) by status code, connection errors under 0; what those errors were.
#[derive(Default)]
struct Tally {
    latencies_us: BTreeMap<i32, Vec<u64>>,
    errors: BTreeMap<String, u64>,
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    let body = args.request.body();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.max_in_flight)
        .build()
        .unwrap();
    let total = (args.rate * args.duration).round() as u64;
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let slots = Arc::new(Semaphore::new(args.max_in_flight));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let (client, slots, tally, body, args) = (
            client.clone(),
            slots.clone(),
            tally.clone(),
            body.clone(),
            args.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            let outcome = match args.request.build(&client, body).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    Ok(status)
                }
                Err(e) => Err(request::describe_error(&e)),
            };
            let latency = due.elapsed().as_micros() as u64;
            let mut tally = tally.lock().await;
            let key = match outcome {
                Ok(status) => i32::from(status),
                Err(error) => {
                    *tally.errors.entry(error).or_default() += 1;
                    0
                }
            };
            tally.latencies_us.entry(key).or_default().push(latency);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let tally = tally.lock().await;
    let (all, by_status) = report::latency_summaries(&tally.latencies_us);
    let report = serde_json::json!({
        "url": args.request.url,
        "target_rate": args.rate,
        "requests": total,
        "achieved_rate": (total as f64 / elapsed * 10.0).round() / 10.0,
        "latency_ms": all,
        "latency_ms_by_status": by_status,
        "errors": tally.latencies_us.get(&0).map_or(0, Vec::len),
        "connection_errors": tally.errors,
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}

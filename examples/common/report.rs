//! Latency percentiles for the load generators' JSON reports.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Percentiles (ms) of latencies given in µs, overall and by status code (0 = connection
/// error), so admitted and shed requests can be told apart.
pub fn latency_summaries(
    latencies_us: &BTreeMap<i32, Vec<u64>>,
) -> (Value, BTreeMap<String, Value>) {
    let mut all: Vec<u64> = latencies_us.values().flatten().copied().collect();
    let by_status = latencies_us
        .iter()
        .map(|(status, v)| {
            let name = if *status == 0 {
                "connection error".to_owned()
            } else {
                status.to_string()
            };
            (name, summary(&mut v.clone()))
        })
        .collect();
    (summary(&mut all), by_status)
}

/// Count and percentiles (ms) of latencies given in µs; null when there are none.
pub fn summary(latencies_us: &mut [u64]) -> Value {
    if latencies_us.is_empty() {
        return Value::Null;
    }
    latencies_us.sort_unstable();
    let v = &*latencies_us;
    let pct = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
    json!({
        "count": v.len(), "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99),
        "p99.9": pct(0.999), "max": pct(1.0)
    })
}

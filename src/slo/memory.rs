//! Resident memory, sampled for the memory SLO: the one task that also moves the engine's
//! pending events into its rings every [`TICK`]. The only I/O of this module is reading
//! `/proc/self/status`.

use std::sync::Arc;

use super::engine::{SloEngine, TICK};

/// Samples resident memory for the memory SLO and moves pending events into the engine's
/// rings, now and every [`TICK`], until the task is aborted.
pub async fn sample_periodically(engine: Arc<SloEngine>) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // /proc is served from memory: reading it does not block like disk I/O.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        match vm_rss_bytes(&status) {
            Some(rss) => engine.record_memory(rss),
            None => engine.tick(),
        }
    }
}

/// `VmRSS` of a `/proc/<pid>/status` text, in bytes.
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => Some(value * 1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::vm_rss_bytes;

    #[test]
    fn resident_memory_is_read_from_proc_status() {
        let status = "Name:\tskserve\nVmPeak:\t  20000 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(vm_rss_bytes(status), Some(12345 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        #[cfg(target_os = "linux")]
        assert!(vm_rss_bytes(&std::fs::read_to_string("/proc/self/status").unwrap()).unwrap() > 0);
    }
}

//! Telling a standing queue from a burst, by CoDel's rule (RFC 8289): the server is overloaded
//! when, for a whole interval, not one request got through with a wait under the target. A
//! burst, a CPU-quota stall or a descheduled worker makes a few requests wait long, but some
//! request in the interval waited little; only a queue that never drains keeps the minimum up.
//! While one stands, requests that waited longer than the target are shed, so that clients back
//! off (`Retry-After`) and the queue drains; requests that waited less are still served.
//!
//! Lock-free: a few atomics, touched once per request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// CoDel's interval: long enough to span a CPU-quota period or a scheduler hiccup, short enough
/// to react before a latency objective of tens of milliseconds is lost for long.
pub const INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct StandingQueue {
    target_ns: u64,
    interval_ns: u64,
    origin: Instant,
    interval_start_ns: AtomicU64,
    /// The smallest wait seen in the current interval.
    interval_min_ns: AtomicU64,
    /// Whether the last whole interval had no wait under the target.
    standing: AtomicBool,
}

impl StandingQueue {
    pub fn new(target: Duration) -> Self {
        Self {
            target_ns: nanos(target),
            interval_ns: nanos(INTERVAL),
            origin: Instant::now(),
            interval_start_ns: AtomicU64::new(0),
            interval_min_ns: AtomicU64::new(u64::MAX),
            standing: AtomicBool::new(false),
        }
    }

    /// The wait above which requests are shed while a queue stands.
    pub fn target(&self) -> Duration {
        Duration::from_nanos(self.target_ns)
    }

    /// Records the wait of a request about to be handled at `now`; true when it should be shed.
    pub fn should_shed(&self, now: Instant, wait: Duration) -> bool {
        let now_ns = nanos(now.saturating_duration_since(self.origin));
        let wait_ns = nanos(wait);
        let start = self.interval_start_ns.load(Ordering::Relaxed);
        if now_ns.saturating_sub(start) >= self.interval_ns
            && self
                .interval_start_ns
                .compare_exchange(start, now_ns, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // This request closes the interval (an empty one proves nothing) and opens the next.
            let min = self.interval_min_ns.swap(wait_ns, Ordering::Relaxed);
            self.standing
                .store(min != u64::MAX && min > self.target_ns, Ordering::Relaxed);
        } else {
            self.interval_min_ns.fetch_min(wait_ns, Ordering::Relaxed);
        }
        self.standing.load(Ordering::Relaxed) && wait_ns > self.target_ns
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: Duration = Duration::from_millis(5);
    const LONG: Duration = Duration::from_millis(30);
    const SHORT: Duration = Duration::from_micros(200);

    /// Feeds one request every millisecond from `from` for `span`, each with `wait`; returns
    /// how many were shed and the instant after the last.
    fn feed(
        queue: &StandingQueue,
        from: Instant,
        span: Duration,
        wait: Duration,
    ) -> (usize, Instant) {
        let mut at = from;
        let mut shed = 0;
        while at < from + span {
            shed += usize::from(queue.should_shed(at, wait));
            at += Duration::from_millis(1);
        }
        (shed, at)
    }

    #[test]
    fn a_burst_of_long_waits_is_not_shed() {
        let queue = StandingQueue::new(TARGET);
        let start = queue.origin;
        let (_, at) = feed(&queue, start, INTERVAL / 2, SHORT);
        // A stall: the rest of this interval and half the next wait long.
        let (shed, _) = feed(&queue, at, INTERVAL, LONG);
        assert_eq!(shed, 0);
    }

    #[test]
    fn a_queue_standing_for_an_interval_sheds_the_long_waits_only() {
        let queue = StandingQueue::new(TARGET);
        let start = queue.origin + INTERVAL;
        let (_, at) = feed(&queue, start, 2 * INTERVAL, LONG);

        assert!(queue.should_shed(at, LONG));
        assert!(
            !queue.should_shed(at, SHORT),
            "a request that barely waited is served"
        );
    }

    #[test]
    fn shedding_stops_once_an_interval_has_a_short_wait() {
        let queue = StandingQueue::new(TARGET);
        let start = queue.origin + INTERVAL;
        let (_, at) = feed(&queue, start, 2 * INTERVAL, LONG);
        assert!(queue.should_shed(at, LONG));

        // The clients back off; one request gets through quickly, then the interval ends.
        assert!(!queue.should_shed(at + Duration::from_millis(1), SHORT));
        let (shed, _) = feed(
            &queue,
            at + INTERVAL + Duration::from_millis(2),
            INTERVAL,
            LONG,
        );

        assert_eq!(shed, 0);
    }
}

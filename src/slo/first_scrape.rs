//! The first scrape: whether the fleet's SLOs can count what this instance answers. A
//! Prometheus takes a counter's first sample as its starting point, so the events an instance
//! answers before its `/metrics` is first scraped are in that sample and in no `increase()`:
//! the fleet's SLOs never see them. [`FirstScrape`] notes the first scrape, counts the events
//! answered before it (exported as `skserve_requests_before_first_scrape`, shown on `/slo` and
//! `/slo.json`), and with `--ready-after-first-scrape` holds readiness until the scrape has
//! come, for at most that long: a scraper that never comes delays the instance, never stops it.
//!
//! Nothing here knows HTTP or Prometheus' client library: the HTTP layer reports scrapes and
//! counted events, `metrics` exports the count. Time is tokio's, so that tests pause it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::fleet::unix_now;

/// The first scrape of one instance and the events answered before it. Lock-free: an event
/// costs one atomic load once the scrape has come.
#[derive(Debug)]
pub struct FirstScrape {
    /// `--ready-after-first-scrape`: how long after start readiness waits for the scrape;
    /// `None` does not wait.
    wait: Option<Duration>,
    started: Instant,
    scraped: AtomicBool,
    first: OnceLock<Scraped>,
    events_before: AtomicU64,
    /// Set when the wait ran out without a scrape (said once in the log).
    gave_up: AtomicBool,
}

#[derive(Debug)]
struct Scraped {
    after: Duration,
    unix_seconds: f64,
}

/// What `/slo.json` says of the first scrape (`first_scrape`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirstScrapeStatus {
    /// `waiting` (readiness is held for it), `scraped`, or `not_scraped` (nothing holds
    /// readiness: the wait is off or ran out).
    pub state: &'static str,
    /// `--ready-after-first-scrape`, `null` when off.
    pub wait_seconds: Option<f64>,
    /// Seconds from start to the first scrape, and its Unix time.
    pub scraped_after_seconds: Option<f64>,
    pub scraped_at: Option<f64>,
    /// Events the SLOs count answered before the first scrape: a Prometheus counts none of
    /// them.
    pub events_before: u64,
    /// Some of this instance's events are missing from a Prometheus' counts.
    pub events_uncounted: bool,
}

impl FirstScrape {
    /// Started now; readiness waits for the first scrape for at most `wait`.
    pub fn new(wait: Option<Duration>) -> Self {
        Self {
            wait,
            started: Instant::now(),
            scraped: AtomicBool::new(false),
            first: OnceLock::new(),
            events_before: AtomicU64::new(0),
            gave_up: AtomicBool::new(false),
        }
    }

    /// Notes a scrape of `/metrics`; the events answered before the first one, which the
    /// scrape then exports.
    pub fn note_scrape(&self) -> u64 {
        if !self.scraped.swap(true, Ordering::SeqCst) {
            let scraped = Scraped {
                after: self.started.elapsed(),
                unix_seconds: unix_now(),
            };
            tracing::info!(
                after_seconds = scraped.after.as_secs_f64(),
                events_before = self.events_before(),
                "/metrics scraped for the first time"
            );
            let _ = self.first.set(scraped);
        }
        self.events_before()
    }

    /// Notes one event the SLOs count.
    pub fn note_event(&self) {
        if !self.scraped.load(Ordering::Relaxed) {
            self.events_before.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn events_before(&self) -> u64 {
        self.events_before.load(Ordering::SeqCst)
    }

    /// Readiness waits: the wait is on, no scrape has come, and it has not run out.
    pub fn holds_readiness(&self) -> bool {
        let Some(wait) = self.wait else {
            return false;
        };
        if self.scraped.load(Ordering::SeqCst) {
            return false;
        }
        if self.started.elapsed() < wait {
            return true;
        }
        if !self.gave_up.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                wait_seconds = wait.as_secs_f64(),
                "/metrics was not scraped within --ready-after-first-scrape: ready anyway; \
                 what this instance answers before its first scrape is missing from the \
                 fleet's SLOs (skserve_requests_before_first_scrape counts it)"
            );
        }
        false
    }

    pub fn status(&self) -> FirstScrapeStatus {
        let first = self.first.get();
        let scraped = self.scraped.load(Ordering::SeqCst);
        let events_before = self.events_before();
        FirstScrapeStatus {
            state: if scraped {
                "scraped"
            } else if self.holds_readiness() {
                "waiting"
            } else {
                "not_scraped"
            },
            wait_seconds: self.wait.map(|w| w.as_secs_f64()),
            scraped_after_seconds: first.map(|f| f.after.as_secs_f64()),
            scraped_at: first.map(|f| f.unix_seconds),
            events_before,
            events_uncounted: events_before > 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn readiness_waits_for_the_first_scrape_and_the_events_before_it_are_counted() {
        let gate = FirstScrape::new(Some(Duration::from_secs(45)));
        assert!(gate.holds_readiness());
        assert_eq!(gate.status().state, "waiting");

        // Probes and requests arriving anyway, before any scrape.
        tokio::time::advance(Duration::from_secs(3)).await;
        gate.note_event();
        gate.note_event();
        assert!(gate.holds_readiness());

        tokio::time::advance(Duration::from_secs(7)).await;
        assert_eq!(gate.note_scrape(), 2);
        assert!(!gate.holds_readiness());
        gate.note_event();
        // Later scrapes change nothing: the count is fixed at the first.
        assert_eq!(gate.note_scrape(), 2);
        let status = gate.status();
        assert_eq!(status.state, "scraped");
        assert_eq!(status.scraped_after_seconds, Some(10.0));
        assert_eq!(status.events_before, 2);
        assert!(status.events_uncounted);
        assert_eq!(status.wait_seconds, Some(45.0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_scraper_that_never_comes_holds_readiness_for_the_wait_only() {
        let gate = FirstScrape::new(Some(Duration::from_secs(45)));
        tokio::time::advance(Duration::from_millis(44_999)).await;
        assert!(gate.holds_readiness());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(!gate.holds_readiness());
        gate.note_event();
        let status = gate.status();
        assert_eq!(status.state, "not_scraped");
        assert_eq!((status.events_before, status.scraped_at), (1, None));
        assert!(status.events_uncounted);

        // A scrape at last fixes the count.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(gate.note_scrape(), 1);
        gate.note_event();
        assert_eq!(gate.status().state, "scraped");
        assert_eq!(gate.events_before(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_wait_readiness_is_never_held_and_events_are_still_counted() {
        let gate = FirstScrape::new(None);
        assert!(!gate.holds_readiness());
        gate.note_event();
        let status = gate.status();
        assert_eq!(status.state, "not_scraped");
        assert_eq!(status.wait_seconds, None);
        assert_eq!(status.events_before, 1);
        assert_eq!(gate.note_scrape(), 1);
        assert!(gate.status().events_uncounted);
    }

    #[tokio::test(start_paused = true)]
    async fn an_instance_scraped_before_any_event_has_nothing_uncounted() {
        let gate = FirstScrape::new(Some(Duration::from_secs(5)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(gate.note_scrape(), 0);
        for _ in 0..1000 {
            gate.note_event();
        }
        let status = gate.status();
        assert_eq!((status.events_before, status.events_uncounted), (0, false));
    }
}

//! The fleet's figures from Prometheus' answers, and the PromQL that asks for them. A refresh
//! sends two instant queries, [`meta_query`] (the number of instances reporting, how far back
//! the fleet's data goes, how often it is scraped) then [`slo_query`] (every SLO's good and
//! total events over every window), and, less often, one range query, [`history_query`]
//! (every SLO's events step by step over the span with data, for the budget's burn-down). In
//! each, every subquery is tagged with a `skserve_fleet` label by `label_replace` and the
//! tagged vectors are joined by `or`, so that one round trip answers them all.
//!
//! The memory gauge is sampled by subqueries, whose cost is their number of steps: they look
//! only as far back as the fleet has data (the meta query says), 720 samples per instance at
//! most, so that neither a young fleet's long windows nor an old fleet's cost much.
//!
//! Pure: no I/O and no clock of its own, so the arithmetic is tested on given answers. The
//! events' PromQL is `rules::event_queries`, the rules' own definitions.

use std::collections::HashMap;

use super::super::engine::{BUDGET_POINTS, BudgetHistory, Counts, SloReport, evaluate};
use super::super::rules::{event_queries, series_selector};
use super::super::spec::{Indicator, SLI_WINDOWS, Slo, SloSpec, Window};
use super::prometheus::{Sample, Series, Span};

/// The label that tags each subquery of a batch.
pub const TAG: &str = "skserve_fleet";
const INSTANCES: &str = "instances";
const OLDEST_START: &str = "oldest_start";
const RECENT_SAMPLES: &str = "recent_samples";
/// The spans over which samples are counted to estimate the scrape interval, shortest first:
/// the shortest with a few samples gives it, so that a fleet scraped for less than a long span
/// is not taken for one scraped slowly, nor one scraped every minute for one never scraped.
const RECENT: [Window; 3] = [
    Window::from_seconds(10),
    Window::minutes(1),
    Window::minutes(10),
];
/// Samples a span must hold for its count to estimate the interval.
const ENOUGH_SAMPLES: f64 = 3.0;
/// Assumed when the scrape interval cannot be estimated (Cloud Run's managed collector's own).
const DEFAULT_SCRAPE_INTERVAL: f64 = 60.0;
/// The shortest step of the burn-down: `increase` needs samples on both sides of a step, so a
/// step spans at least this many scrape intervals.
const SCRAPES_PER_STEP: f64 = 4.0;
/// Memory samples per instance over a window, and over a step of the burn-down.
const MEMORY_SAMPLES_PER_WINDOW: u64 = 720;
const MEMORY_SAMPLES_PER_STEP: u64 = 30;

/// Subqueries tagged and joined into one PromQL expression.
#[derive(Default)]
struct Batch(Vec<String>);

impl Batch {
    fn push(&mut self, tag: &str, promql: &str) {
        self.0.push(format!(
            "label_replace({promql}, \"{TAG}\", \"{tag}\", \"\", \"\")"
        ));
    }

    fn promql(self) -> String {
        self.0.join("\nor\n")
    }
}

fn events_tag(slo: &Slo, window: Window, good: bool) -> String {
    format!(
        "{}/{window}/{}",
        slo.name,
        if good { "good" } else { "total" }
    )
}

/// The windows of an SLO: those of the alerts, then its own.
fn windows(slo: &Slo) -> impl Iterator<Item = Window> {
    SLI_WINDOWS.into_iter().chain(std::iter::once(slo.window))
}

/// The first instant query of a refresh: the fleet itself.
pub fn meta_query(spec: &SloSpec) -> String {
    let mut batch = Batch::default();
    let selector = series_selector(spec);
    let longest = longest_window(spec);
    batch.push(INSTANCES, &format!("count(skserve_build_info{selector})"));
    batch.push(
        OLDEST_START,
        &format!("min(min_over_time(process_start_time_seconds{selector}[{longest}]))"),
    );
    for span in RECENT {
        batch.push(
            &format!("{RECENT_SAMPLES}/{span}"),
            &format!("max(count_over_time(skserve_build_info{selector}[{span}]))"),
        );
    }
    batch.promql()
}

/// The second instant query of a refresh: every window of every SLO, memory sampled no
/// further back than `reported_for_seconds` (from the meta query; `None`: the whole window).
pub fn slo_query(spec: &SloSpec, reported_for_seconds: Option<u64>) -> String {
    let mut batch = Batch::default();
    for slo in &spec.slos {
        for window in windows(slo) {
            // Older samples do not exist: asking for them would only cost steps.
            let range = reported_for_seconds.map_or(window, |seconds| {
                Window::from_seconds((seconds + 1).min(window.seconds()))
            });
            let range = match slo.indicator {
                Indicator::Memory { .. } => range,
                _ => window,
            };
            let queries = event_queries(spec, slo, range, MEMORY_SAMPLES_PER_WINDOW);
            batch.push(&events_tag(slo, window, true), &queries.good);
            batch.push(&events_tag(slo, window, false), &queries.total);
        }
    }
    batch.promql()
}

fn longest_window(spec: &SloSpec) -> Window {
    spec.slos
        .iter()
        .map(|s| s.window)
        .max()
        .expect("a spec has an SLO")
}

/// What the instant queries say.
#[derive(Clone, Debug, PartialEq)]
pub struct Instant {
    /// Instances reporting now.
    pub instances: u64,
    /// How long before now the oldest instance that reported within the longest SLO window
    /// started: how far back the fleet's figures go. `None` without the process collector.
    pub reported_for_seconds: Option<u64>,
    /// The scrape interval, estimated from the samples of the last 10 s, 1 min or 10 min.
    pub scrape_interval_seconds: Option<f64>,
    counts: HashMap<String, f64>,
}

impl Instant {
    /// Reads the answers to [`meta_query`] and [`slo_query`] (either or both), evaluated at
    /// `now` (unix seconds).
    pub fn read(samples: &[Sample], now: f64) -> Self {
        let mut tagged: HashMap<String, f64> = samples
            .iter()
            .filter(|s| s.value.is_finite())
            .filter_map(|s| Some((s.labels.get(TAG)?.clone(), s.value)))
            .collect();
        let instances = tagged.remove(INSTANCES).unwrap_or(0.0).round() as u64;
        let reported_for_seconds = tagged
            .remove(OLDEST_START)
            .map(|start| (now - start).max(0.0).round() as u64);
        let recent: Vec<Option<f64>> = RECENT
            .iter()
            .map(|span| tagged.remove(&format!("{RECENT_SAMPLES}/{span}")))
            .collect();
        let scrape_interval_seconds = RECENT.iter().zip(recent).find_map(|(span, samples)| {
            let samples = samples.filter(|&n| n >= ENOUGH_SAMPLES)?;
            Some(span.seconds() as f64 / samples)
        });
        Self {
            instances,
            reported_for_seconds,
            scrape_interval_seconds,
            counts: tagged,
        }
    }

    /// Good and total events of `slo` over `window`. `increase` extrapolates to the window's
    /// edges, so counts are estimates, rounded to whole events; none without series.
    fn counts(&self, slo: &Slo, window: Window) -> Counts {
        let value = |good| {
            self.counts
                .get(&events_tag(slo, window, good))
                .map_or(0, |v| v.max(0.0).round() as u64)
        };
        let total = value(false);
        Counts {
            good: value(true).min(total),
            total,
        }
    }

    /// How much of `slo`'s window the fleet's data covers.
    fn covered_seconds(&self, slo: &Slo) -> u64 {
        self.reported_for_seconds
            .unwrap_or(u64::MAX)
            .clamp(1, slo.window.seconds())
    }

    /// The span and step of the burn-down's range query.
    pub fn history_span(&self, spec: &SloSpec, now: f64) -> Span {
        let longest = longest_window(spec).seconds();
        let covered = self
            .reported_for_seconds
            .unwrap_or(longest)
            .clamp(1, longest);
        let interval = self
            .scrape_interval_seconds
            .unwrap_or(DEFAULT_SCRAPE_INTERVAL);
        let shortest = (SCRAPES_PER_STEP * interval).ceil() as u64;
        let step = covered.div_ceil(BUDGET_POINTS as u64).max(shortest).max(1);
        Span {
            // Each point counts the step that ends at it: the first covers the oldest step. A
            // fleet younger than one step gets one point, now (Prometheus refuses a start after
            // the end).
            start: (now - covered as f64 + step as f64).min(now),
            end: now,
            step_seconds: step,
        }
    }
}

/// The range query of the burn-down: every SLO's events per step.
pub fn history_query(spec: &SloSpec, step_seconds: u64) -> String {
    let mut batch = Batch::default();
    let step = Window::from_seconds(step_seconds);
    for slo in &spec.slos {
        let queries = event_queries(spec, slo, step, MEMORY_SAMPLES_PER_STEP);
        batch.push(&history_tag(slo, true), &queries.good);
        batch.push(&history_tag(slo, false), &queries.total);
    }
    batch.promql()
}

fn history_tag(slo: &Slo, good: bool) -> String {
    format!("{}/{}", slo.name, if good { "good" } else { "total" })
}

/// Every SLO's burn-down from the answer to [`history_query`], evaluated at `now`.
pub fn read_history(spec: &SloSpec, series: &[Series], now: f64) -> Vec<BudgetHistory> {
    let by_tag: HashMap<&str, &Series> = series
        .iter()
        .filter_map(|s| Some((s.labels.get(TAG)?.as_str(), s)))
        .collect();
    spec.slos
        .iter()
        .map(|slo| {
            let points = |good| -> HashMap<u64, f64> {
                by_tag
                    .get(history_tag(slo, good).as_str())
                    .map(|s| {
                        s.points
                            .iter()
                            .filter(|(_, v)| v.is_finite())
                            .map(|&(t, v)| (seconds_before(now, t), v.max(0.0)))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (good, total) = (points(true), points(false));
            let mut steps: Vec<(u64, f64, f64)> = total
                .iter()
                .filter(|&(&ago, _)| ago < slo.window.seconds())
                .map(|(&ago, &total)| (ago, good.get(&ago).copied().unwrap_or(0.0), total))
                .collect();
            steps.sort_by_key(|step| std::cmp::Reverse(step.0));
            let covered = steps.first().map_or(0, |s| s.0);
            let step = steps.windows(2).map(|w| w[0].0 - w[1].0).min().unwrap_or(0);
            BudgetHistory::burn_down(
                slo.objective.error_budget(),
                (covered + step).min(slo.window.seconds()),
                &steps,
            )
        })
        .collect()
}

fn seconds_before(now: f64, t: f64) -> u64 {
    (now - t).max(0.0).round() as u64
}

/// Every SLO of `spec` for the fleet: the engine's arithmetic on the fleet's counts, with
/// the burn-downs of `history` (asked `history_age` seconds ago) brought up to now and scaled
/// to end at each SLO's budget left.
pub fn reports(
    spec: &SloSpec,
    instant: &Instant,
    history: &[BudgetHistory],
    history_age: u64,
) -> Vec<SloReport> {
    spec.slos
        .iter()
        .enumerate()
        .map(|(i, slo)| {
            let mut report = evaluate(
                slo,
                |window| instant.counts(slo, window),
                instant.covered_seconds(slo),
                BudgetHistory::default(),
            );
            report.budget_history = history
                .get(i)
                .cloned()
                .unwrap_or_default()
                .aged(history_age)
                .ending_at(report.error_budget_remaining);
            report
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::slo::Status;

    fn spec() -> SloSpec {
        SloSpec::embedded(crate::metrics::LATENCY_BUCKETS)
    }

    fn sample(tag: &str, value: f64) -> Sample {
        Sample {
            labels: BTreeMap::from([(TAG.to_owned(), tag.to_owned())]),
            value,
        }
    }

    #[test]
    fn two_instant_queries_ask_about_the_fleet_then_every_window_of_every_slo() {
        let spec = spec();
        let meta = meta_query(&spec);
        let parts: Vec<&str> = meta.split("\nor\n").collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(
            parts[0],
            "label_replace(count(skserve_build_info{job=\"skserve\"}), \"skserve_fleet\", \
             \"instances\", \"\", \"\")"
        );
        assert!(
            parts[1]
                .contains("min(min_over_time(process_start_time_seconds{job=\"skserve\"}[30d]))")
        );

        let old = slo_query(&spec, None);
        let parts: Vec<&str> = old.split("\nor\n").collect();
        // Good and total over 8 windows for each of 6 SLOs.
        assert_eq!(parts.len(), 6 * 8 * 2);
        assert!(parts.iter().any(|p| p.contains("\"availability/5m/good\"")
            && p.contains("code=~\"[1-3]..\"")
            && p.contains("[5m]")));
        let memory = |query: &str| {
            let part = query
                .split("\nor\n")
                .find(|p| p.contains("\"memory/30d/total\""));
            part.unwrap().to_owned()
        };
        assert!(memory(&old).contains("[30d:1h]"), "{}", memory(&old));
        // Ten minutes of data: memory is sampled over ten minutes, every 10 s.
        let young = slo_query(&spec, Some(600));
        assert!(memory(&young).contains("[601s:10s]"), "{}", memory(&young));
        assert!(
            young.contains("[30d]))"),
            "requests are read over the whole window"
        );
    }

    #[test]
    fn the_fleets_figures_are_the_engines_arithmetic_on_prometheus_counts() {
        let spec = spec();
        let now = 1_700_000_000.0;
        let mut samples = vec![
            sample(INSTANCES, 2.0),
            sample(OLDEST_START, now - 600.0),
            sample("recent_samples/10s", 20.0),
            sample("recent_samples/1m", 120.0),
        ];
        for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
            // 0.7 % of 10,000.4 requests failed: 14x the 0.05 % budget, in every window.
            samples.push(sample(&format!("availability/{window}/good"), 9930.3));
            samples.push(sample(&format!("availability/{window}/total"), 10000.4));
        }
        samples.push(sample("latency-50ms/5m/good", f64::NAN));

        let instant = Instant::read(&samples, now);
        let reports = reports(&spec, &instant, &[], 0);

        assert_eq!(instant.instances, 2);
        assert_eq!(instant.reported_for_seconds, Some(600));
        assert_eq!(instant.scrape_interval_seconds, Some(0.5));
        let availability = &reports[0];
        assert_eq!((availability.good, availability.total), (9930, 10000));
        assert_eq!(availability.sli, Some(0.993));
        assert!((availability.burn_rate - 14.0).abs() < 1e-9);
        assert!((availability.error_budget_remaining + 13.0).abs() < 1e-9);
        assert_eq!(availability.covered_seconds, 600);
        // 14x is under the 14.4x page pair, over the 6h/30m pair's 6x: a page all the same.
        assert_eq!(availability.status, Status::Page);
        // No series: no events, no SLI, nothing burning.
        let latency = &reports[2];
        assert_eq!(
            (latency.total, latency.sli, latency.status),
            (0, None, Status::Ok)
        );
    }

    #[test]
    fn the_burn_down_spans_the_data_in_steps_of_several_scrapes() {
        let spec = spec();
        let now = 1_700_000_000.0;
        let instant = Instant::read(
            &[
                sample(OLDEST_START, now - 600.0),
                sample("recent_samples/10s", 1.0),
                sample("recent_samples/1m", 4.0), // every 15 s
            ],
            now,
        );
        let span = instant.history_span(&spec, now);
        assert_eq!(
            span.step_seconds, 60,
            "4 scrapes of 15 s, more than 600 s / 120"
        );
        assert_eq!((span.start, span.end), (now - 540.0, now));
        // Younger than one step: one point, now.
        let young = Instant::read(
            &[
                sample(OLDEST_START, now - 15.0),
                sample("recent_samples/1m", 12.0), // every 5 s
            ],
            now,
        );
        let span = young.history_span(&spec, now);
        assert_eq!((span.start, span.end, span.step_seconds), (now, now, 20));
        // A month of data: 120 steps of 6 h.
        let old = Instant::read(&[sample(OLDEST_START, now - 90.0 * 86_400.0)], now);
        assert_eq!(old.history_span(&spec, now).step_seconds, 6 * 3600);

        let query = history_query(&spec, 60);
        assert!(query.contains("[1m]"), "{query}");
        let series = |tag: &str, values: &[f64]| Series {
            labels: BTreeMap::from([(TAG.to_owned(), tag.to_owned())]),
            points: values
                .iter()
                .enumerate()
                .map(|(i, &v)| (now - 120.0 + 60.0 * i as f64, v))
                .collect(),
        };
        let answer = [
            series("availability/good", &[1000.0, 990.0, 1000.0]),
            series("availability/total", &[1000.0, 1000.0, 1000.0]),
        ];
        let histories = read_history(&spec, &answer, now);
        let availability = &histories[0];
        assert_eq!(availability.seconds_ago, [180, 120, 60, 0]);
        // 10 bad of 3,000 against a budget of 1.5: spent 6.7 times over, all in the second step.
        let left = 1.0 - 10.0 / 1.5;
        assert_eq!(availability.remaining[..2], [1.0, 1.0]);
        assert!((availability.remaining[2] - left).abs() < 1e-9);
        assert!((availability.remaining[3] - left).abs() < 1e-9);
        assert_eq!(histories[1].remaining, [1.0], "no data, nothing spent");
    }
}

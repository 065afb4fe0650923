//! The fleet's drift (`--fleet-prometheus`): every instance exports its bin counts
//! (`skserve_feature_bin_total`, labelled with the reference they were binned against); summed
//! over every instance with this instance's reference, over 1h and 1d, they are the fleet's
//! rows, and PSI and Jensen–Shannon against the reference are the fleet's drift. Instances with
//! the same profile share a reference; an instance whose reference is its own first rows shares
//! it with nobody, and its fleet drift is its own.
//!
//! As the fleet's SLOs (`crate::slo::fleet`), asked off the request path: [`FleetDrift::report`]
//! never waits; when the figures are older than the refresh interval it starts one instant
//! query in a task of its own, bounded by the query timeout, and a failure keeps the last
//! figures with the reason.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::time::Instant;

use super::figures::Drift;
use super::stats;
use super::tracker::{Reference, WINDOWS};
use crate::slo::fleet::PromQl;
use crate::slo::fleet::prometheus::Sample;

/// The label tagging each part of the batched query.
const TAG: &str = "skserve_fleet_drift";

/// The fleet's drift, kept current on demand.
pub struct FleetDrift {
    source: Arc<dyn PromQl>,
    /// The spec's `prometheus_selector` (`job="skserve"`), or empty.
    selector: String,
    refresh_interval: Duration,
    query_timeout: Duration,
    shown: ArcSwap<FleetSnapshot>,
    refreshing: AtomicBool,
    /// When the last refresh started. Held for a comparison, never across an `.await`.
    last_attempt: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for FleetDrift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetDrift").finish_non_exhaustive()
    }
}

/// The last refresh's figures.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FleetSnapshot {
    /// Unix seconds of the last good refresh.
    pub updated: Option<f64>,
    pub error: Option<String>,
    pub models: BTreeMap<String, FleetModel>,
}

/// One model's drift over the fleet.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FleetModel {
    /// The reference summed over.
    pub reference: String,
    /// Instances exporting bins of that reference.
    pub instances: u64,
    /// Every column with rows, the most drifted first.
    pub columns: Vec<FleetColumn>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FleetColumn {
    pub feature: String,
    pub drift: Vec<Drift>,
}

/// What a refresh needs of a model: its name, its reference, and its columns' names.
pub type Asked = (String, Arc<Reference>);

impl FleetDrift {
    pub fn new(
        source: Arc<dyn PromQl>,
        selector: &str,
        refresh_interval: Duration,
        query_timeout: Duration,
    ) -> Self {
        Self {
            source,
            selector: selector.to_owned(),
            refresh_interval,
            query_timeout,
            shown: ArcSwap::from_pointee(FleetSnapshot::default()),
            refreshing: AtomicBool::new(false),
            last_attempt: Mutex::new(None),
        }
    }

    /// The figures as last refreshed; starts a refresh of `asked` when they are due.
    pub fn report(self: &Arc<Self>, asked: impl FnOnce() -> Vec<Asked>) -> Arc<FleetSnapshot> {
        let now = Instant::now();
        let due = {
            let mut last = self.last_attempt.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|t| now.duration_since(t) >= self.refresh_interval)
                && !self.refreshing.swap(true, Ordering::AcqRel);
            if due {
                *last = Some(now);
            }
            due
        };
        if due {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let (view, asked) = (self.clone(), asked());
                    runtime.spawn(async move {
                        view.refresh(&asked).await;
                        view.refreshing.store(false, Ordering::Release);
                    });
                }
                Err(_) => self.refreshing.store(false, Ordering::Release),
            }
        }
        self.shown.load_full()
    }

    /// One refresh, now.
    pub async fn refresh(&self, asked: &[Asked]) {
        let query = self.query(asked);
        let answer = tokio::time::timeout(self.query_timeout, self.source.instant(&query)).await;
        let previous = self.shown.load_full();
        let next = match answer {
            Ok(Ok(samples)) => FleetSnapshot {
                updated: Some(crate::slo::fleet::unix_now()),
                error: None,
                models: read(asked, &samples),
            },
            Ok(Err(error)) => FleetSnapshot {
                error: Some(error),
                ..(*previous).clone()
            },
            Err(_) => FleetSnapshot {
                error: Some(format!(
                    "no answer within {} s",
                    self.query_timeout.as_secs_f64()
                )),
                ..(*previous).clone()
            },
        };
        if let Some(error) = &next.error {
            tracing::warn!("the fleet's drift is stale: {error}");
        }
        self.shown.store(Arc::new(next));
    }

    /// The batched PromQL: per model, the bins summed over its reference's instances over
    /// each window, and the number of those instances.
    pub fn query(&self, asked: &[Asked]) -> String {
        let mut parts = Vec::new();
        let tag = |promql: String, tag: String| {
            format!("label_replace({promql}, \"{TAG}\", \"{tag}\", \"\", \"\")")
        };
        for (model, reference) in asked {
            let selector: Vec<String> = std::iter::once(self.selector.clone())
                .filter(|s| !s.is_empty())
                .chain([
                    format!("model=\"{model}\""),
                    format!("reference=\"{}\"", reference.id),
                ])
                .collect();
            let series = format!("skserve_feature_bin_total{{{}}}", selector.join(","));
            for window in WINDOWS {
                parts.push(tag(
                    format!("sum by (feature, bin) (increase({series}[{window}]))"),
                    format!("{model}/{window}"),
                ));
            }
            parts.push(tag(
                format!("count(count by (instance) ({series}))"),
                format!("{model}/instances"),
            ));
        }
        parts.join("\nor\n")
    }
}

/// The drift of every asked model's columns from the summed bins.
fn read(asked: &[Asked], samples: &[Sample]) -> BTreeMap<String, FleetModel> {
    let mut out = BTreeMap::new();
    for (model, reference) in asked {
        // (window, feature) -> bin label -> rows
        let mut bins: HashMap<(usize, &str), HashMap<&str, f64>> = HashMap::new();
        let mut instances = 0;
        for sample in samples {
            let Some(tag) = sample.labels.get(TAG) else {
                continue;
            };
            let Some(rest) = tag
                .strip_prefix(model.as_str())
                .and_then(|r| r.strip_prefix('/'))
            else {
                continue;
            };
            if rest == "instances" {
                instances = sample.value.max(0.0).round() as u64;
                continue;
            }
            let (Some(window), Some(feature), Some(bin)) = (
                WINDOWS.iter().position(|&w| w == rest),
                sample.labels.get("feature"),
                sample.labels.get("bin"),
            ) else {
                continue;
            };
            bins.entry((window, feature.as_str()))
                .or_default()
                .insert(bin.as_str(), sample.value.max(0.0));
        }
        let mut columns: Vec<FleetColumn> = reference
            .columns
            .iter()
            .filter_map(|distribution| {
                let listed = distribution.listed();
                let shares = distribution.all_shares();
                let drift: Vec<Drift> = WINDOWS
                    .iter()
                    .enumerate()
                    .map(|(w, &window)| {
                        let mut counts = vec![0u64; listed + 2];
                        for (bin, &rows) in bins
                            .get(&(w, distribution.name.as_str()))
                            .into_iter()
                            .flatten()
                        {
                            let index = match *bin {
                                "other" => Some(listed),
                                "missing" => Some(listed + 1),
                                i => i.parse::<usize>().ok().filter(|&i| i < listed),
                            };
                            if let Some(index) = index {
                                counts[index] += rows.round() as u64;
                            }
                        }
                        Drift {
                            window,
                            rows: counts.iter().sum(),
                            psi: stats::psi(&shares, &counts),
                            jensen_shannon: stats::jensen_shannon(&shares, &counts),
                        }
                    })
                    .collect();
                drift.iter().any(|d| d.rows > 0).then(|| FleetColumn {
                    feature: distribution.name.clone(),
                    drift,
                })
            })
            .collect();
        let psi = |c: &FleetColumn| c.drift[0].psi.unwrap_or(0.0);
        columns.sort_by(|a, b| psi(b).total_cmp(&psi(a)));
        out.insert(
            model.clone(),
            FleetModel {
                reference: reference.id.clone(),
                instances,
                columns,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::reference;
    use crate::health::tracker::Source;

    fn sample(tag: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        let mut all: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        all.insert(TAG.into(), tag.into());
        Sample { labels: all, value }
    }

    #[test]
    fn the_fleets_drift_is_the_statistics_of_its_summed_bins() {
        let airlines = ["a"; 60].into_iter().chain(["b"; 40]).map(Some);
        let column = reference::strings("airline", airlines);
        let asked = vec![(
            "flights".to_owned(),
            Arc::new(Reference {
                id: "r1".into(),
                columns: vec![column.clone()],
                prediction: None,
                source: Source::Window { rows: 100 },
            }),
        )];
        let bin = |bin: &'static str, rows: f64| {
            sample("flights/1h", &[("feature", "airline"), ("bin", bin)], rows)
        };
        // As Prometheus sums them over two instances: "a", "b", a category the reference never
        // saw, and rows of another model, which count for nothing here.
        let samples = vec![
            bin("0", 30.0),
            bin("1", 9.6),
            bin("other", 10.0),
            bin("missing", 0.0),
            sample("trains/1h", &[("feature", "airline"), ("bin", "0")], 99.0),
            sample("flights/instances", &[], 2.0),
        ];

        let model = &read(&asked, &samples)["flights"];
        assert_eq!((model.reference.as_str(), model.instances), ("r1", 2));
        let hour = &model.columns[0].drift[0];
        assert_eq!((hour.window, hour.rows), ("1h", 50));
        let (shares, counts) = (column.all_shares(), [30, 10, 10, 0]);
        assert_eq!(hour.psi, stats::psi(&shares, &counts));
        assert_eq!(hour.jensen_shannon, stats::jensen_shannon(&shares, &counts));
        assert!(
            hour.psi.unwrap() > 0.25,
            "a new category in a fifth of the rows"
        );
        assert_eq!(model.columns[0].drift[1].rows, 0, "nothing over 1d");
    }

    #[test]
    fn one_query_asks_every_window_and_the_instances_sharing_the_reference() {
        use crate::slo::fleet::prometheus::{Answer, Series, Span};
        struct Nobody;
        impl PromQl for Nobody {
            fn instant<'a>(&'a self, _promql: &'a str) -> Answer<'a, Vec<Sample>> {
                Box::pin(async { Ok(Vec::new()) })
            }
            fn range<'a>(&'a self, _promql: &'a str, _span: Span) -> Answer<'a, Vec<Series>> {
                Box::pin(async { Ok(Vec::new()) })
            }
        }
        let fleet = FleetDrift::new(
            Arc::new(Nobody),
            "job=\"skserve\"",
            Duration::from_secs(5),
            Duration::from_secs(1),
        );
        let reference = Arc::new(Reference {
            id: "r1".into(),
            columns: Vec::new(),
            prediction: None,
            source: Source::Window { rows: 100 },
        });
        let query = fleet.query(&[("flights".into(), reference)]);
        let series = r#"skserve_feature_bin_total{job="skserve",model="flights",reference="r1"}"#;
        for window in WINDOWS {
            assert!(
                query.contains(&format!(
                    "sum by (feature, bin) (increase({series}[{window}]))"
                )),
                "{query}"
            );
        }
        assert!(query.contains(&format!("count(count by (instance) ({series}))")));
    }
}

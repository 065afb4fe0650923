//! The Prometheus series of one tracker: a counter handle per slot it exports, resolved once
//! (and at 0 from the start: every series known in advance is), so that moving counts into
//! the registry is one atomic addition per slot touched, not a label lookup. Columns beyond
//! `metrics::health::MAX_EXPORTED_FEATURES` have none unless they are among the most drifted.

use prometheus::IntCounter;

use super::plan::{ROWS, ROWS_WITH_ISSUES};
use super::tracker::{Tracker, WINDOWS};
use crate::metrics::health::{HealthMetrics, ISSUES, STATISTICS};

/// Which columns have series: every used one up to the limit, then the most drifted.
pub fn first_exported(tracker: &Tracker, limit: usize) -> Vec<bool> {
    let mut left = limit;
    tracker
        .plan
        .columns
        .iter()
        .map(|c| {
            let export = !c.unused && left > 0;
            left -= usize::from(export);
            export
        })
        .collect()
}

/// The counters a tracker's counts go to.
#[derive(Debug)]
pub struct Series {
    model: String,
    /// One per slot, where it is exported.
    counters: Vec<Option<IntCounter>>,
    /// A classifier's predictions by class: `skserve_predictions_total`.
    classes: Vec<IntCounter>,
    /// Which columns are exported, and their names.
    pub exported: Vec<bool>,
    features: Vec<String>,
    /// The label sets made for this tracker's reference alone, removed when it retires.
    bins: Vec<Vec<String>>,
    prediction_bins: Vec<Vec<String>>,
}

impl Series {
    /// The series of `tracker`'s counts for `model`, `exported` saying which columns have
    /// them; every one starts at 0.
    pub fn new(
        metrics: &HealthMetrics,
        model: &str,
        tracker: &Tracker,
        exported: Vec<bool>,
    ) -> Self {
        let mut counters = vec![None; tracker.plan.slots];
        counters[ROWS] = Some(metrics.input_rows.with_label_values(&[model]));
        counters[ROWS_WITH_ISSUES] = Some(metrics.rows_with_issues.with_label_values(&[model]));
        let reference = tracker.reference.as_ref().map(|r| r.id.as_str());
        let mut bins = Vec::new();
        for (plan, _) in tracker
            .plan
            .columns
            .iter()
            .zip(&exported)
            .filter(|(_, exported)| **exported)
        {
            for (k, issue) in ISSUES.iter().enumerate() {
                counters[plan.issues + k] = Some(
                    metrics
                        .input_issues
                        .with_label_values(&[model, &plan.name, issue]),
                );
            }
            for window in WINDOWS {
                for statistic in STATISTICS {
                    metrics
                        .feature_drift
                        .with_label_values(&[model, &plan.name, statistic, window]);
                }
            }
            if let Some(reference) = reference
                && !matches!(plan.binning, super::plan::Binning::Pending)
            {
                for bin in 0..plan.listed + 2 {
                    let labels = vec![
                        model.to_owned(),
                        plan.name.clone(),
                        reference.to_owned(),
                        bin_label(bin, plan.listed),
                    ];
                    counters[plan.bins + bin] =
                        Some(metrics.feature_bins.with_label_values(
                            &labels.iter().map(String::as_str).collect::<Vec<_>>(),
                        ));
                    bins.push(labels);
                }
            }
        }
        let mut prediction_bins = Vec::new();
        let listed = tracker.plan.prediction_len.saturating_sub(2);
        if let Some(reference) = reference {
            for bin in 0..tracker.plan.prediction_len {
                let labels = vec![
                    model.to_owned(),
                    reference.to_owned(),
                    bin_label(bin, listed),
                ];
                counters[tracker.plan.prediction_bins + bin] = Some(
                    metrics
                        .prediction_bins
                        .with_label_values(&labels.iter().map(String::as_str).collect::<Vec<_>>()),
                );
                prediction_bins.push(labels);
            }
        }
        let classes = match &tracker.plan.prediction {
            super::plan::PredictionPlan::Classes { labels } => labels
                .iter()
                .map(|class| metrics.predictions.with_label_values(&[model, class]))
                .collect(),
            _ => Vec::new(),
        };
        if tracker.plan.prediction_len > 0 {
            for window in WINDOWS {
                for statistic in STATISTICS {
                    metrics
                        .prediction_drift
                        .with_label_values(&[model, statistic, window]);
                }
            }
        }
        let features = tracker
            .plan
            .columns
            .iter()
            .zip(&exported)
            .filter(|(_, e)| **e)
            .map(|(c, _)| c.name.clone())
            .collect();
        Self {
            model: model.to_owned(),
            counters,
            classes,
            exported,
            features,
            bins,
            prediction_bins,
        }
    }

    /// Adds counts moved out of the tracker (`delta`, one per slot of `tracker`).
    pub fn add(&self, tracker: &Tracker, delta: &[u64]) {
        for (counter, &n) in self.counters.iter().zip(delta) {
            if let (Some(counter), true) = (counter, n > 0) {
                counter.inc_by(n);
            }
        }
        let start = tracker.plan.prediction_bins;
        for (class, counter) in self.classes.iter().enumerate() {
            if let Some(&n) = delta.get(start + class).filter(|&&n| n > 0) {
                counter.inc_by(n);
            }
        }
    }

    /// Removes the series this one has and `next`, which replaces it, does not: bins of
    /// another reference, and the columns `next` does not export.
    pub fn retire(&self, metrics: &HealthMetrics, next: &Series) {
        fn strs(labels: &[String]) -> Vec<&str> {
            labels.iter().map(String::as_str).collect()
        }
        for labels in self.bins.iter().filter(|l| !next.bins.contains(l)) {
            let _ = metrics.feature_bins.remove_label_values(&strs(labels));
        }
        for labels in self
            .prediction_bins
            .iter()
            .filter(|l| !next.prediction_bins.contains(l))
        {
            let _ = metrics.prediction_bins.remove_label_values(&strs(labels));
        }
        for feature in self.features.iter().filter(|f| !next.features.contains(f)) {
            for issue in ISSUES {
                let _ = metrics
                    .input_issues
                    .remove_label_values(&[&self.model, feature, issue]);
            }
            for window in WINDOWS {
                for statistic in STATISTICS {
                    let _ = metrics.feature_drift.remove_label_values(&[
                        &self.model,
                        feature,
                        statistic,
                        window,
                    ]);
                }
            }
        }
    }
}

/// A bin's label: its index among the listed bins, then `other` and `missing`.
pub fn bin_label(bin: usize, listed: usize) -> String {
    match bin.checked_sub(listed) {
        None => bin.to_string(),
        Some(0) => "other".into(),
        Some(_) => "missing".into(),
    }
}

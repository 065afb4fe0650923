//! Model health's metrics (`crate::health`): rows and their data-quality issues, drift against
//! the reference, predictions by class, the bin counts from which a fleet's drift is computed,
//! and the drift SLOs' evaluation intervals. Their names and labels are an interface: the
//! Prometheus rules, the Terraform and the dashboards rely on them.
//!
//! # Cardinality
//! Every label is bounded by the model, its reference or `slos.yaml`, never by traffic: `feature`
//! by [`MAX_EXPORTED_FEATURES`] per model (a model with more columns exports that many: the
//! most drifted, re-chosen as drift changes), `bin` by the reference (at most 66 per column:
//! 64 listed, `other` and `missing`), `class` by the model's classes, `issue`, `statistic` and
//! `window` by the lists below, `slo` by the drift SLOs. For a model of 10 columns and 12 bins
//! a column: 2 row counters, 30 issue counters, 40 drift gauges and 4 for predictions, 120 bin
//! counters, and one per class.

use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts};

/// The most columns of one model exported with a `feature` label.
pub const MAX_EXPORTED_FEATURES: usize = 100;
/// The `issue`s of `skserve_input_issues_total`.
pub const ISSUES: [&str; 3] = ["missing", "unseen_category", "out_of_range"];
/// The `statistic`s of the drift gauges.
pub const STATISTICS: [&str; 2] = ["psi", "jensen_shannon"];
/// The `result`s of `skserve_drift_intervals_total`.
pub const RESULTS: [&str; 2] = ["good", "bad"];

/// Model health's metric families.
#[derive(Clone, Debug)]
pub struct HealthMetrics {
    /// `skserve_input_rows_total{model}`: rows predicted.
    pub input_rows: IntCounterVec,
    /// `skserve_input_rows_with_issues_total{model}`: rows with at least one issue.
    pub rows_with_issues: IntCounterVec,
    /// `skserve_input_issues_total{model,feature,issue}`.
    pub input_issues: IntCounterVec,
    /// `skserve_input_refused_total{model}`: requests the model's checks refused (4xx).
    pub input_refused: IntCounterVec,
    /// `skserve_feature_drift{model,feature,statistic,window}`.
    pub feature_drift: GaugeVec,
    /// `skserve_prediction_drift{model,statistic,window}`.
    pub prediction_drift: GaugeVec,
    /// `skserve_predictions_total{model,class}`.
    pub predictions: IntCounterVec,
    /// `skserve_feature_bin_total{model,feature,reference,bin}`.
    pub feature_bins: IntCounterVec,
    /// `skserve_prediction_bin_total{model,reference,bin}`.
    pub prediction_bins: IntCounterVec,
    /// `skserve_health_reference_info{model,reference,source,for_version}`.
    pub reference_info: IntGaugeVec,
    /// `skserve_drift_intervals_total{model,slo,result}`.
    pub drift_intervals: IntCounterVec,
}

impl HealthMetrics {
    pub fn new() -> Self {
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            GaugeVec::new(Opts::new(name, help), labels).expect("valid metric")
        };
        Self {
            input_rows: counter(
                crate::slo::rules::INPUT_ROWS,
                "Rows predicted, by model, as model health counts them (a batch of N rows \
                 counts N).",
                &["model"],
            ),
            rows_with_issues: counter(
                crate::slo::rules::ROWS_WITH_ISSUES,
                "Rows predicted with at least one data-quality issue (missing, unseen_category, \
                 out_of_range), by model: the bad events of a data_quality SLO.",
                &["model"],
            ),
            input_issues: counter(
                "skserve_input_issues_total",
                "Data-quality issues in the rows predicted, by model, input column and issue: \
                 missing (a missing value where the reference has none or the model was fitted \
                 with none), unseen_category (a category the model's encoder or the reference \
                 never saw), out_of_range (outside the reference's min-max or a fitted \
                 scaler's range).",
                &["model", "feature", "issue"],
            ),
            input_refused: counter(
                "skserve_input_refused_total",
                "Requests naming a model whose input the model refused as malformed (4xx), by \
                 model; counted apart from the rows predicted.",
                &["model"],
            ),
            feature_drift: gauge(
                "skserve_feature_drift",
                "Drift of an input column against the model's reference over a window (1h, \
                 1d): psi (Population Stability Index) or jensen_shannon (distance, natural \
                 log); 0 until the window holds rows.",
                &["model", "feature", "statistic", "window"],
            ),
            prediction_drift: gauge(
                "skserve_prediction_drift",
                "Drift of the model's predictions against the reference over a window: psi or \
                 jensen_shannon.",
                &["model", "statistic", "window"],
            ),
            predictions: counter(
                "skserve_predictions_total",
                "Rows predicted by a classifier, by model and predicted class.",
                &["model", "class"],
            ),
            feature_bins: counter(
                "skserve_feature_bin_total",
                "Rows by the bin of the reference their value of an input column falls in \
                 (bins by index, then other and missing), by model, column and reference: \
                 summed over instances with the same reference, the fleet's drift.",
                &["model", "feature", "reference", "bin"],
            ),
            prediction_bins: counter(
                "skserve_prediction_bin_total",
                "Rows by the bin of the reference their prediction falls in (a class, or a \
                 range of values), by model and reference.",
                &["model", "reference", "bin"],
            ),
            reference_info: IntGaugeVec::new(
                Opts::new(
                    "skserve_health_reference_info",
                    "1 for the reference each model's health is measured against: source \
                     profile (NAME.profile.json or --profile) or window (its first rows), \
                     pending while the window fills; for_version served, or other for a \
                     profile made for another version of the model (used all the same).",
                ),
                &["model", "reference", "source", "for_version"],
            )
            .expect("valid metric"),
            drift_intervals: counter(
                crate::slo::rules::DRIFT_INTERVALS,
                "Evaluation intervals of a drift SLO (one a minute per model with enough rows \
                 in the window), by model, SLO and result: good when every input column's PSI \
                 stays under the SLO's threshold.",
                &["model", "slo", "result"],
            ),
        }
    }

    pub(super) fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![
            Box::new(self.input_rows.clone()),
            Box::new(self.rows_with_issues.clone()),
            Box::new(self.input_issues.clone()),
            Box::new(self.input_refused.clone()),
            Box::new(self.feature_drift.clone()),
            Box::new(self.prediction_drift.clone()),
            Box::new(self.predictions.clone()),
            Box::new(self.feature_bins.clone()),
            Box::new(self.prediction_bins.clone()),
            Box::new(self.reference_info.clone()),
            Box::new(self.drift_intervals.clone()),
        ]
    }
}

impl Default for HealthMetrics {
    fn default() -> Self {
        Self::new()
    }
}

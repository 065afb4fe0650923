//! A model's health as `/slo.json` shows it under the model, and as the dashboard's "Model
//! health" card draws it: the reference in use, rows and their issues, every column's drift at
//! 1h and 1d with a status, and reference-against-current shares of the most drifted columns
//! and of the predictions. Computed by the ticker at most every few seconds, never on the
//! request path; the drift gauges are set from the same figures.

use serde::Serialize;

use super::plan::{ColumnPlan, ROWS, ROWS_WITH_ISSUES, bin_labels};
use super::stats;
use super::tracker::{Source, Tracker, WINDOWS};
use crate::metrics::health::{HealthMetrics, MAX_EXPORTED_FEATURES};
use crate::registry::profile::Distribution;

/// Columns whose bins the figures carry: the most drifted.
pub const HISTOGRAMS: usize = 3;
/// PSI from which a column is shown as moderately shifted.
pub const PSI_WARN: f64 = 0.1;

#[derive(Clone, Debug, Default, Serialize)]
pub struct ModelFigures {
    pub version: String,
    pub reference: ReferenceFigures,
    pub rows: RowFigures,
    /// Every exported column, the most drifted first.
    pub columns: Vec<ColumnFigures>,
    pub prediction: Option<ColumnFigures>,
    /// The PSI at which a column is shown as drifted: the threshold of the first drift SLO
    /// counting the model, else 0.25.
    pub psi_threshold: f64,
    /// The window statuses are judged over (that SLO's).
    pub status_window: &'static str,
    /// The largest PSI of any column, per drift window (`1h`, `1d`); 0 without rows.
    pub max_psi: Vec<f64>,
    /// Bytes its counts hold.
    pub memory_bytes: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ReferenceFigures {
    /// `profile`, `window` (the first rows served), `pending` (a window filling) or `none`.
    pub source: &'static str,
    pub id: Option<String>,
    /// The profile's file or object.
    pub location: Option<String>,
    /// `served`, or `other` for a profile made for another version of the model.
    pub for_version: Option<&'static str>,
    /// The rows it was made of (a window's, once full).
    pub rows: Option<u64>,
    /// A window filling: rows so far.
    pub filled: Option<u64>,
    pub created: Option<String>,
    /// A profile found but refused, and why.
    pub profile_error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RowFigures {
    /// Since the version was first seen.
    pub total: u64,
    pub with_issues: u64,
    /// Per issue, since the version was first seen.
    pub issues: Issues,
    /// Per drift window.
    pub windows: Vec<WindowRows>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Issues {
    pub missing: u64,
    pub unseen_category: u64,
    pub out_of_range: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct WindowRows {
    pub window: &'static str,
    pub rows: u64,
    pub with_issues: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ColumnFigures {
    pub feature: String,
    /// `numeric`, `discrete`, `categorical`, or `pending` while a window fills.
    pub kind: &'static str,
    pub drift: Vec<Drift>,
    /// `ok`, `warn` (PSI from 0.1), `drift` (PSI at the threshold), `unknown` (no rows).
    pub status: &'static str,
    pub issues: Issues,
    /// The most drifted columns and the predictions: each bin's label, its reference share and
    /// its share over the status window.
    pub bins: Option<Vec<String>>,
    pub reference: Option<Vec<f64>>,
    pub current: Option<Vec<f64>>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Drift {
    pub window: &'static str,
    pub rows: u64,
    pub psi: Option<f64>,
    pub jensen_shannon: Option<f64>,
}

impl ColumnFigures {
    /// Its PSI over `window`, 0 without rows.
    pub fn psi(&self, window: &str) -> f64 {
        self.drift
            .iter()
            .find(|d| d.window == window)
            .and_then(|d| d.psi)
            .unwrap_or(0.0)
    }
}

/// The figures of `tracker` as of `now` (seconds); `threshold` and `status_window` judge the
/// statuses. Every used column is ranked by drift; the [`MAX_EXPORTED_FEATURES`] most drifted
/// are kept.
pub fn figures(tracker: &Tracker, now: u64, threshold: f64, status_window: usize) -> ModelFigures {
    let totals = tracker.totals();
    let windows: Vec<Vec<u64>> = (0..WINDOWS.len()).map(|w| tracker.over(w, now)).collect();
    let reference = tracker.reference.as_deref();
    let mut columns: Vec<ColumnFigures> = tracker
        .plan
        .columns
        .iter()
        .enumerate()
        .filter(|(_, plan)| !plan.unused)
        .map(|(c, plan)| {
            let distribution = reference.and_then(|r| r.columns.get(c));
            let mut figures = column(plan, distribution, &windows, threshold, status_window);
            figures.issues = issues(&totals, plan.issues);
            figures
        })
        .collect();
    let max_psi = WINDOWS
        .iter()
        .map(|w| columns.iter().map(|c| c.psi(w)).fold(0.0, f64::max))
        .collect();
    // Stable: equal drift keeps the model's column order.
    columns.sort_by(|a, b| {
        let w = WINDOWS[status_window];
        b.psi(w)
            .total_cmp(&a.psi(w))
            .then(b.psi("1d").total_cmp(&a.psi("1d")))
    });
    columns.truncate(MAX_EXPORTED_FEATURES);
    // Only the most drifted keep their bins: /slo.json stays small for wide models.
    for figures in columns.iter_mut().skip(HISTOGRAMS) {
        figures.bins = None;
        figures.reference = None;
        figures.current = None;
    }
    let prediction = match (
        reference.and_then(|r| r.prediction.as_ref()),
        tracker.plan.prediction_len,
    ) {
        (Some(distribution), len) if len > 0 => {
            let start = tracker.plan.prediction_bins;
            Some(binned(
                "prediction",
                distribution,
                start..start + len,
                &windows,
                threshold,
                status_window,
            ))
        }
        _ => None,
    };
    let mut rows = RowFigures {
        total: totals[ROWS],
        with_issues: totals[ROWS_WITH_ISSUES],
        issues: Issues::default(),
        windows: WINDOWS
            .iter()
            .zip(&windows)
            .map(|(&window, counts)| WindowRows {
                window,
                rows: counts[ROWS],
                with_issues: counts[ROWS_WITH_ISSUES],
            })
            .collect(),
    };
    for plan in &tracker.plan.columns {
        let i = issues(&totals, plan.issues);
        rows.issues.missing += i.missing;
        rows.issues.unseen_category += i.unseen_category;
        rows.issues.out_of_range += i.out_of_range;
    }
    ModelFigures {
        version: tracker.version.clone(),
        reference: reference_figures(tracker),
        rows,
        columns,
        prediction,
        psi_threshold: threshold,
        status_window: WINDOWS[status_window],
        max_psi,
        memory_bytes: tracker.bytes(),
    }
}

fn issues(totals: &[u64], first: usize) -> Issues {
    Issues {
        missing: totals[first],
        unseen_category: totals[first + 1],
        out_of_range: totals[first + 2],
    }
}

fn column(
    plan: &ColumnPlan,
    distribution: Option<&Distribution>,
    windows: &[Vec<u64>],
    threshold: f64,
    status_window: usize,
) -> ColumnFigures {
    match distribution {
        Some(d) if !matches!(plan.binning, super::plan::Binning::Pending) => {
            let bins = plan.bins..plan.bins + plan.listed + 2;
            binned(&plan.name, d, bins, windows, threshold, status_window)
        }
        _ => ColumnFigures {
            feature: plan.name.clone(),
            kind: "pending",
            drift: WINDOWS
                .iter()
                .zip(windows)
                .map(|(&window, counts)| Drift {
                    window,
                    rows: counts[ROWS],
                    psi: None,
                    jensen_shannon: None,
                })
                .collect(),
            status: "unknown",
            ..ColumnFigures::default()
        },
    }
}

/// A binned column's (or the predictions') figures: its bins' counts are `slots` of every
/// window's counts.
fn binned(
    name: &str,
    distribution: &Distribution,
    slots: std::ops::Range<usize>,
    windows: &[Vec<u64>],
    threshold: f64,
    status_window: usize,
) -> ColumnFigures {
    let shares = distribution.all_shares();
    let drift: Vec<Drift> = WINDOWS
        .iter()
        .zip(windows)
        .map(|(&window, counts)| {
            let counts = &counts[slots.clone()];
            Drift {
                window,
                rows: counts.iter().sum(),
                psi: stats::psi(&shares, counts),
                jensen_shannon: stats::jensen_shannon(&shares, counts),
            }
        })
        .collect();
    let status = match drift[status_window].psi {
        None => "unknown",
        Some(psi) if psi >= threshold => "drift",
        Some(psi) if psi >= PSI_WARN => "warn",
        Some(_) => "ok",
    };
    let current = &windows[status_window][slots];
    let total: u64 = current.iter().sum();
    ColumnFigures {
        feature: name.to_owned(),
        kind: match distribution.kind {
            crate::registry::profile::BinKind::Numeric => "numeric",
            crate::registry::profile::BinKind::Discrete => "discrete",
            crate::registry::profile::BinKind::Categorical => "categorical",
        },
        drift,
        status,
        issues: Issues::default(),
        bins: Some(bin_labels(distribution)),
        reference: Some(shares),
        current: Some(
            current
                .iter()
                .map(|&n| {
                    if total > 0 {
                        n as f64 / total as f64
                    } else {
                        0.0
                    }
                })
                .collect(),
        ),
    }
}

fn reference_figures(tracker: &Tracker) -> ReferenceFigures {
    let profile_error = tracker
        .profile_error
        .as_ref()
        .map(|(location, error)| format!("{location}: {error}"));
    let mut figures = ReferenceFigures {
        profile_error,
        ..ReferenceFigures::default()
    };
    match tracker.reference.as_deref() {
        Some(reference) => {
            figures.id = Some(reference.id.clone());
            match &reference.source {
                Source::Profile {
                    location,
                    same_version,
                    rows,
                    created,
                } => {
                    figures.source = "profile";
                    figures.location = Some(location.clone());
                    figures.for_version = Some(if *same_version { "served" } else { "other" });
                    figures.rows = Some(*rows);
                    figures.created = Some(created.clone());
                }
                Source::Window { rows } => {
                    figures.source = "window";
                    figures.rows = Some(*rows as u64);
                }
            }
        }
        None => match &tracker.window {
            Some(window) => {
                figures.source = "pending";
                figures.rows = Some(window.rows() as u64);
                figures.filled = Some(window.filled() as u64);
            }
            None => figures.source = "none",
        },
    }
    figures
}

/// Sets the drift gauges of `model` from its figures.
pub fn set_gauges(metrics: &HealthMetrics, model: &str, figures: &ModelFigures) {
    let value = |v: Option<f64>| v.unwrap_or(0.0);
    for column in &figures.columns {
        for d in &column.drift {
            metrics
                .feature_drift
                .with_label_values(&[model, &column.feature, "psi", d.window])
                .set(value(d.psi));
            metrics
                .feature_drift
                .with_label_values(&[model, &column.feature, "jensen_shannon", d.window])
                .set(value(d.jensen_shannon));
        }
    }
    if let Some(prediction) = &figures.prediction {
        for d in &prediction.drift {
            metrics
                .prediction_drift
                .with_label_values(&[model, "psi", d.window])
                .set(value(d.psi));
            metrics
                .prediction_drift
                .with_label_values(&[model, "jensen_shannon", d.window])
                .set(value(d.jensen_shannon));
        }
    }
}

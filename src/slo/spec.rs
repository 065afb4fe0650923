//! `slos.yaml`: the service level objectives, parsed and validated into typed values once.
//!
//! The file is the single definition the service, the Prometheus rule generator and Terraform
//! read (`monitoring/README.md` documents every field). What is fixed in code rather than in
//! the file: which responses are good (per [`Indicator`]), the SLI windows ([`SLI_WINDOWS`])
//! and the multiwindow burn-rate alert pairs of the SRE workbook ([`BURN_RATE_ALERTS`]).
//!
//! Nothing here measures anything: [`SloSpec::parse`] takes the text and the latency
//! histogram's bucket edges (so that every latency threshold can be checked to be one);
//! [`SloSpec::read`] reads a file first.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

/// The `slos.yaml` built into the binary (`monitoring/slos.yaml`).
pub const EMBEDDED_SLOS_YAML: &str = include_str!("../../monitoring/slos.yaml");

/// The windows every SLI is computed over, besides the SLO's own window: those the burn-rate
/// alerts need, shortest first.
pub const SLI_WINDOWS: [Window; 7] = [
    Window::minutes(5),
    Window::minutes(30),
    Window::hours(1),
    Window::hours(2),
    Window::hours(6),
    Window::days(1),
    Window::days(3),
];

/// The SRE workbook's multiwindow, multi-burn-rate alerts: each fires when both windows burn
/// faster than the budget share allows. Expressed as budget shares rather than fixed factors so
/// that a window other than 30 days keeps the workbook's meaning (for 30 days: 14.4, 6, 3, 1).
pub const BURN_RATE_ALERTS: [BurnRateAlert; 4] = [
    BurnRateAlert {
        severity: Severity::Page,
        long: Window::hours(1),
        short: Window::minutes(5),
        budget_percent: 2,
    },
    BurnRateAlert {
        severity: Severity::Page,
        long: Window::hours(6),
        short: Window::minutes(30),
        budget_percent: 5,
    },
    BurnRateAlert {
        severity: Severity::Ticket,
        long: Window::days(1),
        short: Window::hours(2),
        budget_percent: 10,
    },
    BurnRateAlert {
        severity: Severity::Ticket,
        long: Window::days(3),
        short: Window::hours(6),
        budget_percent: 10,
    },
];

/// A duration that names an SLI or SLO window, in whole seconds (`5m`, `1h`, `30d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    seconds: u64,
}

impl Window {
    pub const fn minutes(n: u64) -> Self {
        Self { seconds: n * 60 }
    }

    pub const fn hours(n: u64) -> Self {
        Self { seconds: n * 3600 }
    }

    pub const fn days(n: u64) -> Self {
        Self {
            seconds: n * 86_400,
        }
    }

    /// A window of whole seconds (the fleet view's steps, which need not be whole minutes).
    pub const fn from_seconds(seconds: u64) -> Self {
        Self { seconds }
    }

    pub const fn seconds(self) -> u64 {
        self.seconds
    }

    /// Parses `30d`, `6h`, `5m`: a whole number and one unit, as Prometheus writes them.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("'{text}' is not a window such as 30d, 6h or 5m"))?;
        let window = match unit {
            "d" => Self::days(number),
            "h" => Self::hours(number),
            "m" => Self::minutes(number),
            _ => return Err(format!("'{text}' is not a window such as 30d, 6h or 5m")),
        };
        Ok(window)
    }
}

impl fmt::Display for Window {
    /// The largest unit that divides the window exactly: `30d`, `6h`, `5m`, `90s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        match s {
            _ if s > 0 && s.is_multiple_of(86_400) => write!(f, "{}d", s / 86_400),
            _ if s > 0 && s.is_multiple_of(3600) => write!(f, "{}h", s / 3600),
            _ if s > 0 && s.is_multiple_of(60) => write!(f, "{}m", s / 60),
            _ => write!(f, "{s}s"),
        }
    }
}

/// Whether an alert wakes someone up or opens a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Ticket => "ticket",
        }
    }
}

/// One window pair of a multiwindow burn-rate alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnRateAlert {
    pub severity: Severity,
    /// The window that shows enough budget is being spent.
    pub long: Window,
    /// The window that shows it is still being spent (so the alert resolves soon after).
    pub short: Window,
    /// The share of the SLO window's error budget that burning for `long` would spend.
    pub budget_percent: u64,
}

impl BurnRateAlert {
    /// The burn rate both windows must exceed: the budget share times the SLO window over the
    /// long window (2 % × 30 d / 1 h = 14.4). One division of exact integers, so the factor is
    /// the double nearest the decimal value and prints as such.
    pub fn factor(&self, slo_window: Window) -> f64 {
        (self.budget_percent * slo_window.seconds) as f64 / (100 * self.long.seconds) as f64
    }
}

/// An objective as a share of good events, held exactly in units of 10⁻⁸ (a percentage with
/// up to six decimals), so that 99.95 % yields an error budget of exactly `0.0005`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Objective {
    hundred_millionths: u64,
}

impl Objective {
    const ONE: u64 = 100_000_000;

    /// From a percentage strictly between 0 and 100 with at most six decimals.
    pub fn from_percent(percent: f64) -> Result<Self, String> {
        let scaled = percent * 1e6;
        if !(percent > 0.0 && percent < 100.0) {
            return Err(format!(
                "objective_percent {percent} must be between 0 and 100, exclusive"
            ));
        }
        if (scaled - scaled.round()).abs() > 1e-6 {
            return Err(format!(
                "objective_percent {percent} has more than six decimals"
            ));
        }
        Ok(Self {
            hundred_millionths: scaled.round() as u64,
        })
    }

    /// The share of events that must be good (`0.9995`).
    pub fn ratio(self) -> f64 {
        self.hundred_millionths as f64 / Self::ONE as f64
    }

    /// As a percentage (`99.95`).
    pub fn percent(self) -> f64 {
        self.hundred_millionths as f64 / 1e6
    }

    /// The share of events that may be bad (`0.0005`).
    pub fn error_budget(self) -> f64 {
        (Self::ONE - self.hundred_millionths) as f64 / Self::ONE as f64
    }
}

/// What an SLO measures, and so which events are good.
#[derive(Clone, Debug, PartialEq)]
pub enum Indicator {
    /// Requests answered without failing on our side. Counted: every response except 4xx,
    /// plus 429 (a shed request failed the caller through no mistake of theirs). Bad: 5xx
    /// (503 sheds and timeouts included) and 429.
    Availability,
    /// Requests answered within `threshold_seconds`, over every response that is not 4xx.
    /// The threshold is an edge of the latency histogram, so Prometheus sees the same split.
    Latency { threshold_seconds: f64 },
    /// Resident memory sampled periodically; a sample at or above `limit_bytes` is bad.
    Memory { limit_bytes: u64 },
    /// Rows predicted (of `model`, or of every model), good when model health found no issue
    /// in them: no missing value where the reference has none or the model was fitted with
    /// none, no category the model or the reference never saw, no value outside the
    /// reference's range or a fitted scaler's.
    DataQuality { model: Option<String> },
    /// Evaluation intervals (one a minute per model, of `model` or of every model) with at
    /// least `min_rows` rows in `drift_window`, good when every input column's PSI over
    /// `drift_window` stays under `psi_threshold`.
    Drift(DriftRule),
}

/// What a drift SLO holds every interval to.
#[derive(Clone, Debug, PartialEq)]
pub struct DriftRule {
    /// The model whose intervals count; `None`: every model's.
    pub model: Option<String>,
    /// An interval is bad when a column's PSI reaches this.
    pub psi_threshold: f64,
    /// The window PSI is computed over: one of [`DRIFT_WINDOWS`].
    pub drift_window: Window,
    /// Intervals whose window holds fewer rows are not evaluated (PSI over a handful of rows
    /// says nothing).
    pub min_rows: u64,
}

/// The windows model health keeps bin counts over, and so the windows a drift SLO may use.
pub const DRIFT_WINDOWS: [Window; 2] = [Window::hours(1), Window::days(1)];

/// How often a drift SLO is evaluated, per model.
pub const DRIFT_INTERVAL: Window = Window::minutes(1);

/// The rows a drift window needs for an interval to count, unless `min_rows` says otherwise.
pub const DEFAULT_DRIFT_MIN_ROWS: u64 = 100;

impl Indicator {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Availability => "availability",
            Self::Latency { .. } => "latency",
            Self::Memory { .. } => "memory",
            Self::DataQuality { .. } => "data_quality",
            Self::Drift(_) => "drift",
        }
    }

    /// The model a model-health SLO is restricted to, if any.
    pub fn model(&self) -> Option<&str> {
        match self {
            Self::DataQuality { model } => model.as_deref(),
            Self::Drift(rule) => rule.model.as_deref(),
            _ => None,
        }
    }

    /// Whether `model`'s events count towards this (model-health) SLO.
    pub fn counts_model(&self, model: &str) -> bool {
        self.model().is_none_or(|m| m == model)
    }

    /// What its events are, for messages: requests, samples, rows, intervals.
    pub fn events(&self) -> &'static str {
        match self {
            Self::Availability | Self::Latency { .. } => "requests",
            Self::Memory { .. } => "samples",
            Self::DataQuality { .. } => "rows",
            Self::Drift(_) => "intervals",
        }
    }
}

/// Which alert tiers an SLO has, and the guard against alerting on too few events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertPolicy {
    pub page: bool,
    pub ticket: bool,
    /// An alert needs at least this many events in its long window (0: no guard).
    pub min_events: u64,
}

impl AlertPolicy {
    pub fn enabled(&self, severity: Severity) -> bool {
        match severity {
            Severity::Page => self.page,
            Severity::Ticket => self.ticket,
        }
    }
}

/// One validated objective.
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    /// Lower-case letters, digits and `-`: safe as a label value and an HTML id.
    pub name: String,
    pub description: String,
    pub indicator: Indicator,
    pub objective: Objective,
    pub window: Window,
    pub alerts: AlertPolicy,
}

/// The whole validated file.
#[derive(Clone, Debug, PartialEq)]
pub struct SloSpec {
    pub service: String,
    /// Route templates that count towards no SLO (scrapes, probes, the dashboard).
    pub exclude_routes: Vec<String>,
    /// Label matchers added to every series the Prometheus rules select (`job="skserve"`).
    pub prometheus_selector: String,
    pub slos: Vec<Slo>,
}

/// Why `slos.yaml` cannot be used; says which SLO and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(String);

/// The longest SLO window accepted: its coarse ring is 90 d / 5 min = 25,920 buckets.
pub const MAX_SLO_WINDOW: Window = Window::days(90);

impl SloSpec {
    /// The built-in `monitoring/slos.yaml`.
    pub fn embedded(latency_buckets: &[f64]) -> Self {
        Self::parse(EMBEDDED_SLOS_YAML, latency_buckets)
            .expect("the embedded slos.yaml is checked by the tests")
    }

    /// Reads and validates a `slos.yaml` file; errors name the file.
    pub fn read(path: &std::path::Path, latency_buckets: &[f64]) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, latency_buckets)
            .map_err(|SpecError(message)| SpecError(format!("{}: {message}", path.display())))
    }

    /// Parses and validates `slos.yaml`. `latency_buckets` are the edges of the request
    /// latency histogram; every latency threshold must be one of them.
    pub fn parse(text: &str, latency_buckets: &[f64]) -> Result<Self, SpecError> {
        let raw: RawSpec = serde_norway::from_str(text).map_err(|e| SpecError(e.to_string()))?;
        if raw.version != 1 {
            return Err(SpecError(format!(
                "version {} is not supported (expected 1)",
                raw.version
            )));
        }
        if !is_label_safe(&raw.service) {
            return Err(SpecError(format!(
                "service '{}' must be lower-case letters, digits and '-'",
                raw.service
            )));
        }
        for route in &raw.exclude_routes {
            if !route.starts_with('/') {
                return Err(SpecError(format!(
                    "exclude_routes: '{route}' is not a route template (it must start with /)"
                )));
            }
        }
        if raw.prometheus_selector.contains(['{', '}']) {
            return Err(SpecError(format!(
                "prometheus_selector '{}' must be label matchers without braces, \
                 e.g. job=\"skserve\"",
                raw.prometheus_selector
            )));
        }
        if raw.slos.is_empty() {
            return Err(SpecError("slos: at least one SLO is needed".into()));
        }
        let mut names = HashSet::new();
        let mut slos = Vec::with_capacity(raw.slos.len());
        for raw_slo in raw.slos {
            let name = raw_slo.name.clone();
            if !names.insert(name.clone()) {
                return Err(SpecError(format!("slo '{name}' is defined twice")));
            }
            let slo = raw_slo
                .validate(latency_buckets)
                .map_err(|message| SpecError(format!("slo '{name}': {message}")))?;
            slos.push(slo);
        }
        Ok(Self {
            service: raw.service,
            exclude_routes: raw.exclude_routes,
            prometheus_selector: raw.prometheus_selector.trim().to_owned(),
            slos,
        })
    }

    /// Whether requests to this route template count towards the request SLOs.
    pub fn counts_route(&self, route: &str) -> bool {
        !self.exclude_routes.iter().any(|r| r == route)
    }
}

fn is_label_safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    version: u32,
    service: String,
    #[serde(default)]
    exclude_routes: Vec<String>,
    #[serde(default)]
    prometheus_selector: String,
    slos: Vec<RawSlo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    name: String,
    #[serde(default)]
    description: String,
    kind: String,
    objective_percent: f64,
    window: String,
    threshold_seconds: Option<f64>,
    limit_bytes: Option<u64>,
    model: Option<String>,
    psi_threshold: Option<f64>,
    drift_window: Option<String>,
    min_rows: Option<u64>,
    #[serde(default)]
    alerts: RawAlerts,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    #[serde(default = "yes")]
    page: bool,
    #[serde(default = "yes")]
    ticket: bool,
    #[serde(default)]
    min_events: u64,
}

impl Default for RawAlerts {
    fn default() -> Self {
        Self {
            page: true,
            ticket: true,
            min_events: 0,
        }
    }
}

fn yes() -> bool {
    true
}

impl RawSlo {
    fn validate(self, latency_buckets: &[f64]) -> Result<Slo, String> {
        if !is_label_safe(&self.name) {
            return Err("the name must be lower-case letters, digits and '-', \
                        starting with a letter"
                .into());
        }
        let objective = Objective::from_percent(self.objective_percent)?;
        let window = Window::parse(&self.window).map_err(|m| format!("window: {m}"))?;
        if window < Window::days(7)
            || window > MAX_SLO_WINDOW
            || !window.seconds.is_multiple_of(86_400)
        {
            return Err(format!(
                "window {} must be a whole number of days from 7d to {MAX_SLO_WINDOW}",
                self.window
            ));
        }
        let health = matches!(self.kind.as_str(), "data_quality" | "drift");
        reject_field("model", self.model.is_some() && !health)?;
        if let Some(model) = &self.model
            && !is_model_name(model)
        {
            return Err(format!(
                "model '{model}' must be ASCII letters, digits, '_', '-' or '.'"
            ));
        }
        if self.kind != "drift" {
            reject_field("psi_threshold", self.psi_threshold.is_some())?;
            reject_field("drift_window", self.drift_window.is_some())?;
            reject_field("min_rows", self.min_rows.is_some())?;
        }
        let indicator = match self.kind.as_str() {
            "availability" => {
                reject_field("threshold_seconds", self.threshold_seconds.is_some())?;
                reject_field("limit_bytes", self.limit_bytes.is_some())?;
                Indicator::Availability
            }
            "data_quality" => {
                reject_field("threshold_seconds", self.threshold_seconds.is_some())?;
                reject_field("limit_bytes", self.limit_bytes.is_some())?;
                Indicator::DataQuality { model: self.model }
            }
            "drift" => {
                reject_field("threshold_seconds", self.threshold_seconds.is_some())?;
                reject_field("limit_bytes", self.limit_bytes.is_some())?;
                let psi_threshold = self.psi_threshold.ok_or(
                    "a drift SLO needs psi_threshold (0.25 is the usual \"significant shift\")",
                )?;
                if !(psi_threshold.is_finite() && psi_threshold > 0.0) {
                    return Err(format!("psi_threshold {psi_threshold} must be more than 0"));
                }
                let text = self.drift_window.as_deref().unwrap_or("1h");
                let drift_window = Window::parse(text).map_err(|m| format!("drift_window: {m}"))?;
                if !DRIFT_WINDOWS.contains(&drift_window) {
                    return Err(format!(
                        "drift_window {text} is not one model health keeps bin counts over (1h, 1d)"
                    ));
                }
                Indicator::Drift(DriftRule {
                    model: self.model,
                    psi_threshold,
                    drift_window,
                    min_rows: self.min_rows.unwrap_or(DEFAULT_DRIFT_MIN_ROWS),
                })
            }
            "latency" => {
                reject_field("limit_bytes", self.limit_bytes.is_some())?;
                let threshold_seconds = self
                    .threshold_seconds
                    .ok_or("a latency SLO needs threshold_seconds")?;
                if !latency_buckets.contains(&threshold_seconds) {
                    return Err(format!(
                        "threshold_seconds {threshold_seconds} is not a bucket edge of \
                         skserve_http_request_duration_seconds ({}); Prometheus could not \
                         count requests under it exactly",
                        latency_buckets
                            .iter()
                            .map(f64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                Indicator::Latency { threshold_seconds }
            }
            "memory" => {
                reject_field("threshold_seconds", self.threshold_seconds.is_some())?;
                let limit_bytes = self.limit_bytes.ok_or("a memory SLO needs limit_bytes")?;
                if limit_bytes == 0 {
                    return Err("limit_bytes must be more than 0".into());
                }
                if self.alerts.min_events != 0 {
                    return Err("alerts.min_events does not apply to a memory SLO \
                                (its events are periodic samples, never too few)"
                        .into());
                }
                Indicator::Memory { limit_bytes }
            }
            other => {
                return Err(format!(
                    "kind '{other}' is not one of availability, latency, memory, data_quality, \
                     drift"
                ));
            }
        };
        Ok(Slo {
            name: self.name,
            description: self.description,
            indicator,
            objective,
            window,
            alerts: AlertPolicy {
                page: self.alerts.page,
                ticket: self.alerts.ticket,
                min_events: self.alerts.min_events,
            },
        })
    }
}

/// A model's served name, as `--model NAME=URI` accepts it.
fn is_model_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn reject_field(field: &str, present: bool) -> Result<(), String> {
    if present {
        Err(format!("{field} does not apply to this kind of SLO"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKETS: &[f64] = &[0.005, 0.05, 0.1, 0.4, 1.0];

    fn parse(text: &str) -> Result<SloSpec, SpecError> {
        SloSpec::parse(text, BUCKETS)
    }

    fn one_slo(fields: &str) -> String {
        format!(
            "version: 1\nservice: svc\nslos:\n  - name: s\n    window: 30d\n{}",
            fields
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        )
    }

    #[test]
    fn the_embedded_file_holds_the_documented_defaults() {
        let spec = SloSpec::embedded(crate::metrics::LATENCY_BUCKETS);
        assert_eq!(spec.service, "skserve");
        let summary: Vec<_> = spec
            .slos
            .iter()
            .map(|s| (s.name.as_str(), s.objective.percent(), s.window.to_string()))
            .collect();
        assert_eq!(
            summary,
            [
                ("availability", 99.95, "30d".to_owned()),
                ("latency-400ms", 90.0, "30d".to_owned()),
                ("latency-50ms", 99.0, "30d".to_owned()),
                ("memory", 99.9, "30d".to_owned()),
                ("data-quality", 99.0, "30d".to_owned()),
                ("drift", 99.0, "30d".to_owned()),
            ]
        );
        assert_eq!(
            spec.slos[4].indicator,
            Indicator::DataQuality { model: None }
        );
        assert_eq!(
            spec.slos[5].indicator,
            Indicator::Drift(DriftRule {
                model: None,
                psi_threshold: 0.25,
                drift_window: Window::hours(1),
                min_rows: 100,
            })
        );
        assert_eq!(
            spec.slos[1].indicator,
            Indicator::Latency {
                threshold_seconds: 0.4
            }
        );
        assert_eq!(
            spec.slos[3].indicator,
            Indicator::Memory {
                limit_bytes: 256 * 1024 * 1024
            }
        );
        assert!(!spec.counts_route("/metrics"));
        assert!(spec.counts_route("/v2/models/{name}/infer"));
    }

    #[test]
    fn model_health_slos_may_name_one_model() {
        let spec = parse(&one_slo(
            "kind: drift\nobjective_percent: 95\npsi_threshold: 0.1\ndrift_window: 1d\n\
             model: flights",
        ))
        .unwrap();
        let indicator = &spec.slos[0].indicator;
        assert_eq!(indicator.kind(), "drift");
        assert!(indicator.counts_model("flights") && !indicator.counts_model("other"));
        let Indicator::Drift(rule) = indicator else {
            panic!("{indicator:?}")
        };
        assert_eq!(
            (rule.drift_window, rule.min_rows),
            (Window::days(1), DEFAULT_DRIFT_MIN_ROWS)
        );
        let every = parse(&one_slo("kind: data_quality\nobjective_percent: 99")).unwrap();
        assert!(every.slos[0].indicator.counts_model("any"));
        assert_eq!(every.slos[0].indicator.events(), "rows");
    }

    #[test]
    fn objectives_are_exact_decimals() {
        let o = Objective::from_percent(99.95).unwrap();
        assert_eq!(o.ratio().to_string(), "0.9995");
        assert_eq!(o.error_budget().to_string(), "0.0005");
        assert_eq!(o.percent().to_string(), "99.95");
        assert_eq!(
            Objective::from_percent(90.0).unwrap().error_budget(),
            0.1_f64
        );
        assert!(Objective::from_percent(100.0).is_err());
        assert!(Objective::from_percent(0.0).is_err());
        assert!(Objective::from_percent(99.123_456_7).is_err());
    }

    #[test]
    fn burn_rate_factors_are_the_workbooks_for_30_days() {
        let factors: Vec<String> = BURN_RATE_ALERTS
            .iter()
            .map(|a| a.factor(Window::days(30)).to_string())
            .collect();
        assert_eq!(factors, ["14.4", "6", "3", "1"]);
        // 28 days keeps the budget shares, not the factors.
        assert_eq!(BURN_RATE_ALERTS[0].factor(Window::days(28)), 13.44);
    }

    #[test]
    fn windows_parse_and_print_as_prometheus_durations() {
        for text in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
            assert_eq!(Window::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Window::parse("60m").unwrap().to_string(), "1h");
        assert!(Window::parse("1w").is_err());
        assert!(Window::parse("d").is_err());
    }

    #[test]
    fn a_latency_threshold_must_be_a_bucket_edge() {
        let err = parse(&one_slo(
            "kind: latency\nobjective_percent: 99\nthreshold_seconds: 0.3",
        ))
        .unwrap_err();
        assert!(err.0.contains("slo 's'"), "{err}");
        assert!(err.0.contains("0.3 is not a bucket edge"), "{err}");
        assert!(err.0.contains("0.005, 0.05, 0.1, 0.4, 1"), "{err}");

        let ok = parse(&one_slo(
            "kind: latency\nobjective_percent: 99\nthreshold_seconds: 0.4",
        ));
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn alert_tiers_can_be_switched_off() {
        let spec = parse(&one_slo(
            "kind: availability\nobjective_percent: 99.9\nalerts:\n  page: false\n  min_events: 50",
        ))
        .unwrap();
        let alerts = spec.slos[0].alerts;
        assert!(!alerts.enabled(Severity::Page));
        assert!(alerts.enabled(Severity::Ticket));
        assert_eq!(alerts.min_events, 50);
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                one_slo("kind: availability\nobjective_percent: 100"),
                "between 0 and 100",
            ),
            (
                one_slo("kind: speed\nobjective_percent: 99"),
                "kind 'speed'",
            ),
            (
                one_slo("kind: latency\nobjective_percent: 99"),
                "needs threshold_seconds",
            ),
            (
                one_slo("kind: memory\nobjective_percent: 99"),
                "needs limit_bytes",
            ),
            (
                one_slo(
                    "kind: memory\nobjective_percent: 99\nlimit_bytes: 10\nalerts:\n  min_events: 5",
                ),
                "min_events does not apply",
            ),
            (
                one_slo("kind: availability\nobjective_percent: 99\nthreshold_seconds: 0.4"),
                "threshold_seconds does not apply",
            ),
            (
                one_slo("kind: availability\nobjective_percent: 99\ncolour: red"),
                "unknown field `colour`",
            ),
            (
                one_slo("kind: drift\nobjective_percent: 99"),
                "needs psi_threshold",
            ),
            (
                one_slo("kind: drift\nobjective_percent: 99\npsi_threshold: 0.2\ndrift_window: 6h"),
                "drift_window 6h is not one",
            ),
            (
                one_slo("kind: drift\nobjective_percent: 99\npsi_threshold: -1"),
                "must be more than 0",
            ),
            (
                one_slo("kind: availability\nobjective_percent: 99\nmodel: m"),
                "model does not apply",
            ),
            (
                one_slo("kind: data_quality\nobjective_percent: 99\nmin_rows: 5"),
                "min_rows does not apply",
            ),
            (
                one_slo("kind: data_quality\nobjective_percent: 99\nmodel: a b"),
                "model 'a b' must be",
            ),
            (
                one_slo("kind: availability\nobjective_percent: 99").replace("30d", "1d"),
                "from 7d to 90d",
            ),
            (
                one_slo("kind: availability\nobjective_percent: 99")
                    .replace("name: s", "name: Avail"),
                "lower-case",
            ),
            (
                one_slo("kind: availability\nobjective_percent: 99")
                    .replace("version: 1", "version: 2"),
                "version 2",
            ),
            (
                one_slo("kind: availability\nobjective_percent: 99")
                    .replace("slos:", "exclude_routes: [metrics]\nslos:"),
                "must start with /",
            ),
        ];
        for (text, needle) in cases {
            let err = parse(&text).expect_err(&text);
            assert!(err.0.contains(needle), "{err} lacks {needle}");
        }
        let twice = format!(
            "{}  - name: s\n    window: 30d\n    kind: availability\n    objective_percent: 99\n",
            one_slo("kind: availability\nobjective_percent: 99")
        );
        assert!(parse(&twice).unwrap_err().0.contains("defined twice"));
    }
}

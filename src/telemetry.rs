//! Logging: `tracing` events written as text for people or as Cloud Logging structured JSON
//! (`severity`, `message`, `time`, `httpRequest{…}`, `logging.googleapis.com/trace`), one line
//! per event, on standard error.
//!
//! Access logs are events with target [`ACCESS_TARGET`] whose `http.*` fields become Cloud
//! Logging's `httpRequest` object and whose `trace` field becomes the trace link. They are at
//! debug level (5xx at error), so the default filter `info` writes none on the hot path;
//! `SKSERVE_LOG=info,skserve::access=debug` writes one line per request.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line in Cloud Logging's structured format.
    Json,
    /// Text on a terminal, JSON otherwise.
    Auto,
}

/// The target of per-request access log events.
pub const ACCESS_TARGET: &str = "skserve::access";

/// Installs the global subscriber. `filter` uses `EnvFilter` syntax; an invalid filter is an
/// error naming it. Calling it twice keeps the first subscriber (tests may race to install).
pub fn init(format: LogFormat, filter: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| format!("--log-filter: '{filter}' is not a valid filter: {e}"))?;
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if json {
        builder.event_format(CloudLogging).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    // Already installed (several tests in one process): the first one stays, which is fine.
    drop(result);
    Ok(())
}

/// The trace a request belongs to, from `X-Cloud-Trace-Context: TRACE/SPAN;o=1` or W3C
/// `traceparent: 00-TRACE-SPAN-01`, as Cloud Logging links it: `projects/P/traces/TRACE` when
/// the project is known, else the bare trace id.
pub fn trace_link(
    cloud_trace_context: Option<&str>,
    traceparent: Option<&str>,
    project: Option<&str>,
) -> Option<String> {
    let trace = cloud_trace_context
        .and_then(|v| v.split('/').next())
        .or_else(|| traceparent.and_then(|v| v.split('-').nth(1)))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))?;
    Some(match project {
        Some(project) => format!("projects/{project}/traces/{trace}"),
        None => trace.to_owned(),
    })
}

/// Cloud Logging's structured JSON format.
struct CloudLogging;

impl<S, N> FormatEvent<S, N> for CloudLogging
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        let mut line = Map::new();
        line.insert("severity".into(), severity(*meta.level()).into());
        line.insert(
            "message".into(),
            fields.message.take().unwrap_or_default().into(),
        );
        let mut time = String::new();
        SystemTime.format_time(&mut Writer::new(&mut time))?;
        line.insert("time".into(), time.into());
        line.insert("target".into(), meta.target().into());
        if !fields.http.is_empty() {
            line.insert("httpRequest".into(), Value::Object(fields.http));
        }
        if let Some(trace) = fields.trace {
            line.insert("logging.googleapis.com/trace".into(), trace.into());
        }
        line.extend(fields.other);
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

fn severity(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        _ => "DEBUG",
    }
}

/// An event's fields sorted into Cloud Logging's places.
#[derive(Default)]
struct JsonFields {
    message: Option<String>,
    trace: Option<String>,
    http: Map<String, Value>,
    other: Map<String, Value>,
}

impl JsonFields {
    fn put(&mut self, field: &Field, value: Value) {
        let name = field.name();
        match name {
            "message" => {
                self.message = Some(match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                });
            }
            "trace" => self.trace = value.as_str().map(str::to_owned),
            _ => match name.strip_prefix("http.") {
                Some(key) => {
                    let (key, value) = match key {
                        "method" => ("requestMethod", value),
                        "url" => ("requestUrl", value),
                        "user_agent" => ("userAgent", value),
                        "remote_ip" => ("remoteIp", value),
                        // Cloud Logging wants a duration string such as "0.000412s".
                        "latency" => ("latency", format!("{}s", value).into()),
                        other => (other, value),
                    };
                    self.http.insert(key.into(), value);
                }
                None => {
                    self.other.insert(name.into(), value);
                }
            },
        }
    }
}

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_from_either_header() {
        assert_eq!(
            trace_link(
                Some("105445aa7843bc8bf206b12000100000/1;o=1"),
                None,
                Some("p")
            ),
            Some("projects/p/traces/105445aa7843bc8bf206b12000100000".into())
        );
        assert_eq!(
            trace_link(
                None,
                Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                None
            ),
            Some("4bf92f3577b34da6a3ce929d0e0e4736".into())
        );
        assert_eq!(trace_link(Some("not hex/1"), None, None), None);
        assert_eq!(trace_link(None, None, Some("p")), None);
    }
}

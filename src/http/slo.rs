//! The SLO endpoints: `GET /slo`, the dashboard (`crate::dashboard`); `GET /slo.json`, the
//! engine's report with the build, the models served with their health (`crate::health`), the first scrape (whether the fleet's
//! SLOs miss some of this instance's events: `slo::first_scrape`) and, with
//! `--fleet-prometheus`, the fleet's figures as last refreshed (never waited for:
//! `slo::fleet`).
//!
//! Access: `/slo`, `/slo.json` and `/metrics` are operator endpoints. On the serving address
//! they pass the same `auth` checks as the API (every route but the health probes is checked);
//! on `--admin-listen`'s they are served as they are. Nothing in them depends on the listener.

use std::sync::LazyLock;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::service::AppState;
use crate::slo::fleet::FleetStatus;
use crate::slo::{FirstScrapeStatus, Report};

/// `GET /slo`: the dashboard, assembled once.
pub async fn dashboard() -> Response {
    static PAGE: LazyLock<String> = LazyLock::new(crate::dashboard::page);
    no_store(Html(PAGE.as_str()).into_response())
}

/// `GET /slo.json`: every SLO's figures now, the build, and the models served with their
/// health.
pub async fn figures(State(state): State<AppState>) -> Response {
    if let Some(health) = &state.health {
        health.refresh();
    }
    let fleet_drift = state.health.as_ref().and_then(|h| h.fleet());
    let models = state
        .registry
        .names()
        .into_iter()
        .filter_map(|name| state.registry.get(name))
        .map(|slot| {
            let model = slot.load();
            let loaded_at = state
                .metrics
                .model_loaded_timestamp
                .get_metric_with_label_values(&[model.name()])
                .ok()
                .map(|gauge| gauge.get());
            let health = state.health.as_ref().and_then(|h| h.figures(model.name()));
            let fleet = fleet_drift.as_ref().map(|fleet| FleetDrift {
                updated: fleet.updated,
                error: fleet.error.clone(),
                drift: fleet.models.get(model.name()).cloned(),
            });
            ModelFigures {
                name: model.name().to_owned(),
                version: model.version().to_owned(),
                estimator: model.model().chain().to_owned(),
                loaded_at_unix_seconds: loaded_at,
                health: health.map(|figures| Health {
                    figures: (*figures).clone(),
                    fleet,
                }),
            }
        })
        .collect();
    let figures = Figures {
        report: state.slo.report(),
        build: Build {
            version: env!("CARGO_PKG_VERSION"),
            git_sha: crate::metrics::git_sha(),
        },
        models,
        first_scrape: state.first_scrape.status(),
        fleet: state.fleet.as_ref().map(|fleet| fleet.report()),
    };
    no_store(Json(figures).into_response())
}

/// The figures change with every request: no cache may keep them.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The body of `/slo.json`.
#[derive(Serialize)]
struct Figures {
    #[serde(flatten)]
    report: Report,
    build: Build,
    models: Vec<ModelFigures>,
    first_scrape: FirstScrapeStatus,
    /// `null` without `--fleet-prometheus`.
    fleet: Option<FleetStatus>,
}

#[derive(Serialize)]
struct Build {
    version: &'static str,
    git_sha: &'static str,
}

#[derive(Serialize)]
struct ModelFigures {
    name: String,
    version: String,
    estimator: String,
    loaded_at_unix_seconds: Option<f64>,
    /// `null` with `--health off`.
    health: Option<Health>,
}

/// A model's health, and its fleet's drift with `--fleet-prometheus`.
#[derive(Serialize)]
struct Health {
    #[serde(flatten)]
    figures: crate::health::ModelFigures,
    fleet: Option<FleetDrift>,
}

#[derive(Serialize)]
struct FleetDrift {
    updated: Option<f64>,
    error: Option<String>,
    drift: Option<crate::health::fleet::FleetModel>,
}

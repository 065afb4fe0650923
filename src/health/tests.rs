//! Model health driven by hand on a clock that moves when told: a sustained shift in one column
//! spends the drift SLO's budget until its page alert fires in the engine, as the availability
//! alerts are tested in `slo::engine`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::inference::{Context, Input, Request, infer};
use crate::metrics::{LATENCY_BUCKETS, Metrics};
use crate::model::{Absent, Cell, Frame, Model};
use crate::registry::ProfileStatus;
use crate::slo::{ManualClock, SloSpec, Status};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/health")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// The rows of a fixture CSV as the flights model's frame, `duration` times `stretch`.
fn frame(model: &Model, csv: &str, rows: std::ops::Range<usize>, stretch: f64) -> Frame {
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    let lines = &lines[rows];
    let mut builder = model.frame_builder(lines.len());
    let columns: Vec<usize> = ["distance", "duration", "airline", "passengers"]
        .iter()
        .map(|name| builder.column(name).unwrap())
        .collect();
    for (row, line) in lines.iter().enumerate() {
        for (k, field) in line.split(',').enumerate() {
            let cell = match (k, field) {
                (_, "") => Cell::Missing,
                (2, text) => Cell::Text(text),
                (1, number) => Cell::Number(number.parse::<f64>().unwrap() * stretch),
                (_, number) => Cell::Number(number.parse().unwrap()),
            };
            builder.set(row, columns[k], cell).unwrap();
        }
    }
    builder.finish(Absent::Refused).unwrap()
}

/// The flights model with a profile of its training data, made by the profile maker.
fn profiled_flights() -> LoadedModel {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health/flights.pkl"),
    )
    .unwrap();
    let loaded = LoadedModel::from_bytes("flights", &bytes, "flights.pkl", None).unwrap();
    let maker = profile::ProfileMaker::new(10);
    let train = frame(loaded.model(), &fixture("train.csv"), 0..2000, 1.0);
    let context = Context {
        observer: &maker,
        ..Context::unbounded()
    };
    infer(&loaded, Request::new(Input::Frame(train)), &context).unwrap();
    let profile = maker.profile(&loaded).unwrap();
    assert_eq!(profile.rows, 2000);
    loaded.with_profile(ProfileStatus::Loaded {
        profile: Arc::new(profile),
        location: "train.csv".into(),
        same_version: true,
    })
}

#[test]
fn a_sustained_shift_spends_the_drift_budget_until_the_page_fires() {
    let clock = Arc::new(ManualClock::default());
    let spec = SloSpec::embedded(LATENCY_BUCKETS);
    let engine = Arc::new(SloEngine::new(spec, LATENCY_BUCKETS, clock.clone()));
    let registry = Arc::new(Registry::new(vec![profiled_flights()]));
    let metrics = Metrics::new();
    let health = Health::new(
        registry.clone(),
        metrics.health.clone(),
        engine.clone(),
        clock.clone(),
        0,
    );
    let loaded = registry.get("flights").unwrap().load_full();
    let fresh = fixture("fresh.csv");
    let context = Context {
        observer: &health,
        ..Context::unbounded()
    };
    // One minute: a hundred fresh rows, then a tick.
    let minute = |k: usize, stretch: f64| {
        let start = (k % 10) * 100;
        let rows = frame(loaded.model(), &fresh, start..start + 100, stretch);
        infer(&loaded, Request::new(Input::Frame(rows)), &context).unwrap();
        clock.advance(Duration::from_secs(60));
        health.tick();
    };
    let drift = || {
        engine
            .report()
            .slos
            .into_iter()
            .find(|s| s.name == "drift")
            .unwrap()
    };

    for k in 0..120 {
        minute(k, 1.0);
    }
    let calm = drift();
    assert_eq!(
        (calm.good, calm.total),
        (120, 120),
        "one interval a minute, all good"
    );
    assert_eq!(calm.status, Status::Ok);
    let figures = health.figures("flights").unwrap();
    assert!(figures.max_psi[0] < 0.1, "{:?}", figures.max_psi);

    // Then every duration half as long again, for forty minutes.
    for k in 0..40 {
        minute(k, 1.5);
    }
    let shifted = drift();
    let figures = health.figures("flights").unwrap();
    assert_eq!(figures.columns[0].feature, "duration");
    assert_eq!(figures.columns[0].status, "drift");
    assert!(
        shifted.total - shifted.good >= 20,
        "{} bad",
        shifted.total - shifted.good
    );
    let fast = &shifted.alerts[0].conditions[0];
    assert!(
        fast.long_burn_rate > 14.4 && fast.short_burn_rate > 14.4,
        "{fast:?}"
    );
    assert_eq!(shifted.status, Status::Page);
    let bad = metrics
        .health
        .drift_intervals
        .with_label_values(&["flights", "drift", "bad"])
        .get();
    assert_eq!(bad, shifted.total - shifted.good);
}

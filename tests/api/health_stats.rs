//! Model health's statistics against independent implementations: for every case of
//! `tests/python/health/drift_stats.py` (strings, a few distinct numbers, many distinct numbers;
//! shifted or not), skserve's PSI and Jensen–Shannon distance over its bins agree within 1e-9
//! with Evidently's `psi` and `jensenshannon` stat tests and with scipy's `jensenshannon`, given
//! the same bins; and, where Evidently bins a column as skserve does (strings, at most 20
//! distinct numbers), given the data itself. The venv comes from PyPI
//! (`tests/python/health/ensure_health.sh`); without it the test fails.

use std::process::Command;

use serde_json::{Value, json};
use skserve::health::plan::ColumnPlan;
use skserve::health::{reference, stats};
use skserve::model::Cell;
use skserve::registry::profile::BinKind;

use crate::helpers::{repo, scratch_dir};

fn python() -> String {
    let out = Command::new("bash")
        .arg(repo().join("tests/python/health/ensure_health.sh"))
        .output()
        .expect("runs ensure_health.sh");
    assert!(
        out.status.success(),
        "the statistics venv (Evidently and scipy from PyPI): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn run(python: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(repo().join("tests/python/health/drift_stats.py"))
        .args(args)
        .output()
        .expect("runs drift_stats.py");
    assert!(
        out.status.success(),
        "drift_stats.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn close(ours: f64, theirs: &Value, what: &str) {
    let theirs = theirs
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (ours - theirs).abs() <= 1e-9,
        "{what}: skserve {ours}, the other {theirs}"
    );
}

#[test]
#[ignore = "full tier: needs Evidently and scipy from PyPI (tests/run.sh)"]
fn psi_and_jensen_shannon_agree_with_evidently_and_scipy() {
    let python = python();
    let dir = scratch_dir("stats");
    let cases_file = dir.join("cases.json");
    run(&python, &["cases", cases_file.to_str().unwrap()]);
    let cases: Vec<Value> = serde_json::from_slice(&std::fs::read(&cases_file).unwrap()).unwrap();

    let mut binned = Vec::new();
    let mut ours = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let strings = case["kind"] == "strings";
        let values = |side: &str| -> Vec<Value> { case[side].as_array().unwrap().clone() };
        let (reference, current) = (values("reference"), values("current"));
        let distribution = if strings {
            reference::strings(name, reference.iter().map(|v| v.as_str()))
        } else {
            let numbers: Vec<f64> = reference.iter().map(|v| v.as_f64().unwrap()).collect();
            reference::numbers(name, &numbers, reference::DEFAULT_BINS)
        };
        let plan = ColumnPlan::of_reference(&distribution);
        let bin = |v: &Value| {
            let cell = match v {
                Value::String(s) => Cell::Text(s),
                other => Cell::Number(other.as_f64().unwrap()),
            };
            plan.bin(cell).unwrap()
        };
        let mut counts = vec![0u64; distribution.listed() + 2];
        for v in &current {
            counts[bin(v)] += 1;
        }
        let shares = distribution.all_shares();
        ours.push((
            stats::psi(&shares, &counts).unwrap(),
            stats::jensen_shannon(&shares, &counts).unwrap(),
        ));
        let labels = |side: &[Value]| -> Vec<String> {
            side.iter().map(|v| format!("bin {}", bin(v))).collect()
        };
        binned.push(json!({
            "name": name,
            "kind": case["kind"],
            "raw": strings || distribution.kind == BinKind::Discrete,
            "reference": reference,
            "current": current,
            "reference_bins": labels(&reference),
            "current_bins": labels(&current),
        }));
    }
    let binned_file = dir.join("binned.json");
    std::fs::write(&binned_file, serde_json::to_vec(&binned).unwrap()).unwrap();
    let theirs: Vec<Value> =
        serde_json::from_str(&run(&python, &["compare", binned_file.to_str().unwrap()])).unwrap();

    assert_eq!(theirs.len(), cases.len());
    let mut compared_on_data = 0;
    for ((psi, js), theirs) in ours.iter().zip(&theirs) {
        let name = theirs["name"].as_str().unwrap();
        println!(
            "{name}: PSI {psi:.6} (Evidently {}), JS {js:.6} (Evidently {}, scipy {})",
            theirs["bins"]["psi"], theirs["bins"]["jensen_shannon"], theirs["scipy"]
        );
        close(
            *psi,
            &theirs["bins"]["psi"],
            &format!("{name}: PSI, Evidently"),
        );
        close(
            *js,
            &theirs["bins"]["jensen_shannon"],
            &format!("{name}: JS, Evidently"),
        );
        close(*js, &theirs["scipy"], &format!("{name}: JS, scipy"));
        if let Some(data) = theirs.get("data") {
            close(
                *psi,
                &data["psi"],
                &format!("{name}: PSI, Evidently on the data"),
            );
            close(
                *js,
                &data["jensen_shannon"],
                &format!("{name}: JS, Evidently on the data"),
            );
            compared_on_data += 1;
        }
    }
    assert_eq!(
        compared_on_data, 3,
        "strings twice and few distinct numbers once"
    );
    // The shifted cases drift, the others do not.
    assert!(ours[0].0 > 0.25 && ours[2].0 > 0.25 && ours[3].0 > 0.25 && ours[5].0 > 0.25);
    assert!(ours[1].0 < 0.01 && ours[4].0 < 0.01, "{ours:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

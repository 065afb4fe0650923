//! The Terraform in terraform/ agrees with skserve (nothing can be planned here: no provider
//! downloads, no Google Cloud): it is formatted; every SLO of monitoring/slos.yaml becomes a
//! Cloud Monitoring SLO with burn-rate alerts for its enabled tiers; every environment variable
//! it sets is one skserve reads; its health probe paths answer on a live server; every metric
//! type it names is one Google documents.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::helpers::{repo, spawn_app};

/// Cloud Run metric types, as documented at
/// https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run (checked by hand when added).
const DOCUMENTED_METRIC_TYPES: &[&str] = &[
    "run.googleapis.com/request_count",
    "run.googleapis.com/request_latencies",
    "run.googleapis.com/container/memory/utilizations",
    "run.googleapis.com/container/cpu/utilizations",
    "run.googleapis.com/container/instance_count",
];

/// The facts, read once: every test here checks a different part of the same parse.
fn terraform_facts() -> &'static Value {
    static FACTS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    FACTS.get_or_init(read_terraform_facts)
}

fn read_terraform_facts() -> Value {
    let python = repo().join("target/test-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/run.sh (it makes the test venv)",
        python.display()
    );
    let out = Command::new(python)
        .arg(repo().join("tests/python/terraform_facts.py"))
        .arg(repo())
        .output()
        .expect("runs terraform_facts.py");
    assert!(
        out.status.success(),
        "terraform_facts.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn terraform_is_formatted() {
    let out = Command::new("terraform")
        .args(["fmt", "-check", "-recursive", "-diff"])
        .current_dir(repo().join("terraform"))
        .output()
        .expect("terraform is installed (the deployment is written for it)");
    assert!(
        out.status.success(),
        "terraform fmt -check: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn every_slo_becomes_a_cloud_monitoring_slo_with_its_alerts() {
    let facts = terraform_facts();
    assert_eq!(
        facts["slos_source"],
        "yamldecode(file(\"${path.module}/../monitoring/slos.yaml\"))"
    );
    assert_eq!(facts["slo_for_each"], "local.slos");
    assert_eq!(facts["alert_for_each"], "local.burn_alerts");
    let kinds: BTreeSet<&str> = facts["slo_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let slos = facts["spec"]["slos"].as_array().unwrap();
    assert!(!slos.is_empty());
    for slo in slos {
        let kind = slo["kind"].as_str().unwrap();
        assert!(
            kinds.contains(kind),
            "SLO {} of kind {kind} has no SLI in google_monitoring_slo",
            slo["name"]
        );
        for tier in slo["alerts"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k == "page" || *k == "ticket")
        {
            assert!(
                facts["burn_windows"][tier.0].is_array(),
                "no burn windows for tier {}",
                tier.0
            );
        }
    }
    // The SRE workbook's pairs that Cloud Monitoring can express (lookback at most 24 h).
    let pairs = |tier: &str| -> Vec<(String, String, f64)> {
        facts["burn_windows"][tier]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["long"].as_str().unwrap().into(),
                    w["short"].as_str().unwrap().into(),
                    w["burn"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        pairs("page"),
        [
            ("3600s".into(), "300s".into(), 14.4),
            ("21600s".into(), "1800s".into(), 6.0)
        ]
    );
    assert_eq!(pairs("ticket"), [("86400s".into(), "7200s".into(), 3.0)]);
}

#[test]
fn every_environment_variable_terraform_sets_is_one_skserve_reads() {
    let facts = terraform_facts();
    let help = Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let read: BTreeSet<&str> = help
        .split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split('=').next())
        .collect();
    for var in facts["env_vars"].as_array().unwrap() {
        let var = var.as_str().unwrap();
        assert!(
            read.contains(var),
            "terraform sets {var}, which `skserve serve` does not read (it reads {read:?})"
        );
    }
}

#[test]
fn every_metric_type_is_one_google_documents() {
    let facts = terraform_facts();
    let named = facts["metric_types"].as_array().unwrap();
    assert!(!named.is_empty());
    for metric in named {
        let metric = metric.as_str().unwrap();
        assert!(
            DOCUMENTED_METRIC_TYPES.contains(&metric),
            "{metric} is not in the documented list"
        );
    }
}

#[tokio::test]
async fn health_probe_paths_answer_on_a_live_server() {
    let facts = terraform_facts();
    let app = spawn_app().await;
    let paths = facts["probe_paths"].as_array().unwrap();
    assert_eq!(paths.len(), 2, "a startup and a liveness probe");
    for path in paths {
        let path = path.as_str().unwrap();
        let status = app.get(path).await.status();
        assert_eq!(status, 200, "probe path {path}");
    }
}

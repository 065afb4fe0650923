//! The Terraform in terraform/ is checked as far as it can be without Google Cloud (nothing is
//! planned: the provider cannot be downloaded here). It is formatted; it matches the google
//! provider's real schema (tests/terraform/check_schema.py, which stands in for `terraform
//! validate`), and that check refuses misspelt, missing and misplaced arguments; checkov
//! finds nothing that is not skipped with a reason; and it agrees with skserve: every SLO of
//! monitoring/slos.yaml becomes a Cloud Monitoring SLO or alert with its tiers, every
//! environment variable it sets is one skserve reads, every metric and label it names is one
//! a live skserve exports (or one Google documents for Cloud Run), the sidecar scrapes the
//! admin listener, the memory alerts' PromQL fires as the objective says (promtool), the
//! loading budget is half the instance's memory (skserve's default on the default instance),
//! instances' egress goes into a VPC network where only Google's APIs are allowed, ingress is
//! what the variable says, the sidecar never waits for a readiness that waits for it, and the
//! variables refuse what Cloud Run would. What the configuration computes is evaluated by
//! Terraform itself (tests/terraform/eval_locals.py). The tools are installed under target/
//! by tests/run.sh (tests/terraform/ensure_tools.sh); without them these tests fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::helpers::{repo, spawn_app};

/// Cloud Run metric types and their metric labels, as documented at
/// https://cloud.google.com/monitoring/api/metrics_gcp_p_z#gcp-run (checked by hand when added).
const DOCUMENTED_RUN_METRICS: &[(&str, &[&str])] = &[
    (
        "run.googleapis.com/request_count",
        &["response_code", "response_code_class", "route"],
    ),
    (
        "run.googleapis.com/request_latencies",
        &["response_code", "response_code_class", "route"],
    ),
    (
        "run.googleapis.com/container/memory/utilizations",
        &["container_name"],
    ),
    (
        "run.googleapis.com/container/cpu/utilizations",
        &["container_name"],
    ),
    ("run.googleapis.com/container/instance_count", &["state"]),
];

/// Resource labels of the monitored-resource types the filters select, as documented at
/// https://cloud.google.com/monitoring/api/resources (prometheus_target: Managed Service for
/// Prometheus; cloud_run_revision: Cloud Run).
const DOCUMENTED_RESOURCE_LABELS: &[(&str, &[&str])] = &[
    (
        "prometheus_target",
        &[
            "project_id",
            "location",
            "cluster",
            "namespace",
            "job",
            "instance",
        ],
    ),
    (
        "cloud_run_revision",
        &[
            "project_id",
            "service_name",
            "revision_name",
            "location",
            "configuration_name",
        ],
    ),
];

/// The variables every evaluation needs (the two without defaults).
const REQUIRED_VARIABLES: &[&str] = &[
    "project_id=my-project-123456",
    "invokers=[\"user:operator@example.com\"]",
];

fn venv_python() -> PathBuf {
    let python = repo().join("target/test-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run tests/run.sh (it makes the test venv)",
        python.display()
    );
    python
}

fn tool(relative: &str) -> PathBuf {
    let path = repo().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run tests/run.sh (tests/terraform/ensure_tools.sh installs it)",
        path.display()
    );
    path
}

fn provider_schema() -> PathBuf {
    tool("target/provider-schema/node_modules/@cdktf/provider-google/.jsii")
}

fn stdout_json(what: &str, out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skserve-terraform-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The facts, read once: several tests check different parts of the same parse.
fn terraform_facts() -> &'static Value {
    static FACTS: OnceLock<Value> = OnceLock::new();
    FACTS.get_or_init(|| {
        let out = Command::new(venv_python())
            .arg(repo().join("tests/python/terraform_facts.py"))
            .arg(repo())
            .output()
            .expect("runs terraform_facts.py");
        assert!(
            out.status.success(),
            "terraform_facts.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout_json("terraform_facts.py", &out)
    })
}

/// Runs eval_locals.py: the configuration's local values with these variables, or the error.
fn evaluate(name: &str, variables: &[&str]) -> Result<Value, String> {
    let out = Command::new(venv_python())
        .arg(repo().join("tests/terraform/eval_locals.py"))
        .arg(repo())
        .arg(scratch(name))
        .args(REQUIRED_VARIABLES)
        .args(variables)
        .output()
        .expect("runs eval_locals.py");
    if out.status.success() {
        Ok(stdout_json("eval_locals.py", &out))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The local values under each `sli_source`, evaluated once.
fn locals(sli_source: &str) -> &'static Value {
    static SKSERVE: OnceLock<Value> = OnceLock::new();
    static CLOUD_RUN: OnceLock<Value> = OnceLock::new();
    let cell = match sli_source {
        "skserve" => &SKSERVE,
        "cloud_run" => &CLOUD_RUN,
        other => panic!("no sli_source {other}"),
    };
    cell.get_or_init(|| {
        evaluate(
            &format!("locals-{sli_source}"),
            &[&format!("sli_source={sli_source}")],
        )
        .unwrap_or_else(|e| panic!("terraform cannot evaluate the locals: {e}"))
    })
}

fn check_schema(dirs: &[&Path]) -> Value {
    let out = Command::new(venv_python())
        .arg(repo().join("tests/terraform/check_schema.py"))
        .arg(provider_schema())
        .args(dirs)
        .output()
        .expect("runs check_schema.py");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    stdout_json("check_schema.py", &out)
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
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
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn terraform_matches_the_google_providers_schema() {
    let report = check_schema(&[&repo().join("terraform")]);
    assert_eq!(report["package_version"], "16.12.1");
    assert_eq!(report["provider_version"], "6.50.0");
    let result = &report["results"][0];
    assert_eq!(
        result["errors"],
        Value::Array(vec![]),
        "terraform/ does not match google provider 6.50.0"
    );
    for count in [
        "resources",
        "attributes",
        "blocks",
        "dynamic_blocks",
        "references",
    ] {
        assert!(
            result[count].as_u64().unwrap() > 0,
            "nothing counted as {count}"
        );
    }
    eprintln!(
        "schema check: {} attributes, {} blocks ({} dynamic), {} meta-arguments, {} enumerated \
         values and {} references in {} resources, {} data sources, {} provider blocks",
        result["attributes"],
        result["blocks"],
        result["dynamic_blocks"],
        result["meta_arguments"],
        result["possible_values"],
        result["references"],
        result["resources"],
        result["data_sources"],
        result["provider_blocks"]
    );
}

/// Each mutation of a copy of terraform/: the file, the text replaced, its replacement, and
/// what the check must say.
const MUTATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "run.tf",
        "max_instance_request_concurrency",
        "max_instance_request_concurency",
        "google_cloud_run_v2_service.skserve.template.max_instance_request_concurency: no such \
         attribute or block here (did you mean max_instance_request_concurrency?)",
    ),
    (
        "monitoring.tf",
        "bad_service_filter ",
        "bad_service_filtr ",
        "google_monitoring_slo.slo.dynamic.request_based_sli.content.good_total_ratio.\
         bad_service_filtr: no such attribute or block here",
    ),
    (
        "monitoring.tf",
        "  goal                = local.goals[each.key]\n",
        "",
        "google_monitoring_slo.slo: the required attribute goal is not set",
    ),
    (
        "run.tf",
        "      volume_mounts {",
        "      volume_mount {",
        "google_cloud_run_v2_service.skserve.template.containers.volume_mount: no such attribute \
         or block here (did you mean volume_mounts?)",
    ),
    (
        "run.tf",
        "        limits = {\n          cpu    = var.cpu",
        "        limits {\n          cpu    = var.cpu",
        "google_cloud_run_v2_service.skserve.template.containers.resources.limits: is an \
         attribute",
    ),
    (
        "run.tf",
        "EXECUTION_ENVIRONMENT_GEN2",
        "EXECUTION_ENVIRONMENT_GEN3",
        "google_cloud_run_v2_service.skserve.template.execution_environment: \
         \"EXECUTION_ENVIRONMENT_GEN3\" is not one of",
    ),
    (
        "run.tf",
        "google_service_account.skserve.email",
        "google_service_account.skserve.emial",
        "google_service_account.skserve.emial: google_service_account exports no emial",
    ),
    (
        "prometheus.tf",
        "resource \"google_secret_manager_secret_iam_member\"",
        "resource \"google_secretmanager_secret_iam_member\"",
        "the google provider has no resource type google_secretmanager_secret_iam_member (did \
         you mean google_secret_manager_secret_iam_member?)",
    ),
    (
        "monitoring.tf",
        "local.memory_selector}",
        "local.memory_selectr}",
        "local.memory_selectr: no such local value is declared",
    ),
    (
        "versions.tf",
        "~> 6.14",
        "~> 5.0",
        "the schema is provider 6.50.0, which `version = \"~> 5.0\"` does not admit",
    ),
    (
        "network.tf",
        "private_ip_google_access = true",
        "private_google_access = true",
        "google_compute_subnetwork.skserve.private_google_access: no such attribute or block \
         here (did you mean private_ip_google_access?)",
    ),
    (
        "run.tf",
        "        network_interfaces {",
        "        network_interface {",
        "google_cloud_run_v2_service.skserve.template.dynamic.vpc_access.content.\
         network_interface: no such attribute or block here (did you mean network_interfaces?)",
    ),
];

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn the_schema_check_refuses_misspelt_missing_and_misplaced_arguments() {
    let root = scratch("mutations");
    let mut dirs = Vec::new();
    for (i, (file, from, to, _)) in MUTATIONS.iter().enumerate() {
        let dir = root.join(format!("mutation-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(repo().join("terraform")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
            }
        }
        let target = dir.join(file);
        let text = std::fs::read_to_string(&target).unwrap();
        assert!(text.contains(from), "{file} no longer contains {from:?}");
        std::fs::write(&target, text.replacen(from, to, 1)).unwrap();
        dirs.push(dir);
    }
    let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let report = check_schema(&dirs);
    for (result, (file, from, to, expected)) in
        report["results"].as_array().unwrap().iter().zip(MUTATIONS)
    {
        let errors = strings(&result["errors"]);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{file}: {from:?} -> {to:?} should be refused with {expected:?}; the check said \
             {errors:#?}"
        );
    }
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn checkov_finds_nothing_that_is_not_skipped_with_a_reason() {
    let out = Command::new(tool("target/checkov-venv/bin/checkov"))
        .args(["--directory", "terraform", "--framework", "terraform"])
        .args(["--skip-download", "--output", "json"])
        .current_dir(repo())
        .output()
        .expect("runs checkov");
    let report = stdout_json("checkov", &out);
    let summary = &report["summary"];
    eprintln!(
        "checkov {}: {} passed, {} failed, {} skipped, {} parsing errors, {} resources",
        summary["checkov_version"].as_str().unwrap_or("?"),
        summary["passed"],
        summary["failed"],
        summary["skipped"],
        summary["parsing_errors"],
        summary["resource_count"]
    );
    let failed: Vec<String> = report["results"]["failed_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} on {} ({})",
                c["check_id"], c["resource"], c["check_name"]
            )
        })
        .collect();
    assert!(failed.is_empty(), "checkov findings: {failed:#?}");
    assert_eq!(summary["parsing_errors"], 0);
    assert!(
        summary["passed"].as_u64().unwrap() > 0,
        "checkov checked nothing"
    );
    let mut evaluated = BTreeSet::new();
    for kind in ["passed_checks", "skipped_checks"] {
        for check in report["results"][kind].as_array().unwrap() {
            evaluated.insert(check["check_id"].as_str().unwrap().to_owned());
        }
    }
    for check in report["results"]["skipped_checks"].as_array().unwrap() {
        let reason = check["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or("");
        assert!(
            reason.split_whitespace().count() >= 10,
            "{} on {} is skipped without a reason: {reason:?}",
            check["check_id"],
            check["resource"]
        );
    }
    // The findings the issue names are evaluated (fixed or skipped), not silently unchecked, and
    // so are the network's: flow logs and Private Google Access on every subnet.
    for id in [
        "CKV_GCP_73",
        "CKV_GCP_84",
        "CKV_GCP_62",
        "CKV_GCP_26",
        "CKV_GCP_74",
    ] {
        assert!(evaluated.contains(id), "checkov did not evaluate {id}");
    }
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn every_slo_becomes_a_cloud_monitoring_slo_or_alert_with_its_tiers() {
    let facts = terraform_facts();
    assert_eq!(
        facts["slos_source"],
        "yamldecode(file(\"${path.module}/../monitoring/slos.yaml\"))"
    );
    assert_eq!(facts["slo_for_each"], "local.cloud_monitoring_slos");
    assert_eq!(facts["alert_for_each"], "local.burn_alerts");
    assert_eq!(
        facts["memory_alert"]["for_each"],
        "local.memory_burn_alerts"
    );
    assert_eq!(
        facts["memory_alert"]["conditions"],
        serde_json::json!(["condition_prometheus_query_language"])
    );
    let kinds: BTreeSet<&str> = strings(&facts["slo_kinds"]).into_iter().collect();
    let slos = facts["spec"]["slos"].as_array().unwrap();
    assert!(!slos.is_empty());

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

    for source in ["skserve", "cloud_run"] {
        let values = locals(source);
        let objects = values["cloud_monitoring_slos"].as_object().unwrap();
        for slo in slos {
            let name = slo["name"].as_str().unwrap();
            let kind = slo["kind"].as_str().unwrap();
            let as_promql = source == "skserve" && kind == "memory";
            assert_eq!(
                objects.contains_key(name),
                !as_promql,
                "{source}: SLO {name} ({kind}) as an SLO object"
            );
            if !as_promql {
                assert!(
                    kinds.contains(kind),
                    "SLO {name} of kind {kind} has no SLI block"
                );
            }
            let alerts = if as_promql {
                &values["memory_burn_alerts"]
            } else {
                &values["burn_alerts"]
            };
            for (tier, windows) in facts["burn_windows"].as_object().unwrap() {
                let enabled = slo["alerts"][tier].as_bool().unwrap_or(true);
                for window in windows.as_array().unwrap() {
                    let key = format!("{name} {tier} {}", window["long"].as_str().unwrap());
                    assert_eq!(
                        alerts.get(&key).is_some(),
                        enabled,
                        "{source}: alert {key} (tier enabled: {enabled})"
                    );
                }
            }
        }
        if source == "cloud_run" {
            assert_eq!(values["memory_burn_alerts"], serde_json::json!({}));
        }
        // Model health reads skserve's counters whatever the source: every model's, as the
        // default SLOs name none.
        for (key, metric) in [
            ("rows", "skserve_input_rows_total"),
            ("with_issues", "skserve_input_rows_with_issues_total"),
            ("intervals", "skserve_drift_intervals_total"),
        ] {
            let filter = values["health_sli"][key].as_str().unwrap();
            assert!(
                filter.contains(&format!("prometheus.googleapis.com/{metric}/counter")),
                "{source}: {filter}"
            );
        }
        for slo in slos
            .iter()
            .filter(|s| ["data_quality", "drift"].contains(&s["kind"].as_str().unwrap()))
        {
            assert_eq!(values["health_model"][slo["name"].as_str().unwrap()], "");
        }
    }
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
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
    let set = strings(&facts["env_vars"]);
    assert!(set.contains(&"SKSERVE_ADMIN_LISTEN") && set.contains(&"SKSERVE_FLEET_PROMETHEUS"));
    for var in set {
        assert!(
            read.contains(var),
            "terraform sets {var}, which `skserve serve` does not read (it reads {read:?})"
        );
    }
}

/// `prometheus.googleapis.com/NAME/KIND` of every family a scrape exports, with the labels of
/// its samples (Managed Service for Prometheus's naming: counters keep their `_total`,
/// histograms and summaries drop their `_bucket`, `_sum` and `_count` series' suffixes).
fn managed_prometheus_types(scrape: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut kinds = BTreeMap::new();
    for line in scrape.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            kinds.insert(name.to_owned(), kind.to_owned());
        }
    }
    let mut types: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let series = line.split([' ', '{']).next().unwrap();
        let family = kinds
            .keys()
            .filter(|f| {
                series == *f
                    || series
                        .strip_prefix(f.as_str())
                        .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))
            })
            .max_by_key(|f| f.len())
            .unwrap_or_else(|| panic!("no # TYPE for {series}"));
        let kind = match kinds[family].as_str() {
            "untyped" => "unknown",
            k => k,
        };
        let labels = types
            .entry(format!("prometheus.googleapis.com/{family}/{kind}"))
            .or_default();
        if let Some((_, rest)) = line.split_once('{') {
            let body = rest.rsplit_once('}').unwrap().0;
            for pair in body.split("\",") {
                let label = pair.split('=').next().unwrap().trim_matches(',');
                if !label.is_empty() && label != "le" && label != "quantile" {
                    labels.insert(label.to_owned());
                }
            }
        }
    }
    types
}

/// Every Cloud Monitoring filter the configuration computes, under both sli_sources.
fn computed_filters() -> Vec<String> {
    let mut filters = Vec::new();
    for source in ["skserve", "cloud_run"] {
        let values = locals(source);
        for value in values["sli"].as_object().unwrap().values() {
            if let Some(filter) = value.as_str().filter(|f| f.contains("metric.type")) {
                filters.push(filter.to_owned());
            }
        }
        for tile in values["metric_tiles"].as_array().unwrap() {
            filters.push(tile["filter"].as_str().unwrap().to_owned());
        }
        for filter in values["health_sli"].as_object().unwrap().values() {
            filters.push(filter.as_str().unwrap().to_owned());
        }
        for tile in values["health_tiles"].as_array().unwrap() {
            filters.push(tile["filter"].as_str().unwrap().to_owned());
        }
        filters.push(values["memory_metric"].as_str().unwrap().to_owned());
    }
    filters
}

fn quoted_after<'a>(filter: &'a str, key: &str) -> Vec<&'a str> {
    filter
        .split(key)
        .skip(1)
        .map(|rest| rest.split('"').nth(1).unwrap())
        .collect()
}

fn labels_named<'a>(filter: &'a str, prefix: &str) -> BTreeSet<&'a str> {
    filter
        .split(prefix)
        .skip(1)
        .map(|rest| {
            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap()
        })
        .collect()
}

#[tokio::test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
async fn every_metric_and_label_is_one_skserve_exports_or_google_documents() {
    let app = spawn_app().await;
    // A request first, so that the request series exist whatever the exporter starts with.
    assert_eq!(app.get("/v2/health/ready").await.status(), 200);
    let scrape = app.get("/metrics").await.text().await.unwrap();
    let exported = managed_prometheus_types(&scrape);
    let documented: BTreeMap<&str, &[&str]> = DOCUMENTED_RUN_METRICS.iter().copied().collect();
    let resources: BTreeMap<&str, &[&str]> = DOCUMENTED_RESOURCE_LABELS.iter().copied().collect();

    let named = strings(&terraform_facts()["metric_types"]);
    assert!(
        named
            .iter()
            .any(|m| m.starts_with("prometheus.googleapis.com/"))
    );
    for metric in &named {
        assert!(
            exported.contains_key(*metric) || documented.contains_key(metric),
            "{metric} is neither exported by skserve (it exports {:?}) nor a documented Cloud \
             Run metric",
            exported.keys().collect::<Vec<_>>()
        );
    }

    let filters = computed_filters();
    assert!(!filters.is_empty());
    for filter in &filters {
        let metric = quoted_after(filter, "metric.type=")[0];
        let labels: BTreeSet<&str> = match exported.get(metric) {
            Some(labels) => labels.iter().map(String::as_str).collect(),
            None => documented[metric].iter().copied().collect(),
        };
        for label in labels_named(filter, "metric.labels.") {
            assert!(
                labels.contains(label),
                "{metric} has no label {label} (it has {labels:?}); filter: {filter}"
            );
        }
        let resource = quoted_after(filter, "resource.type=")[0];
        for label in labels_named(filter, "resource.labels.") {
            assert!(
                resources[resource].contains(&label),
                "{resource} has no resource label {label}; filter: {filter}"
            );
        }
    }

    // The PromQL of the memory objective (alerts and dashboard) selects exported series.
    let values = locals("skserve");
    let mut queries: Vec<&str> = values["memory_burn_alerts"]
        .as_object()
        .unwrap()
        .values()
        .map(|a| a["query"].as_str().unwrap())
        .collect();
    for tiles in values["memory_tiles"].as_array().unwrap() {
        queries.extend(
            tiles
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["query"].as_str().unwrap()),
        );
    }
    assert!(!queries.is_empty());
    for query in queries {
        for name in query
            .split('{')
            .filter_map(|before| {
                before
                    .rsplit(|c: char| !c.is_alphanumeric() && c != '_')
                    .next()
            })
            .filter(|name| !name.is_empty())
        {
            let gauge = format!("prometheus.googleapis.com/{name}/gauge");
            assert!(
                exported.contains_key(&gauge),
                "{query} selects {name}, which is no gauge skserve exports"
            );
        }
    }
}

#[tokio::test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
async fn health_probe_paths_answer_on_a_live_server() {
    let facts = terraform_facts();
    let app = spawn_app().await;
    let paths = strings(&facts["probe_paths"]);
    assert_eq!(paths.len(), 2, "a startup and a liveness probe");
    for path in paths {
        let status = app.get(path).await.status();
        assert_eq!(status, 200, "probe path {path}");
    }
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn the_sidecar_scrapes_the_admin_listener_with_least_privilege() {
    let facts = terraform_facts();
    let values = locals("skserve");
    let containers = facts["containers"].as_array().unwrap();
    let container = |name: &str| {
        containers
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no container {name}"))
    };
    let skserve = container("skserve");
    let collector = container("collector");

    // skserve listens for the sidecar on loopback, away from the serving port.
    assert_eq!(skserve["env"]["SKSERVE_ADMIN_LISTEN"], "local.admin_listen");
    let admin = values["admin_listen"].as_str().unwrap();
    let (host, port) = admin.rsplit_once(':').unwrap();
    assert_eq!(host, "127.0.0.1", "the admin listener is loopback only");
    let admin_port: u64 = port.parse().unwrap();
    let serving = skserve["ports"].as_array().unwrap();
    assert!(
        serving.iter().all(|p| p.as_u64() != Some(admin_port)),
        "{port} is the serving port"
    );

    // The sidecar's RunMonitoring scrapes exactly that port, as the job the rules select.
    let config = &values["run_monitoring"];
    assert_eq!(config["apiVersion"], "monitoring.googleapis.com/v1beta");
    assert_eq!(config["kind"], "RunMonitoring");
    let endpoints = config["spec"]["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["port"], port);
    assert_eq!(endpoints[0]["path"], "/metrics");
    let selector = facts["spec"]["prometheus_selector"].as_str().unwrap();
    let job = config["metadata"]["name"].as_str().unwrap();
    assert!(
        selector.contains(&format!("job=\"{job}\"")),
        "job {job} vs {selector}"
    );

    // The sidecar targets 0.0.0.0:PORT; the kernel routes that to a loopback listener.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let local_port = listener.local_addr().unwrap().port();
    std::net::TcpStream::connect(("0.0.0.0", local_port))
        .expect("0.0.0.0 reaches a listener bound to 127.0.0.1");

    // Configured from the mounted secret, pinned (its start order: below).
    let mount = &collector["volume_mounts"][0];
    assert_eq!(mount["mount_path"], "/etc/rungmp");
    let volume = facts["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume");
    let secret = &volume["secret"][0];
    assert_eq!(
        secret["secret"],
        "google_secret_manager_secret.rungmp.secret_id"
    );
    assert_eq!(secret["items"][0]["path"], "config.yaml");
    assert_eq!(
        secret["items"][0]["version"], "google_secret_manager_secret_version.rungmp.version",
        "the exact version, so that a change rolls out as a revision"
    );

    // The fleet view reads this project's PromQL endpoint.
    assert_eq!(
        skserve["env"]["SKSERVE_FLEET_PROMETHEUS"],
        "local.fleet_prometheus_url"
    );
    assert_eq!(
        values["fleet_prometheus_url"],
        "https://monitoring.googleapis.com/v1/projects/my-project-123456/location/global/prometheus"
    );

    // Least privilege: these project roles and the one secret, nothing else.
    assert_eq!(
        facts["project_roles"],
        serde_json::json!([
            "roles/logging.logWriter",
            "roles/monitoring.metricWriter",
            "roles/monitoring.viewer"
        ])
    );
    assert_eq!(
        facts["secret_grants"],
        serde_json::json!([{
            "secret_id": "google_secret_manager_secret.rungmp.secret_id",
            "role": "roles/secretmanager.secretAccessor",
            "member": "google_service_account.skserve.member"
        }])
    );
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn the_memory_alerts_fire_when_the_largest_instance_reaches_the_limit() {
    let facts = terraform_facts();
    let values = locals("skserve");
    let memory = facts["spec"]["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "memory")
        .expect("a memory SLO in slos.yaml");
    let limit = memory["limit_bytes"].as_u64().unwrap();
    let alerts = values["memory_burn_alerts"].as_object().unwrap();
    let dir = scratch("memory-promql");
    let mut rules = String::from("groups:\n  - name: terraform-memory\n    rules:\n");
    for (key, alert) in alerts {
        let query = serde_json::to_string(alert["query"].as_str().unwrap()).unwrap();
        rules.push_str(&format!(
            "      - alert: {}\n        expr: {query}\n",
            key.replace(' ', "_")
        ));
    }
    // The dashboard's memory tiles: the same PromQL, valid as well.
    let tiles = values["memory_tiles"].as_array().unwrap().iter();
    for (i, tile) in tiles.flat_map(|t| t.as_array().unwrap()).enumerate() {
        let query = serde_json::to_string(tile["query"].as_str().unwrap()).unwrap();
        rules.push_str(&format!(
            "      - record: terraform:memory_tile_{i}\n        expr: {query}\n"
        ));
    }
    std::fs::write(dir.join("rules.yaml"), &rules).unwrap();

    // Two instances of this service and one of another: b reaches the limit after an hour; a
    // stays at 40 % of it, so their average never would. The other service's is ignored.
    let namespace = "skserve";
    let series = |ns: &str, instance: &str| {
        format!(
            "process_resident_memory_bytes{{job=\\\"skserve\\\",namespace=\\\"{ns}\\\",instance=\\\"{instance}\\\"}}"
        )
    };
    let low = limit * 2 / 5;
    let test = format!(
        "rule_files: [rules.yaml]\nevaluation_interval: 30s\ntests:\n  - interval: 30s\n    \
         input_series:\n      - series: \"{a}\"\n        values: \"{low}x240\"\n      - series: \
         \"{b}\"\n        values: \"{low}x119 {limit}x120\"\n      - series: \"{other}\"\n        \
         values: \"{limit}x240\"\n    alert_rule_test:\n      - eval_time: 59m\n        \
         alertname: memory_page_3600s\n        exp_alerts: []\n      - eval_time: 65m\n        \
         alertname: memory_page_3600s\n        exp_alerts: [{{exp_labels: {{}}}}]\n",
        a = series(namespace, "a"),
        b = series(namespace, "b"),
        other = series("another-service", "c"),
    );
    std::fs::write(dir.join("test.yaml"), test).unwrap();
    for args in [
        ["check", "rules", "rules.yaml"],
        ["test", "rules", "test.yaml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("promtool runs (Debian package `prometheus`, installed by tests/run.sh)");
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn the_variables_refuse_what_cloud_run_would_refuse() {
    let refused = [
        (
            "collector_image=us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:latest",
            "collector_image must be pinned",
        ),
        (
            "sli_source=prometheus",
            "sli_source must be skserve or cloud_run",
        ),
        (
            "collector_cpu=4",
            "collector_cpu must be between 0.08 and 2",
        ),
        ("cpu=3", "cpu must be one of 1, 2, 4, 6, 8"),
        ("ingress=public", "ingress must be all or internal"),
        (
            "subnet_range=10.8.0.0/24",
            "subnet_range must be an IPv4 range of /16 or larger",
        ),
        (
            r#"subnets={"asia-east1"="mine"}"#,
            "subnets must map regions of regions to subnet names",
        ),
        (
            "network=projects/x/global/networks/y",
            "network must be the name",
        ),
    ];
    for (i, (assignment, message)) in refused.iter().enumerate() {
        let error = evaluate(&format!("refused-{i}"), &[assignment])
            .expect_err(&format!("{assignment} is accepted"));
        assert!(error.contains(message), "{assignment}: {error}");
    }
    let pinned = evaluate(
        "pinned-digest",
        &[&format!(
            "collector_image=us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar@sha256:{}",
            "0".repeat(64)
        )],
    );
    assert!(pinned.is_ok(), "a digest is pinned: {pinned:?}");
}

/// The instance's memory and the loading budget are stated together: the budget is half the
/// memory (256MiB, skserve's default, on the default 512Mi), and a load within it with
/// skserve's stated overhead leaves room for the model being served, which keeps less than
/// half of what its own load held (README, "The loading budget").
#[test]
#[ignore = "full tier: needs Terraform and the test venv (tests/run.sh)"]
fn the_loading_budget_is_half_the_instance_and_the_default_on_the_default_instance() {
    use skserve::cli::parse_byte_size;
    use skserve::model::budget::{DEFAULT_MAX_MODEL_BYTES, LOAD_OVERHEAD_BYTES};
    let facts = terraform_facts();
    assert!(strings(&facts["env_vars"]).contains(&"SKSERVE_MAX_MODEL_BYTES"));
    let run = std::fs::read_to_string(repo().join("terraform/run.tf")).unwrap();
    assert!(
        run.contains("name  = \"SKSERVE_MAX_MODEL_BYTES\"\n        value = local.max_model_bytes"),
        "run.tf passes local.max_model_bytes to skserve"
    );
    let default = locals("skserve");
    let budget = parse_byte_size(default["max_model_bytes"].as_str().unwrap()).unwrap();
    assert_eq!(
        budget, DEFAULT_MAX_MODEL_BYTES,
        "{}",
        default["max_model_bytes"]
    );
    for (memory, mib) in [
        ("512Mi", 512u64),
        ("768Mi", 768),
        ("1Gi", 1024),
        ("4Gi", 4096),
    ] {
        let values = evaluate(&format!("memory-{memory}"), &[&format!("memory={memory}")])
            .unwrap_or_else(|e| panic!("memory={memory}: {e}"));
        let budget = parse_byte_size(values["max_model_bytes"].as_str().unwrap()).unwrap();
        let instance = mib << 20;
        assert_eq!(budget, instance / 2, "memory={memory}");
        // The one loading, and beside it the model served (its load took at most the budget).
        assert!(
            budget + LOAD_OVERHEAD_BYTES + budget / 2 <= instance,
            "memory={memory}: a load of {budget} bytes and the overhead leave no room for the \
             model served"
        );
    }
}

/// `TYPE.NAME` (or `data.TYPE.NAME`) as parsed, strings unquoted.
fn resource<'a>(facts: &'a Value, address: &str) -> &'a Value {
    let found = &facts["resources"][address];
    assert!(!found.is_null(), "no {address} in terraform/");
    found
}

/// The value of a local with these variables set (each set evaluated once).
fn local_with(name: &str, variables: &[&str]) -> Value {
    static EVALUATED: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());
    let key = variables.join(" ");
    let mut evaluated = EVALUATED.lock().unwrap_or_else(|e| e.into_inner());
    let values = evaluated.entry(key).or_insert_with_key(|key| {
        let label: String = key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        evaluate(&label, variables).unwrap_or_else(|e| {
            panic!("terraform cannot evaluate the locals with {variables:?}: {e}")
        })
    });
    values[name].clone()
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn every_packet_goes_into_the_vpc_where_only_google_apis_are_reachable() {
    let facts = terraform_facts();
    let values = locals("skserve");

    // Direct VPC egress of all traffic, with the tag the firewall rules select, when on.
    let template = &resource(facts, "google_cloud_run_v2_service.skserve")["template"][0];
    let vpc = &template["dynamic"][0]["vpc_access"];
    assert_eq!(
        vpc["for_each"],
        "var.private_network ? [local.subnetworks[each.value]] : []"
    );
    let access = &vpc["content"][0];
    assert_eq!(access["egress"], "ALL_TRAFFIC");
    let interface = &access["network_interfaces"][0];
    assert_eq!(interface["network"], "local.network_id");
    assert_eq!(interface["subnetwork"], "vpc_access.value");
    assert_eq!(interface["tags"], serde_json::json!(["local.egress_tag"]));
    assert_eq!(values["egress_tag"], "skserve-egress");

    // A subnet per region with Private Google Access and flow logs, cut from subnet_range.
    let subnet = resource(facts, "google_compute_subnetwork.skserve");
    assert_eq!(subnet["for_each"], "toset(local.created_subnets)");
    assert_eq!(subnet["private_ip_google_access"], true);
    assert_eq!(subnet["ip_cidr_range"], "local.subnet_ranges[each.value]");
    assert!(subnet["log_config"][0].is_object());
    assert_eq!(
        values["created_subnets"],
        serde_json::json!(["us-central1"])
    );
    assert_eq!(
        values["subnet_ranges"],
        serde_json::json!({"us-central1": "10.8.0.0/20"})
    );
    let two = [
        r#"regions=["us-central1","europe-west1","asia-east1"]"#,
        "domain=skserve.example.com",
        r#"subnets={"europe-west1"="mine"}"#,
    ];
    assert_eq!(
        local_with("subnet_ranges", &two),
        serde_json::json!({
            "us-central1": "10.8.0.0/20", "europe-west1": "10.8.16.0/20", "asia-east1": "10.8.32.0/20"
        })
    );
    assert_eq!(
        local_with("created_subnets", &two),
        serde_json::json!(["us-central1", "asia-east1"]),
        "a given subnet is used, not created"
    );
    let given = resource(facts, "data.google_compute_subnetwork.given");
    assert_eq!(given["for_each"], "var.private_network ? var.subnets : {}");
    let preconditions =
        resource(facts, "google_cloud_run_v2_service.skserve")["lifecycle"][0]["precondition"]
            .as_array()
            .unwrap();
    assert!(
        preconditions.iter().any(|p| p["condition"]
            .as_str()
            .unwrap()
            .contains("s.private_ip_google_access")),
        "a given subnet is checked for Private Google Access"
    );
    assert_eq!(
        local_with("created_subnets", &["private_network=false"]),
        serde_json::json!([])
    );

    // A network created without a route to the internet; one route to private.googleapis.com.
    let network = resource(facts, "google_compute_network.skserve");
    assert_eq!(network["count"], "local.create_network ? 1 : 0");
    assert_eq!(network["auto_create_subnetworks"], false);
    assert_eq!(network["delete_default_routes_on_create"], true);
    let route = resource(facts, "google_compute_route.google_apis");
    assert_eq!(route["dest_range"], "local.google_apis_range");
    assert_eq!(route["next_hop_gateway"], "default-internet-gateway");
    assert_eq!(values["google_apis_range"], "199.36.153.8/30");
    assert_eq!(values["create_network"], true);
    assert_eq!(local_with("create_network", &["network=shared"]), false);

    // Inside the network, *.googleapis.com is private.googleapis.com (its four addresses).
    let zone = resource(facts, "google_dns_managed_zone.google_apis");
    assert_eq!(zone["dns_name"], "googleapis.com.");
    assert_eq!(zone["visibility"], "private");
    assert_eq!(
        zone["private_visibility_config"][0]["networks"][0]["network_url"],
        "local.network_id"
    );
    let records = resource(facts, "google_dns_record_set.google_apis");
    assert_eq!(
        records["for_each"],
        "var.private_network && var.google_apis_dns_zone ? local.google_apis_records : {}"
    );
    assert_eq!(
        (&records["name"], &records["type"], &records["rrdatas"]),
        (
            &"each.key".into(),
            &"each.value.type".into(),
            &"each.value.rrdatas".into()
        )
    );
    assert_eq!(
        values["google_apis_records"],
        serde_json::json!({
            "private.googleapis.com.": {
                "type": "A",
                "rrdatas": ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]
            },
            "*.googleapis.com.": {"type": "CNAME", "rrdatas": ["private.googleapis.com."]}
        })
    );

    // Everything skserve and the sidecar call is a googleapis.com host: the model's bucket,
    // the token issuer's keys, the fleet view's query API (and the sidecar's Cloud Monitoring).
    let hosts = [
        "https://storage.googleapis.com".to_owned(),
        skserve::auth::GOOGLE_JWKS_URL.to_owned(),
        values["fleet_prometheus_url"].as_str().unwrap().to_owned(),
    ];
    for url in hosts {
        let host = url.split('/').nth(2).unwrap();
        assert!(
            host.ends_with(".googleapis.com"),
            "{url} is not reached privately"
        );
    }

    // The firewall: HTTPS to private.googleapis.com first, then nothing else, for the tag.
    let rules = &values["egress_rules"];
    let allow = &rules["google_apis"];
    let deny = &rules["everything"];
    assert_eq!(
        (&allow["action"], &allow["protocol"], &allow["ports"]),
        (&"allow".into(), &"tcp".into(), &serde_json::json!(["443"]))
    );
    assert_eq!(
        allow["destination_ranges"],
        serde_json::json!(["199.36.153.8/30"])
    );
    assert_eq!(
        (&deny["action"], &deny["protocol"]),
        (&"deny".into(), &"all".into())
    );
    assert_eq!(deny["destination_ranges"], serde_json::json!(["0.0.0.0/0"]));
    assert!(allow["priority"].as_u64() < deny["priority"].as_u64());
    // One firewall rule per entry, of the instances' tag, allowing or denying as it says.
    let firewall = resource(facts, "google_compute_firewall.egress");
    assert_eq!(
        firewall["for_each"],
        "var.private_network ? local.egress_rules : {}"
    );
    assert_eq!(firewall["direction"], "EGRESS");
    assert_eq!(firewall["network"], "local.network_id");
    assert_eq!(
        firewall["target_tags"],
        serde_json::json!(["local.egress_tag"])
    );
    assert_eq!(firewall["priority"], "each.value.priority");
    assert_eq!(
        firewall["destination_ranges"],
        "each.value.destination_ranges"
    );
    for (i, block) in ["allow", "deny"].into_iter().enumerate() {
        let dynamic = &firewall["dynamic"][i][block];
        assert_eq!(
            dynamic["for_each"],
            format!("each.value.action == \"{block}\" ? [each.value] : []")
        );
        assert_eq!(
            dynamic["content"][0]["protocol"],
            format!("{block}.value.protocol")
        );
    }
    assert!(firewall["log_config"][0].is_object());
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn ingress_is_every_source_the_load_balancer_or_the_vpc_only() {
    let facts = terraform_facts();
    let service = resource(facts, "google_cloud_run_v2_service.skserve");
    assert_eq!(service["ingress"], "local.ingress");
    assert_eq!(locals("skserve")["ingress"], "INGRESS_TRAFFIC_ALL");
    let behind_the_load_balancer = local_with("ingress", &["domain=skserve.example.com"]);
    assert_eq!(
        behind_the_load_balancer,
        "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    );
    let internal = local_with("ingress", &["ingress=internal"]);
    assert_eq!(internal, "INGRESS_TRAFFIC_INTERNAL_ONLY");
    // Internal ingress with an external load balancer would refuse the load balancer.
    let error = evaluate(
        "ingress-internal-with-domain",
        &["ingress=internal", "domain=skserve.example.com"],
    )
    .expect_err("internal ingress behind the external load balancer is accepted");
    assert!(
        error.contains("ingress = internal admits no external load balancer"),
        "{error}"
    );
}

#[test]
#[ignore = "full tier: needs Terraform, the google provider's schema (npm) and checkov (PyPI) (tests/run.sh)"]
fn the_sidecar_never_waits_for_a_readiness_that_waits_for_it() {
    let facts = terraform_facts();
    let values = locals("skserve");
    let containers = facts["containers"].as_array().unwrap();
    let container = |name: &str| containers.iter().find(|c| c["name"] == name).unwrap();
    let (skserve, collector) = (container("skserve"), container("collector"));
    assert_eq!(
        skserve["env"]["SKSERVE_READY_AFTER_FIRST_SCRAPE"],
        "local.ready_after_first_scrape"
    );
    assert_eq!(collector["depends_on"], "local.collector_depends_on");
    let probe = &skserve["startup_probe"][0];
    assert_eq!(probe["http_get"][0]["path"], "/v2/health/ready");
    assert_eq!(probe["period_seconds"], 1);
    assert_eq!(probe["failure_threshold"], "local.startup_probe_seconds");

    // On (the default): readiness waits for the sidecar, which starts with skserve, scrapes
    // 10 s later and then every interval; the wait covers one failed first scrape, and the
    // startup probe outlasts the wait with the 30 s it always had for the model and the keys.
    assert_eq!(values["collector_depends_on"], serde_json::json!([]));
    let wait = values["first_scrape_wait_seconds"].as_u64().unwrap();
    let first = values["sidecar_first_scrape_seconds"].as_u64().unwrap();
    let interval = values["scrape_interval_seconds"].as_u64().unwrap();
    assert_eq!(first, 10, "the sidecar's start-up scrape");
    assert!(wait > first + interval, "{wait} s");
    assert_eq!(values["ready_after_first_scrape"], format!("{wait}s"));
    let budget = values["startup_probe_seconds"].as_u64().unwrap();
    assert_eq!(budget, 30 + wait);
    assert!(
        budget <= 240,
        "Cloud Run allows a startup probe 240 s at most"
    );

    // Off: the sidecar starts once skserve is ready, as before, and nothing waits for it.
    let off = ["ready_after_first_scrape=false"];
    assert_eq!(
        local_with("collector_depends_on", &off),
        serde_json::json!(["skserve"])
    );
    assert_eq!(local_with("ready_after_first_scrape", &off), "off");
    assert_eq!(local_with("startup_probe_seconds", &off), 30);
}

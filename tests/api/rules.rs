//! The Prometheus rules of `monitoring/prometheus/`: the checked-in file is exactly what
//! `skserve slo rules` prints, `promtool check rules` accepts it, and the rule unit tests of
//! `monitoring/prometheus/tests/` pass (`promtool test rules`). promtool comes from Debian's
//! `prometheus` package, which `tests/run.sh` installs; without it these tests fail.

use std::process::Command;

use crate::helpers::repo;

const RULES: &str = "monitoring/prometheus/skserve-slos.yaml";

fn promtool(args: &[&str]) -> std::process::Output {
    Command::new("promtool")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("promtool runs (Debian package `prometheus`, installed by tests/run.sh)")
}

#[test]
fn the_checked_in_rules_are_the_generators_output() {
    let output = Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["slo", "rules"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let generated = String::from_utf8(output.stdout).unwrap();
    let checked_in = std::fs::read_to_string(repo().join(RULES)).unwrap();
    assert!(
        generated == checked_in,
        "{RULES} is stale: regenerate it with `cargo run -- slo rules > {RULES}`"
    );
}

/// `skserve slo rules --config` on the built-in slos.yaml with `from` replaced by `to`.
fn rules_for_edited_slos(from: &str, to: &str) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("skserve-rules-{}-{to}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("slos.yaml");
    let embedded = std::fs::read_to_string(repo().join("monitoring/slos.yaml")).unwrap();
    assert!(
        embedded.contains(from),
        "slos.yaml no longer holds '{from}'"
    );
    std::fs::write(&file, embedded.replace(from, to)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_skserve"))
        .args(["slo", "rules", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    output
}

#[test]
fn slo_rules_reads_another_slos_yaml_and_names_its_mistakes() {
    let output = rules_for_edited_slos("threshold_seconds: 0.05", "threshold_seconds: 0.06");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("slo 'latency-50ms': threshold_seconds 0.06 is not a bucket edge"),
        "{stderr}"
    );

    let output = rules_for_edited_slos("objective_percent: 99.95", "objective_percent: 99.9");
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("vector(0.999)\n"));
}

#[test]
#[ignore = "full tier: needs promtool from Debian's prometheus (tests/run.sh)"]
fn promtool_accepts_the_rules() {
    let output = promtool(&["check", "rules", RULES]);
    assert!(
        output.status.success(),
        "promtool check rules:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "full tier: needs promtool from Debian's prometheus (tests/run.sh)"]
fn the_rule_unit_tests_pass() {
    let tests: Vec<String> = std::fs::read_dir(repo().join("monitoring/prometheus/tests"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    assert!(!tests.is_empty());
    let mut args = vec!["test", "rules"];
    args.extend(tests.iter().map(String::as_str));

    let output = promtool(&args);

    assert!(
        output.status.success(),
        "promtool test rules:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

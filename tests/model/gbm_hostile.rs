//! Hostile XGBoost and LightGBM files: small real models (`tests/fixtures/gbm`, written by
//! `tests/python/gbm/make_gbm_fixtures.py`, each with a categorical split) with one field
//! edited. Every one is refused, by the loader and by `predict` with exit status 2, with a
//! message naming the field; the unedited models load.

use serde_json::{Value, json};
use skserve::model::Model;

use crate::helpers::{repo, skserve};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures/gbm").join(name)).unwrap()
}

/// The XGBoost model with `edit` applied to its JSON; `"__NaN__"` strings become bare `NaN`,
/// as XGBoost writes it.
fn xgboost_edited(edit: impl Fn(&mut Value)) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&fixture("xgb_small.json")).unwrap();
    edit(&mut doc);
    doc.to_string().replace("\"__NaN__\"", "NaN").into_bytes()
}

fn tree(doc: &mut Value, t: usize) -> &mut Value {
    &mut doc["learner"]["gradient_booster"]["model"]["trees"][t]
}

/// The LightGBM model with the first line of tree 0 that starts with `key=` replaced.
fn lightgbm_edited(key: &str, line: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture("lgb_small.txt")).unwrap();
    let tree0 = text.find("Tree=0\n").unwrap();
    let at = tree0 + text[tree0..].find(&format!("\n{key}=")).unwrap() + 1;
    let end = at + text[at..].find('\n').unwrap();
    format!("{}{line}{}", &text[..at], &text[end..]).into_bytes()
}

/// The LightGBM model with `from` replaced by `to` in its header (before the first tree).
fn lightgbm_header_edited(from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture("lgb_small.txt")).unwrap();
    let tree0 = text.find("Tree=0\n").unwrap();
    assert!(text[..tree0].contains(from), "{from}");
    format!("{}{}", text[..tree0].replacen(from, to, 1), &text[tree0..]).into_bytes()
}

/// Each hostile file: what it is, its bytes, and the words its refusal must hold.
fn hostile() -> Vec<(&'static str, Vec<u8>, &'static [&'static str])> {
    vec![
        (
            "xgboost: a child index out of range",
            xgboost_edited(|d| tree(d, 0)["left_children"][0] = json!(99)),
            &["left_children", "99"],
        ),
        (
            "xgboost: a cycle",
            xgboost_edited(|d| tree(d, 0)["left_children"][1] = json!(0)),
            &["left_children", "already reached"],
        ),
        (
            "xgboost: a feature index past the inputs",
            xgboost_edited(|d| tree(d, 1)["split_indices"][0] = json!(7)),
            &["split_indices", "7"],
        ),
        (
            "xgboost: a category set that lies about its size",
            xgboost_edited(|d| tree(d, 0)["categories_sizes"][0] = json!(1000)),
            &["categories_sizes"],
        ),
        (
            "xgboost: a NaN threshold",
            xgboost_edited(|d| tree(d, 0)["split_conditions"][1] = json!("__NaN__")),
            &["split_conditions"],
        ),
        (
            "xgboost: a tree count that lies",
            xgboost_edited(|d| {
                d["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] =
                    json!("5")
            }),
            &["num_trees"],
        ),
        (
            "xgboost: a node count that lies",
            xgboost_edited(|d| tree(d, 2)["tree_param"]["num_nodes"] = json!("40")),
            &["40"],
        ),
        (
            "xgboost: an intercept that is not a number",
            xgboost_edited(|d| {
                d["learner"]["learner_model_param"]["base_score"] = json!("[__NaN__]")
            }),
            &["base_score"],
        ),
        (
            "xgboost: a truncated UBJSON file",
            fixture("xgb_small.ubj")[..2000].to_vec(),
            &["XGBoost"],
        ),
        (
            "lightgbm: a child index out of range",
            lightgbm_edited("left_child", "left_child=1 40 -3 -2 -1"),
            &["left_child", "40"],
        ),
        (
            "lightgbm: a cycle",
            lightgbm_edited("left_child", "left_child=1 0 -3 -2 -1"),
            &["left_child"],
        ),
        (
            "lightgbm: a feature index past the inputs",
            lightgbm_edited("split_feature", "split_feature=2 3 1 1 9"),
            &["split_feature", "9"],
        ),
        (
            "lightgbm: a category bitset that lies about its size",
            lightgbm_edited("cat_boundaries", "cat_boundaries=0 5"),
            &["cat_boundaries"],
        ),
        (
            "lightgbm: a NaN threshold",
            lightgbm_edited(
                "threshold",
                "threshold=nan 0 19.745000000000005 16.845000000000002 13.390000000000002",
            ),
            &["threshold"],
        ),
        (
            "lightgbm: a tree count that lies",
            lightgbm_header_edited("tree_sizes=", "tree_sizes=100 "),
            &["tree_sizes"],
        ),
        (
            "lightgbm: more features than the header declares",
            lightgbm_header_edited("max_feature_idx=3", "max_feature_idx=1"),
            &["feature_names", "2 features"],
        ),
    ]
}

#[test]
fn the_unedited_models_load() {
    for name in ["xgb_small.json", "xgb_small.ubj", "lgb_small.txt"] {
        let model = Model::from_bytes(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.n_features(), 4, "{name}");
    }
}

#[test]
fn every_hostile_gbm_file_is_refused_naming_the_field() {
    let mut failures = Vec::new();
    for (what, bytes, words) in hostile() {
        match Model::from_bytes(&bytes) {
            Ok(_) => failures.push(format!("{what}: loaded")),
            Err(e) => {
                let message = e.explain("model");
                if let Some(word) = words.iter().find(|w| !message.contains(**w)) {
                    failures.push(format!("{what}: '{message}' does not say '{word}'"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_command_line_refuses_hostile_gbm_files_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("skserve-gbm-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (what, bytes, words)) in hostile().into_iter().enumerate() {
        let path = dir.join(format!("hostile-{i}"));
        std::fs::write(&path, bytes).unwrap();
        let out = skserve()
            .args(["predict", "--input", "-", "--model"])
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(words[0]), "{what}: {stderr}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

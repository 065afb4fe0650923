//! Real fitted models saved by skops, each with one attribute edited as an attacker or a broken
//! tool would: the archive is well formed and names only allowed types, so it is the state
//! checks the pickles go through that must refuse it, naming the attribute. A
//! LogisticRegression inside a ColumnTransformer Pipeline (the newest skops), a
//! DecisionTreeClassifier (skops 0.10) and a HistGradientBoostingClassifier (the newest skops),
//! from tests/fixtures/skops_seeds.

use serde_json::{Value, json};

use super::hostile::{Hostile, SEED};
use super::surgery::*;
use crate::helpers::repo;

const TREE: &str = "tests/fixtures/skops_seeds/decision_tree_multi__skops0.10.skops";
const HIST: &str = "tests/fixtures/skops_seeds/hist_gradient_boosting_binary__skops-newest.skops";

fn members(seed: &str) -> Members {
    Members::of(&std::fs::read(repo().join(seed)).unwrap())
}

fn case(name: &'static str, bytes: Vec<u8>, says: &'static str) -> Hostile {
    Hostile {
        name,
        bytes,
        limits: None,
        says: vec![says],
    }
}

/// The Pipeline with its LogisticRegression's `__dict__` edited.
fn logistic(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut members = members(SEED);
    let mut schema = members.schema();
    let state = state_of(&mut schema, "LogisticRegression");
    edit(state["content"]["content"].as_object_mut().unwrap());
    // One key type per key, all of them `str`, as skops writes an object's `__dict__`.
    let keys = state["content"]["content"].as_object().unwrap().len();
    state["content"]["key_types"]["content"] = json!(vec![state_type_str(); keys]);
    members.set_schema(&schema);
    members.stored()
}

fn state_type_str() -> Value {
    state("TypeNode", "builtins", "str")
}

/// `seed` with field `field` (at byte `offset` of each record, `width` bytes wide, as the
/// header's `descr` says) of record `index` of the `nodes` array of the first `class` state
/// set to `value`.
fn node_edit(
    seed: &str,
    class: &str,
    descr: &str,
    (offset, width): (usize, usize),
    index: usize,
    value: &[u8],
) -> Vec<u8> {
    let mut members = members(seed);
    let mut schema = members.schema();
    let nodes = state_of(&mut schema, class)["content"]["content"]["nodes"]["file"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut npy = members.get(&nodes).to_vec();
    let header = npy_header(&npy);
    assert!(header.contains(descr), "{header}");
    let itemsize = descr_itemsize(&header);
    let at = 10 + header.len() + index * itemsize + offset;
    assert_eq!(value.len(), width);
    npy[at..at + width].copy_from_slice(value);
    members.set(&nodes, npy);
    members.stored()
}

/// The bytes of one record of a structured `.npy` array, from its `descr`.
fn descr_itemsize(header: &str) -> usize {
    let descr = &header[header.find('[').unwrap()..header.find(']').unwrap()];
    descr
        .split("'), (")
        .map(|field| {
            let field = field.trim_end_matches(')').trim_end_matches('\'');
            let format = &field[field.rfind('\'').unwrap() + 1..];
            format[2..].parse::<usize>().unwrap()
        })
        .sum()
}

/// Every archive with an edited attribute, with what its refusal must name.
pub fn archives() -> Vec<Hostile> {
    let tree = |index, field: (usize, usize), value: &[u8]| {
        node_edit(
            TREE,
            "Tree",
            "('left_child', '<i8'), ('right_child', '<i8'), ('feature', '<i8'), ('threshold', '<f8')",
            field,
            index,
            value,
        )
    };
    const LEFT_CHILD: (usize, usize) = (0, 8);
    const FEATURE: (usize, usize) = (16, 8);
    const THRESHOLD: (usize, usize) = (24, 8);
    let mut node_count = members(TREE);
    let mut schema = node_count.schema();
    state_of(&mut schema, "Tree")["content"]["content"]["node_count"]["content"] = json!("500");
    node_count.set_schema(&schema);
    vec![
        case(
            "logistic_coef_of_another_width",
            logistic(|d| d["coef_"] = d["intercept_"].clone()),
            "n_features_in_ is 16 but coef_ has 1",
        ),
        case(
            "logistic_coef_missing",
            logistic(|d| {
                d.remove("coef_");
            }),
            "has no coef_",
        ),
        case(
            "logistic_classes_not_an_array",
            logistic(|d| d["classes_"] = text("on_time")),
            "classes_ is not an array",
        ),
        case(
            "logistic_n_features_in_lies",
            logistic(|d| d["n_features_in_"]["content"] = json!("3")),
            "n_features_in_ is 3 but coef_ has 16",
        ),
        case(
            "tree_child_beyond_the_nodes",
            tree(0, LEFT_CHILD, &1_000_000i64.to_le_bytes()),
            "tree_ node 0: left_child is 1000000, beyond the tree's 69 nodes",
        ),
        case(
            "tree_child_back_to_the_root",
            tree(1, LEFT_CHILD, &0i64.to_le_bytes()),
            "tree_ node 1: left_child is 0",
        ),
        case(
            "tree_feature_past_the_inputs",
            tree(0, FEATURE, &7i64.to_le_bytes()),
            "tree_ node 0: feature is 7, not one of the 3 features",
        ),
        case(
            "tree_threshold_nan",
            tree(0, THRESHOLD, &f64::NAN.to_le_bytes()),
            "tree_ node 0: threshold is NaN",
        ),
        case(
            "tree_node_count_lies",
            node_count.stored(),
            "tree_ node_count is 500 but the nodes array holds 69 nodes",
        ),
        case(
            "hist_gradient_boosting_feature_past_the_inputs",
            node_edit(
                HIST,
                "TreePredictor",
                "('value', '<f8'), ('count', '<u4'), ('feature_idx', '<i8')",
                (12, 8),
                0,
                &9i64.to_le_bytes(),
            ),
            "_predictors[0][0] node 0: feature_idx is 9, not one of the 3 features",
        ),
    ]
}

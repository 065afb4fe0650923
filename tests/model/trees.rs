//! The tree matrix against scikit-learn 1.1, 1.3 and 1.9 (`tests/python/trees/`): every tree
//! estimator served, alone and as a Pipeline's last step, in every container, on rows with
//! missing values, on every threshold of its trees and one ulp either side, as float64 and
//! float32. Compared as the Pipeline matrix is (`pipelines::check_versions`).

use skserve::model::{Model, Prediction};

use crate::helpers::{close, read_json, repo, tree_matrices};
use crate::pipelines::check_versions;

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn scikit_learn_1_1_1_3_and_1_9_trees() {
    check_versions(&tree_matrices(), 500);
}

/// Real tree models with one field of one tree edited (`tests/python/trees/
/// make_malformed_trees.py`): each refused at load naming the tree, the node and the field,
/// with exit status 2, no panic and no hang (the CLI run of each is bounded by the loader
/// being linear in the nodes).
#[test]
fn every_malformed_tree_is_refused_naming_tree_node_and_field() {
    let classes = [
        "DecisionTreeClassifier",
        "RandomForestClassifier",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
    ];
    crate::hostile::refused_as_listed(&repo().join("tests/fixtures/malformed_trees"), 50, &classes);
}

#[derive(Debug, serde::Deserialize)]
struct ShapReference {
    shap_version: String,
    cases: Vec<ShapCase>,
}

#[derive(Debug, serde::Deserialize)]
struct ShapCase {
    file: String,
    rows: Vec<Vec<f64>>,
    phi: Vec<Vec<f64>>,
    expected: Vec<f64>,
}

/// `explain` against shap's `TreeExplainer` (`tests/python/trees/make_shap.py`) on trees,
/// forests, GradientBoosting and HistGradientBoosting fitted by scikit-learn 1.9: each
/// feature's value and the expected value within 1e-9.
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn tree_shap_matches_the_shap_package() {
    let root = tree_matrices();
    let reference: ShapReference = read_json(&root.join("shap.json"));
    let matrix = root.join("sk1.9");
    assert!(
        reference.cases.len() >= 9,
        "{} cases",
        reference.cases.len()
    );
    let mut failures = Vec::new();
    for case in &reference.cases {
        let model = Model::from_bytes(&std::fs::read(matrix.join(&case.file)).unwrap()).unwrap();
        let values: Vec<f64> = case.rows.iter().flatten().copied().collect();
        let features = model.rows(&values).unwrap();
        let predicted = match model.predict(&features) {
            Prediction::Classes(classes) => Some(classes),
            Prediction::MultiClasses(_) | Prediction::Values(_) => None,
        };
        for (row, (phi, expected)) in case.phi.iter().zip(&case.expected).enumerate() {
            let class = predicted.as_ref().map(|p| p[row]);
            let explained = model
                .explain(&features, row, class)
                .expect("an explanation");
            let got = &explained.attribution;
            let agree = close(got.base, *expected, 1e-9, 1e-9)
                && got.contributions.len() == phi.len()
                && got
                    .contributions
                    .iter()
                    .zip(phi)
                    .all(|(a, b)| close(*a, *b, 1e-9, 1e-9));
            if !agree {
                failures.push(format!(
                    "{} row {row}: base {} vs {expected}, phi {:?} vs {phi:?}",
                    case.file, got.base, got.contributions
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "TreeSHAP differs from shap {}:\n{}",
        reference.shap_version,
        failures.join("\n")
    );
}

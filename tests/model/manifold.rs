//! KNNImputer, IterativeImputer, KernelDensity, FeatureAgglomeration, Isomap and
//! LocallyLinearEmbedding against scikit-learn 1.1, 1.3 and 1.9
//! (`tests/python/manifold/`): every variant the generator fits, alone and as a Pipeline's
//! step, in pickle protocols 2 to 5 and joblib, compared output by output as the families
//! matrix compares them (labels identical, values within 1e-9 relative). Hostile files of
//! each class are refused naming the attribute.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::families::check_family_under;
use crate::helpers::repo;

/// The matrices, one per scikit-learn version, made by
/// `tests/python/manifold/ensure_manifold.sh` (`tests/run.sh` runs it and sets
/// `SKSERVE_MANIFOLD_DIR`).
fn manifold_matrices() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        crate::helpers::made_by(
            "SKSERVE_MANIFOLD_DIR",
            "tests/python/manifold/ensure_manifold.sh",
        )
    })
    .clone()
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn knn_imputers_match_scikit_learn_1_1_1_3_and_1_9() {
    check_family_under(&manifold_matrices(), "knn_imputer", 40);
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn iterative_imputers_match_scikit_learn_1_1_1_3_and_1_9() {
    check_family_under(&manifold_matrices(), "iterative_imputer", 150);
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn kernel_densities_match_scikit_learn_1_1_1_3_and_1_9() {
    check_family_under(&manifold_matrices(), "kernel_density", 100);
}

#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn feature_agglomerations_match_scikit_learn_1_1_1_3_and_1_9() {
    check_family_under(&manifold_matrices(), "feature_agglomeration", 40);
}

/// Isomap (every metric, `path_method`, `eigen_solver`, search and radius variant) and
/// LocallyLinearEmbedding (every `method`, `reg` and search), alone and before a predictor.
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn manifold_embeddings_match_scikit_learn_1_1_1_3_and_1_9() {
    check_family_under(&manifold_matrices(), "isomap", 100);
    check_family_under(&manifold_matrices(), "locally_linear_embedding", 80);
}

/// Real models of every class above with one fitted attribute edited
/// (`tests/python/manifold/make_malformed_manifold.py`): each refused at load naming the
/// attribute, and by the CLI with exit status 2 and no panic.
#[test]
fn every_malformed_manifold_model_is_refused_naming_the_attribute() {
    let classes = [
        "KNNImputer",
        "KernelDensity",
        "FeatureAgglomeration",
        "Isomap",
        "LocallyLinearEmbedding",
    ];
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_manifold"),
        100,
        &classes,
    );
}

/// Real IterativeImputers with one fitted attribute edited
/// (`tests/python/manifold/make_malformed_iterative.py`): a step of the imputation sequence
/// out of range, reading the wrong features or holding the wrong estimator, bounds NaN or
/// crossed, round counts the sequence does not hold, `sample_posterior`: each refused at load
/// naming the attribute, and by the CLI with exit status 2 and no panic.
#[test]
fn every_malformed_iterative_imputer_is_refused_naming_the_attribute() {
    crate::hostile::refused_as_listed(
        &repo().join("tests/fixtures/malformed_iterative"),
        40,
        &["IterativeImputer"],
    );
}

/// BernoulliRBM's `score_samples` draws at random: its `transform` is served (the families
/// matrix compares it) and `score_samples` is refused with the reason rather than offered.
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn a_bernoulli_rbm_refuses_score_samples_with_the_reason() {
    use skserve::model::Method;
    let model = model_in(
        &crate::helpers::family_matrices().join("sk1.9/models"),
        "bernoulli_rbm",
    );
    assert!(model.has(Method::Transform));
    assert!(!model.has(Method::ScoreSamples));
    let why = model.withheld(Method::ScoreSamples).expect("a reason");
    assert!(why.contains("random"), "{why}");
}

/// The first model file in `dir` made from `model_id`, loaded.
fn model_in(dir: &std::path::Path, model_id: &str) -> skserve::model::Model {
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{model_id}__"))
        })
        .unwrap_or_else(|| panic!("{} holds {model_id}", dir.display()));
    skserve::model::Model::from_bytes(&std::fs::read(&file).unwrap()).unwrap()
}

/// An Isomap fitted with a radius has no geodesic distance for a row with no training row
/// within it (scikit-learn raises on it): the row is refused naming the radius, and the rows
/// near the data are answered.
#[test]
#[ignore = "full tier: needs Python and scikit-learn from PyPI (tests/run.sh)"]
fn an_isomap_refuses_a_row_with_no_training_row_within_its_radius() {
    use skserve::model::Method;
    let model = model_in(
        &manifold_matrices().join("sk1.9/models"),
        "isomap_radius_manhattan",
    );
    let near = [5.1, 3.5, 1.4, 0.2];
    let values = model
        .values(Method::Transform, &model.rows(&near).unwrap())
        .expect("a transform");
    assert_eq!(values.dim(), (1, 3));
    assert!(values.iter().all(|v| v.is_finite()), "{values}");
    let far = [5.1, 3.5, 1.4, 0.2, 50.0, 50.0, 50.0, 50.0];
    let why = model.rows(&far).unwrap_err().to_string();
    assert!(why.contains("radius 1.6") && why.contains("row 2"), "{why}");
}

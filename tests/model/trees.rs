//! The tree matrix against scikit-learn 1.1, 1.3 and 1.9 (`tests/python/trees/`): every tree
//! estimator served, alone and as a Pipeline's last step, in every container, on rows with
//! missing values, on every threshold of its trees and one ulp either side, as float64 and
//! float32. Compared as the Pipeline matrix is (`pipelines::check_versions`).

use crate::helpers::{repo, tree_matrices};
use crate::pipelines::check_versions;

#[test]
fn scikit_learn_1_1_1_3_and_1_9_trees() {
    check_versions(&tree_matrices(), 500);
}

/// Real tree models with one field of one tree edited (`tests/python/trees/
/// make_malformed_trees.py`): each refused at load naming the tree, the node and the field,
/// with exit status 2, no panic and no hang (the CLI run of each is bounded by the loader
/// being linear in the nodes).
#[test]
fn every_malformed_tree_is_refused_naming_tree_node_and_field() {
    crate::hostile::refused_as_listed(&repo().join("tests/fixtures/malformed_trees"), 50);
}

//! Where a tree sits, for messages: the estimator holding it and the attribute path to it
//! (`RandomForestClassifier: estimators_[3].tree_ node 17: left_child is 99, beyond the
//! tree's 45 nodes`).

use crate::model::LoadError;

#[derive(Clone, Debug)]
pub struct TreeSite {
    /// The estimator, as `State::label` names it.
    pub owner: String,
    /// The attribute path from the estimator to the tree (`estimators_[3].tree_`).
    pub tree: String,
}

impl TreeSite {
    pub fn new(owner: String, tree: impl Into<String>) -> Self {
        Self {
            owner,
            tree: tree.into(),
        }
    }

    /// Something wrong with the tree as a whole.
    pub fn error(&self, problem: impl std::fmt::Display) -> LoadError {
        LoadError::Malformed(format!("{}: {} {problem}", self.owner, self.tree))
    }

    /// Something wrong with one field of one node.
    pub fn node_error(
        &self,
        node: usize,
        field: &str,
        problem: impl std::fmt::Display,
    ) -> LoadError {
        LoadError::Malformed(format!(
            "{}: {} node {node}: {field} {problem}",
            self.owner, self.tree
        ))
    }
}

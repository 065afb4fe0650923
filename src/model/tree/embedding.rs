//! RandomTreesEmbedding: `transform` is `one_hot_encoder_.transform(apply(X))`, each row's leaf
//! in every tree one-hot encoded against the leaves the fitted encoder knows, a sparse matrix
//! of one 1.0 per tree (dense when `sparse_output=False`). The trees are walked by the tree
//! engine; each leaf holds its output column (the tree's offset plus the leaf's place in the
//! encoder's `categories_`), worked out once at load. A leaf the encoder does not know would
//! make scikit-learn raise for any row reaching it, so the file is refused naming it.
//!
//! What must not live here: the forests that predict (`forest`).

use super::nodes::Forest;
use super::site::TreeSite;
use super::{charge_tree, n_features, sktree, tree_accepts_missing};
use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::estimator::{Data, Needs, Problem, Refusal, Transformer};
use crate::model::input::{ColumnKind, Dtype};
use crate::model::sparse::Csr;
use crate::model::state::{Path, State};

/// A fitted RandomTreesEmbedding.
#[derive(Clone, Debug)]
pub struct Embedding {
    label: String,
    forest: Forest,
    n_features: usize,
    n_columns: usize,
    sparse_output: bool,
    accepts_missing: bool,
}

pub fn read(state: &State<'_>) -> Result<Embedding, LoadError> {
    let n_features = n_features(state)?;
    let estimators = state.items("estimators_")?;
    if estimators.is_empty() || estimators.len() > super::MAX_TREES {
        return Err(state.malformed("estimators_", format!("holds {} trees", estimators.len())));
    }
    let categories = encoder_categories(state, estimators.len())?;
    let mut forest = Forest::new(1);
    let mut accepts_missing = false;
    let mut offset = 0;
    for (i, (&tree, known)) in estimators.iter().zip(&categories).enumerate() {
        let name = format!("estimators_[{i}]");
        let tree_state = State::of(state.heap, tree, &state.path.join(&name))?;
        if tree_state.class != SkClass::ExtraTreeRegressor {
            return Err(state.malformed(
                &name,
                format!(
                    "is a {}, expected an ExtraTreeRegressor",
                    tree_state.class.name()
                ),
            ));
        }
        if i == 0 {
            accepts_missing = !state.saved_before((1, 4)) && tree_accepts_missing(&tree_state);
        }
        let site = TreeSite::new(state.label(), format!("{name}.tree_"));
        let value = tree_state.get("tree_")?;
        let mut tree = sktree::read(state.heap, value, n_features, &site)?;
        let _held = charge_tree(state.heap.budget(), tree.raw.splits.len(), 1, &site)?;
        let mut columns = Vec::with_capacity(tree.raw.splits.len());
        for (node, split) in tree.raw.splits.iter().enumerate() {
            let column = match (split, known.binary_search(&node)) {
                (Some(_), Ok(_)) => {
                    return Err(state.malformed(
                        &format!("one_hot_encoder_.categories_[{i}]"),
                        format!("holds node {node}, a split of tree {i}, not a leaf"),
                    ));
                }
                (None, Err(_)) => {
                    return Err(state.malformed(
                        &format!("one_hot_encoder_.categories_[{i}]"),
                        format!("lacks leaf {node} of tree {i}"),
                    ));
                }
                (None, Ok(place)) => (offset + place) as f64,
                (Some(_), Err(_)) => 0.0,
            };
            columns.push(column);
        }
        if let Some(&extra) = known.iter().find(|&&n| n >= tree.raw.splits.len()) {
            return Err(state.malformed(
                &format!("one_hot_encoder_.categories_[{i}]"),
                format!("holds node {extra}, beyond tree {i}'s nodes"),
            ));
        }
        offset += known.len();
        tree.raw.values = columns;
        tree.raw.width = 1;
        forest
            .push(&tree.raw, &tree.order, tree.depth)
            .map_err(|f| site.node_error(f.node, f.field, f.problem))?;
    }
    forest.finish(state.heap.budget())?;
    Ok(Embedding {
        label: state.label(),
        forest,
        n_features,
        n_columns: offset,
        sparse_output: state.bool_or("sparse_output", true)?,
        accepts_missing,
    })
}

/// The leaves `one_hot_encoder_` knows of each tree, sorted: its `categories_`, one array of
/// node ids per tree, with nothing dropped and no infrequent category grouped.
fn encoder_categories(state: &State<'_>, n_trees: usize) -> Result<Vec<Vec<usize>>, LoadError> {
    let refuse = |problem: String| state.malformed("one_hot_encoder_", problem);
    let encoder = State::of(state.heap, state.get("one_hot_encoder_")?, &Path::default())
        .map_err(|e| refuse(format!("is refused: {e}")))?;
    if encoder.class != SkClass::OneHotEncoder {
        return Err(refuse(format!(
            "is a {}, not a OneHotEncoder",
            encoder.class.name()
        )));
    }
    if encoder
        .attr("drop_idx_")
        .is_some_and(|v| v != crate::model::value::Value::None)
        || encoder.bool_or("_infrequent_enabled", false)?
    {
        return Err(refuse(
            "drops or groups categories, which a fitted embedding never does".into(),
        ));
    }
    let lists = encoder
        .items("categories_")
        .map_err(|e| refuse(format!("is refused: {e}")))?;
    if lists.len() != n_trees {
        return Err(state.malformed(
            "one_hot_encoder_.categories_",
            format!("has {} entries for {n_trees} trees", lists.len()),
        ));
    }
    lists
        .iter()
        .enumerate()
        .map(|(i, &list)| {
            let name = format!("one_hot_encoder_.categories_[{i}]");
            let (values, _) = crate::model::state::numbers_of(state.heap, list)
                .ok_or_else(|| state.malformed(&name, "is not an array of node ids"))?;
            let mut ids = Vec::with_capacity(values.len());
            for v in values {
                if !(v >= 0.0 && v.fract() == 0.0 && v < u32::MAX as f64) {
                    return Err(state.malformed(&name, format!("holds {v}, not a node id")));
                }
                if ids.last().is_some_and(|&last| last >= v as usize) {
                    return Err(state.malformed(&name, "is not sorted"));
                }
                ids.push(v as usize);
            }
            Ok(ids)
        })
        .collect()
}

impl Transformer for Embedding {
    fn class(&self) -> &'static str {
        "RandomTreesEmbedding"
    }

    fn n_features_in(&self) -> usize {
        self.n_features
    }

    fn sources(&self) -> Vec<usize> {
        vec![0; self.n_columns]
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        (0..self.n_columns)
            .map(|k| format!("randomtreesembedding_{k}"))
            .collect()
    }

    fn needs(&self) -> Vec<Needs> {
        vec![Needs::Kind(ColumnKind::Number); self.n_features]
    }

    fn mixes_features(&self) -> bool {
        true
    }

    fn transform(&self, data: Data) -> Result<Data, Refusal> {
        let (x, _) = data.into_floats(&self.label)?;
        if !self.accepts_missing
            && let Some(((row, feature), _)) = x.indexed_iter().find(|(_, v)| v.is_nan())
        {
            return Err(Refusal {
                row,
                feature,
                problem: Problem::Missing {
                    step: self.label.clone(),
                },
            });
        }
        if let Some(((row, feature), _)) = x.indexed_iter().find(|(_, v)| v.is_infinite()) {
            return Err(Refusal {
                row,
                feature,
                problem: Problem::Missing {
                    step: self.label.clone(),
                },
            });
        }
        let n_trees = self.forest.n_trees();
        let mut out = Csr::with_capacity(self.n_columns, x.nrows(), x.nrows() * n_trees);
        for row in x.rows() {
            let row = row.to_vec();
            for t in 0..n_trees {
                let leaf = self.forest.leaf(t, &row);
                out.push(self.forest.leaf_value(leaf) as usize, 1.0);
            }
            out.end_row();
        }
        Ok(if self.sparse_output {
            Data::Sparse {
                values: out,
                dtype: Dtype::F64,
            }
        } else {
            Data::Numbers {
                values: out.to_dense(),
                dtype: Dtype::F64,
            }
        })
    }

    fn describe(&self, input: &[String]) -> serde_json::Value {
        serde_json::json!({
            "class": "RandomTreesEmbedding",
            "columns": input,
            "n_estimators": self.forest.n_trees(),
            "n_features_out": self.n_columns,
            "sparse_output": self.sparse_output,
        })
    }
}

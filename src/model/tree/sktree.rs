//! scikit-learn's `Tree` (`sklearn.tree._tree.Tree`), the fitted structure behind every
//! DecisionTree, RandomForest, ExtraTrees and GradientBoosting: its constructor arguments
//! (`n_features`, `n_classes`, `n_outputs`) and its state (`node_count`, `nodes`, a record
//! array of 7 fields before scikit-learn 1.3 and 8 after, when `missing_go_to_left` was
//! added, and `values`, `node_count × n_outputs × max_n_classes`).
//!
//! scikit-learn trusts all of it: its Cython walks `left_child` and `right_child` without a
//! bound, so a crafted file crashes or hangs it. Here every field is checked before a node is
//! laid out: children in range and forming a tree, features below `n_features_in_`, leaves
//! exactly the nodes without children, thresholds numbers, values finite and of the shape the
//! arguments imply. A fault is named by the tree, the node and the field.

use super::nodes::{RawTree, Split, check};
use super::site::TreeSite;
use crate::model::LoadError;
use crate::model::budget::Held;
use crate::model::value::{Elements, Heap, NdArray, Node, Value};

/// scikit-learn's marker for a leaf's children (`_TREE_LEAF`).
const TREE_LEAF: i64 = -1;

/// A `Tree`, checked, in the file's node numbering.
#[derive(Debug)]
pub struct SkTree<'h> {
    pub raw: RawTree,
    /// The tree's pre-order and depth, from [`check`].
    pub order: Vec<usize>,
    pub depth: usize,
    pub n_outputs: usize,
    /// Classes per output (1 for a regressor's outputs).
    pub n_classes: Vec<usize>,
    /// Whether nodes record `missing_go_to_left` (scikit-learn 1.3 and later).
    pub has_missing_direction: bool,
    /// What reading it copied, charged to the load until the tree is laid out and dropped.
    _copies: Held<'h>,
}

/// Reads the `Tree` at `value`; its splits must read features below `n_features`.
pub fn read<'h>(
    heap: &Heap<'h>,
    value: Value,
    n_features: usize,
    site: &TreeSite,
) -> Result<SkTree<'h>, LoadError> {
    let Some(Node::Object(object)) = heap.node(value) else {
        return Err(site.error("is not a Tree"));
    };
    let args = heap.tuple(object.args).unwrap_or(&[]);
    let (tree_features, n_classes, n_outputs) = match args {
        [Value::Int(f), classes, Value::Int(o)] => (*f, *classes, *o),
        _ => {
            return Err(site.error(
                "has constructor arguments that are not (n_features, n_classes, n_outputs)",
            ));
        }
    };
    if tree_features != n_features as i64 {
        return Err(site.error(format!(
            "is built for {tree_features} features but the estimator has {n_features}"
        )));
    }
    let n_outputs = usize::try_from(n_outputs)
        .ok()
        .filter(|n| (1..=MAX_OUTPUTS).contains(n))
        .ok_or_else(|| site.error(format!("has n_outputs {n_outputs}")))?;
    let n_classes = class_counts(heap, n_classes, n_outputs, site)?;
    let max_classes = n_classes.iter().copied().max().unwrap_or(1);
    let state = object
        .state
        .and_then(|s| heap.str_dict(s))
        .ok_or_else(|| site.error("has no state"))?;
    let field = |name: &str| {
        state
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    };
    let nodes = field("nodes")
        .and_then(|v| heap.array(v))
        .ok_or_else(|| site.error("has no nodes array"))?;
    let values = field("values")
        .and_then(|v| heap.array(v))
        .ok_or_else(|| site.error("has no values array"))?;
    let n = nodes.len();
    if nodes.shape.len() != 1 {
        return Err(site.error(format!("nodes has shape {:?}", nodes.shape)));
    }
    match field("node_count") {
        Some(Value::Int(count)) if count == n as i64 => {}
        Some(Value::Int(count)) => {
            return Err(site.error(format!(
                "node_count is {count} but the nodes array holds {n} nodes"
            )));
        }
        _ => return Err(site.error("node_count is not an integer")),
    }
    let expected = [n, n_outputs, max_classes];
    if values.shape != expected {
        return Err(site.error(format!(
            "values has shape {:?}, expected {expected:?} (nodes × outputs × classes)",
            values.shape
        )));
    }
    let Elements::Float(values) = &values.elements else {
        return Err(site.error("values is not an array of floats"));
    };
    let copies = super::charge_tree(heap.budget(), n, n_outputs * max_classes, site)?;
    let left = int_field(nodes, "left_child", site)?;
    let right = int_field(nodes, "right_child", site)?;
    let feature = int_field(nodes, "feature", site)?;
    let threshold = float_field(nodes, "threshold", site)?;
    let cover = float_field(nodes, "weighted_n_node_samples", site)?;
    int_field(nodes, "n_node_samples", site)?;
    let missing = match nodes.field("missing_go_to_left") {
        None => None,
        Some(Elements::UInt(v)) => Some(v),
        Some(_) => return Err(site.error("missing_go_to_left is not a byte")),
    };
    let mut splits = Vec::with_capacity(n);
    for i in 0..n {
        let fault = |field, problem: String| site.node_error(i, field, problem);
        let is_leaf = left[i] == TREE_LEAF;
        if is_leaf != (right[i] == TREE_LEAF) {
            return Err(fault(
                if is_leaf { "right_child" } else { "left_child" },
                format!(
                    "is {} while its other child is {}: a node is a leaf when both are -1",
                    if is_leaf { right[i] } else { left[i] },
                    if is_leaf { left[i] } else { right[i] }
                ),
            ));
        }
        if !cover[i].is_finite() || cover[i] < 0.0 {
            return Err(fault(
                "weighted_n_node_samples",
                format!("is {}, not a weight", cover[i]),
            ));
        }
        if is_leaf {
            let row = &values[i * n_outputs * max_classes..(i + 1) * n_outputs * max_classes];
            if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                return Err(fault("value", format!("holds {v}, not a finite number")));
            }
            splits.push(None);
            continue;
        }
        let f = usize::try_from(feature[i])
            .ok()
            .filter(|&f| f < n_features)
            .ok_or_else(|| {
                fault(
                    "feature",
                    format!("is {}, not one of the {n_features} features", feature[i]),
                )
            })?;
        if threshold[i].is_nan() {
            return Err(fault("threshold", "is NaN".into()));
        }
        let missing_left = match &missing {
            Some(flags) => match flags[i] {
                0 => false,
                1 => true,
                other => {
                    return Err(fault(
                        "missing_go_to_left",
                        format!("is {other}, not 0 or 1"),
                    ));
                }
            },
            None => false,
        };
        let child = |v: i64, field| {
            usize::try_from(v).map_err(|_| fault(field, format!("is {v}, not a node")))
        };
        splits.push(Some((
            Split::Numeric {
                feature: f,
                threshold: threshold[i],
                missing_left,
            },
            child(left[i], "left_child")?,
            child(right[i], "right_child")?,
        )));
    }
    let raw = RawTree {
        splits,
        cover,
        values: values.clone(),
        width: n_outputs * max_classes,
    };
    let (order, depth) = check(&raw).map_err(|f| site.node_error(f.node, f.field, f.problem))?;
    Ok(SkTree {
        raw,
        order,
        depth,
        n_outputs,
        n_classes,
        has_missing_direction: missing.is_some(),
        _copies: copies,
    })
}

/// Outputs a tree may have: real ones have a handful.
const MAX_OUTPUTS: usize = 4096;

/// `n_classes`, one count per output.
fn class_counts(
    heap: &Heap<'_>,
    value: Value,
    n_outputs: usize,
    site: &TreeSite,
) -> Result<Vec<usize>, LoadError> {
    let counts = heap
        .array(value)
        .and_then(NdArray::to_f64)
        .ok_or_else(|| site.error("n_classes is not an array of counts"))?;
    if counts.len() != n_outputs {
        return Err(site.error(format!(
            "n_classes has {} counts for {n_outputs} outputs",
            counts.len()
        )));
    }
    counts
        .iter()
        .map(|&c| {
            (c >= 1.0 && c.fract() == 0.0 && c <= 1e6)
                .then_some(c as usize)
                .ok_or_else(|| site.error(format!("n_classes holds {c}")))
        })
        .collect()
}

fn int_field(nodes: &NdArray, name: &str, site: &TreeSite) -> Result<Vec<i64>, LoadError> {
    match nodes.field(name) {
        Some(Elements::Int(v)) => Ok(v),
        Some(Elements::UInt(v)) => Ok(v
            .into_iter()
            .map(|x| x.min(i64::MAX as u64) as i64)
            .collect()),
        Some(_) => Err(site.error(format!("nodes.{name} is not an integer field"))),
        None => Err(site.error(format!(
            "nodes has no field {name} (its dtype is {})",
            nodes.dtype.name()
        ))),
    }
}

fn float_field(nodes: &NdArray, name: &str, site: &TreeSite) -> Result<Vec<f64>, LoadError> {
    match nodes.field(name) {
        Some(Elements::Float(v)) => Ok(v),
        Some(_) => Err(site.error(format!("nodes.{name} is not a float field"))),
        None => Err(site.error(format!(
            "nodes has no field {name} (its dtype is {})",
            nodes.dtype.name()
        ))),
    }
}

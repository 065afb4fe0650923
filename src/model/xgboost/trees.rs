//! XGBoost's trees checked node by node and laid out in skserve's tree engine.
//!
//! A node of XGBoost's sends a value left when `x < split_condition` (both float32), a
//! missing one to its default child, and a categorical split sends the categories of its set
//! right. The engine sends `x <= threshold` left, so a threshold is kept as the largest
//! float32 below XGBoost's: for float32 values the two comparisons agree everywhere. A
//! leaf's value shares the field of a split's condition (`split_conditions`), or for a tree
//! of several targets is its row of `base_weights`.
//!
//! Every child index is checked against the tree's nodes and every node may be reached only
//! once from the root (no cycle, no shared child); nodes no path reaches (those pruning left
//! behind, `num_deleted`) are dropped. Every feature index is checked against the model's
//! features and every category against [`MAX_CATEGORY`].
//!
//! What must not live here: the document's parsing (`document`), the objective.

use super::document::{self, Tree};
use crate::model::tree::nodes::sets::MAX_CATEGORY;
use crate::model::tree::nodes::{Forest, RawTree, SetRule, Split, check};

/// Nodes one tree may have: a tree of depth 24 has 33 million; real ones have thousands.
pub const MAX_NODES: usize = 1 << 25;
/// Words every categorical split's set of a model may take together (16 MiB).
const MAX_SET_WORDS: usize = 1 << 22;

/// Where a fault is: a tree, and a node of it.
pub fn fault(
    tree: usize,
    node: Option<usize>,
    field: &str,
    problem: impl std::fmt::Display,
) -> String {
    match node {
        Some(node) => format!("trees[{tree}] node {node}: {field} {problem}"),
        None => format!("trees[{tree}]: {field} {problem}"),
    }
}

/// A number of XGBoost's parameters (`"15"`), at most `max`.
pub fn count(text: &str, what: &str, max: usize) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|&n| n <= max)
        .ok_or_else(|| format!("{what} is {text:?}, not a count up to {max}"))
}

/// Checks tree `t` of the document and adds it to `forest` (whose leaves hold `width` values:
/// 1, or the targets of a tree of several).
pub fn add(forest: &mut Forest, tree: &Tree, t: usize, n_features: usize) -> Result<(), String> {
    let width = forest.width();
    let n = count(
        &tree.tree_param.num_nodes,
        "tree_param.num_nodes",
        MAX_NODES,
    )
    .map_err(|e| fault(t, None, "", e))?;
    if n == 0 {
        return Err(fault(
            t,
            None,
            "tree_param.num_nodes",
            "is 0: a tree needs a root",
        ));
    }
    let lengths = [
        ("left_children", tree.left_children.len()),
        ("right_children", tree.right_children.len()),
        ("split_indices", tree.split_indices.len()),
        ("split_conditions", tree.split_conditions.len()),
        ("default_left", tree.default_left.len()),
        ("sum_hessian", tree.sum_hessian.len()),
    ];
    for (field, len) in lengths {
        // 2.x keeps no cover in multi-target trees (they are not explained).
        let absent = field == "sum_hessian" && width > 1 && len == 0;
        if len != n && !absent {
            return Err(fault(
                t,
                None,
                field,
                format!("holds {len} values for {n} nodes"),
            ));
        }
    }
    if width > 1 && tree.base_weights.len() != n * width {
        return Err(fault(
            t,
            None,
            "base_weights",
            format!(
                "holds {} values for {n} nodes of {width} targets",
                tree.base_weights.len()
            ),
        ));
    }
    let categories = categories_of(tree, t, n, forest.category_sets.word_count())?;
    // The nodes the root reaches, in the order they are found, each once.
    let mut position = vec![usize::MAX; n];
    let mut order = vec![0usize];
    position[0] = 0;
    let mut i = 0;
    while i < order.len() {
        let node = order[i];
        i += 1;
        let left = tree.left_children[node];
        if left == -1 {
            continue;
        }
        for (child, field) in [
            (left, "left_children"),
            (tree.right_children[node], "right_children"),
        ] {
            let c = usize::try_from(child)
                .ok()
                .filter(|&c| c < n)
                .ok_or_else(|| {
                    fault(
                        t,
                        Some(node),
                        field,
                        format!("is {child}, beyond the tree's {n} nodes"),
                    )
                })?;
            if position[c] != usize::MAX {
                return Err(fault(
                    t,
                    Some(node),
                    field,
                    format!("is {c}, a node already reached: the nodes do not form a tree"),
                ));
            }
            position[c] = order.len();
            order.push(c);
        }
    }
    let mut raw = RawTree {
        splits: Vec::with_capacity(order.len()),
        cover: Vec::with_capacity(order.len()),
        values: Vec::with_capacity(order.len() * width),
        width,
    };
    for &node in &order {
        raw.cover
            .push(tree.sum_hessian.get(node).map_or(0.0, |h| f64::from(h.0)));
        let condition = tree.split_conditions[node].0;
        if tree.left_children[node] == -1 {
            let leaf: &[document::F32] = if width == 1 {
                std::slice::from_ref(&tree.split_conditions[node])
            } else {
                &tree.base_weights[node * width..(node + 1) * width]
            };
            if let Some(bad) = leaf.iter().find(|v| !v.0.is_finite()) {
                let field = if width == 1 {
                    "split_conditions"
                } else {
                    "base_weights"
                };
                return Err(fault(
                    t,
                    Some(node),
                    field,
                    format!("is {}, not a finite leaf value", bad.0),
                ));
            }
            raw.values.extend(leaf.iter().map(|v| f64::from(v.0)));
            raw.splits.push(None);
            continue;
        }
        raw.values.extend(std::iter::repeat_n(0.0, width));
        let feature = usize::try_from(tree.split_indices[node])
            .ok()
            .filter(|&f| f < n_features)
            .ok_or_else(|| {
                fault(
                    t,
                    Some(node),
                    "split_indices",
                    format!(
                        "is {}, not one of the model's {n_features} features",
                        tree.split_indices[node]
                    ),
                )
            })?;
        let missing_left = tree.default_left[node].0;
        let split = match &categories[node] {
            Some(set) => {
                if forest.category_sets.len() > u32::MAX as usize / 2 {
                    return Err(fault(t, Some(node), "categories", "makes too many sets"));
                }
                Split::CategorySet {
                    feature,
                    set: forest.category_sets.push(set, SetRule::Xgboost),
                    missing_left,
                }
            }
            None => {
                if condition.is_nan() {
                    return Err(fault(
                        t,
                        Some(node),
                        "split_conditions",
                        "is NaN, not a threshold",
                    ));
                }
                Split::Numeric {
                    feature,
                    threshold: f64::from(condition.next_down()),
                    missing_left,
                }
            }
        };
        let (left, right) = (tree.left_children[node], tree.right_children[node]);
        raw.splits.push(Some((
            split,
            position[left as usize],
            position[right as usize],
        )));
    }
    let (laid, depth) =
        check(&raw).map_err(|f| fault(t, Some(order[f.node]), f.field, f.problem))?;
    forest
        .push(&raw, &laid, depth)
        .map_err(|f| fault(t, Some(order[f.node]), f.field, f.problem))
}

/// The categories each node's split sends right, `None` for a numeric split: from
/// `split_type`, `categories_nodes` (the categorical nodes, in order), and each one's
/// `categories_segments` and `categories_sizes` in `categories`. `words` is what the model's
/// sets take already.
fn categories_of(
    tree: &Tree,
    t: usize,
    n: usize,
    mut words: usize,
) -> Result<Vec<Option<Vec<u32>>>, String> {
    let mut out = vec![None; n];
    let Some(types) = &tree.split_type else {
        return Ok(out);
    };
    if types.len() != n {
        return Err(fault(
            t,
            None,
            "split_type",
            format!("holds {} values for {n} nodes", types.len()),
        ));
    }
    let listed = tree.categories_nodes.len();
    if tree.categories_segments.len() != listed || tree.categories_sizes.len() != listed {
        return Err(fault(
            t,
            None,
            "categories_segments",
            format!(
                "and categories_sizes hold {} and {} entries for {listed} categorical nodes",
                tree.categories_segments.len(),
                tree.categories_sizes.len()
            ),
        ));
    }
    for (k, &node) in tree.categories_nodes.iter().enumerate() {
        let node = usize::try_from(node)
            .ok()
            .filter(|&i| i < n && types[i] == 1 && out[i].is_none())
            .ok_or_else(|| {
                fault(
                    t,
                    None,
                    "categories_nodes",
                    format!("lists {node}, not a categorical node listed once"),
                )
            })?;
        let (start, size) = (tree.categories_segments[k], tree.categories_sizes[k]);
        let range = usize::try_from(start)
            .ok()
            .zip(usize::try_from(size).ok())
            .filter(|&(s, len)| {
                len > 0
                    && s.checked_add(len)
                        .is_some_and(|e| e <= tree.categories.len())
            })
            .ok_or_else(|| {
                fault(
                    t,
                    Some(node),
                    "categories_sizes",
                    format!(
                        "is {size} from segment {start}, beyond the {} categories listed",
                        tree.categories.len()
                    ),
                )
            })?;
        let mut set = Vec::with_capacity(range.1);
        for &c in &tree.categories[range.0..range.0 + range.1] {
            let category = u32::try_from(c)
                .ok()
                .filter(|&c| c < MAX_CATEGORY)
                .ok_or_else(|| {
                    fault(
                        t,
                        Some(node),
                        "categories",
                        format!("holds {c}, not a category from 0 to 2^24"),
                    )
                })?;
            set.push(category);
        }
        words += set.iter().max().map_or(0, |&m| m as usize / 32 + 1);
        if words > MAX_SET_WORDS {
            return Err(fault(
                t,
                Some(node),
                "categories",
                "hold more categories than a model may",
            ));
        }
        out[node] = Some(set);
    }
    if let Some(node) = (0..n).find(|&i| types[i] == 1 && out[i].is_none()) {
        return Err(fault(
            t,
            Some(node),
            "split_type",
            "is categorical, but categories_nodes does not list it",
        ));
    }
    if let Some(node) = (0..n).find(|&i| types[i] > 1) {
        return Err(fault(
            t,
            Some(node),
            "split_type",
            format!("is {}, not 0 or 1", types[node]),
        ));
    }
    Ok(out)
}

//! BisectingKMeans's hierarchy (`_bisecting_tree`, a `_BisectingTree` whose nodes hold a
//! center and either two children or a leaf's label), checked and flattened at load: every
//! split has two children, every leaf a label below `n_clusters`, every center the model's
//! width, no node reached twice. `predict` descends it as `_predict_recursive` does: at each
//! split the nearer of the two children's centers (shifted back by `_X_mean`, where the data
//! was centred at fit), the left one on a tie.

use ndarray::{Array1, ArrayView1, ArrayView2};

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::fitted;
use crate::model::state::State;
use crate::model::value::Value;

/// Nodes a tree may hold: a model of `k` clusters has `2k - 1`.
const MAX_NODES: usize = 1 << 20;

#[derive(Clone, Debug)]
enum Node {
    Split { left: usize, right: usize },
    Leaf { label: usize },
}

/// The flattened tree: node 0 is the root.
#[derive(Clone, Debug)]
pub struct Bisections {
    nodes: Vec<Node>,
    /// Each node's center, `_X_mean` added back.
    centers: Vec<Array1<f64>>,
}

/// A node still to read: its value, the slot of its parent's pointer to fill (the parent's
/// index, and whether it is the left child), and its path for messages.
type Pending = (Value, Option<(usize, bool)>, String);

pub fn read(state: &State<'_>, k: usize, n_features: usize) -> Result<Bisections, LoadError> {
    let root = state.get("_bisecting_tree")?;
    let mean = match state.attr("_X_mean") {
        Some(_) => Some(fitted::vector(state, "_X_mean", Some(n_features))?),
        None => None,
    };
    let mut nodes = Vec::new();
    let mut centers = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<Pending> = vec![(root, None, "_bisecting_tree".to_owned())];
    while let Some((value, parent, name)) = stack.pop() {
        let fresh = match value {
            Value::Ref(id) => seen.insert(id),
            _ => true,
        };
        if nodes.len() >= MAX_NODES || !fresh {
            return Err(state.malformed(&name, "is reached twice: the nodes do not form a tree"));
        }
        let node = State::of(state.heap, value, &state.path.join(&name))
            .ok()
            .filter(|n| n.class == SkClass::BisectingTree)
            .ok_or_else(|| state.malformed(&name, "is not a _BisectingTree"))?;
        let index = nodes.len();
        let mut center = fitted::vector(&node, "center", Some(n_features))
            .map_err(|_| state.malformed(&format!("{name}.center"), "is not a center"))?;
        if let Some(mean) = &mean {
            center += mean;
        }
        centers.push(center);
        let child = |side: &str| node.attr(side).filter(|v| *v != Value::None);
        match (child("left"), child("right")) {
            (None, None) => {
                let label = node
                    .count("label")
                    .ok()
                    .flatten()
                    .filter(|&l| l < k)
                    .ok_or_else(|| {
                        state.malformed(
                            &format!("{name}.label"),
                            format!("is not a label below {k}"),
                        )
                    })?;
                nodes.push(Node::Leaf { label });
            }
            (Some(left), Some(right)) => {
                nodes.push(Node::Split { left: 0, right: 0 });
                stack.push((right, Some((index, false)), format!("{name}.right")));
                stack.push((left, Some((index, true)), format!("{name}.left")));
            }
            _ => {
                return Err(state.malformed(&name, "has one child; a split has two"));
            }
        }
        if let Some((at, is_left)) = parent
            && let Node::Split { left, right } = &mut nodes[at]
        {
            if is_left {
                *left = index;
            } else {
                *right = index;
            }
        }
    }
    Ok(Bisections { nodes, centers })
}

fn squared_distance(x: ArrayView1<'_, f64>, c: &Array1<f64>) -> f64 {
    x.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum()
}

impl Bisections {
    /// Each row's label, down the tree.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Vec<usize> {
        x.rows()
            .into_iter()
            .map(|row| {
                let mut at = 0;
                loop {
                    match self.nodes[at] {
                        Node::Leaf { label } => return label,
                        Node::Split { left, right } => {
                            let l = squared_distance(row, &self.centers[left]);
                            let r = squared_distance(row, &self.centers[right]);
                            at = if r < l { right } else { left };
                        }
                    }
                }
            })
            .collect()
    }
}

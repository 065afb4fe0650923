//! Exact TreeSHAP, the path-dependent algorithm of Lundberg et al. ("Consistent
//! Individualized Feature Attribution for Tree Ensembles", 2018, Algorithm 2), as the `shap`
//! package computes it for `TreeExplainer(model)` without background data: each feature's
//! Shapley value for one row, where a feature left out of a coalition follows both branches
//! weighted by the training cover of each, and the expected value is the cover-weighted mean
//! of the leaves.
//!
//! The walk follows the row down the branch the model itself sends it (missing values and
//! categories included), so the values add up to the model's own output:
//! `expected + Σ phi = prediction`. Trees deeper than [`MAX_DEPTH`] are not explained (the
//! path bookkeeping grows with the square of the depth, and the recursion with the depth).

use super::nodes::Forest;

/// The deepest tree explained.
pub const MAX_DEPTH: usize = 512;

/// One row's attribution.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    /// One Shapley value per feature.
    pub phi: Vec<f64>,
    /// The cover-weighted mean output over the trees.
    pub expected: f64,
}

#[derive(Clone, Copy, Debug, Default)]
struct PathElement {
    /// The feature split on, or `usize::MAX` for the root's placeholder.
    feature: usize,
    zero_fraction: f64,
    one_fraction: f64,
    weight: f64,
}

/// Explains `x` (as the trees read it) over every tree of `forest`; `value(leaf)` is what a
/// leaf adds to the explained output (its value times the tree's weight). `None` when a
/// tree is too deep to explain.
pub fn explain(
    forest: &Forest,
    x: &[f64],
    n_features: usize,
    value: impl Fn(usize) -> f64,
) -> Explained {
    let mut phi = vec![0.0; n_features];
    let mut expected = 0.0;
    for t in 0..forest.n_trees() {
        let root = forest.root(t);
        expected += expectation(forest, root, &value);
        let depth = tree_depth(forest, root);
        if depth > MAX_DEPTH {
            phi.iter_mut().for_each(|p| *p = f64::NAN);
            continue;
        }
        let mut path = vec![PathElement::default(); (depth + 2) * (depth + 3) / 2];
        let walk = Walk {
            forest,
            x,
            value: &value,
        };
        walk.recurse(&mut phi, &mut path, 0, root, 0, 1.0, 1.0, usize::MAX);
    }
    Explained { phi, expected }
}

/// Whether every tree of `forest` is shallow enough to explain.
pub fn explainable(forest: &Forest) -> bool {
    forest.max_depth() <= MAX_DEPTH
}

fn tree_depth(forest: &Forest, root: usize) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(root, 0usize)];
    while let Some((i, d)) = stack.pop() {
        deepest = deepest.max(d);
        if !forest.node(i).is_leaf() {
            stack.push((i + 1, d + 1));
            stack.push((forest.right(i), d + 1));
        }
    }
    deepest
}

/// The cover-weighted mean of the leaves below `root` (shap's `compute_expectations`).
fn expectation(forest: &Forest, root: usize, value: &impl Fn(usize) -> f64) -> f64 {
    // Post-order without recursion: (node, children done).
    let mut stack = vec![(root, false)];
    let mut results: Vec<f64> = Vec::new();
    while let Some((i, done)) = stack.pop() {
        let node = forest.node(i);
        if node.is_leaf() {
            results.push(value(i));
        } else if !done {
            stack.push((i, true));
            stack.push((forest.right(i), false));
            stack.push((i + 1, false));
        } else {
            let right = results.pop().unwrap_or(0.0);
            let left = results.pop().unwrap_or(0.0);
            let w = forest.cover(i);
            let (wl, wr) = (forest.cover(i + 1), forest.cover(forest.right(i)));
            results.push(if w > 0.0 {
                (left * wl + right * wr) / w
            } else {
                0.0
            });
        }
    }
    results.pop().unwrap_or(0.0)
}

struct Walk<'a, F> {
    forest: &'a Forest,
    x: &'a [f64],
    value: &'a F,
}

impl<F: Fn(usize) -> f64> Walk<'_, F> {
    /// One node of shap's `tree_shap_recursive`: `parent` is where the parent's path starts
    /// in `path`; this node's path (one element longer) follows right after it.
    #[allow(clippy::too_many_arguments)]
    fn recurse(
        &self,
        phi: &mut [f64],
        path: &mut [PathElement],
        parent: usize,
        node: usize,
        depth: usize,
        zero_fraction: f64,
        one_fraction: f64,
        feature: usize,
    ) {
        let start = parent + depth + 1;
        {
            let (before, after) = path.split_at_mut(start);
            after[..=depth].copy_from_slice(&before[parent..=parent + depth]);
            extend(
                &mut after[..=depth],
                depth,
                zero_fraction,
                one_fraction,
                feature,
            );
        }
        let forest = self.forest;
        let n = forest.node(node);
        if n.is_leaf() {
            let own = &path[start..=start + depth];
            let v = (self.value)(node);
            for i in 1..=depth {
                let w = unwound_sum(own, depth, i);
                let el = own[i];
                phi[el.feature] += w * (el.one_fraction - el.zero_fraction) * v;
            }
            return;
        }
        let (hot, cold) = forest.children(node, self.x);
        let w = forest.cover(node);
        let (hot_zero, cold_zero) = if w > 0.0 {
            (forest.cover(hot) / w, forest.cover(cold) / w)
        } else {
            (0.0, 0.0)
        };
        let split = n.feature();
        let mut incoming_zero = 1.0;
        let mut incoming_one = 1.0;
        let mut depth = depth;
        let own = &mut path[start..=start + depth];
        // A feature already on the path is taken off it, to be put back by this split.
        if let Some(k) = (1..=depth).find(|&k| own[k].feature == split) {
            incoming_zero = own[k].zero_fraction;
            incoming_one = own[k].one_fraction;
            unwind(own, depth, k);
            depth -= 1;
        }
        let next = depth + 1;
        self.recurse(
            phi,
            path,
            start,
            hot,
            next,
            hot_zero * incoming_zero,
            incoming_one,
            split,
        );
        self.recurse(
            phi,
            path,
            start,
            cold,
            next,
            cold_zero * incoming_zero,
            0.0,
            split,
        );
    }
}

fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: usize) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d = depth as f64;
    for i in (0..depth).rev() {
        path[i + 1].weight += one * path[i].weight * (i as f64 + 1.0) / (d + 1.0);
        path[i].weight = zero * path[i].weight * (d - i as f64) / (d + 1.0);
    }
}

fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next_one * (d + 1.0) / ((i as f64 + 1.0) * one);
            next_one = tmp - path[i].weight * zero * (d - i as f64) / (d + 1.0);
        } else {
            path[i].weight = path[i].weight * (d + 1.0) / (zero * (d - i as f64));
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = next_one * (d + 1.0) / ((i as f64 + 1.0) * one);
            total += tmp;
            next_one = path[i].weight - tmp * zero * ((d - i as f64) / (d + 1.0));
        } else {
            total += (path[i].weight / zero) / ((d - i as f64) / (d + 1.0));
        }
    }
    total
}

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
//!
//! [`explain`] computes in double, as the `shap` package and LightGBM do; [`explain_f32`] in
//! float, each tree's values summed apart and then added, as XGBoost's `pred_contribs` does.

use std::ops::{Add, AddAssign, Div, Mul, Sub};

use super::nodes::Forest;

/// The arithmetic TreeSHAP needs, in float or double.
pub trait Real:
    Copy
    + PartialEq
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + AddAssign
{
    fn of(v: f64) -> Self;
    fn of_usize(v: usize) -> Self;
    fn to_f64(self) -> f64;
}

impl Real for f64 {
    fn of(v: f64) -> Self {
        v
    }
    fn of_usize(v: usize) -> Self {
        v as f64
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    fn of(v: f64) -> Self {
        v as f32
    }
    fn of_usize(v: usize) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

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
struct PathElement<T> {
    /// The feature split on, or `usize::MAX` for the root's placeholder.
    feature: usize,
    zero_fraction: T,
    one_fraction: T,
    weight: T,
}

/// Explains `x` (as the trees read it) over every tree of `forest`; `value(leaf)` is what a
/// leaf adds to the explained output (its value times the tree's weight). A tree too deep to
/// explain makes every value NaN ([`explainable`] says beforehand).
pub fn explain(
    forest: &Forest,
    x: &[f64],
    n_features: usize,
    value: impl Fn(usize) -> f64,
) -> Explained {
    explain_in::<f64, false>(forest, x, n_features, value)
}

/// [`explain`] in float, as XGBoost computes it: each tree's values (and its expected value)
/// summed apart, then added to the totals in tree order.
pub fn explain_f32(
    forest: &Forest,
    x: &[f64],
    n_features: usize,
    value: impl Fn(usize) -> f32,
) -> Explained {
    explain_in::<f32, true>(forest, x, n_features, value)
}

fn explain_in<T: Real, const PER_TREE: bool>(
    forest: &Forest,
    x: &[f64],
    n_features: usize,
    value: impl Fn(usize) -> T,
) -> Explained {
    let mut phi = vec![T::default(); n_features];
    let mut tree_phi = if PER_TREE {
        vec![T::default(); n_features]
    } else {
        Vec::new()
    };
    let mut expected = T::default();
    let mut nan = false;
    for t in 0..forest.n_trees() {
        let root = forest.root(t);
        expected += expectation(forest, root, &value);
        let depth = tree_depth(forest, root);
        if depth > MAX_DEPTH {
            nan = true;
            continue;
        }
        let mut path = vec![PathElement::default(); (depth + 2) * (depth + 3) / 2];
        let walk = Walk {
            forest,
            x,
            value: &value,
        };
        let one = T::of(1.0);
        if PER_TREE {
            tree_phi.iter_mut().for_each(|p| *p = T::default());
            walk.recurse(&mut tree_phi, &mut path, 0, root, 0, one, one, usize::MAX);
            for (total, &own) in phi.iter_mut().zip(&tree_phi) {
                *total += own;
            }
        } else {
            walk.recurse(&mut phi, &mut path, 0, root, 0, one, one, usize::MAX);
        }
    }
    let phi = phi
        .into_iter()
        .map(|p| if nan { f64::NAN } else { p.to_f64() })
        .collect();
    Explained {
        phi,
        expected: expected.to_f64(),
    }
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
fn expectation<T: Real>(forest: &Forest, root: usize, value: &impl Fn(usize) -> T) -> T {
    // Post-order without recursion: (node, children done).
    let mut stack = vec![(root, false)];
    let mut results: Vec<T> = Vec::new();
    while let Some((i, done)) = stack.pop() {
        let node = forest.node(i);
        if node.is_leaf() {
            results.push(value(i));
        } else if !done {
            stack.push((i, true));
            stack.push((forest.right(i), false));
            stack.push((i + 1, false));
        } else {
            let right = results.pop().unwrap_or_default();
            let left = results.pop().unwrap_or_default();
            let w = T::of(forest.cover(i));
            let (wl, wr) = (
                T::of(forest.cover(i + 1)),
                T::of(forest.cover(forest.right(i))),
            );
            results.push(if w != T::default() {
                (left * wl + right * wr) / w
            } else {
                T::default()
            });
        }
    }
    results.pop().unwrap_or_default()
}

struct Walk<'a, F> {
    forest: &'a Forest,
    x: &'a [f64],
    value: &'a F,
}

impl<T: Real, F: Fn(usize) -> T> Walk<'_, F> {
    /// One node of shap's `tree_shap_recursive`: `parent` is where the parent's path starts
    /// in `path`; this node's path (one element longer) follows right after it.
    #[allow(clippy::too_many_arguments)]
    fn recurse(
        &self,
        phi: &mut [T],
        path: &mut [PathElement<T>],
        parent: usize,
        node: usize,
        depth: usize,
        zero_fraction: T,
        one_fraction: T,
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
        let w = T::of(forest.cover(node));
        let (hot_zero, cold_zero) = if w != T::default() {
            (T::of(forest.cover(hot)) / w, T::of(forest.cover(cold)) / w)
        } else {
            (T::default(), T::default())
        };
        let split = n.feature();
        let mut incoming_zero = T::of(1.0);
        let mut incoming_one = T::of(1.0);
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
            T::default(),
            split,
        );
    }
}

fn extend<T: Real>(path: &mut [PathElement<T>], depth: usize, zero: T, one: T, feature: usize) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        weight: T::of(if depth == 0 { 1.0 } else { 0.0 }),
    };
    let d1 = T::of_usize(depth + 1);
    for i in (0..depth).rev() {
        let w = path[i].weight;
        path[i + 1].weight += one * w * T::of_usize(i + 1) / d1;
        path[i].weight = zero * w * T::of_usize(depth - i) / d1;
    }
}

fn unwind<T: Real>(path: &mut [PathElement<T>], depth: usize, index: usize) {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let d1 = T::of_usize(depth + 1);
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        if one != T::default() {
            let tmp = path[i].weight;
            path[i].weight = next_one * d1 / (T::of_usize(i + 1) * one);
            next_one = tmp - path[i].weight * zero * T::of_usize(depth - i) / d1;
        } else {
            path[i].weight = path[i].weight * d1 / (zero * T::of_usize(depth - i));
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_sum<T: Real>(path: &[PathElement<T>], depth: usize, index: usize) -> T {
    let one = path[index].one_fraction;
    let zero = path[index].zero_fraction;
    let d1 = T::of_usize(depth + 1);
    let mut next_one = path[depth].weight;
    let mut total = T::default();
    for i in (0..depth).rev() {
        if one != T::default() {
            let tmp = next_one * d1 / (T::of_usize(i + 1) * one);
            total += tmp;
            next_one = path[i].weight - tmp * zero * (T::of_usize(depth - i) / d1);
        } else if zero != T::default() {
            total += (path[i].weight / zero) / (T::of_usize(depth - i) / d1);
        }
    }
    total
}

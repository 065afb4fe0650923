//! One row's leaves found without walking, for forests of small trees (QuickScorer, Lucchese
//! et al., SIGIR 2015): every tree of at most 64 leaves keeps one bit per leaf, left to right,
//! and every split a mask that clears the leaves of its left subtree. A row clears, for each
//! split it does not send left, that split's mask; each tree's leftmost leaf still set is the
//! one a walk reaches.
//!
//! Why that leaf: every split on the walk's path that sends the row right clears only leaves
//! left of the path, and one that sends it left clears nothing, so the walk's leaf stays set;
//! a leaf left of it parts from the path at a split that sent the row right, which cleared it.
//!
//! The splits are kept per feature, sorted by threshold, so the splits a value does not send
//! left are a prefix found by one binary search: those whose threshold is below the value
//! (wherever their missing values go). Clearing is then a stream of independent `and`s through
//! memory read in order, where a walk is a chain of dependent loads each of which may miss the
//! cache. A value commonly sends most splits on its feature right, so every `n_trees / 4`
//! splits of a feature a checkpoint holds what clearing them up to there leaves, one word per
//! tree: a prefix is its last checkpoint (`n_trees` `and`s, in order) and fewer than
//! `n_trees / 4` splits more. A missing value clears the splits of its feature that send
//! missing values right: one checkpoint of them all when they are many, else their masks in
//! turn. The checkpoints take at most 32 bytes a split, and 32 more a split that sends missing
//! values right.
//!
//! What must not live here: the layout of the nodes (the parent module), any estimator's
//! arithmetic.

use super::{Forest, order_key, threshold_key};

/// Leaves a tree may have for its leaves to fit in one word.
const MAX_LEAVES: usize = 64;

/// Every split of a forest, by feature, as masks of leaves.
#[derive(Clone, Debug, PartialEq)]
pub struct LeafMasks {
    /// For each feature, where its splits are in `keys`, `trees` and `masks`, sorted by
    /// threshold, and what a missing value clears.
    runs: Vec<Run>,
    /// Each split's threshold as an [`order_key`].
    keys: Vec<u64>,
    /// The tree each split belongs to.
    trees: Vec<u32>,
    /// The leaves each split's left subtree does not hold (its own bits cleared).
    masks: Vec<u64>,
    /// The trees and masks of [`Missing::Splits`].
    missing_trees: Vec<u32>,
    missing_masks: Vec<u64>,
    /// Where the values of every tree's leaves start in [`Forest::values`], left to right,
    /// tree `t`'s from `t << leaf_shift` (a tree of fewer leaves repeats its last).
    leaf_values: Vec<u32>,
    leaf_shift: u32,
    /// `n_trees` words each: the checkpoints of every run (a run's `j`-th, from 1, is what
    /// clearing its first `j × spacing` splits leaves of every tree's leaves), and those of
    /// [`Missing::Checkpoint`].
    checkpoints: Vec<u64>,
    spacing: usize,
}

/// The splits of one feature, `start..end` in the sorted splits, where their checkpoints
/// start, and what a missing value of the feature clears.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Run {
    start: usize,
    end: usize,
    first_checkpoint: usize,
    missing: Missing,
}

/// What a missing value of one feature clears: the masks of the feature's splits that send
/// missing values right, as one checkpoint (at this offset) when there are at least
/// `spacing` of them, else in turn (`start..end` in `missing_trees` and `missing_masks`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Missing {
    Checkpoint(usize),
    Splits { start: usize, end: usize },
}

/// One split, before the splits are sorted.
struct Entry {
    feature: usize,
    missing_left: bool,
    key: u64,
    tree: u32,
    mask: u64,
}

/// What masks keep and copy per split (its entry while sorting, key, tree, mask, missing
/// mask and checkpoint words), per tree (its leaves' values), and per feature split on (its
/// run and two words per tree while its checkpoints are made).
const BYTES_PER_SPLIT: usize = 112;
const BYTES_PER_TREE: usize = 24 + 2 * 4 * MAX_LEAVES;
const BYTES_PER_FEATURE: usize = 64;

/// The first node of tree `t` of `forest`, and one past its last.
fn tree_nodes(forest: &Forest, t: usize) -> (usize, usize) {
    let end = if t + 1 < forest.n_trees() {
        forest.root(t + 1)
    } else {
        forest.n_nodes()
    };
    (forest.root(t), end)
}

impl LeafMasks {
    /// At most what [`LeafMasks::of`] takes for `forest`, before it is made; `None` when no
    /// masks would be made.
    pub fn cost(forest: &Forest) -> Option<usize> {
        if forest.categorical {
            return None;
        }
        let n_trees = forest.n_trees();
        let (mut splits, mut features) = (0usize, 0usize);
        for t in 0..n_trees {
            let (root, end) = tree_nodes(forest, t);
            let leaves = (root..end).filter(|&i| forest.node(i).is_leaf()).count();
            if leaves > MAX_LEAVES {
                return None;
            }
            splits += end - root - leaves;
            features = (root..end)
                .filter(|&i| !forest.node(i).is_leaf())
                .map(|i| forest.node(i).feature() + 1)
                .fold(features, usize::max);
        }
        let per_feature = BYTES_PER_FEATURE.saturating_add(n_trees.saturating_mul(16));
        Some(
            splits
                .saturating_mul(BYTES_PER_SPLIT)
                .saturating_add(n_trees.saturating_mul(BYTES_PER_TREE))
                .saturating_add(features.min(splits).saturating_mul(per_feature)),
        )
    }

    /// The masks of `forest`'s splits, or `None` when some tree has more than 64 leaves or a
    /// categorical split (which a threshold cannot order).
    pub fn of(forest: &Forest) -> Option<Self> {
        let n_trees = forest.n_trees();
        let mut entries = Vec::new();
        let mut tree_leaves = Vec::with_capacity(n_trees);
        for t in 0..n_trees {
            let (root, end) = tree_nodes(forest, t);
            // How many of the tree's leaves come before each node, and one past the last.
            let mut leaves_before = Vec::with_capacity(end - root + 1);
            let mut leaves = Vec::new();
            for i in root..end {
                leaves_before.push(leaves.len());
                if forest.node(i).is_leaf() {
                    leaves.push(u32::try_from(forest.value_offset(i)).ok()?);
                }
            }
            leaves_before.push(leaves.len());
            if leaves.len() > MAX_LEAVES {
                return None;
            }
            for i in root..end {
                let node = forest.node(i);
                if node.is_leaf() {
                    continue;
                }
                if node.is_categorical() {
                    return None;
                }
                // The left subtree is every node from the left child (the next node) up to the
                // right child: its leaves are a run of the tree's leaves.
                let first = leaves_before[i + 1 - root];
                let past = leaves_before[forest.right(i) - root];
                let run = past - first;
                let ones = if run >= 64 { u64::MAX } else { (1 << run) - 1 };
                entries.push(Entry {
                    feature: node.feature(),
                    missing_left: node.missing_left(),
                    key: threshold_key(node.threshold()),
                    tree: t as u32,
                    mask: !(ones << first),
                });
            }
            tree_leaves.push(leaves);
        }
        let most = tree_leaves.iter().map(Vec::len).max().unwrap_or(1);
        let leaf_shift = most.next_power_of_two().trailing_zeros();
        let mut leaf_values = Vec::with_capacity(n_trees << leaf_shift);
        for leaves in &tree_leaves {
            let last = leaves.last().copied().unwrap_or(0);
            leaf_values
                .extend((0..1 << leaf_shift).map(|l| leaves.get(l).copied().unwrap_or(last)));
        }
        entries.sort_unstable_by_key(|e| (e.feature, e.key, e.tree));
        let n_features = entries.last().map_or(0, |e| e.feature + 1);
        let trees: Vec<u32> = entries.iter().map(|e| e.tree).collect();
        let masks: Vec<u64> = entries.iter().map(|e| e.mask).collect();
        let spacing = (n_trees / 4).max(1);
        let mut runs = Vec::with_capacity(n_features);
        let (mut missing_trees, mut missing_masks) = (Vec::new(), Vec::new());
        let mut checkpoints = Vec::new();
        let mut at = 0;
        for feature in 0..n_features {
            let len = entries[at..]
                .iter()
                .take_while(|e| e.feature == feature)
                .count();
            let splits = &entries[at..at + len];
            let first_checkpoint = checkpoints.len();
            let mut bits = vec![u64::MAX; n_trees];
            for (i, split) in splits.iter().enumerate() {
                bits[split.tree as usize] &= split.mask;
                if (i + 1) % spacing == 0 {
                    checkpoints.extend_from_slice(&bits);
                }
            }
            let going_right: Vec<&Entry> = splits.iter().filter(|e| !e.missing_left).collect();
            let missing = if going_right.len() >= spacing {
                let mut bits = vec![u64::MAX; n_trees];
                for split in &going_right {
                    bits[split.tree as usize] &= split.mask;
                }
                let offset = checkpoints.len();
                checkpoints.extend_from_slice(&bits);
                Missing::Checkpoint(offset)
            } else {
                let start = missing_trees.len();
                missing_trees.extend(going_right.iter().map(|e| e.tree));
                missing_masks.extend(going_right.iter().map(|e| e.mask));
                Missing::Splits {
                    start,
                    end: missing_trees.len(),
                }
            };
            runs.push(Run {
                start: at,
                end: at + len,
                first_checkpoint,
                missing,
            });
            at += len;
        }
        Some(Self {
            runs,
            keys: entries.iter().map(|e| e.key).collect(),
            trees,
            masks,
            missing_trees,
            missing_masks,
            leaf_values,
            leaf_shift,
            checkpoints,
            spacing,
        })
    }

    /// Where the values of the leaf `x` reaches in each tree start in [`Forest::values`], into
    /// `leaves` (one per tree); `bits` is scratch, one word per tree.
    pub fn leaves(&self, x: &[f64], bits: &mut [u64], leaves: &mut [usize]) {
        bits.fill(u64::MAX);
        for (run, &v) in self.runs.iter().zip(x) {
            if v.is_nan() {
                // Every split whose missing values go right, none of those whose go left.
                match run.missing {
                    Missing::Checkpoint(at) => self.apply_checkpoint(at, bits),
                    Missing::Splits { start, end } => {
                        let masks = &self.missing_masks[start..end];
                        for (&t, &mask) in self.missing_trees[start..end].iter().zip(masks) {
                            bits[t as usize] &= mask;
                        }
                    }
                }
                continue;
            }
            // Every split whose threshold is below the value.
            let key = order_key(v);
            let below = self.keys[run.start..run.end].partition_point(|&k| k < key);
            self.clear(run, below, bits);
        }
        let last = (1 << self.leaf_shift) - 1;
        for (t, (leaf, &word)) in leaves.iter_mut().zip(bits.iter()).enumerate() {
            // A tree's own leaf is always set; `min` only keeps a logic error in its tree.
            let nth = (word.trailing_zeros() as usize).min(last);
            *leaf = self.leaf_values[t << self.leaf_shift | nth] as usize;
        }
    }

    /// Clears the masks of the first `count` splits of `run`: from its last checkpoint on.
    #[inline(always)]
    fn clear(&self, run: &Run, count: usize, bits: &mut [u64]) {
        let passed = count / self.spacing;
        if passed > 0 {
            self.apply_checkpoint(run.first_checkpoint + (passed - 1) * bits.len(), bits);
        }
        let splits = run.start + passed * self.spacing..run.start + count;
        for (&t, &mask) in self.trees[splits.clone()].iter().zip(&self.masks[splits]) {
            bits[t as usize] &= mask;
        }
    }

    #[inline(always)]
    fn apply_checkpoint(&self, at: usize, bits: &mut [u64]) {
        let n_trees = bits.len();
        for (b, &c) in bits.iter_mut().zip(&self.checkpoints[at..at + n_trees]) {
            *b &= c;
        }
    }
}

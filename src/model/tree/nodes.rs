//! The layout trees are walked in: every tree of a model in one arena of compact 16-byte
//! nodes, each tree in pre-order (a split's left child is the next node, so a node records
//! only its right child), leaves pointing at their values in one arena of values.
//!
//! Walks go eight side by side ([`Forest::for_each_row`]), each turn chosen without a branch.
//! Which way a row goes is exactly what a branch predictor cannot learn, and eight independent
//! walks let the processor overlap their loads. A row goes through its trees in waves, and a
//! batch row by row: every walk still under way takes a few steps without looking where it
//! stands (a leaf steps to itself), then those on leaves drop out; each of its steps is one
//! comparison of integers, on a copy of the nodes made for it ([`KeyedNode`]: the threshold as
//! a key whose integer order is its float order, the row's features keyed once per row with a
//! missing value keyed per direction). A batch goes in blocks of rows, each tree in turn
//! taking the whole block, eight rows side by side, while the tree is in cache: a numeric
//! forest's rows keyed once and walked the tree's depth in steps, a categorical one's (whose
//! rule is a branch) or a deep tree's walked until they arrive.
//!
//! [`RawTree`] is a tree as a file describes it, in the file's node numbering; [`check`]
//! proves it is a tree (every child in range, no node reached twice, every node reached) and
//! [`Forest::push`] lays it out. Because every child follows its parent, a walk only ever
//! moves forward: even a logic error could not make it loop.
//!
//! Forests of small trees (at most 64 leaves each, no categorical split) skip walking: their
//! rows find their leaves by masks ([`LeafMasks`], once [`Forest::finish`] has made them).
//!
//! What must not live here: reading files (`sktree`, `hist`) or any estimator's arithmetic.

mod masks;
pub mod sets;

use masks::LeafMasks;
pub use sets::{CategorySets, SetRule};

use crate::model::budget::{Budget, TooLarge};

/// What a laid-out node keeps, beyond its values: itself, its keyed copy, where its values
/// start and its cover.
pub const LAID_OUT_BYTES_PER_NODE: usize = std::mem::size_of::<Node>()
    + std::mem::size_of::<KeyedNode>()
    + std::mem::size_of::<u32>()
    + std::mem::size_of::<f64>();

/// A leaf.
const LEAF: u32 = 1 << 31;
/// A missing value goes to the left child.
const MISSING_LEFT: u32 = 1 << 30;
/// A categorical split: `threshold` holds the index of its bitset (HistGradientBoosting) or,
/// with [`SET`], of its set of categories (XGBoost, LightGBM).
const CATEGORICAL: u32 = 1 << 29;
/// A categorical split read by a library's set rule ([`CategorySets`]).
const SET: u32 = 1 << 28;
/// Feature indices must stay below the flag bits.
pub const MAX_FEATURES: usize = (1 << 28) - 1;
const FEATURE: u32 = SET - 1;

/// One node, 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    /// A split's threshold (`x <= threshold` goes left), a categorical split's bitset index;
    /// NaN for a leaf.
    threshold: f64,
    /// The feature a split reads, with the flags above.
    feature: u32,
    /// A split's right child; a leaf's own index (it has none).
    next: u32,
}

impl Node {
    #[inline]
    pub fn is_leaf(&self) -> bool {
        self.feature & LEAF != 0
    }

    #[inline]
    pub fn feature(&self) -> usize {
        (self.feature & FEATURE) as usize
    }

    #[inline]
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    pub fn missing_left(&self) -> bool {
        self.feature & MISSING_LEFT != 0
    }

    pub fn is_categorical(&self) -> bool {
        self.feature & CATEGORICAL != 0
    }
}

/// 256 categories, as HistGradientBoosting's bitsets hold them (eight 32-bit words).
pub type Bitset = [u32; 8];

#[inline]
fn in_bitset(bitset: &Bitset, category: u8) -> bool {
    bitset[usize::from(category >> 5)] >> (category & 31) & 1 == 1
}

/// A split as a file describes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Split {
    /// `x <= threshold` goes left; `NaN` goes left when `missing_left`.
    Numeric {
        feature: usize,
        threshold: f64,
        missing_left: bool,
    },
    /// A category in `left` goes left, another known one right; a missing or unknown value
    /// goes left when `missing_left`. `bitset` indexes [`Forest::left_categories`].
    Categorical {
        feature: usize,
        bitset: usize,
        missing_left: bool,
    },
    /// A set of categories read by its library's rule; `set` indexes
    /// [`Forest::category_sets`].
    CategorySet {
        feature: usize,
        set: usize,
        missing_left: bool,
    },
}

impl Split {
    pub fn feature(&self) -> usize {
        match self {
            Self::Numeric { feature, .. }
            | Self::Categorical { feature, .. }
            | Self::CategorySet { feature, .. } => *feature,
        }
    }
}

/// One tree in the file's own node numbering, before it is checked and laid out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawTree {
    /// For each node: its split and children, or `None` for a leaf.
    pub splits: Vec<Option<(Split, usize, usize)>>,
    /// For each node, the training weight that reached it (TreeSHAP's cover).
    pub cover: Vec<f64>,
    /// `width` values per node (only leaves' are used).
    pub values: Vec<f64>,
    pub width: usize,
}

impl RawTree {
    /// A classifier's tree whose nodes hold `outputs × max(counts)` values (each output's
    /// classes padded to the most any output has, as scikit-learn's `Tree.value` is), with
    /// only each output's own `counts[k]` classes kept, side by side.
    pub fn without_padding(self, counts: &[usize]) -> RawTree {
        let padded = counts.iter().copied().max().unwrap_or(0);
        let width: usize = counts.iter().sum();
        if width == self.width || padded == 0 {
            return self;
        }
        let mut values = Vec::with_capacity(self.splits.len() * width);
        for node in self.values.chunks_exact(self.width) {
            for (output, &count) in node.chunks_exact(padded).zip(counts) {
                values.extend_from_slice(&output[..count]);
            }
        }
        RawTree {
            values,
            width,
            ..self
        }
    }
}

/// Why a tree is not a tree: the node and the field at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub node: usize,
    pub field: &'static str,
    pub problem: String,
}

impl Fault {
    pub fn new(node: usize, field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            node,
            field,
            problem: problem.into(),
        }
    }
}

/// Checks that `tree` is a tree rooted at node 0: children in range, none the root, no node
/// reached twice (which also rules out cycles) and every node reached. Returns the nodes in
/// pre-order (left subtree first) and the depth. Linear in the nodes; no recursion.
pub fn check(tree: &RawTree) -> Result<(Vec<usize>, usize), Fault> {
    let n = tree.splits.len();
    if n == 0 {
        return Err(Fault::new(0, "node_count", "is 0: a tree needs a root"));
    }
    let mut reached = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut depth = 0;
    let mut stack = vec![(0usize, 0usize)];
    reached[0] = true;
    while let Some((node, level)) = stack.pop() {
        order.push(node);
        depth = depth.max(level);
        if let Some((_, left, right)) = &tree.splits[node] {
            // Pushed right first so that the left subtree comes out first: pre-order.
            for (child, field) in [(*right, "right_child"), (*left, "left_child")] {
                if child >= n {
                    return Err(Fault::new(
                        node,
                        field,
                        format!("is {child}, beyond the tree's {n} nodes"),
                    ));
                }
                if child == 0 {
                    return Err(Fault::new(node, field, "is 0, the root"));
                }
                if reached[child] {
                    return Err(Fault::new(
                        node,
                        field,
                        format!("is {child}, a node already reached: the nodes do not form a tree"),
                    ));
                }
                reached[child] = true;
                stack.push((child, level + 1));
            }
        }
    }
    if let Some(lost) = reached.iter().position(|r| !r) {
        return Err(Fault::new(
            lost,
            "left_child",
            "is a node no path from the root reaches: the nodes do not form a tree",
        ));
    }
    Ok((order, depth))
}

/// [`Forest::for_each_row`]'s buffers of one word per tree: each row's leaves, and the masks'
/// bits.
#[derive(Default)]
struct Scratch {
    leaves: Vec<usize>,
    bits: Vec<u64>,
}

/// Words of leaves a categorical batch's block of rows may hold (2 MiB).
const BLOCK_WORDS: usize = 1 << 18;

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

/// How many walks [`Forest::for_each_row`] takes side by side.
const LANES: usize = 8;
/// Walks side by side through one row's trees.
const ROW_LANES: usize = 8;
/// The deepest tree a block walks its depth in steps; a deeper one, whose walks mostly stop
/// well short of its depth, hands each lane on as its walk arrives.
const FIXED_STEPS: usize = 24;
/// Features of a row read without bounds checks.
const SMALL_ROW: usize = 64;

/// A row's features as [`order_key`]s, two per feature ([`KeyedNode`]).
trait Keys {
    fn at(&self, slot: usize) -> u64;
}

impl Keys for [u64] {
    #[inline(always)]
    fn at(&self, slot: usize) -> u64 {
        self[slot]
    }
}

impl Keys for [u64; 2 * SMALL_ROW] {
    #[inline(always)]
    fn at(&self, slot: usize) -> u64 {
        self[slot % (2 * SMALL_ROW)]
    }
}

/// Every tree of a model, laid out for walking.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Forest {
    nodes: Vec<Node>,
    /// Each tree's first node.
    roots: Vec<u32>,
    /// Leaf values, `width` per leaf.
    values: Vec<f64>,
    /// Where each leaf's values start in `values`, parallel to `nodes` (0 for a split).
    value_at: Vec<u32>,
    /// Each node's cover (TreeSHAP), parallel to `nodes`.
    cover: Vec<f64>,
    /// Each tree's depth.
    depths: Vec<usize>,
    /// Each tree's depth as laid out: the steps that take any walk from its root to a leaf.
    steps: Vec<usize>,
    /// The categories each categorical split sends left.
    pub left_categories: Vec<Bitset>,
    /// For each feature, the categories training saw (`None` for a numeric feature).
    pub known_categories: Vec<Option<Bitset>>,
    /// The sets of XGBoost's and LightGBM's categorical splits.
    pub category_sets: CategorySets,
    width: usize,
    /// Whether some split is categorical (then a walk takes the categorical rule's branch).
    categorical: bool,
    /// The nodes again as one row's walk reads them, parallel to `nodes`.
    keyed: Vec<KeyedNode>,
    /// The splits as masks of leaves, when every tree is small ([`Forest::finish`]).
    masks: Option<LeafMasks>,
}

/// A node as one row's walk reads it: the comparison `x <= threshold`, the NaN rule included,
/// made one comparison of integers. The row's features become [`order_key`]s twice over, a
/// missing value as the largest key (it compares above every threshold: right) and as 0
/// (below every one: left), and a split reads the copy its missing-value direction asks for.
/// A leaf reads a key of 1 or more against its own key of 0, and so steps to itself.
#[derive(Clone, Copy, Debug, PartialEq)]
struct KeyedNode {
    threshold: u64,
    /// `2 × feature`, plus 1 when a missing value goes left.
    slot: u32,
    next: u32,
}

impl Forest {
    /// An empty forest whose leaves hold `width` values each.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            ..Self::default()
        }
    }

    pub fn n_trees(&self) -> usize {
        self.roots.len()
    }

    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn max_depth(&self) -> usize {
        self.depths.iter().copied().max().unwrap_or(0)
    }

    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_leaf()).count()
    }

    /// The features some split reads, in order.
    pub fn features_used(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self
            .nodes
            .iter()
            .filter(|n| !n.is_leaf())
            .map(Node::feature)
            .collect();
        used.sort_unstable();
        used.dedup();
        used
    }

    /// Adds a tree already [`check`]ed, whose splits' features and bitsets have been checked
    /// against the model. `order` is its pre-order from [`check`].
    pub fn push(&mut self, tree: &RawTree, order: &[usize], depth: usize) -> Result<(), Fault> {
        if tree.width != self.width {
            return Err(Fault::new(
                0,
                "value",
                format!(
                    "holds {} values per node, expected {}",
                    tree.width, self.width
                ),
            ));
        }
        // Masks made before this tree would not know it.
        self.masks = None;
        let base = self.nodes.len();
        let leaves = tree.splits.iter().filter(|s| s.is_none()).count();
        if base + order.len() > u32::MAX as usize / 2
            || self.values.len() + leaves * self.width > u32::MAX as usize
        {
            return Err(Fault::new(0, "node_count", "makes the model too large"));
        }
        // Where each of the file's nodes lands.
        let mut position = vec![0u32; order.len()];
        for (i, &node) in order.iter().enumerate() {
            position[node] = (base + i) as u32;
        }
        self.roots.push(base as u32);
        self.depths.push(depth);
        // Counted here rather than trusted: a block's walks take exactly this many steps.
        let mut level = vec![0usize; order.len()];
        for &node in order {
            if let Some((_, left, right)) = &tree.splits[node] {
                level[*left] = level[node] + 1;
                level[*right] = level[node] + 1;
            }
        }
        self.steps.push(level.iter().copied().max().unwrap_or(0));
        for &node in order {
            let cover = tree.cover.get(node).copied().unwrap_or(0.0);
            let mut value_at = 0;
            let laid = match &tree.splits[node] {
                None => {
                    value_at = self.values.len() as u32;
                    self.values.extend_from_slice(
                        &tree.values[node * self.width..(node + 1) * self.width],
                    );
                    Node {
                        threshold: f64::NAN,
                        feature: LEAF,
                        next: position[node],
                    }
                }
                Some((split, left, right)) => {
                    debug_assert_eq!(position[*left], position[node] + 1, "pre-order");
                    let (threshold, flags, missing_left) = match split {
                        Split::Numeric {
                            threshold,
                            missing_left,
                            ..
                        } => (*threshold, 0, *missing_left),
                        Split::Categorical {
                            bitset,
                            missing_left,
                            ..
                        } => {
                            self.categorical = true;
                            (*bitset as f64, CATEGORICAL, *missing_left)
                        }
                        Split::CategorySet {
                            set, missing_left, ..
                        } => {
                            self.categorical = true;
                            (*set as f64, CATEGORICAL | SET, *missing_left)
                        }
                    };
                    let missing = if missing_left { MISSING_LEFT } else { 0 };
                    Node {
                        threshold,
                        feature: split.feature() as u32 | flags | missing,
                        next: position[*right],
                    }
                }
            };
            self.keyed.push(KeyedNode {
                threshold: if laid.is_leaf() {
                    0
                } else {
                    threshold_key(laid.threshold)
                },
                slot: (laid.feature() as u32) << 1 | u32::from(laid.missing_left()),
                next: laid.next,
            });
            self.nodes.push(laid);
            self.value_at.push(value_at);
            self.cover.push(cover);
        }
        Ok(())
    }

    /// Called once every tree is pushed: lays the splits out as masks of leaves too when every
    /// tree is small enough ([`LeafMasks`]), which finds one row's leaves fastest.
    pub fn finish(&mut self, budget: &Budget) -> Result<(), TooLarge> {
        if let Some(bytes) = LeafMasks::cost(self) {
            budget.charge(bytes, || {
                format!("the leaf masks of {} trees", self.n_trees())
            })?;
        }
        self.masks = LeafMasks::of(self);
        Ok(())
    }

    /// Whether rows find their leaves by [`LeafMasks`].
    #[cfg(test)]
    fn has_leaf_masks(&self) -> bool {
        self.masks.is_some()
    }

    /// The root of tree `t`.
    #[inline]
    pub fn root(&self, t: usize) -> usize {
        self.roots[t] as usize
    }

    #[inline]
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// The tree node `i` belongs to.
    pub fn tree_of(&self, i: usize) -> usize {
        self.roots.partition_point(|&r| r as usize <= i) - 1
    }

    /// The right child of split `i` (its left child is `i + 1`).
    #[inline]
    pub fn right(&self, i: usize) -> usize {
        self.nodes[i].next as usize
    }

    pub fn cover(&self, i: usize) -> f64 {
        self.cover[i]
    }

    /// The values of the leaf at `i`.
    #[inline]
    pub fn leaf_values(&self, i: usize) -> &[f64] {
        let start = self.value_at[i] as usize;
        &self.values[start..start + self.width]
    }

    /// Every leaf's values, `width` each, where [`Forest::value_offset`] finds them.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Where the values of the leaf at `i` start in [`Forest::values`].
    #[inline]
    pub fn value_offset(&self, i: usize) -> usize {
        self.value_at[i] as usize
    }

    /// The first (or only) value of the leaf at `i`.
    #[inline]
    pub fn leaf_value(&self, i: usize) -> f64 {
        self.values[self.value_at[i] as usize]
    }

    /// Whether a split sends `x` left.
    #[inline]
    pub fn goes_left(&self, node: &Node, x: f64) -> bool {
        if node.feature & CATEGORICAL != 0 {
            return self.category_goes_left(node, x);
        }
        numeric_left(node, x)
    }

    /// HistGradientBoosting's categorical rule: a category in the split's bitset goes left,
    /// another known category right, and a missing, negative or unknown one where missing
    /// values go.
    fn category_goes_left(&self, node: &Node, x: f64) -> bool {
        let missing = node.feature & MISSING_LEFT != 0;
        if node.feature & SET != 0 {
            return self
                .category_sets
                .goes_left(node.threshold as usize, x, missing);
        }
        if x.is_nan() || x < 0.0 {
            return missing;
        }
        let category = as_binned_category(x);
        if in_bitset(&self.left_categories[node.threshold as usize], category) {
            return true;
        }
        match &self.known_categories[node.feature()] {
            Some(known) if in_bitset(known, category) => false,
            _ => missing,
        }
    }

    /// One step of a walk from node `i`: to the child it sends `x` to; from a leaf, to itself
    /// (its threshold is NaN, its flags clear and its `next` its own index).
    #[inline(always)]
    fn step(&self, i: usize, x: &[f64]) -> usize {
        let node = &self.nodes[i];
        let v = x[node.feature()];
        let right = node.next as usize;
        if node.feature & CATEGORICAL != 0 {
            return if self.category_goes_left(node, v) {
                i + 1
            } else {
                right
            };
        }
        // Chosen without a branch: which way a row goes is what a branch predictor cannot learn.
        std::hint::select_unpredictable(numeric_left(node, v), i + 1, right)
    }

    /// Calls `f(row, leaves)` for every row of `rows` (`n_features` values each, row-major),
    /// in order, with where the values of the leaf the row reaches in each tree start in
    /// [`Forest::values`], the trees in order (the order a sum over trees must keep to stay
    /// exact). Fewer than eight rows go one at a time, by masks ([`LeafMasks`]) when the
    /// forest has them, else in waves through every tree; a batch of more takes each tree in
    /// turn for a block of rows, eight side by side, while the tree is in cache.
    pub fn for_each_row(
        &self,
        rows: &[f64],
        n_features: usize,
        mut f: impl FnMut(usize, &[usize]),
    ) {
        let n_rows = rows.len() / n_features.max(1);
        let row = |r: usize| &rows[r * n_features..(r + 1) * n_features];
        let n_trees = self.n_trees();
        if n_rows >= LANES {
            // Blocks of up to 64 rows, fewer for large forests: the block's leaves are one
            // word per row and tree, and a few dozen rows already share each tree's visit.
            let block = (BLOCK_WORDS / n_trees.max(1)).clamp(LANES, 64);
            let mut leaves = vec![0; block.min(n_rows) * n_trees];
            // A numeric forest's walks read the block's rows keyed once ([`KeyedNode`]).
            let slots = if self.categorical { 0 } else { 2 * n_features };
            let mut keys = vec![0; block.min(n_rows) * slots];
            for start in (0..n_rows).step_by(block) {
                let rows_here = block.min(n_rows - start);
                for (b, keys) in keys
                    .chunks_exact_mut(slots.max(1))
                    .take(rows_here)
                    .enumerate()
                {
                    row_keys(row(start + b), keys);
                }
                for t in 0..n_trees {
                    let mut arrived = |b: usize, leaf: usize| {
                        leaves[b * n_trees + t] = self.value_at[leaf] as usize
                    };
                    if self.categorical || self.steps[t] > FIXED_STEPS {
                        let root = self.root(t);
                        self.walk_all(rows_here, |b| (root, row(start + b)), arrived);
                    } else {
                        self.walk_block(t, &keys, slots, rows_here, &mut arrived);
                    }
                }
                for b in 0..rows_here {
                    f(start + b, &leaves[b * n_trees..(b + 1) * n_trees]);
                }
            }
            return;
        }
        // Kept per thread between calls: a served row should not pay for allocating (and
        // zeroing) two words per tree. Taken out while in use, so a nested call still works.
        let mut scratch = SCRATCH.take();
        let Scratch { leaves, bits } = &mut scratch;
        leaves.resize(n_trees, 0);
        bits.resize(if self.masks.is_some() { n_trees } else { 0 }, 0);
        for r in 0..n_rows {
            match &self.masks {
                Some(masks) => masks.leaves(row(r), bits, leaves),
                None => {
                    self.leaves_of_row(row(r), leaves);
                    for leaf in leaves.iter_mut() {
                        *leaf = self.value_at[*leaf] as usize;
                    }
                }
            }
            f(r, leaves);
        }
        SCRATCH.set(scratch);
    }

    /// The leaf `x` reaches in each tree, into `leaves` (one per tree). The walks go in waves:
    /// every walk still under way takes a few steps, eight side by side, each lane stepping
    /// without looking where it stands (a leaf steps to itself), then the walks that reached
    /// their leaves drop out and the rest close ranks. Neither a turn nor an arrival is a
    /// branch, the lanes stay in registers, few steps are spent standing on a leaf, and each
    /// step is one comparison of integers ([`KeyedNode`]).
    fn leaves_of_row(&self, x: &[f64], leaves: &mut [usize]) {
        if self.categorical {
            // The categorical rule is a branch: the lanes that hand on, which stop at once.
            let n = leaves.len();
            return self.walk_all(n, |t| (self.root(t), x), |t, leaf| leaves[t] = leaf);
        }
        // A row of few features goes in a fixed array, whose reads need no bounds check.
        if x.len() <= SMALL_ROW {
            let mut keys = [0; 2 * SMALL_ROW];
            row_keys(x, &mut keys[..2 * x.len()]);
            self.walk_in_waves(&keys, leaves);
        } else {
            let mut keys = vec![0; 2 * x.len()];
            row_keys(x, &mut keys);
            self.walk_in_waves(keys.as_slice(), leaves);
        }
    }

    #[inline(always)]
    fn walk_in_waves(&self, keys: &(impl Keys + ?Sized), leaves: &mut [usize]) {
        /// Steps in the first wave, then in each.
        const FIRST: usize = 4;
        const THEN: usize = 3;
        for (t, at) in leaves.iter_mut().enumerate() {
            *at = self.root(t);
        }
        let mut walking: Vec<usize> = (0..leaves.len()).collect();
        let mut still = vec![0; leaves.len()];
        let mut steps = FIRST;
        while !walking.is_empty() {
            let mut kept = 0;
            for group in walking.chunks(ROW_LANES) {
                // A short group walks its last tree again in the spare lanes.
                let tree = |l: usize| group[l.min(group.len() - 1)];
                let mut at: [usize; ROW_LANES] = std::array::from_fn(|l| leaves[tree(l)]);
                for _ in 0..steps {
                    at = at.map(|i| {
                        let node = &self.keyed[i];
                        let left = keys.at(node.slot as usize) <= node.threshold;
                        std::hint::select_unpredictable(left, i + 1, node.next as usize)
                    });
                }
                for (&t, &i) in group.iter().zip(&at) {
                    leaves[t] = i;
                    still[kept] = t;
                    // Only a leaf's key is 0: a walk on one drops out.
                    kept += usize::from(self.keyed[i].threshold != 0);
                }
            }
            std::mem::swap(&mut walking, &mut still);
            walking.truncate(kept);
            still.resize(walking.len(), 0);
            steps = THEN;
        }
    }

    /// Walks `n` keyed rows (`slots` keys each, [`row_keys`]) through tree `t`, eight side by
    /// side, and calls `arrived(row, leaf)` for each. Every walk takes the tree's depth in
    /// steps, without looking where it stands (a leaf steps to itself), so the eight lanes
    /// stay in registers and neither a turn nor an arrival is a branch. A short last group
    /// walks its last row again in the spare lanes.
    #[inline(always)]
    fn walk_block(
        &self,
        t: usize,
        keys: &[u64],
        slots: usize,
        n: usize,
        arrived: &mut impl FnMut(usize, usize),
    ) {
        let root = self.root(t);
        let steps = self.steps[t];
        for first in (0..n).step_by(LANES) {
            let here = LANES.min(n - first);
            // Where each lane's row's keys start.
            let rows: [usize; LANES] = std::array::from_fn(|l| (first + l.min(here - 1)) * slots);
            let mut at = [root; LANES];
            for _ in 0..steps {
                for (i, &row) in at.iter_mut().zip(&rows) {
                    let node = &self.keyed[*i];
                    let left = keys[row + node.slot as usize] <= node.threshold;
                    *i = std::hint::select_unpredictable(left, *i + 1, node.next as usize);
                }
            }
            for (l, &leaf) in at.iter().enumerate().take(here) {
                arrived(first + l, leaf);
            }
        }
    }

    /// Walks `n` walks to their leaves, walk `w` from `start(w)`'s node reading its row, and
    /// calls `arrived(w, leaf)` as each arrives. Eight go side by side, each turn chosen
    /// without a branch (which way a row goes is what a branch predictor cannot learn), so
    /// that the processor overlaps their loads; a walk that arrives hands its lane to the
    /// next. Every step moves a walk forward in its tree, so each ends.
    #[inline(always)]
    fn walk_all<'x>(
        &self,
        n: usize,
        start: impl Fn(usize) -> (usize, &'x [f64]),
        mut arrived: impl FnMut(usize, usize),
    ) {
        const IDLE: usize = usize::MAX;
        let mut lanes: [(usize, usize, &[f64]); LANES] = std::array::from_fn(|w| {
            if w < n {
                let (node, x) = start(w);
                (w, node, x)
            } else {
                (IDLE, 0, &[][..])
            }
        });
        let mut next = LANES.min(n);
        let mut walking = next;
        while walking > 0 {
            for lane in &mut lanes {
                let (w, i, x) = *lane;
                if w == IDLE {
                    continue;
                }
                if self.nodes[i].is_leaf() {
                    arrived(w, i);
                    if next < n {
                        let (node, x) = start(next);
                        *lane = (next, node, x);
                        next += 1;
                    } else {
                        lane.0 = IDLE;
                        walking -= 1;
                    }
                } else {
                    lane.1 = self.step(i, x);
                }
            }
        }
    }

    /// The leaf row `x` reaches in tree `t`.
    #[inline]
    pub fn leaf(&self, t: usize, x: &[f64]) -> usize {
        let mut i = self.root(t);
        loop {
            let node = &self.nodes[i];
            if node.is_leaf() {
                return i;
            }
            i = if self.goes_left(node, x[node.feature()]) {
                i + 1
            } else {
                node.next as usize
            };
        }
    }

    /// The child `x` goes to from split `i`, and the other one.
    pub fn children(&self, i: usize, x: &[f64]) -> (usize, usize) {
        let node = &self.nodes[i];
        let (left, right) = (i + 1, node.next as usize);
        if self.goes_left(node, x[node.feature()]) {
            (left, right)
        } else {
            (right, left)
        }
    }
}

/// A split's threshold as a key: its [`order_key`], or 0 (below every value's) for a NaN,
/// which no value is at most (loading refuses one; this keeps the rule should one pass).
fn threshold_key(threshold: f64) -> u64 {
    if threshold.is_nan() {
        0
    } else {
        order_key(threshold)
    }
}

/// Row `x`'s features as [`KeyedNode`]s read them, into `keys` (two per feature): each
/// value's [`order_key`], a missing one as the largest key (it goes right) and as 0 (left).
#[inline]
fn row_keys(x: &[f64], keys: &mut [u64]) {
    // Without a branch on the value (its sign or NaN): a branch per feature, taken as the
    // data decide, costs more than the walks that read the keys.
    for (&v, pair) in x.iter().zip(keys.chunks_exact_mut(2)) {
        let key = order_key(v);
        let missing = u64::from(v.is_nan()).wrapping_neg();
        pair[0] = key | missing;
        pair[1] = key & !missing;
    }
}

/// A key of `v` (not NaN) whose order as an integer is `v`'s order as a float, from 1 up: the
/// sign bit flipped for positive values, every bit for negative ones, `-0.0` first made
/// `+0.0` (they compare equal).
#[inline]
fn order_key(v: f64) -> u64 {
    let bits = (v + 0.0).to_bits();
    // All ones for a negative value (every bit flipped), the sign bit alone otherwise.
    let flip = ((bits as i64) >> 63) as u64 | 1 << 63;
    bits ^ flip
}

/// Whether a numeric split sends `v` left: `v <= threshold`, or, for a NaN (which compares
/// false), where training sent missing values. A leaf (threshold NaN, flags clear) sends
/// every value right, to itself.
#[inline(always)]
fn numeric_left(node: &Node, v: f64) -> bool {
    (v <= node.threshold) | (v.is_nan() & (node.feature & MISSING_LEFT != 0))
}

/// The byte scikit-learn's Cython reads a category as (`<uint8_t>` of a float64): the
/// truncated integer's low byte, as x86-64 converts it. Values of 256 and above are beyond
/// any category (there are at most 255) and so land on one training never saw, or on the
/// one whose number they share a low byte with, exactly as in scikit-learn.
#[inline]
fn as_binned_category(x: f64) -> u8 {
    if x < 2_147_483_648.0 {
        (x as i32) as u8
    } else {
        // cvttsd2si's "integer indefinite" value, 0x80000000.
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(feature: usize, threshold: f64) -> Split {
        Split::Numeric {
            feature,
            threshold,
            missing_left: false,
        }
    }

    /// x0 <= 0.5 ? (x1 <= 2 ? 10 : 20) : 30, numbered as a best-first builder might.
    fn sample() -> RawTree {
        RawTree {
            splits: vec![
                Some((numeric(0, 0.5), 2, 1)),
                None,
                Some((numeric(1, 2.0), 3, 4)),
                None,
                None,
            ],
            cover: vec![4.0, 1.0, 3.0, 2.0, 1.0],
            values: vec![0.0, 30.0, 0.0, 10.0, 20.0],
            width: 1,
        }
    }

    #[test]
    fn laid_out_in_pre_order_and_walked() {
        let tree = sample();
        let (order, depth) = check(&tree).unwrap();
        assert_eq!(order, vec![0, 2, 3, 4, 1]);
        assert_eq!(depth, 2);
        let mut forest = Forest::new(1);
        forest.push(&tree, &order, depth).unwrap();
        let value = |x: &[f64]| forest.leaf_value(forest.leaf(0, x));
        assert_eq!(value(&[0.5, 2.0]), 10.0);
        assert_eq!(value(&[0.5, 2.5]), 20.0);
        assert_eq!(value(&[0.6, 0.0]), 30.0);
        // NaN goes right unless training said otherwise.
        assert_eq!(value(&[f64::NAN, 0.0]), 30.0);
        assert_eq!(forest.features_used(), vec![0, 1]);
    }

    /// Now and then a value where comparisons are delicate (signed zeros, infinities, a
    /// negative), else `v`.
    fn edge_or(random: u64, v: f64) -> f64 {
        const EDGES: [f64; 6] = [-0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, -1.5, 2.5];
        match random % 16 {
            i @ 0..6 => EDGES[i as usize],
            _ => v,
        }
    }

    /// A tree of random splits over `n_features` features, down to `depth`, in the order a
    /// depth-first builder numbers nodes; a third of the splits categorical when `categorical`
    /// (bitsets 0 to 3).
    fn random_tree(
        next: &mut impl FnMut() -> u64,
        n_features: usize,
        depth: usize,
        categorical: bool,
    ) -> RawTree {
        fn grow(
            tree: &mut RawTree,
            next: &mut impl FnMut() -> u64,
            n_features: usize,
            depth: usize,
            categorical: bool,
        ) -> usize {
            let node = tree.splits.len();
            tree.splits.push(None);
            tree.values.push((next() % 1000) as f64);
            tree.cover.push(1.0);
            if depth > 0 && !next().is_multiple_of(4) {
                let feature = (next() % n_features as u64) as usize;
                let missing_left = next().is_multiple_of(2);
                let split = if categorical && next().is_multiple_of(3) {
                    Split::Categorical {
                        feature,
                        bitset: (next() % 4) as usize,
                        missing_left,
                    }
                } else {
                    Split::Numeric {
                        feature,
                        threshold: edge_or(next(), (next() % 100) as f64 / 10.0),
                        missing_left,
                    }
                };
                let left = grow(tree, next, n_features, depth - 1, categorical);
                let right = grow(tree, next, n_features, depth - 1, categorical);
                tree.splits[node] = Some((split, left, right));
            }
            node
        }
        let mut tree = RawTree {
            width: 1,
            ..RawTree::default()
        };
        grow(&mut tree, next, n_features, depth, categorical);
        tree
    }

    #[test]
    fn side_by_side_walks_reach_the_leaves_one_walk_reaches_in_tree_order() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // A few features (a row read from a fixed array) and many (from the heap); trees walked
        // and, when none is deeper than 6 (64 leaves), found by masks; with categorical splits,
        // batches taken tree by tree for blocks of rows.
        let cases = [
            (3, false, false),
            (70, false, false),
            (3, true, false),
            (70, true, false),
            (3, false, true),
            (70, false, true),
        ];
        for (n_features, masked, categorical) in cases {
            // 21 trees: two groups of eight and five walked alone, of uneven depths.
            let mut forest = Forest::new(1);
            if categorical {
                forest.left_categories = (0..4).map(|_| random_bitset(&mut next)).collect();
                forest.known_categories = (0..n_features)
                    .map(|_| (!next().is_multiple_of(3)).then(|| random_bitset(&mut next)))
                    .collect();
            }
            for t in 0..21 {
                let depth = if masked { t % 7 } else { t % 9 };
                let tree = random_tree(&mut next, n_features, depth, categorical);
                let (order, depth) = check(&tree).unwrap();
                forest.push(&tree, &order, depth).unwrap();
            }
            if !masked {
                // Deeper than a block walks in a fixed number of steps.
                let tree = comb_tree(&mut next, n_features, FIXED_STEPS + 6);
                let (order, depth) = check(&tree).unwrap();
                forest.push(&tree, &order, depth).unwrap();
            }
            if masked {
                forest.finish(&Budget::default()).unwrap();
                assert!(forest.has_leaf_masks());
            }
            // 150 rows: three blocks of a categorical batch, the last one short.
            for n_rows in [1, 7, 8, 19, 150] {
                let rows: Vec<f64> = (0..n_rows * n_features)
                    .map(|_| match next() % 10 {
                        0 => f64::NAN,
                        // On a threshold: (k % 100) / 10 is one.
                        1 => (next() % 100) as f64 / 10.0,
                        v => edge_or(next(), (next() % 110) as f64 / 10.0 - 0.5 + v as f64 * 1e-3),
                    })
                    .collect();
                let mut seen = vec![Vec::new(); n_rows];
                forest.for_each_row(&rows, n_features, |r, leaves| {
                    seen[r].extend(leaves.iter().copied().enumerate());
                });
                for (r, seen) in seen.iter().enumerate() {
                    let x = &rows[r * n_features..(r + 1) * n_features];
                    let one_by_one: Vec<(usize, usize)> = (0..forest.n_trees())
                        .map(|t| (t, forest.value_offset(forest.leaf(t, x))))
                        .collect();
                    assert_eq!(
                        *seen, one_by_one,
                        "{n_features} features, {n_rows} rows, row {r}, masked: {masked}, \
                         categorical: {categorical}"
                    );
                }
            }
        }
    }

    /// A tree `depth` deep with one leaf at each level but the last (two there), its splits
    /// random and numeric, going on left or right at random.
    fn comb_tree(next: &mut impl FnMut() -> u64, n_features: usize, depth: usize) -> RawTree {
        let mut tree = RawTree {
            width: 1,
            ..RawTree::default()
        };
        let mut pending = Vec::new();
        for level in 0..=depth {
            let node = tree.splits.len();
            tree.splits.push(None);
            tree.values.push((next() % 1000) as f64);
            tree.cover.push(1.0);
            if level < depth {
                let leaf = node + 1;
                tree.splits.push(None);
                tree.values.push((next() % 1000) as f64);
                tree.cover.push(1.0);
                let split = Split::Numeric {
                    feature: (next() % n_features as u64) as usize,
                    threshold: edge_or(next(), (next() % 100) as f64 / 10.0),
                    missing_left: next().is_multiple_of(2),
                };
                pending.push((node, split, leaf, next().is_multiple_of(2)));
            }
        }
        // Each split's other child is the next level's first node.
        for (node, split, leaf, on_left) in pending {
            let on = node + 2;
            tree.splits[node] = Some(if on_left {
                (split, on, leaf)
            } else {
                (split, leaf, on)
            });
        }
        tree
    }

    /// Random categories of the first 16 (the rows' values reach 11).
    fn random_bitset(next: &mut impl FnMut() -> u64) -> Bitset {
        let mut bitset = [0; 8];
        bitset[0] = (next() & 0xffff) as u32;
        bitset
    }

    /// A complete tree of `depth` levels on feature 0, leaf `i` (left to right) holding `i`.
    fn complete_tree(depth: usize) -> RawTree {
        let mut tree = RawTree {
            width: 1,
            ..RawTree::default()
        };
        fn grow(tree: &mut RawTree, level: usize, depth: usize, low: f64, high: f64) -> usize {
            let node = tree.splits.len();
            tree.splits.push(None);
            tree.cover.push(1.0);
            tree.values.push(low);
            if level < depth {
                let middle = (low + high) / 2.0;
                let left = grow(tree, level + 1, depth, low, middle);
                let right = grow(tree, level + 1, depth, middle, high);
                tree.splits[node] = Some((numeric(0, middle - 0.5), left, right));
            }
            node
        }
        grow(&mut tree, 0, depth, 0.0, (1 << depth) as f64);
        tree
    }

    #[test]
    fn masks_are_made_only_for_trees_of_64_leaves_or_fewer() {
        for (depth, masked) in [(6, true), (7, false)] {
            let tree = complete_tree(depth);
            let (order, levels) = check(&tree).unwrap();
            let mut forest = Forest::new(1);
            forest.push(&tree, &order, levels).unwrap();
            forest.finish(&Budget::default()).unwrap();
            assert_eq!(forest.has_leaf_masks(), masked, "depth {depth}");
            let leaves = 1 << depth;
            let rows: Vec<f64> = (0..leaves).map(|i| i as f64).collect();
            let mut values = Vec::new();
            forest.for_each_row(&rows, 1, |_, leaves| {
                values.extend(leaves.iter().map(|&at| forest.values()[at]));
            });
            assert_eq!(values, rows, "depth {depth}: leaf i holds i");
            // A tree pushed later is not in the masks: they are dropped until made again.
            forest.push(&tree, &order, levels).unwrap();
            assert!(!forest.has_leaf_masks());
        }
    }

    #[test]
    fn order_keys_order_as_floats_compare() {
        let values = [
            f64::NEG_INFINITY,
            -1e300,
            -1.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            1.0,
            1.0000000000000002,
            f64::MAX,
            f64::INFINITY,
        ];
        for a in values {
            assert!(order_key(a) >= 1, "{a}");
            assert!(order_key(a) < u64::MAX, "{a}");
            for b in values {
                assert_eq!(order_key(a) <= order_key(b), a <= b, "{a} <= {b}");
            }
        }
    }

    #[test]
    fn cycles_shared_children_and_lost_nodes_are_named() {
        let mut tree = sample();
        tree.splits[2] = Some((numeric(1, 2.0), 3, 2));
        let fault = check(&tree).unwrap_err();
        assert_eq!((fault.node, fault.field), (2, "right_child"));
        assert!(
            fault.problem.contains("already reached"),
            "{}",
            fault.problem
        );

        let mut tree = sample();
        tree.splits[2] = Some((numeric(1, 2.0), 3, 1));
        assert!(
            check(&tree)
                .unwrap_err()
                .problem
                .contains("already reached")
        );

        let mut tree = sample();
        tree.splits[0] = Some((numeric(0, 0.5), 2, 9));
        assert!(check(&tree).unwrap_err().problem.contains("beyond"));

        let mut tree = sample();
        tree.splits[2] = None;
        let fault = check(&tree).unwrap_err();
        assert_eq!(fault.node, 3);
        assert!(fault.problem.contains("no path"));
    }

    #[test]
    fn categories_follow_histgradientboosting() {
        let mut forest = Forest::new(1);
        let mut left = [0u32; 8];
        left[0] = 0b101; // categories 0 and 2
        forest.left_categories.push(left);
        let mut known = [0u32; 8];
        known[0] = 0b1111; // 0..=3
        forest.known_categories = vec![Some(known)];
        let tree = RawTree {
            splits: vec![
                Some((
                    Split::Categorical {
                        feature: 0,
                        bitset: 0,
                        missing_left: true,
                    },
                    1,
                    2,
                )),
                None,
                None,
            ],
            cover: vec![2.0, 1.0, 1.0],
            values: vec![0.0, -1.0, 1.0],
            width: 1,
        };
        let (order, depth) = check(&tree).unwrap();
        forest.push(&tree, &order, depth).unwrap();
        let value = |x: f64| forest.leaf_value(forest.leaf(0, &[x]));
        assert_eq!(value(0.0), -1.0);
        assert_eq!(value(2.9), -1.0, "truncated to 2");
        assert_eq!(value(1.0), 1.0);
        assert_eq!(value(7.0), -1.0, "unknown: where missing values go");
        assert_eq!(value(-0.5), -1.0, "negative: missing");
        assert_eq!(value(f64::NAN), -1.0);
        assert_eq!(value(258.0), -1.0, "the low byte, 2");
        assert_eq!(value(257.0), 1.0, "the low byte, 1");
    }
}

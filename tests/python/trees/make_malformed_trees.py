#!/usr/bin/env python3
"""Write the malformed tree files of tests/fixtures/malformed_trees/: each a real tree model
fitted by scikit-learn with one field of one tree edited (a child out of range, a cycle, a
shared child, a node no path reaches, a feature out of range, a leaf with one child, values
of the wrong shape, an array whose shape asks for more bytes than the file holds, a bitset
index out of range), and manifest.json saying what the refusal must name: the tree, the node
and the field. Beside them, in a second directory, the same small forest and HistGradientBoosting
model intact: the loader's fuzz test starts mutations from them (tests/model/fuzz.rs).

    target/sk1.9-venv/bin/python tests/python/trees/make_malformed_trees.py \
        tests/fixtures/malformed_trees tests/fixtures/tree_seeds

scikit-learn's `Tree.__setstate__` checks a few of these itself, so an edited tree is
pickled through a stand-in whose `__reduce__` gives the real class and the edited state:
the file is what a crafted one would be. Nothing here unpickles what it writes.
"""

import json
import os
import pickle
import sys
import warnings

import numpy as np
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

warnings.simplefilter("ignore")

rng = np.random.RandomState(0)
X = rng.normal(size=(200, 4))
X[:, 3] = rng.randint(0, 6, 200)
# Category 1 or 4 of feature 3 flips the label: every boosting stage splits on it.
Y = ((X[:, 0] + X[:, 1] * X[:, 2] > 0) ^ np.isin(X[:, 3], [1, 4])).astype(int)


class Reduced:
    """Pickles as `reduce` says: a class, its arguments and its (edited) state."""

    def __init__(self, reduce):
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce


def edited_tree(tree, edit):
    """A stand-in for `tree.tree_` whose state `edit` has changed."""
    cls, args, state = tree.tree_.__reduce__()
    state = dict(state)
    state["nodes"] = state["nodes"].copy()
    state["values"] = state["values"].copy()
    edit(state)
    tree.tree_ = Reduced((cls, args, state))
    return tree


def split_nodes(state):
    """The indices of the splits, in the file's numbering."""
    return np.flatnonzero(state["nodes"]["left_child"] >= 0)


def set_field(field, node, value):
    def edit(state):
        state["nodes"][field][node(state)] = value(state) if callable(value) else value
    return edit


def make_leaf(node):
    def edit(state):
        at = node(state)
        state["nodes"]["left_child"][at] = -1
        state["nodes"]["right_child"][at] = -1
    return edit


def tree():
    return DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, Y)


def forest():
    return RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, Y)


def short_bytes(array):
    """A stand-in for `array` that declares a million times its shape over its own bytes."""
    fn, args, state = array.__reduce__()
    version, shape, dtype, fortran, raw = state
    return Reduced((fn, args, (version, (shape[0] * 1_000_000,) + tuple(shape[1:]), dtype, fortran, raw)))


def cases():
    """(name, what the refusal names, why, model)."""
    first_split = lambda s: split_nodes(s)[0]  # noqa: E731
    second_split = lambda s: split_nodes(s)[1]  # noqa: E731
    leaf = lambda s: np.flatnonzero(s["nodes"]["left_child"] < 0)[0]  # noqa: E731
    out = [
        ("tree_left_child_out_of_range", "tree_ node 0: left_child", "a child beyond the nodes",
         edited_tree(tree(), set_field("left_child", first_split, lambda s: s["node_count"] + 7))),
        ("tree_right_child_negative", "tree_ node 0: right_child", "a right child of -5 beside a left one",
         edited_tree(tree(), set_field("right_child", first_split, -5))),
        ("tree_cycle_to_root", "right_child is 0, the root", "a child pointing back at the root",
         edited_tree(tree(), set_field("right_child", second_split, 0))),
        ("tree_shared_child", "already reached", "two splits sharing a child",
         edited_tree(tree(), set_field("right_child", second_split,
                                       lambda s: s["nodes"]["right_child"][first_split(s)]))),
        ("tree_lost_subtree", "no path from the root reaches", "a split made a leaf, its subtree unreached",
         edited_tree(tree(), make_leaf(second_split))),
        ("tree_feature_out_of_range", "feature is 9, not one of the 4 features", "a split on feature 9 of 4",
         edited_tree(tree(), set_field("feature", second_split, 9))),
        ("tree_leaf_with_one_child", "right_child is 2 while its other child is -1", "a leaf with a right child",
         edited_tree(tree(), set_field("right_child", leaf, 2))),
        ("tree_threshold_nan", "threshold is NaN", "a split on a NaN threshold",
         edited_tree(tree(), set_field("threshold", first_split, np.nan))),
        ("tree_missing_go_to_left_7", "missing_go_to_left is 7", "a missing direction that is not 0 or 1",
         edited_tree(tree(), set_field("missing_go_to_left", first_split, 7))),
        ("tree_node_count_disagrees", "node_count is 3 but the nodes array holds", "node_count below the nodes",
         edited_tree(tree(), lambda s: s.update(node_count=3))),
        ("tree_values_wrong_shape", "values has shape", "values of fewer nodes than the tree",
         edited_tree(tree(), lambda s: s.update(values=s["values"][:-2].copy()))),
        ("tree_value_nan", "value holds NaN", "a leaf value that is NaN",
         edited_tree(tree(), lambda s: s["values"].__setitem__(leaf(s), np.nan))),
        ("tree_nodes_shorter_than_shape", "bytes but the file holds", "a nodes array declaring a million times its bytes",
         edited_tree(tree(), lambda s: s.update(nodes=short_bytes(s["nodes"])))),
        ("tree_values_shorter_than_shape", "bytes but the file holds", "a values array declaring a million times its bytes",
         edited_tree(tree(), lambda s: s.update(values=short_bytes(s["values"])))),
    ]
    f = forest()
    edited_tree(f.estimators_[2], set_field("left_child", second_split, 1000))
    out.append(("forest_tree_left_child_out_of_range", "estimators_[2].tree_ node", "a forest's third tree with a child beyond its nodes", f))
    f = forest()
    f.estimators_[1] = DecisionTreeRegressor(max_depth=2).fit(X, Y)
    out.append(("forest_tree_of_another_class", "estimators_[1]", "a regressor among a classifier's trees", f))
    f = forest()
    edited_tree(f.estimators_[3], set_field("feature", first_split, 4))
    out.append(("forest_tree_feature_out_of_range", "estimators_[3].tree_ node 0: feature is 4", "a split on feature 4 of 4", f))
    g = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, Y)
    edited_tree(g.estimators_[1, 0], set_field("right_child", second_split, 0))
    out.append(("boosting_stage_cycle", "estimators_[1, 0].tree_ node", "a stage's tree pointing back at its root", g))
    g = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, Y)
    g.estimators_ = g.estimators_[:, :0]
    out.append(("boosting_stages_wrong_shape", "estimators_", "stages without trees", g))
    # Two outputs: labels of two classes and of three.
    two = np.column_stack([Y, (X[:, 3] % 3).astype(int)])
    f = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, two)
    f.classes_ = f.classes_[:1]
    out.append(("forest_two_outputs_one_classes", "holds the classes of 1 output(s) as a list, but n_outputs_ is 2",
                "a forest of two outputs listing the classes of one", f))
    f = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, two)
    f.classes_[1] = np.arange(4)
    out.append(("forest_two_outputs_classes_disagree", "estimators_[0].tree_ predicts 2 output(s) of [2, 3] classes, but the estimator has [2, 4]",
                "a forest's second output listing more classes than its trees hold", f))
    out += hist_cases()
    return out


def hgb():
    return HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=6, categorical_features=[3],
                                          random_state=0).fit(X, Y)


def hist_edit(field, value, which=lambda nodes: np.flatnonzero(nodes["is_leaf"] == 0)[0]):
    model = hgb()
    nodes = model._predictors[1][0].nodes
    nodes[field][which(nodes)] = value(model, nodes) if callable(value) else value
    return model


def hist_cases():
    categorical = lambda nodes: np.flatnonzero((nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 1))[0]  # noqa: E731
    return [
        ("hist_left_out_of_range", "_predictors[1][0] node 0: left", "a child beyond the nodes",
         hist_edit("left", 500)),
        ("hist_cycle", "already reached", "a child pointing back at its parent",
         hist_edit("right", 1, lambda n: 1 if n["is_leaf"][1] == 0 else 0)),
        ("hist_feature_out_of_range", "feature_idx is 11", "a split on feature 11 of 4",
         hist_edit("feature_idx", 11)),
        ("hist_is_leaf_2", "is_leaf is 2", "a leaf flag that is neither 0 nor 1",
         hist_edit("is_leaf", 2)),
        ("hist_bitset_idx_out_of_range", "bitset_idx is 40", "a categorical split's bitset beyond the bitsets",
         hist_edit("bitset_idx", 40, categorical)),
        # The preprocessor puts the categorical column first: the numeric ones follow it.
        ("hist_categorical_on_numeric_feature", "is_categorical is set, but feature 1 is not categorical",
         "a categorical split of a numeric feature",
         hist_edit("feature_idx", lambda model, _: np.flatnonzero(model._bin_mapper.is_categorical_ == 0)[0], categorical)),
    ]


def dump(model, outdir, name):
    """`name` pickled with protocols 2 and 5; the file names written."""
    files = []
    for protocol in (2, 5):
        file = "%s_p%d.pkl" % (name, protocol)
        with open(os.path.join(outdir, file), "wb") as f:
            pickle.dump(model, f, protocol=protocol)
        files.append(file)
    return files


def main():
    outdir, seeds = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    manifest = []
    for name, refused, why, model in cases():
        for file in dump(model, outdir, name):
            manifest.append({"file": file, "refused": refused, "why": why})
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("%d malformed tree files in %s" % (len(manifest), outdir))
    os.makedirs(seeds, exist_ok=True)
    written = dump(forest(), seeds, "forest_intact") + dump(hgb(), seeds, "hist_gradient_boosting_intact")
    print("%d intact tree files in %s" % (len(written), seeds))


if __name__ == "__main__":
    main()

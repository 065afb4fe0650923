#!/usr/bin/env python3
"""Write the malformed files of tests/fixtures/malformed_manifold/: each a real KNNImputer,
KernelDensity or FeatureAgglomeration fitted by scikit-learn on a slice of iris, with one
fitted attribute edited (a wrong shape, a NaN or infinity, an index out of range, an unknown
metric, kernel or weighting, a function that is not one of numpy's reductions, a huge
declared count), and manifest.json saying what the refusal must name. Nothing here unpickles
what it writes.

    target/sk1.9-venv/bin/python tests/python/manifold/make_malformed_manifold.py \
        tests/fixtures/malformed_manifold
"""

import os
import sys
import warnings

import numpy as np
from sklearn.cluster import FeatureAgglomeration
from sklearn.datasets import load_iris
from sklearn.impute import KNNImputer
from sklearn.neighbors import BallTree, KDTree, KernelDensity

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "families"))
from make_malformed_families import write_malformed  # noqa: E402

warnings.simplefilter("ignore")

X = load_iris().data[::3].copy()
HOLES = X.copy()
HOLES[np.arange(len(X)) % 5 == 0, 1] = np.nan


def set_to(name, value):
    return lambda m: setattr(m, name, value)


def set_item(name, index, value):
    def edit(m):
        array = np.asarray(getattr(m, name)).copy()
        array.flat[index] = value
        setattr(m, name, array)
    return edit


def drop_column(name):
    return lambda m: setattr(m, name, np.asarray(getattr(m, name))[:, :-1].copy())


def drop_item(name):
    return lambda m: setattr(m, name, np.asarray(getattr(m, name))[:-1].copy())


def float_labels_with_nan(m):
    labels = m.labels_.astype(np.float64)
    labels[0] = np.nan
    m.labels_ = labels


def indicator_features_out_of_range(m):
    m.indicator_.features_ = np.array([1, 40])


KNN = lambda: KNNImputer(n_neighbors=3)  # noqa: E731
KNN_INDICATOR = lambda: KNNImputer(add_indicator=True)  # noqa: E731
KDE = lambda: KernelDensity(bandwidth=0.5)  # noqa: E731
AGG = lambda: FeatureAgglomeration(n_clusters=2)  # noqa: E731

# (file stem, model factory, fit arguments, edit, what the refusal names, why)
CASES = [
    ("knn_imputer_fit_x_wrong_shape", KNN, (HOLES,), drop_column("_fit_X"), "_fit_X", "fitted rows one feature short"),
    ("knn_imputer_fit_x_infinite", KNN, (HOLES,), set_item("_fit_X", 4, np.inf), "_fit_X", "an infinite fitted value"),
    ("knn_imputer_mask_disagrees", KNN, (HOLES,), set_item("_mask_fit_X", 2, True), "_mask_fit_X", "a mask that marks a present value missing"),
    ("knn_imputer_valid_mask_wrong_shape", KNN, (HOLES,), drop_item("_valid_mask"), "_valid_mask", "one feature's flag short"),
    ("knn_imputer_unknown_metric", KNN, (HOLES,), set_to("metric", "cosine"), "metric", "a metric KNNImputer does not have"),
    ("knn_imputer_unknown_weights", KNN, (HOLES,), set_to("weights", "gaussian"), "weights", "unknown weights"),
    ("knn_imputer_no_neighbours", KNN, (HOLES,), set_to("n_neighbors", 0), "n_neighbors", "zero neighbours"),
    ("knn_imputer_missing_values_number", KNN, (HOLES,), set_to("missing_values", -1.0), "missing_values", "a number as the missing marker"),
    ("knn_imputer_indicator_out_of_range", KNN_INDICATOR, (HOLES,), indicator_features_out_of_range, "features_", "an indicator feature beyond the inputs"),
    ("knn_imputer_features_in_huge", KNN, (HOLES,), set_to("n_features_in_", 10**12), "n_features_in_", "a huge declared number of features"),
    ("kde_unknown_kernel", KDE, (X,), set_to("kernel", "triangle"), "kernel", "a kernel scikit-learn does not have"),
    ("kde_unknown_metric", KDE, (X,), set_to("metric", "wasserstein"), "metric", "a metric scikit-learn does not have"),
    ("kde_bandwidth_negative", KDE, (X,), set_to("bandwidth_", -0.5), "bandwidth_", "a negative bandwidth"),
    ("kde_bandwidth_nan", KDE, (X,), set_to("bandwidth_", float("nan")), "bandwidth_", "a NaN bandwidth"),
    ("kde_tree_of_another_metric", KDE, (X,), lambda m: setattr(m, "tree_", KDTree(X, metric="manhattan")), "tree_", "a tree measuring by another metric"),
    ("kde_tree_not_a_tree", KDE, (X,), set_to("tree_", np.zeros((3, 3))), "tree_", "an array where the tree should be"),
    ("kde_negative_weight", KDE, (X,), lambda m: setattr(m, "tree_", BallTree(X, sample_weight=-np.ones(len(X)))), "tree_", "negative sample weights"),
    ("kde_tolerance", KDE, (X,), set_to("rtol", 1e-3), "rtol", "a tolerance, whose answer depends on the tree's walk"),
    ("kde_features_in_wrong", KDE, (X,), set_to("n_features_in_", 7), "n_features_in_", "a feature count the points do not have"),
    ("agglomeration_label_out_of_range", AGG, (X,), set_item("labels_", 0, 99), "labels_", "a cluster label beyond the features"),
    ("agglomeration_labels_wrong_shape", AGG, (X,), drop_item("labels_"), "labels_", "one feature's label short"),
    ("agglomeration_label_nan", AGG, (X,), float_labels_with_nan, "labels_", "a NaN label"),
    ("agglomeration_cluster_skipped", AGG, (X,), set_to("labels_", np.array([0, 2, 2, 0])), "labels_", "a cluster with no feature"),
    ("agglomeration_clusters_huge", AGG, (X,), set_to("n_clusters_", 10**12), "n_clusters_", "a huge declared number of clusters"),
    ("agglomeration_pooling_sum", AGG, (X,), set_to("pooling_func", np.sum), "numpy.sum", "a reduction not on the list"),
    ("agglomeration_pooling_ufunc", AGG, (X,), set_to("pooling_func", np.log), "pooling_func", "a ufunc that is not a reduction"),
]


def main():
    write_malformed(sys.argv[1], CASES)


if __name__ == "__main__":
    main()

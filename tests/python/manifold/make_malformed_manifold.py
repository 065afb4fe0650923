#!/usr/bin/env python3
"""Write the malformed files of tests/fixtures/malformed_manifold/: each a real KNNImputer,
KernelDensity, FeatureAgglomeration, Isomap or LocallyLinearEmbedding fitted by scikit-learn on a slice of iris, with one
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
from sklearn.decomposition import PCA
from sklearn.impute import KNNImputer
from sklearn.manifold import Isomap, LocallyLinearEmbedding
from sklearn.neighbors import BallTree, KDTree, KernelDensity, KNeighborsClassifier, NearestNeighbors

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


def set_inner(attr, name, value):
    return lambda m: setattr(getattr(m, attr), name, value)


def set_inner_item(attr, name, index, value):
    def edit(m):
        inner = getattr(m, attr)
        array = np.asarray(getattr(inner, name)).copy()
        array.flat[index] = value
        setattr(inner, name, array)
    return edit


def nbrs_of_fewer_rows(m):
    m.nbrs_ = NearestNeighbors(n_neighbors=m.nbrs_.n_neighbors).fit(X[:-4])


ISO = lambda: Isomap(n_neighbors=5)  # noqa: E731
ISO_RADIUS = lambda: Isomap(n_neighbors=None, radius=1.5)  # noqa: E731
LLE = lambda: LocallyLinearEmbedding(n_neighbors=6, eigen_solver="dense")  # noqa: E731
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
    ("isomap_dist_matrix_wrong_shape", ISO, (X,), drop_column("dist_matrix_"), "dist_matrix_", "geodesic distances one training row short"),
    ("isomap_dist_matrix_negative", ISO, (X,), set_item("dist_matrix_", 3, -1.0), "dist_matrix_", "a negative geodesic distance"),
    ("isomap_dist_matrix_nan", ISO, (X,), set_item("dist_matrix_", 7, np.nan), "dist_matrix_", "a NaN geodesic distance"),
    ("isomap_embedding_rows", ISO, (X,), drop_item("embedding_"), "embedding_", "an embedding one training row short"),
    ("isomap_embedding_components", ISO, (X,), drop_column("embedding_"), "embedding_", "an embedding of fewer components than the KernelPCA"),
    ("isomap_nbrs_other_size", ISO, (X,), nbrs_of_fewer_rows, "nbrs_", "a neighbour search over fewer rows than the fit"),
    ("isomap_nbrs_not_nearest_neighbors", ISO, (X,), lambda m: setattr(m, "nbrs_", KNeighborsClassifier().fit(X, np.arange(len(X)) % 3)), "nbrs_", "a classifier where the search should be"),
    ("isomap_nbrs_unknown_metric", ISO, (X,), set_inner("nbrs_", "effective_metric_", "wasserstein"), "effective_metric_", "a metric scikit-learn does not have"),
    ("isomap_nbrs_fit_x_nan", ISO, (X,), set_inner_item("nbrs_", "_fit_X", 5, np.nan), "_fit_X", "a NaN training row"),
    ("isomap_n_neighbors_disagrees", ISO, (X,), set_to("n_neighbors", 7), "n_neighbors", "a neighbour count the search does not use"),
    ("isomap_kernel_pca_rbf", ISO, (X,), set_inner("kernel_pca_", "kernel", "rbf"), "kernel_pca_", "a KernelPCA of another kernel"),
    ("isomap_kernel_pca_not_kernel_pca", ISO, (X,), lambda m: setattr(m, "kernel_pca_", PCA(n_components=2).fit(X)), "kernel_pca_", "a PCA where the KernelPCA should be"),
    ("isomap_kernel_pca_negative_eigenvalue", ISO, (X,), set_inner_item("kernel_pca_", "eigenvalues_", 0, -1.0), "eigenvalues_", "a negative eigenvalue"),
    ("isomap_radius_negative", ISO_RADIUS, (X,), set_to("radius", -1.5), "radius", "a negative radius"),
    ("isomap_radius_disagrees", ISO_RADIUS, (X,), set_to("radius", 2.5), "radius", "a radius the search does not use"),
    ("isomap_features_in_huge", ISO, (X,), set_to("n_features_in_", 10**12), "n_features_in_", "a huge declared number of features"),
    ("lle_reg_negative", LLE, (X,), set_to("reg", -1e-3), "reg", "a negative regularisation"),
    ("lle_reg_nan", LLE, (X,), set_to("reg", float("nan")), "reg", "a NaN regularisation"),
    ("lle_embedding_rows", LLE, (X,), drop_item("embedding_"), "embedding_", "an embedding one training row short"),
    ("lle_embedding_nan", LLE, (X,), set_item("embedding_", 4, np.nan), "embedding_", "a NaN in the embedding"),
    ("lle_n_components_disagrees", LLE, (X,), set_to("n_components", 5), "n_components", "more components than the embedding holds"),
    ("lle_n_neighbors_too_many", LLE, (X,), set_to("n_neighbors", 1000), "n_neighbors", "more neighbours than training rows"),
    ("lle_nbrs_other_size", LLE, (X,), nbrs_of_fewer_rows, "nbrs_", "a neighbour search over fewer rows than the embedding"),
    ("lle_nbrs_not_nearest_neighbors", LLE, (X,), lambda m: setattr(m, "nbrs_", KNeighborsClassifier().fit(X, np.arange(len(X)) % 3)), "nbrs_", "a classifier where the search should be"),
    ("lle_nbrs_tree_of_other_points", lambda: LocallyLinearEmbedding(n_neighbors=6, eigen_solver="dense", neighbors_algorithm="kd_tree"), (X,), lambda m: setattr(m.nbrs_, "_tree", KDTree(X[::-1].copy())), "_tree", "a tree over other points"),
    ("agglomeration_pooling_ufunc", AGG, (X,), set_to("pooling_func", np.log), "pooling_func", "a ufunc that is not a reduction"),
]


def main():
    write_malformed(sys.argv[1], CASES)


if __name__ == "__main__":
    main()

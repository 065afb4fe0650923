#!/usr/bin/env python3
"""Write the malformed files of tests/fixtures/malformed_families/: each a real model of the
SVM, neighbour, label propagation, naive Bayes, neural network or discriminant analysis
families, fitted by scikit-learn on a small slice of iris (or digits), with one fitted
attribute edited (a wrong shape, an index out of range, an unknown kernel, metric or
activation, a NaN where none may be, a huge declared count), and manifest.json saying what
the refusal must name: the attribute. Nothing here unpickles what it writes.

    target/sk1.9-venv/bin/python tests/python/families/make_malformed_families.py \
        tests/fixtures/malformed_families
"""

import json
import os
import pickle
import sys
import warnings

import numpy as np
from sklearn.datasets import load_iris
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.neighbors import (
    BallTree,
    KNeighborsClassifier,
    KNeighborsRegressor,
    KNeighborsTransformer,
    LocalOutlierFactor,
    NearestCentroid,
    NeighborhoodComponentsAnalysis,
    RadiusNeighborsClassifier,
    RadiusNeighborsRegressor,
    RadiusNeighborsTransformer,
)
from sklearn.neural_network import BernoulliRBM, MLPClassifier, MLPRegressor
from sklearn.semi_supervised import LabelPropagation, LabelSpreading
from sklearn.svm import SVC, SVR, NuSVC, NuSVR, OneClassSVM

warnings.simplefilter("ignore")

iris = load_iris()
X, Y = iris.data[::3].copy(), iris.target[::3].copy()
CODES = np.floor(X)
PARTIAL = np.where(np.arange(len(Y)) % 3 == 0, Y, -1)


def nan_at(name, index=0):
    def edit(m):
        value = np.array(getattr(m, name), dtype=np.float64, copy=True)
        value.flat[index] = np.nan
        setattr(m, name, value)
    return edit


def drop_row(name):
    return lambda m: setattr(m, name, np.asarray(getattr(m, name))[:-1].copy())


def drop_column(name):
    return lambda m: setattr(m, name, np.asarray(getattr(m, name))[:, :-1].copy())


def set_to(name, value):
    return lambda m: setattr(m, name, value)


def set_item(name, index, value):
    def edit(m):
        array = np.asarray(getattr(m, name)).copy()
        array.flat[index] = value
        setattr(m, name, array)
    return edit


def tree_of_another_kind(m):
    m._tree = BallTree(m._fit_X)


def fit_x_apart_from_tree(m):
    m._fit_X = m._fit_X + 1.0


# (file stem, model factory, fit arguments, edit, what the refusal names, why)
CASES = [
    ("svc_support_vectors_wrong_shape", lambda: SVC(), (X, Y), drop_column("support_vectors_"), "support_vectors_", "support vectors one feature short"),
    ("svc_support_index_out_of_range", lambda: SVC(), (X, Y), set_item("support_", 0, 10**6), "support_", "a support index beyond the fitted rows"),
    ("svc_unknown_kernel", lambda: SVC(), (X, Y), set_to("kernel", "rbf2"), "kernel", "a kernel libsvm does not have"),
    ("svc_dual_coef_nan", lambda: SVC(), (X, Y), nan_at("_dual_coef_"), "_dual_coef_", "a NaN coefficient"),
    ("svc_prob_a_wrong_shape", lambda: SVC(probability=True, random_state=0), (X, Y), drop_row("_probA"), "_probA", "one pairwise Platt scale short"),
    ("nusvc_n_support_huge", lambda: NuSVC(nu=0.3), (X, Y), set_item("_n_support", 0, 10**9), "_n_support", "a class with more support vectors than there are"),
    ("svr_intercept_nan", lambda: SVR(), (X, Y.astype(float)), nan_at("_intercept_"), "_intercept_", "a NaN intercept"),
    ("nusvr_gamma_nan", lambda: NuSVR(), (X, Y.astype(float)), set_to("_gamma", float("nan")), "_gamma", "a NaN gamma"),
    ("one_class_svm_unknown_kernel", lambda: OneClassSVM(), (X,), set_to("kernel", "gaussian"), "kernel", "an unknown kernel"),
    ("knn_fit_x_nan", lambda: KNeighborsClassifier(algorithm="brute"), (X, Y), nan_at("_fit_X", 5), "_fit_X", "a NaN fitted point"),
    ("knn_unknown_metric", lambda: KNeighborsClassifier(algorithm="brute"), (X, Y), set_to("effective_metric_", "wasserstein"), "effective_metric_", "a metric scikit-learn does not have"),
    ("knn_label_out_of_range", lambda: KNeighborsClassifier(), (X, Y), set_item("_y", 0, 7), "_y", "a fitted label beyond the classes"),
    ("knn_n_neighbors_huge", lambda: KNeighborsClassifier(), (X, Y), set_to("n_neighbors", 10**12), "n_neighbors", "more neighbours than fitted points"),
    ("knn_tree_of_another_kind", lambda: KNeighborsClassifier(algorithm="kd_tree"), (X, Y), tree_of_another_kind, "_tree", "a BallTree where _fit_method says kd_tree"),
    ("knn_fit_x_apart_from_tree", lambda: KNeighborsClassifier(algorithm="kd_tree"), (X, Y), fit_x_apart_from_tree, "_tree", "a tree over other points than _fit_X"),
    ("knn_regressor_y_wrong_shape", lambda: KNeighborsRegressor(), (X, Y.astype(float)), drop_row("_y"), "_y", "one target short"),
    ("knn_regressor_minkowski_p_negative", lambda: KNeighborsRegressor(algorithm="brute", p=3), (X, Y.astype(float)), set_to("effective_metric_params_", {"p": -1.0}), "effective_metric_", "a negative Minkowski p"),
    ("radius_classifier_radius_nan", lambda: RadiusNeighborsClassifier(radius=1.0, outlier_label=0), (X, Y), set_to("radius", float("nan")), "radius", "a NaN radius"),
    ("radius_classifier_outlier_label_unknown", lambda: RadiusNeighborsClassifier(radius=1.0, outlier_label=0), (X, Y), set_to("outlier_label_", [42]), "outlier_label_", "an outlier label beyond the classes"),
    ("radius_regressor_unknown_weights", lambda: RadiusNeighborsRegressor(radius=1.0), (X, Y.astype(float)), set_to("weights", "gaussian"), "weights", "unknown weights"),
    ("nearest_centroid_centroids_wrong_shape", lambda: NearestCentroid(), (X, Y), drop_row("centroids_"), "centroids_", "one centroid short"),
    ("nearest_centroid_unknown_metric", lambda: NearestCentroid(), (X, Y), set_to("metric", "mahalanobis2"), "metric", "an unknown metric"),
    ("lof_lrd_nan", lambda: LocalOutlierFactor(n_neighbors=5, novelty=True), (X,), nan_at("_lrd", 3), "_lrd", "a NaN density"),
    ("lof_distances_wrong_shape", lambda: LocalOutlierFactor(n_neighbors=5, novelty=True), (X,), drop_column("_distances_fit_X_"), "_distances_fit_X_", "k-distances one neighbour short"),
    ("lof_not_novelty", lambda: LocalOutlierFactor(n_neighbors=5), (X,), lambda m: None, "novelty", "fitted without novelty"),
    ("kneighbors_transformer_unknown_mode", lambda: KNeighborsTransformer(n_neighbors=3), (X,), set_to("mode", "weights"), "mode", "an unknown mode"),
    ("radius_transformer_fit_method_unknown", lambda: RadiusNeighborsTransformer(radius=0.5), (X,), set_to("_fit_method", "cover_tree"), "_fit_method", "an unknown search"),
    ("nca_components_nan", lambda: NeighborhoodComponentsAnalysis(n_components=2, random_state=0, max_iter=5), (X, Y), nan_at("components_"), "components_", "a NaN component"),
    ("label_propagation_distributions_wrong_shape", lambda: LabelPropagation(), (X, PARTIAL), drop_column("label_distributions_"), "label_distributions_", "one class short"),
    ("label_spreading_unknown_kernel", lambda: LabelSpreading(), (X, PARTIAL), set_to("kernel", "laplacian"), "kernel", "a kernel label propagation does not have"),
    ("label_spreading_knn_nn_fit_elsewhere", lambda: LabelSpreading(kernel="knn", n_neighbors=4), (X, PARTIAL), lambda m: setattr(m, "X_", m.X_ + 1.0), "nn_fit", "a NearestNeighbors over other points"),
    ("gaussian_nb_negative_variance", lambda: GaussianNB(), (X, Y), set_item("var_", 2, -1.0), "var_", "a negative variance"),
    ("multinomial_nb_log_prob_wrong_shape", lambda: MultinomialNB(), (X, Y), drop_column("feature_log_prob_"), "feature_log_prob_", "one feature short"),
    ("complement_nb_log_prior_nan", lambda: ComplementNB(), (X, Y), nan_at("class_log_prior_"), "class_log_prior_", "a NaN prior"),
    ("bernoulli_nb_log_prob_positive", lambda: BernoulliNB(), (X, Y), set_item("feature_log_prob_", 0, 0.5), "feature_log_prob_", "a log probability above 0"),
    ("categorical_nb_categories_huge", lambda: CategoricalNB(), (CODES, Y), set_item("n_categories_", 0, 10**15), "n_categories_", "a huge declared number of categories"),
    ("mlp_classifier_unknown_activation", lambda: MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0), (X, Y), set_to("activation", "swish"), "activation", "an activation scikit-learn does not have"),
    ("mlp_classifier_coef_wrong_shape", lambda: MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0), (X, Y), lambda m: m.coefs_.__setitem__(1, m.coefs_[1][:-1]), "coefs_", "layers whose shapes do not chain"),
    ("mlp_regressor_intercept_nan", lambda: MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0), (X, Y.astype(float)), lambda m: m.intercepts_[0].__setitem__(0, np.nan), "intercepts_", "a NaN bias"),
    ("bernoulli_rbm_intercept_wrong_shape", lambda: BernoulliRBM(n_components=3, n_iter=2, random_state=0), (X / 8.0,), drop_row("intercept_hidden_"), "intercept_hidden_", "one hidden bias short"),
    ("lda_scalings_wrong_shape", lambda: LinearDiscriminantAnalysis(), (X, Y), drop_row("scalings_"), "scalings_", "scalings one feature short"),
    ("lda_unknown_solver", lambda: LinearDiscriminantAnalysis(), (X, Y), set_to("solver", "qr"), "solver", "an unknown solver"),
    ("qda_means_nan", lambda: QuadraticDiscriminantAnalysis(), (X, Y), nan_at("means_"), "means_", "a NaN mean"),
]


def write_malformed(out, cases):
    """Fits, edits and writes each of `cases` in pickle protocols 2 and 5, with the
    manifest."""
    os.makedirs(out, exist_ok=True)
    manifest = []
    for stem, factory, args, edit, refused, why in cases:
        model = factory().fit(*args)
        edit(model)
        for protocol in (2, 5):
            name = "%s_p%d.pkl" % (stem, protocol)
            with open(os.path.join(out, name), "wb") as f:
                pickle.dump(model, f, protocol=protocol)
            manifest.append({"file": name, "refused": refused, "why": why})
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d malformed files in %s" % (len(manifest), out))


def main():
    write_malformed(sys.argv[1], CASES)


if __name__ == "__main__":
    main()

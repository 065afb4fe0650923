#!/usr/bin/env python3
"""Write the malformed estimator files of tests/fixtures/malformed_estimators/: each a real
model fitted by scikit-learn (the rest of the linear models, cross decomposition, outlier
detectors, clusters, mixtures, KernelRidge and Gaussian processes) with one attribute edited
(a wrong shape, a NaN, an index out of range, an unknown kernel, a huge declared size), and
manifest.json saying what the refusal must name: the attribute.

    target/sk1.9-venv/bin/python tests/python/estimators/make_malformed_estimators.py \
        tests/fixtures/malformed_estimators

Models are fitted on a few rows so that the files stay small: the fuzzer starts from them
too (tests/model/fuzz.rs). Nothing here unpickles what it writes.
"""

import json
import os
import pickle
import sys
import warnings

import numpy as np
from sklearn import cluster, covariance, cross_decomposition as cd, ensemble, linear_model as lm
from sklearn import gaussian_process as gp, kernel_ridge, mixture
from sklearn.datasets import load_diabetes, load_iris
from sklearn.gaussian_process import kernels as K

warnings.simplefilter("ignore")

iris_X, iris_y = load_iris(return_X_y=True)
IRIS = (iris_X[::5], iris_y[::5])  # 30 rows, 3 classes
diab_X, diab_y = load_diabetes(return_X_y=True)
DIAB = (diab_X[::10, :5], diab_y[::10])  # 45 rows, 5 features
TWO = (DIAB[0], np.column_stack([DIAB[1], DIAB[0][:, 0] * 100.0]))


def fit(model, data, supervised=True):
    X, y = data
    return model.fit(X, y) if supervised else model.fit(X)


class Reduced:
    """Pickles as `reduce` says: a class, its arguments and its (edited) state."""

    def __init__(self, reduce):
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce


def huge(array):
    """A stand-in for `array` that declares a million times its rows over its own bytes."""
    fn, args, state = np.asarray(array).__reduce__()
    version, shape, dtype, fortran, raw = state
    return Reduced((fn, args, (version, (shape[0] * 1_000_000,) + tuple(shape[1:]), dtype, fortran, raw)))


def shorter(a):
    a = np.asarray(a)
    return a[:-1]


def narrower(a):
    return np.asarray(a)[:, :-1]


def nan(a):
    a = np.array(a, dtype=float)
    a.flat[a.size // 2] = np.nan
    return a


def inf(a):
    a = np.array(a, dtype=float)
    a.flat[0] = np.inf
    return a


def const(value):
    return lambda _: value


def edit(model, path, change):
    """Sets the attribute at dotted `path` (`estimators_[0]` picks an item) to `change(old)`."""
    *parents, last = path.split(".")
    owner = model
    for part in parents:
        owner = step(owner, part)
    if "[" in last:
        name, index = last[:-1].split("[")
        getattr(owner, name)[int(index)] = change(getattr(owner, name)[int(index)])
    else:
        setattr(owner, last, change(getattr(owner, last)))
    return model


def step(owner, part):
    if "[" in part:
        name, index = part[:-1].split("[")
        return getattr(owner, name)[int(index)]
    return getattr(owner, part)


def cases():
    """(name, what the refusal names, why, factory, attribute path, change)."""
    pa = dict(max_iter=50, random_state=0)
    # Gaussian processes hold an n × n factor: a dozen training rows keep their files small.
    small_iris = (iris_X[::12], iris_y[::12])
    gpc_binary = lambda: fit(gp.GaussianProcessClassifier(K.RBF(1.0), random_state=0),  # noqa: E731
                             (small_iris[0], (small_iris[1] == 0).astype(int)))
    gpc_ovr = lambda: fit(gp.GaussianProcessClassifier(K.RBF(1.0), random_state=0), small_iris)  # noqa: E731
    gpr = lambda kernel: lambda: fit(gp.GaussianProcessRegressor(kernel, optimizer=None),  # noqa: E731
                                     (DIAB[0][::4], DIAB[1][::4]))
    return [
        ("quantile_coef_short", "coef_", "a coefficient short",
         lambda: fit(lm.QuantileRegressor(alpha=0.01, solver="highs"), DIAB), "coef_", shorter),
        ("bayesian_ridge_sigma_nan", "sigma_", "a NaN in the posterior covariance",
         lambda: fit(lm.BayesianRidge(), DIAB), "sigma_", nan),
        ("bayesian_ridge_sigma_narrow", "sigma_", "a posterior covariance of the wrong shape",
         lambda: fit(lm.BayesianRidge(), DIAB), "sigma_", narrower),
        ("ard_lambda_short", "lambda_", "one precision short",
         lambda: fit(lm.ARDRegression(), DIAB), "lambda_", shorter),
        ("ard_coef_nan", "coef_", "a NaN coefficient",
         lambda: fit(lm.ARDRegression(), DIAB), "coef_", nan),
        ("theil_sen_coef_short", "coef_", "a coefficient short",
         lambda: fit(lm.TheilSenRegressor(random_state=0, max_subpopulation=50), DIAB), "coef_", shorter),
        ("ransac_estimator_coef_short", "coef_", "its estimator_ a coefficient short",
         lambda: fit(lm.RANSACRegressor(random_state=0), DIAB), "estimator_.coef_", shorter),
        ("ransac_estimator_not_a_model", "estimator_", "its estimator_ a string",
         lambda: fit(lm.RANSACRegressor(random_state=0), DIAB), "estimator_", const("LinearRegression")),
        ("passive_aggressive_coef_short", "coef_", "coefficient rows disagreeing with the classes",
         lambda: fit(lm.PassiveAggressiveClassifier(**pa), IRIS), "coef_", shorter),
        ("passive_aggressive_regressor_intercept_nan", "intercept_", "a NaN intercept",
         lambda: fit(lm.PassiveAggressiveRegressor(**pa), DIAB), "intercept_", nan),
        ("logistic_cv_coef_inf", "coef_", "an infinite coefficient",
         lambda: fit(lm.LogisticRegressionCV(cv=3, max_iter=200), IRIS), "coef_", inf),
        ("lars_coef_short", "coef_", "a coefficient short",
         lambda: fit(lm.Lars(n_nonzero_coefs=3), DIAB), "coef_", shorter),
        ("lars_cv_intercept_nan", "intercept_", "a NaN intercept",
         lambda: fit(lm.LarsCV(cv=3), DIAB), "intercept_", nan),
        ("lasso_lars_coef_huge", "bytes but the file holds", "a coefficient array declaring a million times its bytes",
         lambda: fit(lm.LassoLars(alpha=0.05), DIAB), "coef_", huge),
        ("lasso_lars_coef_nan", "coef_", "a NaN coefficient",
         lambda: fit(lm.LassoLars(alpha=0.05), DIAB), "coef_", nan),
        ("lasso_lars_cv_coef_nan", "coef_", "a NaN coefficient",
         lambda: fit(lm.LassoLarsCV(cv=3), DIAB), "coef_", nan),
        ("lasso_lars_ic_coef_short", "coef_", "a coefficient short",
         lambda: fit(lm.LassoLarsIC(criterion="bic"), DIAB), "coef_", shorter),
        ("omp_coef_short", "coef_", "a coefficient short",
         lambda: fit(lm.OrthogonalMatchingPursuit(n_nonzero_coefs=2), DIAB), "coef_", shorter),
        ("omp_cv_intercept_inf", "intercept_", "an infinite intercept",
         lambda: fit(lm.OrthogonalMatchingPursuitCV(cv=3), DIAB), "intercept_", inf),
        ("sgd_one_class_svm_offset_nan", "offset_", "a NaN offset",
         lambda: fit(lm.SGDOneClassSVM(random_state=0), IRIS, False), "offset_", nan),
        ("multi_task_lasso_coef_narrow", "coef_", "coefficients for fewer features",
         lambda: fit(lm.MultiTaskLasso(alpha=0.1), TWO), "coef_", narrower),
        ("multi_task_elastic_net_intercept_long", "intercept_", "an intercept for three targets of two",
         lambda: fit(lm.MultiTaskElasticNet(alpha=0.1), TWO), "intercept_", lambda a: np.append(a, 0.0)),
        ("multi_task_lasso_cv_coef_nan", "coef_", "a NaN coefficient",
         lambda: fit(lm.MultiTaskLassoCV(cv=3), TWO), "coef_", nan),
        ("multi_task_elastic_net_cv_coef_short", "coef_", "a target's coefficients missing",
         lambda: fit(lm.MultiTaskElasticNetCV(cv=3), TWO), "coef_", shorter),
        ("pls_regression_rotations_short", "x_rotations_", "rotations for fewer features",
         lambda: fit(cd.PLSRegression(n_components=2), DIAB), "x_rotations_", shorter),
        ("pls_canonical_mean_nan", "_x_mean", "a NaN mean",
         lambda: fit(cd.PLSCanonical(n_components=2), TWO), "_x_mean", nan),
        ("cca_rotations_narrow", "x_rotations_", "rotations of fewer components",
         lambda: fit(cd.CCA(n_components=2), TWO), "x_rotations_", lambda a: a[:, :1].T),
        ("pls_svd_weights_short", "x_weights_", "weights for fewer features",
         lambda: fit(cd.PLSSVD(n_components=2), TWO), "x_weights_", shorter),
        ("isolation_forest_features_out_of_range", "estimators_features_", "a tree's feature subset naming feature 40",
         lambda: fit(ensemble.IsolationForest(n_estimators=3, max_features=2, random_state=0), IRIS, False),
         "estimators_features_[1]", lambda a: np.array([0, 40])),
        ("isolation_forest_offset_nan", "offset_", "a NaN offset",
         lambda: fit(ensemble.IsolationForest(n_estimators=3, random_state=0), IRIS, False), "offset_", nan),
        ("elliptic_envelope_precision_narrow", "precision_", "a precision matrix of the wrong shape",
         lambda: fit(covariance.EllipticEnvelope(random_state=0), IRIS, False), "precision_", narrower),
        ("elliptic_envelope_location_nan", "location_", "a NaN location",
         lambda: fit(covariance.EllipticEnvelope(random_state=0), IRIS, False), "location_", nan),
        ("kmeans_centers_narrow", "cluster_centers_", "centers of fewer features",
         lambda: fit(cluster.KMeans(n_clusters=3, n_init=1, random_state=0), IRIS, False), "cluster_centers_", narrower),
        ("kmeans_centers_nan", "cluster_centers_", "a NaN center",
         lambda: fit(cluster.KMeans(n_clusters=3, n_init=1, random_state=0), IRIS, False), "cluster_centers_", nan),
        ("minibatch_kmeans_centers_huge", "bytes but the file holds", "centers declaring a million times their bytes",
         lambda: fit(cluster.MiniBatchKMeans(n_clusters=3, n_init=1, random_state=0), IRIS, False), "cluster_centers_", huge),
        ("minibatch_kmeans_centers_inf", "cluster_centers_", "an infinite center",
         lambda: fit(cluster.MiniBatchKMeans(n_clusters=3, n_init=1, random_state=0), IRIS, False),
         "cluster_centers_", inf),
        ("bisecting_kmeans_label_out_of_range", "label", "a leaf labelled beyond the clusters",
         lambda: fit(cluster.BisectingKMeans(n_clusters=3, random_state=0), IRIS, False),
         "_bisecting_tree.left.label", const(9)),
        ("birch_centroids_narrow", "subcluster_centers_", "subcluster centers of fewer features",
         lambda: fit(cluster.Birch(n_clusters=3), IRIS, False), "subcluster_centers_", narrower),
        ("birch_labels_short", "subcluster_labels_", "a subcluster without a label",
         lambda: fit(cluster.Birch(n_clusters=3), IRIS, False), "subcluster_labels_", shorter),
        ("affinity_propagation_centers_nan", "cluster_centers_", "a NaN exemplar",
         lambda: fit(cluster.AffinityPropagation(random_state=0), IRIS, False), "cluster_centers_", nan),
        ("mean_shift_centers_narrow", "cluster_centers_", "centers of fewer features",
         lambda: fit(cluster.MeanShift(bandwidth=1.0), IRIS, False), "cluster_centers_", narrower),
        ("gaussian_mixture_weights_short", "weights_", "a component without a weight",
         lambda: fit(mixture.GaussianMixture(2, random_state=0), IRIS, False), "weights_", shorter),
        ("gaussian_mixture_precisions_nan", "precisions_cholesky_", "a NaN in a precision factor",
         lambda: fit(mixture.GaussianMixture(2, random_state=0), IRIS, False), "precisions_cholesky_", nan),
        ("bayesian_mixture_means_narrow", "means_", "means of fewer features",
         lambda: fit(mixture.BayesianGaussianMixture(n_components=2, random_state=0), IRIS, False), "means_", narrower),
        ("kernel_ridge_dual_coef_short", "dual_coef_", "a dual coefficient short of the training rows",
         lambda: fit(kernel_ridge.KernelRidge(kernel="rbf"), DIAB), "dual_coef_", shorter),
        ("kernel_ridge_unknown_kernel", "kernel", "a kernel of an unknown name",
         lambda: fit(kernel_ridge.KernelRidge(kernel="rbf"), DIAB), "kernel", const("os.system")),
        ("kernel_ridge_gp_length_scale_negative", "length_scale", "a Gaussian process kernel of negative length scale",
         lambda: fit(kernel_ridge.KernelRidge(kernel=K.RBF(2.0)), DIAB), "kernel.length_scale", const(-2.0)),
        ("gpr_alpha_short", "alpha_", "a weight short of the training rows",
         gpr(K.RBF(1.0)), "alpha_", shorter),
        ("gpr_cholesky_narrow", "L_", "a Cholesky factor of the wrong shape",
         gpr(K.RBF(1.0)), "L_", narrower),
        ("gpr_x_train_huge", "bytes but the file holds", "training rows declaring a million times their bytes",
         gpr(K.RBF(1.0)), "X_train_", huge),
        ("gpr_length_scales_too_many", "length_scale", "an RBF with more length scales than features",
         gpr(K.RBF(1.0)), "kernel_.length_scale", const(np.ones(9))),
        ("gpr_matern_nu_nan", "nu", "a Matern kernel with nu NaN",
         gpr(K.Matern(nu=1.5)), "kernel_.nu", const(float("nan"))),
        ("gpr_white_noise_nan", "noise_level", "a NaN noise level",
         gpr(K.RBF(1.0) + K.WhiteKernel(0.1)), "kernel_.k2.noise_level", const(float("nan"))),
        ("gpr_sum_of_a_string", "k1", "a Sum whose first kernel is a string",
         gpr(K.RBF(1.0) + K.WhiteKernel(0.1)), "kernel_.k1", const("RBF")),
        ("gpr_pairwise_unknown_metric", "metric", "a PairwiseKernel of an unknown metric",
         gpr(K.PairwiseKernel(metric="rbf")), "kernel_.metric", const("subprocess")),
        ("gpr_rational_quadratic_alpha_zero", "alpha", "a RationalQuadratic of alpha 0",
         gpr(K.RationalQuadratic()), "kernel_.alpha", const(0.0)),
        ("gpr_mean_short", "_y_train_mean", "a mean for two targets of one",
         gpr(K.RBF(1.0)), "_y_train_mean", const(np.zeros(2))),
        ("gpc_cholesky_zero_diagonal", "L_", "a Cholesky factor with a zero on its diagonal",
         gpc_binary, "base_estimator_.L_", lambda a: a - np.diag(np.diag(a))),
        ("gpc_w_sr_short", "W_sr_", "a weight short of the training rows",
         gpc_binary, "base_estimator_.W_sr_", shorter),
        ("gpc_one_vs_rest_estimator_missing", "estimators_", "a class without its binary model",
         gpc_ovr, "base_estimator_.estimators_", lambda a: a[:-1]),
        ("gpc_one_vs_rest_pi_nan", "pi_", "a NaN in a binary model's probabilities",
         gpc_ovr, "base_estimator_.estimators_[1].pi_", nan),
        ("gpc_classes_single", "classes_", "one class",
         gpc_binary, "classes_", lambda a: a[:1]),
    ]


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    manifest = []
    for name, refused, why, factory, path, change in cases():
        model = edit(factory(), path, change)
        for protocol in (2, 5):
            file = "%s_p%d.pkl" % (name, protocol)
            with open(os.path.join(outdir, file), "wb") as f:
                pickle.dump(model, f, protocol=protocol)
            manifest.append({"file": file, "refused": refused, "why": why})
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d malformed estimator files in %s" % (len(manifest), outdir))


if __name__ == "__main__":
    main()

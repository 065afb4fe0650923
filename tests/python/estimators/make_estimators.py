#!/usr/bin/env python3
"""Fit the estimator matrix with the installed scikit-learn and write each model, in every
container skserve reads, next to scikit-learn's answers to every output it offers.

    python make_estimators.py OUTDIR

The families: the rest of the linear models, cross decomposition, outlier detectors
(IsolationForest, EllipticEnvelope, SGDOneClassSVM), clusters, mixtures, KernelRidge and
Gaussian processes, each alone and some as a Pipeline's last step, fitted on small data sets
scikit-learn ships (iris, wine, diabetes, breast cancer). It must run unchanged under
scikit-learn 1.1, 1.3 and 1.9 (numpy 1 and 2); a model a version cannot fit is left out of
that version's matrix.

Layout:

    OUTDIR/manifest.json             versions and one case per file
    OUTDIR/models/<id>__<format>.pkl|.joblib
    OUTDIR/inputs/<id>.json          the rows scored, floats as Python's repr writes them
    OUTDIR/expected/<id>.json        the chain, the classes, and each output's answer
"""

import json
import os
import platform
import sys
import warnings

import numpy as np
import sklearn
from sklearn import cluster, covariance, cross_decomposition as cd, dummy, ensemble, linear_model as lm
from sklearn import gaussian_process as gp, kernel_ridge, mixture
from sklearn.gaussian_process import kernels as K
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
from make_pipelines import FORMATS, VERSION, chain, serialise  # noqa: E402

warnings.simplefilter("ignore")

# The outputs compared, as skserve names them; `predict_std` is `predict(X, return_std=True)[1]`.
METHODS = ["predict", "predict_proba", "decision_function", "score_samples", "transform"]


def data():
    """(X_train, X_scored, y) per data set (`split`)."""
    out = {}
    for name, loader in (("iris", load_iris), ("wine", load_wine), ("diabetes", load_diabetes),
                         ("cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        out[name] = split(X, y)
    # A periodic signal of one feature, for the periodic kernel.
    x = np.linspace(0.0, 12.0, 120)[:, np.newaxis]
    out["sine"] = split(x, np.sin(x[:, 0]) + 0.1 * np.cos(7.0 * x[:, 0]))
    return out


def split(X, y):
    """Every third row held out to be scored, with twenty of them pushed off the data
    (scaled by 1.5), so that scores reach the tails."""
    held = np.arange(len(X)) % 3 == 0
    scored = np.vstack([X[held], X[held][:20] * 1.5])
    return X[~held], scored, y[~held]


def two_targets(X, y):
    return np.column_stack([y, X[:, 0] * 100.0 + y * 0.5])


def models():
    """(id, data set, target kind, factory). Target kinds: `y` as it is, `binary` (class 0
    against the rest), `two` (two regression targets), `none` (unsupervised)."""
    pa = dict(max_iter=200, random_state=0)
    out = [
        ("quantile_regressor", "diabetes", "y", lambda: lm.QuantileRegressor(alpha=0.01, solver="highs")),
        ("bayesian_ridge", "diabetes", "y", lambda: lm.BayesianRidge()),
        ("ard_regression", "diabetes", "y", lambda: lm.ARDRegression()),
        ("ard_regression_pruned", "diabetes", "y", lambda: lm.ARDRegression(threshold_lambda=50.0)),
        ("theil_sen", "diabetes", "y", lambda: lm.TheilSenRegressor(random_state=0, max_subpopulation=300)),
        ("ransac_linear", "diabetes", "y", lambda: lm.RANSACRegressor(random_state=0)),
        ("ransac_scaled_ridge", "diabetes", "y", lambda: lm.RANSACRegressor(
            make_pipeline(StandardScaler(), lm.Ridge()), random_state=0, min_samples=50)),
        ("passive_aggressive_binary", "cancer", "y", lambda: make_pipeline(StandardScaler(), lm.PassiveAggressiveClassifier(**pa))),
        ("passive_aggressive_multi", "wine", "y", lambda: make_pipeline(StandardScaler(), lm.PassiveAggressiveClassifier(**pa))),
        ("passive_aggressive_regressor", "diabetes", "y", lambda: lm.PassiveAggressiveRegressor(**pa)),
        ("logistic_cv_binary", "cancer", "y", lambda: make_pipeline(StandardScaler(), lm.LogisticRegressionCV(cv=3, max_iter=1000))),
        ("logistic_cv_multi", "iris", "y", lambda: lm.LogisticRegressionCV(cv=3, max_iter=1000)),
        ("lars", "diabetes", "y", lambda: lm.Lars(n_nonzero_coefs=6)),
        ("lars_cv", "diabetes", "y", lambda: lm.LarsCV(cv=3)),
        ("lasso_lars", "diabetes", "y", lambda: lm.LassoLars(alpha=0.05)),
        ("lasso_lars_cv", "diabetes", "y", lambda: lm.LassoLarsCV(cv=3)),
        ("lasso_lars_ic", "diabetes", "y", lambda: lm.LassoLarsIC(criterion="bic")),
        ("omp", "diabetes", "y", lambda: lm.OrthogonalMatchingPursuit(n_nonzero_coefs=4)),
        ("omp_cv", "diabetes", "y", lambda: lm.OrthogonalMatchingPursuitCV(cv=3)),
        ("omp_two_targets", "diabetes", "two", lambda: lm.OrthogonalMatchingPursuit(n_nonzero_coefs=3)),
        ("lars_two_targets", "diabetes", "two", lambda: lm.Lars(n_nonzero_coefs=5)),
        ("sgd_one_class_svm", "iris", "none", lambda: lm.SGDOneClassSVM(nu=0.2, random_state=0)),
        ("multi_task_lasso", "diabetes", "two", lambda: lm.MultiTaskLasso(alpha=0.1)),
        ("multi_task_elastic_net", "diabetes", "two", lambda: lm.MultiTaskElasticNet(alpha=0.1)),
        ("multi_task_lasso_cv", "diabetes", "two", lambda: lm.MultiTaskLassoCV(cv=3)),
        ("multi_task_elastic_net_cv", "diabetes", "two", lambda: lm.MultiTaskElasticNetCV(cv=3)),
        ("pls_regression", "diabetes", "y", lambda: cd.PLSRegression(n_components=3)),
        ("pls_regression_two", "diabetes", "two", lambda: cd.PLSRegression(n_components=2, scale=False)),
        ("pls_canonical", "diabetes", "two", lambda: cd.PLSCanonical(n_components=2)),
        ("cca", "diabetes", "two", lambda: cd.CCA(n_components=2)),
        ("pls_svd", "diabetes", "two", lambda: cd.PLSSVD(n_components=2)),
        ("kmeans", "iris", "none", lambda: cluster.KMeans(n_clusters=3, n_init=3, random_state=0)),
        ("kmeans_scaled_wine", "wine", "none", lambda: make_pipeline(StandardScaler(), cluster.KMeans(n_clusters=4, n_init=3, random_state=0))),
        ("minibatch_kmeans", "wine", "none", lambda: cluster.MiniBatchKMeans(n_clusters=3, n_init=3, random_state=0)),
        ("birch", "iris", "none", lambda: cluster.Birch(n_clusters=3)),
        ("birch_subclusters", "iris", "none", lambda: cluster.Birch(n_clusters=None, threshold=0.8)),
        ("affinity_propagation", "iris", "none", lambda: cluster.AffinityPropagation(random_state=0)),
        ("mean_shift", "iris", "none", lambda: cluster.MeanShift(bandwidth=1.0)),
        ("elliptic_envelope", "iris", "none", lambda: covariance.EllipticEnvelope(random_state=0)),
        ("elliptic_envelope_scaled", "wine", "none", lambda: make_pipeline(
            StandardScaler(), covariance.EllipticEnvelope(contamination=0.2, random_state=0))),
        ("isolation_forest", "wine", "none", lambda: ensemble.IsolationForest(n_estimators=30, random_state=0)),
        ("isolation_forest_subsampled", "cancer", "none", lambda: ensemble.IsolationForest(
            n_estimators=25, max_samples=64, max_features=0.5, contamination=0.1, random_state=0)),
        ("isolation_forest_bootstrap", "iris", "none", lambda: ensemble.IsolationForest(
            n_estimators=20, max_features=2, bootstrap=True, random_state=1)),
    ]
    scaled = lambda model: make_pipeline(StandardScaler(), model)  # noqa: E731
    out += [
        ("kernel_ridge_rbf", "diabetes", "y", lambda: kernel_ridge.KernelRidge(kernel="rbf", gamma=5.0, alpha=0.1)),
        ("kernel_ridge_poly", "diabetes", "two", lambda: scaled(kernel_ridge.KernelRidge(kernel="poly", degree=2, coef0=0.5))),
        ("kernel_ridge_laplacian", "iris", "y", lambda: kernel_ridge.KernelRidge(kernel="laplacian")),
        ("kernel_ridge_linear", "diabetes", "y", lambda: kernel_ridge.KernelRidge(kernel="linear", alpha=0.01)),
        ("kernel_ridge_gp_kernel", "iris", "y", lambda: kernel_ridge.KernelRidge(kernel=K.RBF(2.0) * K.ConstantKernel(3.0))),
        ("gpr_matern_white", "diabetes", "y", lambda: scaled(gp.GaussianProcessRegressor(
            K.ConstantKernel() * K.Matern(nu=2.5) + K.WhiteKernel(), normalize_y=True, random_state=0))),
        ("gpr_rbf_anisotropic", "iris", "y", lambda: gp.GaussianProcessRegressor(
            K.RBF(length_scale=[1.0, 1.0, 1.0, 1.0]) + K.WhiteKernel(0.1), random_state=0)),
        ("gpr_matern_half", "iris", "y", lambda: gp.GaussianProcessRegressor(K.Matern(nu=0.5), alpha=0.1)),
        ("gpr_matern_three_halves_two_targets", "diabetes", "two", lambda: scaled(gp.GaussianProcessRegressor(
            K.Matern(nu=1.5), normalize_y=True, alpha=0.1, optimizer=None))),
        ("gpr_matern_infinite", "iris", "y", lambda: gp.GaussianProcessRegressor(K.Matern(nu=float("inf")), alpha=0.1, optimizer=None)),
        ("gpr_rational_quadratic", "iris", "y", lambda: gp.GaussianProcessRegressor(K.RationalQuadratic() + K.WhiteKernel(), random_state=0)),
        ("gpr_exp_sine_squared", "sine", "y", lambda: gp.GaussianProcessRegressor(
            K.ExpSineSquared(length_scale=2.0, periodicity=3.0) + K.WhiteKernel(0.5), alpha=1.0, optimizer=None)),
        ("gpr_dot_product_squared", "diabetes", "y", lambda: gp.GaussianProcessRegressor(
            K.Exponentiation(K.DotProduct(sigma_0=0.5), 2) + K.WhiteKernel(), normalize_y=True, optimizer=None)),
        ("gpr_pairwise_laplacian", "iris", "y", lambda: gp.GaussianProcessRegressor(
            K.PairwiseKernel(gamma=0.5, metric="laplacian"), alpha=0.1, optimizer=None)),
        ("gpc_binary", "cancer", "y", lambda: scaled(gp.GaussianProcessClassifier(1.0 * K.RBF(3.0), random_state=0))),
        ("gpc_one_vs_rest", "iris", "y", lambda: gp.GaussianProcessClassifier(K.RBF(1.0) + K.DotProduct(), random_state=0)),
        ("gpc_one_vs_one", "wine", "y", lambda: scaled(gp.GaussianProcessClassifier(
            K.Matern(nu=1.5), multi_class="one_vs_one", random_state=0))),
    ]
    for kind in ("full", "tied", "diag", "spherical"):
        out.append(("gaussian_mixture_" + kind, "iris", "none",
                    lambda kind=kind: mixture.GaussianMixture(3, covariance_type=kind, random_state=0)))
    for prior in ("dirichlet_process", "dirichlet_distribution"):
        for kind in ("full", "diag"):
            out.append(("bayesian_mixture_%s_%s" % (prior, kind), "wine", "none",
                        lambda prior=prior, kind=kind: make_pipeline(StandardScaler(), mixture.BayesianGaussianMixture(
                            n_components=4, covariance_type=kind, weight_concentration_prior_type=prior,
                            max_iter=200, random_state=0))))
    if VERSION >= (1, 1):
        out.append(("bisecting_kmeans", "wine", "none", lambda: make_pipeline(
            StandardScaler(), cluster.BisectingKMeans(n_clusters=5, random_state=0))))
        out.append(("bisecting_kmeans_largest", "iris", "none", lambda: cluster.BisectingKMeans(
            n_clusters=4, bisecting_strategy="largest_cluster", random_state=0)))
    # A dummy's `predict_std` (`return_std=True`): 0 for every row. Before 1.4 a dummy records
    # no n_features_in_, and alone it is refused for want of a width.
    for strategy in ("mean", "median", "quantile") if VERSION >= (1, 4) else ():
        out.append(("dummy_regressor_" + strategy, "diabetes", "y",
                    lambda strategy=strategy: dummy.DummyRegressor(strategy=strategy, quantile=0.3)))
    if VERSION < (1, 2):
        out.append(("bayesian_ridge_normalize", "diabetes", "y", lambda: lm.BayesianRidge(normalize=True)))
    return out


def answers(model, X):
    """Every output scikit-learn gives for X, by skserve's names."""
    out = {}
    for method in METHODS:
        if not hasattr(model, method):
            continue
        try:
            result = getattr(model, method)(X)
        except (AttributeError, NotImplementedError):
            continue
        except ValueError as e:
            # GaussianProcessClassifier one-vs-one has predict_proba, which always refuses.
            if "does not support predicting probability" not in str(e):
                raise
            continue
        out[method] = np.asarray(result).tolist()
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    try:
        if "return_std" in final.predict.__code__.co_varnames:
            out["predict_std"] = np.asarray(model.predict(X, return_std=True)[1]).tolist()
    except AttributeError:
        pass
    return out


def main():
    outdir = sys.argv[1]
    for sub in ("models", "inputs", "expected"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    sets = data()
    cases = []
    for model_id, dataset, target, factory in models():
        X, scored, y = sets[dataset]
        model = factory()
        if target == "none":
            model.fit(X)
        elif target == "two":
            model.fit(X, two_targets(X, y))
        else:
            model.fit(X, y)
        with open(os.path.join(outdir, "inputs", model_id + ".json"), "w") as f:
            json.dump(scored.tolist(), f)
        final = model.steps[-1][1] if hasattr(model, "steps") else model
        classes = getattr(final, "classes_", None)
        expected = {
            "chain": ">".join(chain(model)),
            "classes": None if classes is None else np.asarray(classes).tolist(),
            "outputs": answers(model, scored),
        }
        with open(os.path.join(outdir, "expected", model_id + ".json"), "w") as f:
            json.dump(expected, f, allow_nan=False)
        for fmt, (_, protocol, ext) in FORMATS.items():
            rel = "models/%s__%s.%s" % (model_id, fmt, ext)
            serialise(model, fmt, os.path.join(outdir, rel))
            cases.append({"file": rel, "model_id": model_id, "format": fmt, "protocol": protocol,
                          "estimator": type(model).__name__, "input": "inputs/%s.json" % model_id,
                          "expected": "expected/%s.json" % model_id})
    manifest = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "cases": cases,
    }
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d estimators, %d files in %s (scikit-learn %s, numpy %s)" % (
        len(cases) // len(FORMATS), len(cases), outdir, sklearn.__version__, np.__version__))


if __name__ == "__main__":
    main()

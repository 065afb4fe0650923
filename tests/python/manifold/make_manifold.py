#!/usr/bin/env python3
"""Fit the matrix of KNNImputer, IterativeImputer, KernelDensity, FeatureAgglomeration,
Isomap and LocallyLinearEmbedding with the installed
scikit-learn, alone and as Pipeline steps, on the small real data sets it ships (with missing
values for the imputers), and write each model next to scikit-learn's answers of every method
it has, in the layout of tests/python/families/make_families.py (which it borrows from).

    python make_manifold.py OUTDIR

Each model is saved in two containers (pickle protocols 2 to 5 in turn, and joblib plain or
zlib-compressed in turn). It runs unchanged under scikit-learn 1.1, 1.3 and 1.9 (numpy 1 and
2); a variant a version cannot fit is left out of that version's matrix.
"""

import copy
import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import FeatureAgglomeration
from sklearn.datasets import load_diabetes, load_iris, load_wine
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer
from sklearn.linear_model import BayesianRidge, LinearRegression, LogisticRegression, Ridge
from sklearn.manifold import Isomap, LocallyLinearEmbedding
from sklearn.neighbors import KernelDensity, KNeighborsRegressor
from sklearn.tree import DecisionTreeRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "families"))
sys.path.insert(0, os.path.join(here, "..", "pipelines"))
from make_families import split, write_families  # noqa: E402
from make_pipelines import VERSION  # noqa: E402

warnings.simplefilter("ignore")


def holed(X, seed, fraction):
    """X with about `fraction` of its values missing, a row missing everything but one
    feature, and (for scored rows) a row missing everything."""
    r = np.random.RandomState(seed)
    # Measurements rounded to a tenth tie at every distance: a little noise makes the k
    # nearest donors a matter of the data rather than of how ties are broken.
    X = X + r.normal(scale=0.05, size=X.shape)
    X[r.uniform(size=X.shape) < fraction] = np.nan
    X[1, 1:] = np.nan
    return X


def datasets():
    """name -> (X_train, y_train, X_scored, feature names)."""
    out = {}
    for name, loader in (("iris", load_iris), ("wine", load_wine), ("diabetes", load_diabetes)):
        bunch = loader()
        X, y = bunch.data.astype(np.float64), bunch.target
        train_X, train_y, scored = split(X, y)
        names = [str(n).replace(" ", "_").replace("(", "").replace(")", "") for n in bunch.feature_names]
        out[name] = (train_X, train_y, scored, names)
    X, y, scored, names = out["iris"]
    holes = holed(scored, 2, 0.2)
    holes[3, :] = np.nan
    out["iris_holes"] = (holed(X, 1, 0.15), y, holes, names)
    X, y, scored, names = out["wine"]
    out["wine_holes"] = (holed(X, 3, 0.1), y, holed(scored, 4, 0.1), names)
    # A feature never seen in training (all missing), present in some scored rows.
    X, y, scored, names = out["iris_holes"]
    empty, scored_empty = X.copy(), scored.copy()
    empty[:, 2] = np.nan
    scored_empty[::2, 2] = 1.5
    out["iris_empty_feature"] = (empty, y, scored_empty, names)
    # Holes in three of wine's features only: the others are complete (skip_complete).
    X, y, scored, names = out["wine"]
    some, scored_some = X.copy(), scored.copy()
    r = np.random.RandomState(5)
    for j in (0, 3, 9):
        some[r.uniform(size=len(some)) < 0.2, j] = np.nan
        scored_some[r.uniform(size=len(scored_some)) < 0.3, j] = np.nan
    scored_some[2, [0, 3, 9]] = np.nan
    out["wine_some_holes"] = (some, y, scored_some, names)
    # Fitted on complete rows, asked to impute.
    X, y, scored, names = out["iris"]
    out["iris_complete_fit"] = (X, y, out["iris_holes"][2], names)
    # A batch in which every value is missing (scikit-learn answers its initial imputation).
    X, y, scored, names = out["iris_holes"]
    out["iris_all_missing"] = (X, y, np.full((3, X.shape[1]), np.nan), names)
    # Latitude and longitude in radians (haversine).
    rng = np.random.RandomState(0)
    geo = np.column_stack([rng.uniform(-1.2, 1.2, 240), rng.uniform(-3.0, 3.0, 240)])
    out["geo"] = (geo[60:], np.zeros(180, dtype=int), geo[:60], ["lat", "lon"])
    # One feature (the kernels' norms in one dimension).
    X, y, scored, names = out["iris"]
    out["iris_one"] = (X[:, :1], y, scored[:, :1], names[:1])
    # Iris scaled, with rows far away (a compact kernel finds nothing there: -inf).
    X, y, scored, names = out["iris"]
    far = np.vstack([scored, scored[:3] + 50.0])
    out["iris_far"] = (X, y, far, names)
    # Iris with a little noise: measurements rounded to a tenth tie at every distance.
    X, y, scored, names = out["iris"]
    r = np.random.RandomState(5)
    out["iris_noisy"] = (X + r.normal(scale=0.05, size=X.shape), y,
                         scored + r.normal(scale=0.05, size=scored.shape), names)
    # Wine standardised by the training rows' statistics.
    X, y, scored, names = out["wine"]
    mean, std = X.mean(axis=0), X.std(axis=0)
    out["wine_scaled"] = ((X - mean) / std, y, (scored - mean) / std, names)
    return out


def weights(n):
    return 1.0 + (np.arange(n) % 7) / 3.0


def knn_imputer_models():
    yield "knn_imputer_uniform", "iris_holes", lambda: KNNImputer(), {}
    yield "knn_imputer_distance", "iris_holes", lambda: KNNImputer(n_neighbors=3, weights="distance"), {}
    yield "knn_imputer_one_neighbour", "wine_holes", lambda: KNNImputer(n_neighbors=1), {}
    yield "knn_imputer_indicator", "wine_holes", lambda: KNNImputer(n_neighbors=4, add_indicator=True), {}
    yield "knn_imputer_more_neighbours_than_rows", "iris_holes", lambda: KNNImputer(n_neighbors=500, weights="distance"), {}
    yield "knn_imputer_empty_feature_dropped", "iris_empty_feature", lambda: KNNImputer(n_neighbors=3), {}
    if VERSION >= (1, 2):
        yield "knn_imputer_empty_feature_kept", "iris_empty_feature", lambda: KNNImputer(keep_empty_features=True, add_indicator=True), {}
    yield "knn_imputer_scaled_logistic", "iris_holes", lambda: make_pipeline(KNNImputer(n_neighbors=4), StandardScaler(), LogisticRegression(max_iter=2000)), {}
    yield "knn_imputer_ridge", "wine_holes", lambda: make_pipeline(KNNImputer(weights="distance"), Ridge()), {}


def iterative_imputer_models():
    def imputer(**kw):
        return lambda: IterativeImputer(random_state=0, **kw)
    yield "iterative_default", "iris_holes", imputer(), {}
    for max_iter in (1, 3, 10):
        yield "iterative_bayesian_ridge_%d" % max_iter, "wine_holes", imputer(max_iter=max_iter, tol=0.0), {}
    estimators = (("ridge", lambda: Ridge(alpha=2.0)), ("linear", LinearRegression),
                  ("bayesian_ridge", BayesianRidge),
                  ("knn", lambda: KNeighborsRegressor(n_neighbors=4, weights="distance")),
                  ("tree", lambda: DecisionTreeRegressor(max_depth=4, random_state=0)),
                  ("forest", lambda: RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0)),
                  ("extra_trees", lambda: ExtraTreesRegressor(n_estimators=5, max_depth=4, random_state=0)),
                  ("scaled_knn", lambda: make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=3))))
    for name, estimator in estimators:
        yield "iterative_%s" % name, "iris_holes", lambda e=estimator: IterativeImputer(
            estimator=e(), max_iter=3, random_state=0), {}
    yield "iterative_bounded", "iris_holes", imputer(min_value=0.5, max_value=6.0, max_iter=5), {}
    yield "iterative_bounded_per_feature", "iris_holes", imputer(
        min_value=[4.5, 2.5, 1.0, 0.2], max_value=[7.0, 4.0, 6.0, 2.0], max_iter=4), {}
    yield "iterative_skip_complete", "wine_some_holes", imputer(skip_complete=True, max_iter=4), {}
    yield "iterative_not_skip_complete", "wine_some_holes", imputer(max_iter=2), {}
    yield "iterative_complete_skipped", "iris_complete_fit", imputer(skip_complete=True, max_iter=3), {}
    yield "iterative_complete_not_skipped", "iris_complete_fit", imputer(max_iter=2), {}
    yield "iterative_indicator", "wine_some_holes", imputer(add_indicator=True, max_iter=3), {}
    for order in ("ascending", "descending", "roman", "arabic", "random"):
        yield "iterative_order_%s" % order, "wine_holes", imputer(imputation_order=order, max_iter=3), {}
    yield "iterative_nearest_features", "wine_holes", imputer(n_nearest_features=4, max_iter=3), {}
    for strategy in ("median", "most_frequent", "constant"):
        yield "iterative_initial_%s" % strategy, "iris_holes", imputer(initial_strategy=strategy, max_iter=3), {}
    yield "iterative_no_round", "iris_holes", imputer(max_iter=0), {}
    yield "iterative_all_missing_batch", "iris_all_missing", imputer(max_iter=3, add_indicator=True), {}
    yield "iterative_empty_feature_dropped", "iris_empty_feature", imputer(max_iter=3), {}
    if VERSION >= (1, 2):
        yield "iterative_empty_feature_kept", "iris_empty_feature", imputer(
            keep_empty_features=True, add_indicator=True, max_iter=3), {}
    yield "iterative_logistic", "iris_holes", lambda: make_pipeline(
        IterativeImputer(max_iter=5, random_state=0), StandardScaler(), LogisticRegression(max_iter=2000)), {}
    yield "iterative_forest_ridge", "wine_holes", lambda: make_pipeline(
        IterativeImputer(estimator=RandomForestRegressor(n_estimators=4, max_depth=3, random_state=0),
                         max_iter=2, random_state=0), Ridge()), {}


def kde_models():
    for kernel in ("gaussian", "tophat", "epanechnikov", "exponential", "linear", "cosine"):
        for algorithm in ("kd_tree", "ball_tree"):
            yield "kde_%s_%s" % (kernel, algorithm), "iris_far", lambda k=kernel, a=algorithm: KernelDensity(
                kernel=k, algorithm=a, bandwidth=0.8, leaf_size=5), {}
    for metric, algorithm, kw in (("manhattan", "kd_tree", {}), ("chebyshev", "ball_tree", {}),
                                  ("minkowski", "kd_tree", {"metric_params": {"p": 3}}),
                                  ("canberra", "ball_tree", {}), ("braycurtis", "ball_tree", {})):
        yield "kde_%s_%s" % (metric, algorithm), "iris", lambda m=metric, a=algorithm, k=kw: KernelDensity(
            metric=m, algorithm=a, bandwidth=0.5, kernel="epanechnikov", **k), {}
    for kernel in ("exponential", "cosine", "linear"):
        yield "kde_%s_one_feature" % kernel, "iris_one", lambda k=kernel: KernelDensity(kernel=k, bandwidth=0.3), {}
    yield "kde_haversine", "geo", lambda: KernelDensity(metric="haversine", algorithm="ball_tree", bandwidth=0.3), {}
    yield "kde_weighted", "wine", lambda: KernelDensity(bandwidth=40.0), {"sample_weight": True}
    yield "kde_weighted_tophat", "iris", lambda: KernelDensity(bandwidth=1.0, kernel="tophat", algorithm="ball_tree"), {"sample_weight": True}
    yield "kde_auto_diabetes", "diabetes", lambda: KernelDensity(bandwidth=0.05), {}
    if VERSION >= (1, 2):
        yield "kde_scott", "wine", lambda: KernelDensity(bandwidth="scott"), {}
        yield "kde_silverman_linear", "iris", lambda: KernelDensity(bandwidth="silverman", kernel="linear"), {}
    yield "kde_scaled", "wine", lambda: make_pipeline(StandardScaler(), KernelDensity(bandwidth=0.7)), {}
    yield "kde_scaled_weighted", "iris", lambda: make_pipeline(StandardScaler(), KernelDensity(bandwidth=0.4, kernel="cosine")), {"sample_weight": True}


def agglomeration_models():
    yield "agglomeration_mean", "wine", lambda: FeatureAgglomeration(n_clusters=4), {}
    yield "agglomeration_median", "wine", lambda: FeatureAgglomeration(n_clusters=5, pooling_func=np.median), {}
    yield "agglomeration_max", "iris", lambda: FeatureAgglomeration(n_clusters=2, pooling_func=np.max), {}
    yield "agglomeration_min_average", "diabetes", lambda: FeatureAgglomeration(n_clusters=3, pooling_func=np.min, linkage="average"), {}
    yield "agglomeration_single_cluster", "iris", lambda: FeatureAgglomeration(n_clusters=1), {}
    yield "agglomeration_scaled_logistic", "wine", lambda: make_pipeline(StandardScaler(), FeatureAgglomeration(n_clusters=6), LogisticRegression(max_iter=2000)), {}
    yield "agglomeration_median_ridge", "diabetes", lambda: make_pipeline(FeatureAgglomeration(n_clusters=4, pooling_func=np.median), Ridge()), {}


def isomap_models():
    yield "isomap_default", "iris_noisy", lambda: Isomap(), {}
    yield "isomap_wine_three", "wine", lambda: Isomap(n_neighbors=8, n_components=3, eigen_solver="dense"), {}
    yield "isomap_diabetes_four", "diabetes", lambda: Isomap(n_neighbors=6, n_components=4), {}
    for metric, kw in (("manhattan", {}), ("chebyshev", {}), ("cosine", {}), ("canberra", {}),
                       ("minkowski", {"p": 3}), ("minkowski", {"p": 1.5})):
        suffix = "" if "p" not in kw else "_p%s" % str(kw["p"]).replace(".", "_")
        yield "isomap_%s%s" % (metric, suffix), "iris_noisy", lambda m=metric, k=kw: Isomap(n_neighbors=7, metric=m, **k), {}
    for path in ("FW", "D"):
        yield "isomap_path_%s" % path, "wine_scaled", lambda p=path: Isomap(n_neighbors=6, path_method=p), {}
    yield "isomap_arpack", "wine_scaled", lambda: Isomap(n_neighbors=10, n_components=3, eigen_solver="arpack", tol=1e-10), {}
    for algorithm in ("kd_tree", "ball_tree", "brute"):
        yield "isomap_%s" % algorithm, "diabetes", lambda a=algorithm: Isomap(n_neighbors=9, neighbors_algorithm=a), {}
    yield "isomap_radius", "wine_scaled", lambda: Isomap(n_neighbors=None, radius=3.5), {}
    yield "isomap_radius_manhattan", "iris_noisy", lambda: Isomap(n_neighbors=None, radius=1.6, metric="manhattan", n_components=3), {}
    yield "isomap_scaled_logistic", "wine", lambda: make_pipeline(StandardScaler(), Isomap(n_neighbors=8, n_components=4), LogisticRegression(max_iter=2000)), {}
    yield "isomap_ridge", "diabetes", lambda: make_pipeline(Isomap(n_neighbors=12, n_components=5), Ridge()), {}


def lle_models():
    yield "lle_default", "iris_noisy", lambda: LocallyLinearEmbedding(random_state=0), {}
    yield "lle_wine_three", "wine_scaled", lambda: LocallyLinearEmbedding(n_neighbors=10, n_components=3, eigen_solver="dense"), {}
    for method in ("hessian", "modified", "ltsa"):
        yield "lle_%s" % method, "wine_scaled", lambda m=method: LocallyLinearEmbedding(n_neighbors=12, method=m, eigen_solver="dense"), {}
        yield "lle_%s_diabetes" % method, "diabetes", lambda m=method: LocallyLinearEmbedding(n_neighbors=10, method=m, eigen_solver="dense"), {}
    yield "lle_arpack", "diabetes", lambda: LocallyLinearEmbedding(n_neighbors=8, eigen_solver="arpack", random_state=0), {}
    for reg in (1e-2, 0.5):
        yield "lle_reg_%s" % str(reg).replace(".", "_"), "iris_noisy", lambda r=reg: LocallyLinearEmbedding(n_neighbors=7, reg=r, eigen_solver="dense"), {}
    for algorithm in ("kd_tree", "ball_tree"):
        yield "lle_%s" % algorithm, "diabetes", lambda a=algorithm: LocallyLinearEmbedding(n_neighbors=6, neighbors_algorithm=a, eigen_solver="dense"), {}
    yield "lle_more_neighbours_than_features", "iris_noisy", lambda: LocallyLinearEmbedding(n_neighbors=15, eigen_solver="dense"), {}
    yield "lle_scaled_logistic", "wine", lambda: make_pipeline(StandardScaler(), LocallyLinearEmbedding(n_neighbors=9, n_components=3, eigen_solver="dense"), LogisticRegression(max_iter=2000)), {}
    yield "lle_ridge", "diabetes", lambda: make_pipeline(LocallyLinearEmbedding(n_neighbors=10, n_components=4, method="modified", eigen_solver="dense"), Ridge()), {}


FAMILIES = {"knn_imputer": knn_imputer_models, "iterative_imputer": iterative_imputer_models, "kernel_density": kde_models,
            "feature_agglomeration": agglomeration_models, "isomap": isomap_models,
            "locally_linear_embedding": lle_models}


def unsettled_rows(model, X):
    """Rows where scikit-learn's own two walks of a KernelDensity's tree (breadth first and
    depth first) give log densities more than 1e-10 apart relative: far from every fitted
    point, the node bounds each walk adds and subtracts in log space cancel, and its answer
    there is not settled to 1e-9 (skserve sums every point exactly; docs/models.md)."""
    last = model.steps[-1][1] if hasattr(model, "steps") else model
    if not isinstance(last, KernelDensity):
        return None
    if hasattr(model, "steps"):
        for _, step in model.steps[:-1]:
            X = step.transform(X)
    other = copy.deepcopy(last)
    other.breadth_first = not last.breadth_first
    a, b = last.score_samples(X), other.score_samples(X)
    with np.errstate(invalid="ignore"):
        apart = np.abs(a - b) > 1e-10 * np.abs(a)
    return [int(i) for i in np.flatnonzero(apart & np.isfinite(a))]


def donor_ties(model, X):
    """Rows for which a KNNImputer's k-th and (k+1)-th donors of some missing feature are
    equally far: which of them it keeps depends on numpy's `argpartition` (skserve keeps the
    lower index), so the expected values there are one valid answer of several."""
    imputer = model.steps[0][1] if hasattr(model, "steps") else model
    if not isinstance(imputer, KNNImputer):
        return None
    from sklearn.metrics.pairwise import nan_euclidean_distances
    X = np.asarray(X, dtype=np.float64)
    dist = nan_euclidean_distances(X, imputer._fit_X)
    tied = []
    for row in range(len(X)):
        for col in np.flatnonzero(np.isnan(X[row]) & imputer._valid_mask):
            donors = np.sort(dist[row, ~imputer._mask_fit_X[:, col]])
            k = min(imputer.n_neighbors, len(donors))
            # Equal, or equal but for rounding (which the other's arithmetic may round the
            # other way).
            tie = len(donors) > k and donors[k] - donors[k - 1] <= 1e-9 * donors[k]
            # A donor that matches the row on every shared coordinate is at distance 0 in
            # exact arithmetic; ‖x‖² − 2 x·y + ‖y‖² leaves a residue of rounding (or 0) that
            # depends on the BLAS summation order. Which such donors are kept, and their
            # weights 1/d, are then that order's.
            # With distance weights, 1/d inherits that expansion's rounding relative to d²:
            # about eps (‖x‖² + ‖y‖²) / d², beyond 1e-10 for a donor that close.
            scale = np.nansum(X[row] ** 2) + np.nanmax(np.nansum(imputer._fit_X ** 2, axis=1))
            residue = (len(donors) > k and donors[k] < 1e-6) or (
                imputer.weights == "distance" and donors[0] ** 2 < 2e-6 * scale)
            if tie or residue:
                tied.append(row)
                break
    return tied


def embedding_ties(model, X):
    """Rows whose k-th and (k+1)-th neighbours among an Isomap's or LocallyLinearEmbedding's
    training rows are equally far (to 1e-12, which the other's arithmetic may round the
    other way), or, for a radius search, that have a training row on the radius: which rows
    a search keeps there is its order's (docs/models.md)."""
    steps = [step for _, step in model.steps] if hasattr(model, "steps") else [model]
    at = [i for i, step in enumerate(steps) if isinstance(step, (Isomap, LocallyLinearEmbedding))]
    if not at:
        return None
    for step in steps[:at[0]]:
        X = step.transform(X)
    last = steps[at[0]]
    nbrs = last.nbrs_
    if getattr(last, "n_neighbors", None) is None:
        dist, _ = nbrs.radius_neighbors(X, radius=last.radius * 1.01)
        return [i for i, d in enumerate(dist) if np.any(np.abs(d - last.radius) <= 1e-12 * last.radius)]
    k = last.n_neighbors
    dist, _ = nbrs.kneighbors(X, n_neighbors=min(k + 1, nbrs.n_samples_fit_))
    if dist.shape[1] <= k:
        return []
    return [int(i) for i in np.flatnonzero(dist[:, k] - dist[:, k - 1] <= 1e-12 * dist[:, k])]


def fit(model, X, y, options):
    last = model.steps[-1] if hasattr(model, "steps") else (None, model)
    kwargs = {}
    if options.get("sample_weight"):
        key = "sample_weight" if last[0] is None else "%s__sample_weight" % last[0]
        kwargs[key] = weights(len(X))
    if isinstance(last[1], (LogisticRegression, Ridge)):
        return model.fit(X, y, **kwargs)
    return model.fit(X, **kwargs)


def main():
    write_families(sys.argv[1], FAMILIES, datasets(), fit,
                   lambda model, X: unsettled_rows(model, X) or donor_ties(model, X) or embedding_ties(model, X))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fit the matrix of SVMs, neighbours, naive Bayes, neural networks, discriminant analysis
and label propagation with the installed scikit-learn, on the small real data sets it ships,
and write each model next to scikit-learn's answers of every method it has.

    python make_families.py OUTDIR

Each model is saved in two containers (pickle protocols 2 to 5 in turn, and joblib plain or
zlib-compressed in turn), so that every container appears many times over the matrix. It
must run unchanged under scikit-learn 1.1, 1.3 and 1.9 (numpy 1 and 2); a variant a version
cannot fit is left out of that version's matrix.

Layout:

    OUTDIR/manifest.json                 versions and one case per file
    OUTDIR/models/<id>__<format>.pkl|.joblib
    OUTDIR/inputs/<input>.csv            header row, then the rows scored (repr floats)
    OUTDIR/expected/<id>.json            classes, chain, and each method's answer:
                                         predict, predict_proba, decision_function,
                                         score_samples, transform; `ties`: rows whose k-th
                                         and next neighbour are equally far (see below)
"""

import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_linnerud, load_wine
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, ComplementNB, GaussianNB, MultinomialNB
from sklearn.neighbors import (
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
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelPropagation, LabelSpreading
from sklearn.svm import SVC, SVR, NuSVC, NuSVR, OneClassSVM

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
from make_pipelines import FORMATS, VERSION, chain, serialise  # noqa: E402

warnings.simplefilter("ignore")

METHODS = ("predict", "predict_proba", "decision_function", "score_samples", "transform")


def split(X, y, every=4):
    """Every `every`-th row held out for scoring, the rest for fitting."""
    test = np.arange(len(X)) % every == 0
    return X[~test], y[~test], X[test]


def datasets():
    """name -> (X_train, y_train, X_scored, feature names)."""
    out = {}
    for name, loader in (("iris", load_iris), ("wine", load_wine), ("cancer", load_breast_cancer),
                         ("diabetes", load_diabetes), ("digits", load_digits), ("linnerud", load_linnerud)):
        bunch = loader()
        X, y = bunch.data.astype(np.float64), bunch.target
        if name == "digits":
            X, y = X[:600], y[:600]
        train_X, train_y, scored = split(X, y)
        names = [str(n).replace(" ", "_").replace("(", "").replace(")", "") for n in bunch.feature_names]
        out[name] = (train_X, train_y, scored, names)
    # Iris labelled by name (string classes).
    X, y, scored, names = out["iris"]
    out["iris_named"] = (X, np.array(["setosa", "versicolor", "virginica"])[y], scored, names)
    # Iris as small integer categories (CategoricalNB, the boolean metrics).
    out["iris_codes"] = (np.floor(X).astype(np.float64), y, np.floor(scored).astype(np.float64), names)
    # Digits binary: pixel above 8.
    X, y, scored, names = out["digits"]
    out["digits_binary"] = ((X > 8).astype(np.float64), y, (scored > 8).astype(np.float64), names)
    out["digits_unit"] = (X / 16.0, y, scored / 16.0, names)
    # Latitude and longitude in radians (haversine).
    rng = np.random.RandomState(0)
    geo = np.column_stack([rng.uniform(-1.2, 1.2, 240), rng.uniform(-3.0, 3.0, 240)])
    label = (np.sin(3 * geo[:, 0]) + np.cos(2 * geo[:, 1]) > 0).astype(int)
    out["geo"] = (geo[60:], label[60:], geo[:60], ["lat", "lon"])
    # Cancer, two targets for a multilabel network.
    X, y, scored, names = out["cancer"]
    out["cancer_multilabel"] = (X, np.column_stack([y, (X[:, 0] > 14).astype(int)]), scored, names)
    # Iris with two label columns, for neighbour classifiers of several outputs.
    X, y, scored, names = out["iris"]
    out["iris_two_labels"] = (X, np.column_stack([y, (X[:, 0] > 5.8).astype(int)]), scored, names)
    # Iris with two thirds unlabelled (-1) for label propagation.
    X, y, scored, names = out["iris"]
    partial = y.copy()
    partial[np.arange(len(y)) % 3 != 0] = -1
    out["iris_partial"] = (X, partial, scored, names)
    return out


def scaled(model):
    return make_pipeline(StandardScaler(), model)


def svm_models():
    yield "svc_rbf_scale_ovr", "iris", lambda: SVC()
    yield "svc_rbf_ovo", "iris", lambda: SVC(decision_function_shape="ovo")
    yield "svc_rbf_break_ties", "iris", lambda: SVC(break_ties=True, C=0.5)
    yield "svc_rbf_probability", "iris", lambda: SVC(probability=True, random_state=0)
    yield "svc_rbf_probability_named", "iris_named", lambda: SVC(probability=True, random_state=1)
    yield "svc_binary_probability", "cancer", lambda: scaled(SVC(probability=True, random_state=0))
    yield "svc_linear_binary", "cancer", lambda: scaled(SVC(kernel="linear", C=0.1))
    yield "svc_linear_multi", "wine", lambda: scaled(SVC(kernel="linear"))
    yield "svc_poly_auto", "iris", lambda: SVC(kernel="poly", degree=3, gamma="auto", coef0=1.0)
    yield "svc_poly_degree2_number", "wine", lambda: scaled(SVC(kernel="poly", degree=2, gamma=0.05))
    yield "svc_sigmoid", "iris", lambda: scaled(SVC(kernel="sigmoid", gamma=0.1, coef0=0.5))
    yield "svc_rbf_gamma_number", "digits", lambda: SVC(gamma=0.001)
    yield "svc_class_weight", "wine", lambda: scaled(SVC(class_weight="balanced", probability=True, random_state=0))
    yield "nusvc_rbf_probability", "iris", lambda: NuSVC(nu=0.3, probability=True, random_state=0)
    yield "nusvc_linear_ovo", "wine", lambda: scaled(NuSVC(kernel="linear", nu=0.2, decision_function_shape="ovo"))
    yield "svr_rbf", "diabetes", lambda: SVR(C=50.0)
    yield "svr_linear", "diabetes", lambda: SVR(kernel="linear", C=100.0)
    yield "svr_poly", "iris", lambda: SVR(kernel="poly", degree=2, coef0=1.0)
    yield "nusvr_rbf", "diabetes", lambda: NuSVR(nu=0.4, C=30.0, gamma="auto")
    yield "one_class_svm_rbf", "iris", lambda: OneClassSVM(nu=0.1)
    yield "one_class_svm_linear", "wine", lambda: scaled(OneClassSVM(kernel="linear", nu=0.2))
    yield "one_class_svm_sigmoid", "iris", lambda: OneClassSVM(kernel="sigmoid", gamma=0.05, nu=0.3)


def nb_models():
    yield "gaussian_nb", "iris", lambda: GaussianNB()
    yield "gaussian_nb_priors_smoothing", "wine", lambda: GaussianNB(priors=[0.2, 0.5, 0.3], var_smoothing=1e-4)
    yield "gaussian_nb_named", "iris_named", lambda: GaussianNB()
    yield "multinomial_nb", "digits", lambda: MultinomialNB()
    yield "multinomial_nb_alpha_prior", "digits", lambda: MultinomialNB(alpha=0.3, fit_prior=False)
    yield "complement_nb", "digits", lambda: ComplementNB()
    yield "complement_nb_norm", "digits", lambda: ComplementNB(norm=True, alpha=0.5)
    yield "bernoulli_nb_binarize", "digits", lambda: BernoulliNB(binarize=8.0)
    yield "bernoulli_nb_binary", "digits_binary", lambda: BernoulliNB(binarize=None, alpha=0.5)
    yield "bernoulli_nb_two_classes", "cancer", lambda: BernoulliNB(binarize=10.0)
    yield "categorical_nb", "iris_codes", lambda: CategoricalNB()
    if VERSION >= (1, 0):
        yield "categorical_nb_min_categories", "iris_codes", lambda: CategoricalNB(min_categories=9, alpha=0.5)


def lda_models():
    yield "lda_svd", "iris", lambda: LinearDiscriminantAnalysis()
    yield "lda_svd_components", "wine", lambda: LinearDiscriminantAnalysis(n_components=1)
    yield "lda_lsqr_shrinkage", "wine", lambda: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    yield "lda_eigen", "iris", lambda: LinearDiscriminantAnalysis(solver="eigen", shrinkage=0.1)
    yield "lda_binary", "cancer", lambda: LinearDiscriminantAnalysis(priors=[0.3, 0.7])
    yield "lda_svd_no_covariance_named", "iris_named", lambda: LinearDiscriminantAnalysis(store_covariance=True)
    yield "lda_then_knn", "wine", lambda: make_pipeline(StandardScaler(), LinearDiscriminantAnalysis(n_components=2), KNeighborsClassifier())
    yield "qda", "iris", lambda: QuadraticDiscriminantAnalysis()
    yield "qda_reg", "wine", lambda: QuadraticDiscriminantAnalysis(reg_param=0.1)
    yield "qda_binary_priors", "cancer", lambda: QuadraticDiscriminantAnalysis(priors=[0.4, 0.6], reg_param=0.01)


def mlp_models():
    mlp = dict(max_iter=300, random_state=0)
    yield "mlp_relu_multi", "iris", lambda: scaled(MLPClassifier(hidden_layer_sizes=(16,), **mlp))
    yield "mlp_tanh_binary", "cancer", lambda: scaled(MLPClassifier(hidden_layer_sizes=(8, 4), activation="tanh", **mlp))
    yield "mlp_logistic_multi", "wine", lambda: scaled(MLPClassifier(activation="logistic", solver="lbfgs", **mlp))
    yield "mlp_identity_named", "iris_named", lambda: scaled(MLPClassifier(activation="identity", hidden_layer_sizes=(5,), **mlp))
    yield "mlp_multilabel", "cancer_multilabel", lambda: scaled(MLPClassifier(hidden_layer_sizes=(10,), **mlp))
    yield "mlp_regressor_relu", "diabetes", lambda: MLPRegressor(hidden_layer_sizes=(20, 10), learning_rate_init=0.01, **mlp)
    yield "mlp_regressor_tanh_two_outputs", "linnerud", lambda: scaled(MLPRegressor(activation="tanh", solver="lbfgs", **mlp))
    yield "bernoulli_rbm", "digits_unit", lambda: BernoulliRBM(n_components=12, n_iter=5, random_state=0)


def neighbor_models():
    for algorithm in ("brute", "kd_tree", "ball_tree"):
        for weights in ("uniform", "distance"):
            yield "knn_%s_%s" % (algorithm, weights), "iris", lambda a=algorithm, w=weights: KNeighborsClassifier(
                n_neighbors=7, weights=w, algorithm=a, leaf_size=4)
            yield "knn_regressor_%s_%s" % (algorithm, weights), "diabetes", lambda a=algorithm, w=weights: KNeighborsRegressor(
                n_neighbors=6, weights=w, algorithm=a, leaf_size=5)
    for metric, algorithms, kw in (
        ("manhattan", ("brute", "kd_tree", "ball_tree"), {}),
        ("chebyshev", ("brute", "kd_tree", "ball_tree"), {}),
        ("minkowski", ("brute", "kd_tree", "ball_tree"), {"p": 3}),
        ("minkowski", ("brute", "ball_tree"), {"p": 1.5}),
        ("canberra", ("brute", "ball_tree"), {}),
        ("braycurtis", ("brute", "ball_tree"), {}),
        ("cosine", ("brute",), {}),
        ("correlation", ("brute",), {}),
        ("sqeuclidean", ("brute",), {}),
        ("seuclidean", ("brute", "ball_tree"), {"metric_params": {"V": [0.7, 0.2, 3.1, 0.6]}}),
        ("mahalanobis", ("brute", "ball_tree"), {"metric_params": {"VI": np.diag([1.4, 5.0, 0.3, 1.7])}}),
    ):
        for algorithm in algorithms:
            tag = metric + ("_p%s" % str(kw["p"]).replace(".", "_") if "p" in kw else "")
            yield "knn_%s_%s" % (tag, algorithm), "iris", lambda m=metric, a=algorithm, k=kw: KNeighborsClassifier(
                n_neighbors=5, weights="distance", metric=m, algorithm=a, leaf_size=6, **k)
    yield "knn_hamming_ball_tree", "iris_codes", lambda: KNeighborsClassifier(n_neighbors=5, metric="hamming", algorithm="ball_tree")
    yield "knn_jaccard_ball_tree", "digits_binary", lambda: KNeighborsClassifier(n_neighbors=5, metric="jaccard", algorithm="ball_tree")
    yield "knn_haversine_ball_tree", "geo", lambda: KNeighborsClassifier(n_neighbors=5, metric="haversine", algorithm="ball_tree")
    yield "knn_named_kd_tree", "iris_named", lambda: KNeighborsClassifier(n_neighbors=4, algorithm="kd_tree", leaf_size=3)
    yield "knn_regressor_two_outputs", "linnerud", lambda: KNeighborsRegressor(n_neighbors=3, weights="distance")
    yield "knn_pipeline_scaled", "wine", lambda: scaled(KNeighborsClassifier(n_neighbors=5))
    yield "radius_classifier_outlier_label", "iris", lambda: RadiusNeighborsClassifier(radius=0.8, outlier_label="most_frequent" if VERSION >= (0, 24) else 0)
    yield "radius_classifier_distance_kd", "iris", lambda: RadiusNeighborsClassifier(radius=1.5, weights="distance", algorithm="kd_tree", outlier_label=1)
    # Radius 1 on iris's one-decimal grid: points exactly on the boundary in real arithmetic,
    # kept or left by the rounding of the squared (reduced) distance.
    yield "radius_classifier_boundary_brute", "iris", lambda: RadiusNeighborsClassifier(radius=1.0, algorithm="brute", outlier_label=2)
    yield "radius_classifier_boundary_kd", "iris", lambda: RadiusNeighborsClassifier(radius=1.0, algorithm="kd_tree", outlier_label=2)
    yield "radius_transformer_boundary", "iris", lambda: RadiusNeighborsTransformer(radius=1.0, algorithm="brute")
    # Several outputs: each output votes on its own.
    yield "knn_two_outputs_distance", "iris_two_labels", lambda: KNeighborsClassifier(n_neighbors=5, weights="distance")
    yield "knn_two_outputs_ball_tree", "iris_two_labels", lambda: KNeighborsClassifier(n_neighbors=7, algorithm="ball_tree", leaf_size=4)
    yield "radius_classifier_two_outputs", "iris_two_labels", lambda: RadiusNeighborsClassifier(radius=0.8, outlier_label=[0, 1])
    yield "radius_regressor", "diabetes", lambda: RadiusNeighborsRegressor(radius=0.12, algorithm="ball_tree", leaf_size=5)
    yield "radius_regressor_distance", "diabetes", lambda: RadiusNeighborsRegressor(radius=0.15, weights="distance")
    yield "nearest_centroid", "iris", lambda: NearestCentroid()
    yield "nearest_centroid_manhattan_shrink", "wine", lambda: NearestCentroid(metric="manhattan", shrink_threshold=0.2)
    yield "lof_novelty", "iris", lambda: LocalOutlierFactor(n_neighbors=10, novelty=True)
    yield "lof_novelty_manhattan_ball", "wine", lambda: scaled(LocalOutlierFactor(n_neighbors=15, novelty=True, metric="manhattan", algorithm="ball_tree", contamination=0.1))
    yield "kneighbors_transformer_distance", "iris", lambda: KNeighborsTransformer(n_neighbors=4)
    yield "kneighbors_transformer_connectivity", "iris", lambda: KNeighborsTransformer(n_neighbors=3, mode="connectivity", algorithm="kd_tree")
    yield "radius_transformer", "iris", lambda: RadiusNeighborsTransformer(radius=0.6)
    yield "nca", "iris", lambda: NeighborhoodComponentsAnalysis(n_components=2, random_state=0, max_iter=30)
    yield "nca_then_knn", "wine", lambda: make_pipeline(StandardScaler(), NeighborhoodComponentsAnalysis(random_state=0, max_iter=20), KNeighborsClassifier(n_neighbors=3))


def semi_models():
    yield "label_propagation_rbf", "iris_partial", lambda: LabelPropagation(gamma=5.0)
    yield "label_propagation_knn", "iris_partial", lambda: LabelPropagation(kernel="knn", n_neighbors=5)
    yield "label_spreading_rbf", "iris_partial", lambda: LabelSpreading(gamma=3.0, alpha=0.3)
    yield "label_spreading_knn", "iris_partial", lambda: LabelSpreading(kernel="knn", n_neighbors=6)


FAMILIES = {"svm": svm_models, "naive_bayes": nb_models, "discriminant_analysis": lda_models,
            "neural_network": mlp_models, "neighbors": neighbor_models, "semi_supervised": semi_models}


def fit(model, X, y):
    est = model.steps[-1][1] if hasattr(model, "steps") else model
    if isinstance(est, (OneClassSVM, BernoulliRBM, KNeighborsTransformer, RadiusNeighborsTransformer)) or (
            isinstance(est, LocalOutlierFactor)):
        return model.fit(X)
    return model.fit(X, y)


def answers(model, X):
    out = {}
    for method in METHODS:
        if not hasattr(model, method):
            continue
        try:
            result = getattr(model, method)(X)
        except (AttributeError, NotImplementedError):
            continue
        if hasattr(result, "toarray"):
            result = result.toarray()
        result = np.hstack(result) if isinstance(result, list) else np.asarray(result)
        out[method] = finite_or_named(result.tolist())
    return out


def finite_or_named(value):
    """JSON has no NaN or infinity: those are written as the strings "nan", "inf", "-inf"."""
    if isinstance(value, list):
        return [finite_or_named(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def neighbour_ties(model, X):
    """Rows whose k-th and (k+1)-th neighbours are equally far: which of them a search keeps
    depends on the order it meets them in (numpy's argpartition, for brute force over some
    metrics), so the expected labels there are one valid answer of several."""
    est = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(est, "n_neighbors") or not hasattr(est, "kneighbors") or getattr(est, "_fit_method", None) is None:
        return None
    if hasattr(model, "steps"):
        for _, step in model.steps[:-1]:
            X = step.transform(X)
    k = est.n_neighbors
    n = min(k + 1, est.n_samples_fit_)
    dist, _ = est.kneighbors(X, n_neighbors=n)
    if n <= k:
        return []
    return [int(i) for i in np.flatnonzero(dist[:, k - 1] == dist[:, k])]


def write_families(outdir, families, data, fit, ties):
    """Fits every model of `families` ({family: generator of (id, dataset, factory, *fit
    options)}) on `data` with `fit(model, X, y, *options)`, and writes the matrix, each
    case's rows that may differ given by `ties(model, X)`."""
    for sub in ("models", "inputs", "expected"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    written = set()
    cases = []
    pickles = [f for f in FORMATS if f.startswith("pickle")]
    joblibs = [f for f in FORMATS if f.startswith("joblib")]
    count = 0
    for family, models in families.items():
        for model_id, dataset, factory, *options in models():
            X, y, scored, names = data[dataset]
            frame = pd.DataFrame(X, columns=names)
            scored_frame = pd.DataFrame(scored, columns=names)
            if dataset not in written:
                scored_frame.to_csv(os.path.join(outdir, "inputs", dataset + ".csv"), index=False, na_rep="nan",
                                    float_format=lambda v: repr(float(v)))
                written.add(dataset)
            # Pipelines and every third bare model are fitted on a DataFrame (named columns).
            named = hasattr(factory(), "steps") or count % 3 == 0
            model = fit(factory(), frame if named else X, y, *options)
            on = scored_frame if named else scored
            expected = {"chain": ">".join(chain(model)), "family": family, "dataset": dataset,
                        "methods": answers(model, on), "ties": ties(model, on)}
            classes = getattr(model, "classes_", None)
            last = model.steps[-1][1] if hasattr(model, "steps") else model
            if getattr(getattr(last, "_label_binarizer", None), "y_type_", None) == "multilabel-indicator":
                # Several labels: skserve lists each output's classes, [0, 1] for every label
                # (scikit-learn's classes_ there is the labels' range).
                classes = [np.array([0, 1])] * last.n_outputs_
            expected["classes"] = ([np.asarray(c).tolist() for c in classes] if isinstance(classes, list)
                                   else None if classes is None else np.asarray(classes).tolist())
            with open(os.path.join(outdir, "expected", model_id + ".json"), "w") as f:
                json.dump(expected, f, allow_nan=False)
            for fmt in (pickles[count % len(pickles)], joblibs[count % len(joblibs)]):
                ext = FORMATS[fmt][2]
                rel = "models/%s__%s.%s" % (model_id, fmt, ext)
                serialise(model, fmt, os.path.join(outdir, rel))
                cases.append({"file": rel, "model_id": model_id, "format": fmt, "family": family,
                              "estimator": type(model).__name__, "input": "inputs/%s.csv" % dataset,
                              "named": bool(named), "expected": "expected/%s.json" % model_id})
            count += 1
    manifest = {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__, "cases": cases}
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d models, %d files in %s (scikit-learn %s, numpy %s)" % (
        count, len(cases), outdir, sklearn.__version__, np.__version__))


def main():
    write_families(sys.argv[1], FAMILIES, datasets(), fit, neighbour_ties)


if __name__ == "__main__":
    main()

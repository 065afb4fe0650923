#!/usr/bin/env python3
"""Fit the Pipeline matrix with the installed scikit-learn and write each model, in every
container skserve reads, next to scikit-learn's own answers.

    python make_pipelines.py OUTDIR

The data has string columns with missing values and rare categories, numeric columns with
NaNs, an integer column, and a column that is empty in training; the rows scored add unknown
categories. Each model is scored on the rows as float64 and with its numeric columns as
float32. It must run unchanged under scikit-learn 1.1, 1.3 and 1.9 (numpy 1 and 2): models
a version cannot fit are left out of that version's matrix, and the manifest says which.

Layout:

    OUTDIR/manifest.json                 versions and one case per file
    OUTDIR/models/<id>__<format>.pkl|.joblib
    OUTDIR/inputs/<dataset>.csv          header row, empty field for a missing value
    OUTDIR/expected/<id>.json            per input variant: predict, predict_proba,
                                         decision_function, or the error scikit-learn raised
"""

import json
import os
import pickle
import platform
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import scipy
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import (
    ElasticNet,
    GammaRegressor,
    HuberRegressor,
    Lasso,
    LassoCV,
    LinearRegression,
    LogisticRegression,
    Perceptron,
    PoissonRegressor,
    Ridge,
    RidgeClassifier,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
    TweedieRegressor,
)
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import LinearSVC, LinearSVR

warnings.simplefilter("ignore")

VERSION = tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in sklearn.__version__.split(".")[:2])

FORMATS = {
    "pickle-p2": ("pickle", 2, "pkl"),
    "pickle-p3": ("pickle", 3, "pkl"),
    "pickle-p4": ("pickle", 4, "pkl"),
    "pickle-p5": ("pickle", 5, "pkl"),
    "joblib": ("joblib", None, "joblib"),
    "joblib-zlib": ("joblib-zlib", None, "joblib"),
}

CITIES = ["Santiago", "Lima", "Bogota", "Quito", "Caracas", "Montevideo", "La Paz", "Asuncion"]
# Rare on purpose: infrequent categories.
CITY_WEIGHTS = [0.3, 0.25, 0.2, 0.1, 0.06, 0.05, 0.02, 0.02]
KINDS = ["I", "N", "X"]
NUMERIC = ["temp", "delay", "month"]
CATEGORICAL = ["city", "kind"]


def make_data(n, seed, unknown=False):
    rng = np.random.RandomState(seed)
    city = rng.choice(CITIES, size=n, p=CITY_WEIGHTS).astype(object)
    kind = rng.choice(KINDS, size=n).astype(object)
    temp = rng.normal(20.0, 7.0, size=n)
    delay = rng.exponential(12.0, size=n) - 3.0
    month = rng.randint(1, 13, size=n)
    city[rng.rand(n) < 0.07] = np.nan
    temp[rng.rand(n) < 0.08] = np.nan
    if unknown:
        city[rng.rand(n) < 0.3] = "Atlantis"
        kind[rng.rand(n) < 0.2] = "Z"
    df = pd.DataFrame({
        "city": city,
        "temp": temp,
        "kind": kind,
        "delay": delay,
        "month": month,
        "empty": np.full(n, np.nan),
    })
    score = (
        np.nan_to_num(temp, nan=20.0) * 0.08
        - delay * 0.05
        + np.where(city == "Lima", 1.0, 0.0)
        - np.where(kind == "I", 0.7, 0.0)
        + (month % 4) * 0.3
        + rng.normal(0.0, 0.8, size=n)
    )
    return df, score


def targets(score):
    binary = np.where(score > np.median(score), "delayed", "on_time")
    cuts = np.quantile(score, [0.25, 0.5, 0.75])
    multi = np.array([3, 7, 11, 20])[np.searchsorted(cuts, score)]
    positive = np.exp(score / 4.0) + 0.1
    # Several outputs of different class counts, as strings and as integers.
    wave = np.sin(3.0 * score)
    level = np.array(["low", "mid", "high"])[np.searchsorted(np.quantile(wave, [0.3, 0.7]), wave)]
    parity = (np.floor(score * 3) % 2).astype(np.int64)
    return {"binary": binary, "multi": multi, "value": score, "positive": positive,
            "two": np.column_stack([score, -2.0 * score + 1.0]),
            "two_labels": np.column_stack([binary, level]),
            "two_classes": np.column_stack([multi, parity])}


def ohe(**kw):
    if VERSION >= (1, 2):
        kw.setdefault("sparse_output", False)
    else:
        kw.setdefault("sparse", False)
    return OneHotEncoder(**kw)


def ohe_sparse(**kw):
    return OneHotEncoder(**kw)


def num_pipe(**kw):
    return Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)),
                     ("scale", StandardScaler(**kw))])


def cat_pipe(encoder):
    return Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                     ("encode", encoder)])


def preprocess(encoder=None, **ct):
    encoder = encoder if encoder is not None else ohe(handle_unknown="ignore")
    return ColumnTransformer([("num", num_pipe(), NUMERIC), ("cat", cat_pipe(encoder), CATEGORICAL)], **ct)


def svc(**kw):
    if VERSION >= (1, 3):
        kw.setdefault("dual", "auto")
    return LinearSVC(max_iter=5000, random_state=0, **kw)


def svr(**kw):
    if VERSION >= (1, 3):
        kw.setdefault("dual", "auto")
    return LinearSVR(max_iter=5000, random_state=0, **kw)


def models():
    """(id, target, factory, minimum version) of every model of the matrix."""
    out = [
        # The challenge's shape: strings one-hot encoded, a logistic regression.
        ("ct_ohe_logistic", "binary", lambda: make_pipeline(preprocess(), LogisticRegression(max_iter=1000)), (1, 1)),
        ("ct_ohe_sparse_logistic_multi", "multi", lambda: make_pipeline(
            preprocess(ohe_sparse(handle_unknown="ignore")), LogisticRegression(max_iter=1000)), (1, 1)),
        ("ct_ohe_infrequent_logistic_multi", "multi", lambda: make_pipeline(
            preprocess(ohe(handle_unknown="infrequent_if_exist", min_frequency=15)), LogisticRegression(max_iter=1000)), (1, 1)),
        ("ct_ohe_max_categories_drop_if_binary_sgd", "binary", lambda: make_pipeline(
            preprocess(ohe(handle_unknown="infrequent_if_exist", max_categories=4, drop="if_binary")),
            SGDClassifier(loss="log_loss" if VERSION >= (1, 1) else "log", max_iter=50, tol=None, random_state=0)), (1, 1)),
        ("ct_ohe_drop_first_svc", "binary", lambda: make_pipeline(
            preprocess(ohe(handle_unknown="ignore", drop="first")), svc()), (1, 1)),
        ("ct_ohe_drop_array_infrequent_ridge_classifier", "multi", lambda: make_pipeline(
            preprocess(ohe(handle_unknown="infrequent_if_exist", min_frequency=15, drop=["Lima", "N"])), RidgeClassifier()), (1, 1)),
        ("ct_ohe_error_perceptron", "binary", lambda: make_pipeline(
            preprocess(ohe(handle_unknown="error")), Perceptron(max_iter=50, tol=None, random_state=0)), (1, 1)),
        ("ct_ohe_float32_logistic", "binary", lambda: make_pipeline(
            preprocess(ohe(handle_unknown="ignore", dtype=np.float32)), LogisticRegression(max_iter=1000)), (1, 1)),
        ("ct_ordinal_minmax_ridge", "value", lambda: make_pipeline(ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", MinMaxScaler(feature_range=(-1, 2)))]), NUMERIC),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2), CATEGORICAL),
        ]), Ridge(alpha=0.5)), (1, 1)),
        ("ct_ordinal_infrequent_lasso", "value", lambda: make_pipeline(ColumnTransformer([
            ("num", Pipeline([("impute", SimpleImputer()), ("scale", MinMaxScaler(clip=True))]), NUMERIC),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1, min_frequency=15), CATEGORICAL),
        ]), Lasso(alpha=0.01)), (1, 3)),
        # Fitted where temp is never missing: a missing temp reaches the regression, which
        # refuses it.
        ("ct_missing_reaches_linear", "value", lambda: make_pipeline(ColumnTransformer([
            ("num", StandardScaler(), NUMERIC),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL),
        ]), LinearRegression()), (1, 1)),
        ("ct_robust_maxabs_remainder_linear", "value", lambda: make_pipeline(ColumnTransformer([
            ("robust", Pipeline([("impute", SimpleImputer()), ("scale", RobustScaler())]), ["temp", "delay"]),
            ("maxabs", MaxAbsScaler(), ["month"]),
            ("cat", cat_pipe(ohe(handle_unknown="ignore")), ["city"]),
            ("drop_kind", "drop", ["kind"]),
        ], remainder="drop"), LinearRegression()), (1, 1)),
        ("ct_remainder_scaler_weights_elasticnet", "value", lambda: make_pipeline(ColumnTransformer([
            ("cat", cat_pipe(ohe(handle_unknown="ignore")), CATEGORICAL),
            ("imp", SimpleImputer(strategy="most_frequent"), ["temp"]),
            ("no_empty", "drop", ["empty"]),
        ], remainder=StandardScaler(), transformer_weights={"cat": 2.0, "imp": 0.5}, verbose_feature_names_out=False), ElasticNet(alpha=0.01)), (1, 1)),
        ("ct_passthrough_function_huber", "value", lambda: make_pipeline(ColumnTransformer([
            ("cat", cat_pipe(ohe(handle_unknown="ignore")), CATEGORICAL),
            ("num", make_pipeline(SimpleImputer(strategy="constant", fill_value=-5.0), FunctionTransformer()), ["temp"]),
            ("no_empty", "drop", ["empty"]),
        ], remainder="passthrough"), HuberRegressor(max_iter=500)), (1, 1)),
        ("ct_indicator_most_frequent_logistic", "binary", lambda: make_pipeline(ColumnTransformer([
            ("missing", MissingIndicator(features="all"), ["temp", "city"]),
            ("num", make_pipeline(SimpleImputer(), StandardScaler(with_mean=False)), ["temp", "delay"]),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), ohe(handle_unknown="ignore")), ["city"]),
        ]), LogisticRegression(max_iter=1000)), (1, 1)),
        ("ct_empty_column_kept_ridgecv", "value", lambda: make_pipeline(ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(keep_empty_features=True), StandardScaler()), NUMERIC + ["empty"]),
            ("cat", cat_pipe(ohe(handle_unknown="ignore")), CATEGORICAL),
        ]), RidgeCV(alphas=[0.1, 1.0, 10.0])), (1, 2)),
        ("ct_empty_column_dropped_lassocv", "value", lambda: make_pipeline(ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC + ["empty"]),
            ("cat", cat_pipe(ohe(handle_unknown="ignore")), CATEGORICAL),
        ]), LassoCV(cv=3, n_alphas=20) if VERSION < (1, 7) else LassoCV(cv=3)), (1, 1)),
        ("ct_columns_by_index_slice_mask_sgd_regressor", "value", lambda: make_pipeline(ColumnTransformer([
            ("first", SimpleImputer(), [1]),
            ("range", StandardScaler(), slice(3, 5)),
            ("mask", ohe(handle_unknown="ignore"), np.array([False, False, True, False, False, False])),
            ("names", cat_pipe(ohe(handle_unknown="ignore")), slice("city", "city")),
        ]), SGDRegressor(max_iter=200, tol=None, random_state=0)), (1, 1)),
        ("ct_ohe_linear_svr", "value", lambda: make_pipeline(preprocess(), svr()), (1, 1)),
        ("ct_ohe_poisson", "positive", lambda: make_pipeline(preprocess(), PoissonRegressor(alpha=0.01, max_iter=300)), (1, 1)),
        ("ct_ohe_gamma", "positive", lambda: make_pipeline(preprocess(), GammaRegressor(alpha=0.01, max_iter=300)), (1, 1)),
        ("ct_ohe_tweedie_log", "positive", lambda: make_pipeline(preprocess(), TweedieRegressor(power=1.5, alpha=0.01, max_iter=300)), (1, 1)),
        ("ct_ohe_tweedie_identity", "value", lambda: make_pipeline(preprocess(), TweedieRegressor(power=0, alpha=0.01, max_iter=300)), (1, 1)),
        ("ct_ohe_ridge_two_outputs", "two", lambda: make_pipeline(preprocess(), Ridge()), (1, 1)),
        ("numeric_scaler_ridge", "value", lambda: make_pipeline(SimpleImputer(), StandardScaler(), Ridge()), (1, 1)),
        ("numeric_nested_pipeline_logistic", "binary", lambda: Pipeline([
            ("prep", Pipeline([("impute", SimpleImputer(strategy="median")), ("noop", "passthrough")])),
            ("scale", RobustScaler(quantile_range=(10.0, 90.0))),
            ("model", LogisticRegression(max_iter=1000)),
        ]), (1, 1)),
        ("grid_search_ridge", "value", lambda: GridSearchCV(
            make_pipeline(preprocess(), Ridge()), {"ridge__alpha": [0.1, 10.0]}, cv=3), (1, 1)),
        ("randomized_search_logistic", "binary", lambda: RandomizedSearchCV(
            make_pipeline(preprocess(), LogisticRegression(max_iter=1000)),
            {"logisticregression__C": scipy.stats.loguniform(0.01, 10.0)}, n_iter=3, cv=3, random_state=0), (1, 1)),
    ]
    return [m for m in out if VERSION >= m[3]]


NUMERIC_ONLY = {"numeric_scaler_ridge", "numeric_nested_pipeline_logistic"}
# Fitted on the rows without a missing value.
COMPLETE_ROWS = {"ct_missing_reaches_linear"}


def chain(est):
    """The estimator chain skserve reports: wrappers, then every step, outermost first."""
    name = type(est).__name__
    if name in ("GridSearchCV", "RandomizedSearchCV"):
        return [name] + chain(est.best_estimator_)
    if name == "Pipeline":
        out = []
        for _, step in est.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            out += chain(step)
        return out
    return [name]


def answers(model, X):
    """predict, predict_proba and decision_function, or the error scikit-learn raises."""
    try:
        out = {"predict": np.asarray(model.predict(X)).tolist()}
    except ValueError as e:
        return {"error": str(e).splitlines()[0]}
    for method in ("predict_proba", "decision_function"):
        try:
            fn = getattr(model, method)
        except AttributeError:
            out[method] = None
            continue
        try:
            result = fn(X)
            # Several outputs: one array per output, side by side.
            out[method] = (np.hstack(result) if isinstance(result, list) else np.asarray(result)).tolist()
        except AttributeError:
            out[method] = None
    return out


def row_errors(model, X):
    """For each row, whether scikit-learn refuses it alone."""
    errors = []
    for i in range(len(X)):
        try:
            model.predict(X.iloc[[i]])
            errors.append(None)
        except ValueError as e:
            errors.append(str(e).splitlines()[0])
    return errors


def as_float32(X):
    X = X.copy()
    for c in NUMERIC + ["empty"]:
        if c in X:
            X[c] = X[c].astype(np.float32)
    return X


def serialise(model, fmt, path):
    kind, protocol, _ = FORMATS[fmt]
    if kind == "pickle":
        with open(path, "wb") as f:
            pickle.dump(model, f, protocol=protocol)
    else:
        joblib.dump(model, path, compress=3 if kind == "joblib-zlib" else 0)


def write_matrix(outdir, fitted, what="models"):
    """Writes a matrix into `outdir`: the shared inputs; for each model that
    `fitted(train, ys, inputs, write_input)` yields as (model_id, target, model, columns,
    {input name: frame}), scikit-learn's answers on each of those frames as float64 and
    float32, and the model in every container; then the manifest. `write_input(name, frame)`
    adds an input of the caller's own to the matrix."""
    for sub in ("models", "inputs", "expected"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    train, score = make_data(400, 0)
    scored, _ = make_data(150, 1)
    unknown, _ = make_data(60, 2, unknown=True)
    ys = targets(score)
    inputs = {"scored": scored, "unknown": unknown}
    manifest_inputs = {}

    def write_input(name, frame):
        # repr of a Python float round-trips exactly (numpy 2 reprs its scalars as np.float64(...)).
        frame.to_csv(os.path.join(outdir, "inputs", name + ".csv"), index=False,
                     float_format=lambda v: repr(float(v)))
        manifest_inputs[name] = "inputs/%s.csv" % name

    for name, X in inputs.items():
        write_input(name, X)

    cases = []
    for model_id, target, model, columns, scored_on in fitted(train, ys, inputs, write_input):
        expected = {"chain": ">".join(chain(model)), "variants": {}}
        for name, data in scored_on.items():
            for variant, frame in (("float64", data), ("float32", as_float32(data))):
                result = answers(model, frame)
                if "error" in result:
                    result["row_errors"] = row_errors(model, frame)
                expected["variants"][name + "-" + variant] = result
        classes = getattr(model, "classes_", None)
        expected["classes"] = ([np.asarray(c).tolist() for c in classes] if isinstance(classes, list)
                               else None if classes is None else np.asarray(classes).tolist())
        with open(os.path.join(outdir, "expected", model_id + ".json"), "w") as f:
            json.dump(expected, f, allow_nan=False)
        for fmt, (_, protocol, ext) in FORMATS.items():
            rel = "models/%s__%s.%s" % (model_id, fmt, ext)
            serialise(model, fmt, os.path.join(outdir, rel))
            cases.append({"file": rel, "model_id": model_id, "format": fmt, "protocol": protocol,
                          "columns": columns, "target": target, "estimator": type(model).__name__,
                          "expected": "expected/%s.json" % model_id})
    manifest = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "python_version": platform.python_version(),
        "inputs": manifest_inputs,
        "cases": cases,
    }
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d %s, %d files in %s (scikit-learn %s, numpy %s)" % (
        len(cases) // len(FORMATS), what, len(cases), outdir, sklearn.__version__, np.__version__))


def fitted_pipelines(train, ys, inputs, write_input):
    for model_id, target, factory, _ in models():
        model = factory()
        columns = NUMERIC if model_id in NUMERIC_ONLY else list(train.columns)
        X, y = train[columns], ys[target]
        if model_id in COMPLETE_ROWS:
            keep = train[[c for c in columns if c != "empty"]].notna().all(axis=1).to_numpy()
            X, y = X[keep], y[keep]
        model.fit(X, y)
        yield model_id, target, model, columns, {name: data[columns] for name, data in inputs.items()}


def main():
    write_matrix(sys.argv[1], fitted_pipelines)


if __name__ == "__main__":
    main()

"""Fits XGBoost and LightGBM models with the versions installed in this venv and writes them in
every form skserve reads, with the libraries' own answers.

    python make_gbm.py OUTDIR

OUTDIR/manifest.json          versions and one case per file
OUTDIR/models/<model>.<ext>   .pkl (pickle), .joblib, .json / .ubj (XGBoost), .txt (LightGBM)
OUTDIR/inputs/<model>.json    {"columns": [...], "rows": [[number | null | string, ...]]}
OUTDIR/expected/<model>.json  {"predict", "predict_proba", "raw", "contribs", ...}

Data sets are scikit-learn's bundled real ones (breast cancer, wine, diabetes, linnerud),
with missing values, categories and ranking groups made from them where a case needs them.
The rows scored are the training rows, rows with missing values, and rows that put a
feature on every threshold the trees hold and one float either side of it (float32 for
XGBoost, float64 for LightGBM). Floats are written with Python's repr, so they round-trip.
"""

import json
import math
import os
import pickle
import sys

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_linnerud, load_wine
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

OUT = sys.argv[1]
XGB = tuple(int(p) for p in xgb.__version__.split(".")[:2])
LGB = tuple(int(p) for p in lgb.__version__.split(".")[:2])
RNG = np.random.default_rng(0)
for d in ("models", "inputs", "expected"):
    os.makedirs(os.path.join(OUT, d), exist_ok=True)
cases = []


def num(v):
    if v is None or isinstance(v, str):
        return v
    v = float(v)
    return None if math.isnan(v) else v


def nested(a):
    a = np.asarray(a)
    if a.dtype.kind in "OUS":
        return [nested(r) if isinstance(r, np.ndarray) else (r if isinstance(r, str) else num(r)) for r in a]
    if a.ndim == 1:
        return [num(v) if a.dtype.kind == "f" else v.item() for v in a]
    return [nested(r) for r in a]


def labels(a):
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(a)]


# ---------------------------------------------------------------- data sets
Xb, yb = load_breast_cancer(return_X_y=True)
Xw, yw = load_wine(return_X_y=True)
Xd, yd = load_diabetes(return_X_y=True)
Xl, yl = load_linnerud(return_X_y=True)
Xl = Xl.astype(float)
yl = yl.astype(float)


def with_missing(X, fraction=0.1, value=np.nan):
    X = X.copy()
    X[RNG.random(X.shape) < fraction] = value
    return X


Xbm = with_missing(Xb)
Xdm = with_missing(Xd)
MISSING = -999.0
Xd999 = with_missing(Xd, 0.1, MISSING)
groups = np.repeat(np.arange(len(Xd) // 17 + 1), 17)[: len(Xd)]
relevance = np.digitize(yd, np.quantile(yd, [0.2, 0.4, 0.6, 0.8]))


def category_frame(X, y):
    """A DataFrame of the first three columns and a categorical column made from the fourth."""
    df = pd.DataFrame(X[:, :3], columns=["f0", "f1", "f2"])
    names = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    df["colour"] = pd.Categorical(names[np.digitize(X[:, 3], np.quantile(X[:, 3], [0.2, 0.4, 0.6, 0.8]))],
                                  categories=list(names))
    return df


Dcat = category_frame(Xb, yb)


# ---------------------------------------------------------------- scoring rows
def edge_rows(base, splits, float32):
    """Rows that put each split's feature on its threshold and one float either side."""
    rows = []
    for feature, t in splits[:120]:
        if float32:
            t32 = np.float32(t)
            values = [t32, np.nextafter(t32, np.float32(-np.inf)), np.nextafter(t32, np.float32(np.inf))]
            values = [float(v) for v in values] + [float(np.nextafter(float(t32), np.inf))]
        else:
            values = [t, float(np.nextafter(t, -np.inf)), float(np.nextafter(t, np.inf))]
        for v in values:
            row = base.copy()
            row[feature] = v
            rows.append(row)
    return np.array(rows) if rows else np.empty((0, len(base)))


def xgb_splits(booster):
    model = json.loads(booster.save_raw("json")) if XGB >= (1, 7) else None
    out = set()
    for tree in model["learner"]["gradient_booster"]["model"].get("trees", []):
        types = tree.get("split_type") or [0] * len(tree["left_children"])
        for i, left in enumerate(tree["left_children"]):
            if left != -1 and types[i] == 0:
                out.add((tree["split_indices"][i], tree["split_conditions"][i]))
    return sorted(out)


def lgb_splits(booster):
    out = set()

    def walk(node):
        if "split_feature" in node:
            if node.get("decision_type") == "<=":
                out.add((node["split_feature"], node["threshold"]))
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return sorted(out)


def scoring_rows(X, splits, float32, missing_rows=None):
    X = np.asarray(X, dtype=float)
    parts = [X[:300], edge_rows(X[0], splits, float32)]
    if missing_rows is not None:
        parts.append(missing_rows[:60])
    return np.vstack([p for p in parts if len(p)])


# ---------------------------------------------------------------- writing
def save(name, model, formats, rows, columns, expected, library, estimator):
    with open(os.path.join(OUT, "inputs", name + ".json"), "w") as f:
        json.dump({"columns": columns, "rows": rows}, f)
    with open(os.path.join(OUT, "expected", name + ".json"), "w") as f:
        json.dump(expected, f)
    for fmt in formats:
        if fmt == "pickle":
            path = name + ".pkl"
            with open(os.path.join(OUT, "models", path), "wb") as f:
                pickle.dump(model, f, protocol=4)
        elif fmt == "pickle5":
            path = name + ".p5.pkl"
            with open(os.path.join(OUT, "models", path), "wb") as f:
                pickle.dump(model, f, protocol=5)
        elif fmt == "pickle2":
            path = name + ".p2.pkl"
            with open(os.path.join(OUT, "models", path), "wb") as f:
                pickle.dump(model, f, protocol=2)
        elif fmt == "joblib":
            path = name + ".joblib"
            joblib.dump(model, os.path.join(OUT, "models", path), compress=3)
        elif fmt in ("json", "ubj"):
            path = name + "." + fmt
            target = model.steps[-1][1] if isinstance(model, Pipeline) else model
            target.save_model(os.path.join(OUT, "models", path))
        elif fmt == "txt":
            path = name + ".txt"
            model.booster_.save_model(os.path.join(OUT, "models", path), num_iteration=-1)
        cases.append({"file": "models/" + path, "format": fmt, "library": library, "model": name,
                      "estimator": estimator, "input": "inputs/" + name + ".json",
                      "expected": "expected/" + name + ".json"})


def frame_rows(X, columns, codes=False):
    """The rows a client sends: categories as their names, or as their codes where the model
    does not keep its categories (XGBoost before 3.1)."""
    if isinstance(X, pd.DataFrame):
        if codes:
            X = X.copy()
            for c in X.columns:
                if isinstance(X[c].dtype, pd.CategoricalDtype):
                    X[c] = X[c].cat.codes.astype(float).replace(-1.0, np.nan)
        return [[num(v) for v in row] for row in
                X.astype(object).where(pd.notna(X), None).itertuples(index=False)]
    return nested(X)


# ---------------------------------------------------------------- XGBoost
def xgb_case(name, model, X, y, fit=None, formats=("pickle", "joblib", "json", "ubj"),
             missing_rows=None, contribs=True, **fit_kwargs):
    model.fit(X, y, **(fit_kwargs if fit is None else fit))
    final = model.steps[-1][1] if isinstance(model, Pipeline) else model
    booster = final.get_booster()
    if isinstance(X, pd.DataFrame):
        R = X.iloc[:300]
        if missing_rows is not None:
            R = pd.concat([R, missing_rows])
        columns = list(X.columns)
    else:
        float32 = True
        splits = xgb_splits(booster) if final.booster != "gblinear" else []
        R = scoring_rows(X, splits, float32, missing_rows)
        columns = None
    expected = {"library": "xgboost", "version": xgb.__version__, "estimator": type(final).__name__}
    predict = model.predict(R)
    if hasattr(model, "predict_proba") and hasattr(final, "classes_"):
        expected["predict"] = labels(predict)
        expected["predict_proba"] = nested(model.predict_proba(R))
    else:
        expected["predict"] = nested(predict)
    if not isinstance(model, Pipeline):
        expected["raw"] = nested(model.predict(R, output_margin=True))
        if contribs and final.booster != "gblinear":
            dm = xgb.DMatrix(R[:40], missing=final.missing, enable_categorical=isinstance(R, pd.DataFrame))
            it = final._get_iteration_range(None) if hasattr(final, "_get_iteration_range") else (0, 0)
            expected["contribs"] = nested(booster.predict(dm, pred_contribs=True, iteration_range=it))
    rows = frame_rows(R, columns, codes=XGB < (3, 1))
    save(name, model, formats, rows, columns, expected, "xgboost", type(final).__name__)


def xgb_cases():
    small = dict(n_estimators=12, max_depth=4, learning_rate=0.3)
    xgb_case("xgb_binary", xgb.XGBClassifier(**small), Xb, yb)
    xgb_case("xgb_binary_missing", xgb.XGBClassifier(**small), Xbm, yb, missing_rows=with_missing(Xb[:60], 0.5))
    xgb_case("xgb_softprob", xgb.XGBClassifier(**small), Xw, yw)
    xgb_case("xgb_softmax", xgb.XGBClassifier(objective="multi:softmax", **small), Xw, yw)
    xgb_case("xgb_logitraw", xgb.XGBClassifier(objective="binary:logitraw", **small), Xb, yb)
    xgb_case("xgb_hinge", xgb.XGBClassifier(objective="binary:hinge", **small), Xb, yb, contribs=False)
    xgb_case("xgb_base_score", xgb.XGBClassifier(base_score=0.3, **small), Xb, yb)
    xgb_case("xgb_deep", xgb.XGBClassifier(n_estimators=8, max_depth=9), Xbm, yb,
             missing_rows=with_missing(Xb[:60], 0.5))
    Xtr, Xva, ytr, yva = Xb[:400], Xb[400:], yb[:400], yb[400:]
    early = xgb.XGBClassifier(n_estimators=200, learning_rate=0.3, max_depth=3, early_stopping_rounds=5)
    xgb_case("xgb_early_stopping", early, Xtr, ytr, fit=dict(eval_set=[(Xva, yva)], verbose=False))
    xgb_case("xgb_rf_classifier", xgb.XGBRFClassifier(n_estimators=10, max_depth=4), Xb, yb)
    xgb_case("xgb_rf_regressor", xgb.XGBRFRegressor(n_estimators=10, max_depth=4), Xd, yd)
    regression = {
        "squarederror": (Xd, yd), "squaredlogerror": (Xd, yd), "absoluteerror": (Xd, yd),
        "pseudohubererror": (Xd, yd / 100.0), "logistic": (Xd, (yd - yd.min()) / np.ptp(yd)),
        "gamma": (Xd, yd), "tweedie": (Xd, yd),
    }
    for obj, (X, y) in regression.items():
        xgb_case(f"xgb_reg_{obj}", xgb.XGBRegressor(objective="reg:" + obj, **small), X, y)
    xgb_case("xgb_poisson", xgb.XGBRegressor(objective="count:poisson", **small), Xd, np.round(yd / 25))
    xgb_case("xgb_cox", xgb.XGBRegressor(objective="survival:cox", **small), Xd,
             np.where(RNG.random(len(yd)) < 0.8, yd, -yd))
    # `missing` is the wrapper's: the library's own files do not keep it.
    xgb_case("xgb_missing_value", xgb.XGBRegressor(missing=MISSING, **small), Xd999, yd,
             missing_rows=with_missing(Xd[:60], 0.5, MISSING), formats=("pickle", "joblib"))
    xgb_case("xgb_nan_missing", xgb.XGBRegressor(**small), Xdm, yd, missing_rows=with_missing(Xd[:60], 0.5))
    xgb_case("xgb_gblinear", xgb.XGBRegressor(booster="gblinear", n_estimators=20), Xdm, yd,
             missing_rows=with_missing(Xd[:60], 0.5))
    xgb_case("xgb_gblinear_classifier", xgb.XGBClassifier(booster="gblinear", n_estimators=20), Xb, yb)
    xgb_case("xgb_multi_target", xgb.XGBRegressor(**small), Xl, yl, contribs=False)
    xgb_case("xgb_ranker_pairwise", xgb.XGBRanker(objective="rank:pairwise", **small), Xd, relevance,
             fit=dict(group=np.bincount(groups)))
    xgb_case("xgb_ranker_ndcg", xgb.XGBRanker(objective="rank:ndcg", **small), Xd, relevance,
             fit=dict(group=np.bincount(groups)))
    if XGB >= (2, 0):
        xgb_case("xgb_quantiles", xgb.XGBRegressor(objective="reg:quantileerror", quantile_alpha=[0.1, 0.5, 0.9],
                                                   **small), Xd, yd, contribs=False)
        xgb_case("xgb_multi_output_tree", xgb.XGBRegressor(multi_strategy="multi_output_tree", tree_method="hist",
                                                           **small), Xl, yl, contribs=False)
    cat = dict(enable_categorical=True, tree_method="hist", n_estimators=12, max_depth=4)
    missing_cats = Dcat.iloc[:40].copy()
    missing_cats.loc[missing_cats.index[::3], "colour"] = np.nan
    missing_cats.loc[missing_cats.index[::4], "f1"] = np.nan
    xgb_case("xgb_categorical", xgb.XGBClassifier(**cat), Dcat, yb, missing_rows=missing_cats)
    xgb_case("xgb_categorical_onehot", xgb.XGBClassifier(max_cat_to_onehot=8, **cat), Dcat, yb)
    pipe = Pipeline([("prep", ColumnTransformer([("num", StandardScaler(), ["f0", "f1", "f2"]),
                                                 ("cat", OneHotEncoder(), ["colour"])])),
                     ("xgb", xgb.XGBClassifier(**small))])
    xgb_case("xgb_pipeline", pipe, Dcat.astype({"colour": str}), yb, formats=("pickle", "joblib"))


# ---------------------------------------------------------------- LightGBM
def lgb_case(name, model, X, y, fit=None, formats=("pickle", "joblib", "txt"), missing_rows=None,
             contribs=True, raw=True):
    model.fit(X, y, **(fit or {}))
    final = model.steps[-1][1] if isinstance(model, Pipeline) else model
    booster = final.booster_
    if isinstance(X, pd.DataFrame):
        R = X.iloc[:300]
        if missing_rows is not None:
            R = pd.concat([R, missing_rows])
        columns = list(X.columns)
    else:
        R = scoring_rows(X, lgb_splits(booster), False, missing_rows)
        columns = None
    expected = {"library": "lightgbm", "version": lgb.__version__, "estimator": type(final).__name__}
    if hasattr(final, "classes_"):
        expected["predict"] = labels(model.predict(R))
        expected["predict_proba"] = nested(model.predict_proba(R))
    else:
        expected["predict"] = nested(model.predict(R))
    if raw and not isinstance(model, Pipeline):
        expected["raw"] = nested(model.predict(R, raw_score=True))
        if contribs:
            expected["contribs"] = nested(model.predict(R[:40], pred_contrib=True))
    save(name, model, formats, frame_rows(R, columns), columns, expected, "lightgbm", type(final).__name__)


def lgb_cases():
    small = dict(n_estimators=12, num_leaves=15, learning_rate=0.3, verbose=-1, min_child_samples=5)
    lgb_case("lgb_binary", lgb.LGBMClassifier(**small), Xb, yb)
    lgb_case("lgb_binary_missing", lgb.LGBMClassifier(**small), Xbm, yb, missing_rows=with_missing(Xb[:60], 0.5))
    lgb_case("lgb_multiclass", lgb.LGBMClassifier(**small), Xw, yw)
    lgb_case("lgb_multiclassova", lgb.LGBMClassifier(objective="multiclassova", **small), Xw, yw)
    lgb_case("lgb_string_labels", lgb.LGBMClassifier(**small), Xw, np.array(["red", "white", "rose"])[yw],
             formats=("pickle", "joblib"))
    for obj in ("regression", "regression_l1", "huber", "fair", "quantile", "mape", "poisson", "gamma", "tweedie"):
        lgb_case(f"lgb_{obj}", lgb.LGBMRegressor(objective=obj, **small), Xd, yd)
    lgb_case("lgb_sqrt", lgb.LGBMRegressor(reg_sqrt=True, **small), Xd, yd)
    unit = (yd - yd.min()) / np.ptp(yd)
    lgb_case("lgb_cross_entropy", lgb.LGBMRegressor(objective="cross_entropy", **small), Xd, unit)
    lgb_case("lgb_cross_entropy_lambda", lgb.LGBMRegressor(objective="cross_entropy_lambda", **small), Xd, unit)
    lgb_case("lgb_nan_missing", lgb.LGBMRegressor(**small), Xdm, yd, missing_rows=with_missing(Xd[:60], 0.5))
    zeros = Xd.copy()
    zeros[RNG.random(zeros.shape) < 0.2] = 0.0
    lgb_case("lgb_zero_as_missing", lgb.LGBMRegressor(zero_as_missing=True, **small), zeros, yd,
             missing_rows=with_missing(zeros[:60], 0.3))
    lgb_case("lgb_no_missing", lgb.LGBMRegressor(use_missing=False, **small), Xdm, yd,
             missing_rows=with_missing(Xd[:60], 0.5))
    lgb_case("lgb_linear_tree", lgb.LGBMRegressor(linear_tree=True, **small), Xdm, yd,
             missing_rows=with_missing(Xd[:60], 0.3), contribs=False)
    lgb_case("lgb_rf", lgb.LGBMRegressor(boosting_type="rf", bagging_freq=1, bagging_fraction=0.7,
                                         n_estimators=10, num_leaves=15, verbose=-1), Xd, yd, contribs=False,
             raw=False)
    Xtr, Xva, ytr, yva = Xb[:400], Xb[400:], yb[:400], yb[400:]
    lgb_case("lgb_early_stopping", lgb.LGBMClassifier(n_estimators=300, learning_rate=0.3, verbose=-1),
             Xtr, ytr, fit=dict(eval_set=[(Xva, yva)], callbacks=[lgb.early_stopping(5, verbose=False)]),
             formats=("pickle", "joblib"))
    lgb_case("lgb_lambdarank", lgb.LGBMRanker(**small), Xd, relevance, fit=dict(group=np.bincount(groups)))
    lgb_case("lgb_xendcg", lgb.LGBMRanker(objective="rank_xendcg", **small), Xd, relevance,
             fit=dict(group=np.bincount(groups)))
    codes = np.column_stack([Xb[:, :3], Dcat["colour"].cat.codes.to_numpy(dtype=float)])
    lgb_case("lgb_categorical", lgb.LGBMClassifier(**small), codes, yb,
             fit=dict(categorical_feature=[3]), missing_rows=with_missing(codes[:60], 0.3))
    many = np.column_stack([Xd[:, :4], np.floor(RNG.random(len(Xd)) * 70)])
    lgb_case("lgb_categorical_many", lgb.LGBMRegressor(max_cat_to_onehot=2, min_data_per_group=2, cat_smooth=1,
                                                       **small), many, yd, fit=dict(categorical_feature=[4]))
    pipe = Pipeline([("prep", ColumnTransformer([("num", StandardScaler(), ["f0", "f1"]),
                                                 ("cat", OneHotEncoder(), ["colour"])], remainder="passthrough")),
                     ("lgb", lgb.LGBMClassifier(**small))])
    lgb_case("lgb_pipeline", pipe, Dcat.astype({"colour": str}), yb, formats=("pickle", "joblib"))


xgb_cases()
lgb_cases()
with open(os.path.join(OUT, "manifest.json"), "w") as f:
    json.dump({"xgboost_version": xgb.__version__, "lightgbm_version": lgb.__version__,
               "sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
               "cases": cases}, f, indent=1)
print(f"{len(cases)} cases", file=sys.stderr)

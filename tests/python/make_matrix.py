#!/usr/bin/env python3
"""Train a matrix of linear classifiers with the installed scikit-learn and
write them, in several serialisation formats, next to scikit-learn's own
answers.

    python make_matrix.py OUTDIR [--challenge-dir DIR]

Output layout (all paths in the manifest are relative to OUTDIR):

    OUTDIR/manifest.json
    OUTDIR/models/<model_id>__<format>.<pkl|joblib>
    OUTDIR/inputs/<dataset>.csv          rows scored for the expected answers
    OUTDIR/expected/<model_id>.json      classes / predict / predict_proba /
                                         decision_function of the fitted model

One fitted model is written in many formats; all of those cases share one
expected file.  Everything is deterministic (fixed random_state, fixed data).

The same code is used by make_legacy_fixtures.py to build the checked-in
fixtures with older scikit-learn / numpy / joblib versions, so it has to keep
working with scikit-learn 1.3 and numpy 1.26 as well as the current releases.
"""

import argparse
import inspect
import json
import os
import pickle
import platform
import shutil
import sys
import warnings

import joblib
import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import (
    LogisticRegression,
    Perceptron,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.svm import LinearSVC

try:  # pandas is only needed for the DataFrame-fitted models
    import pandas as pd
except ImportError:  # pragma: no cover
    pd = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_CHALLENGE_DIR = os.path.join(REPO, "model-files")

# Column names of the challenge data (the names of model-files/features.json).
CHALLENGE_FEATURES = (
    [
        "OPERA_" + name
        for name in [
            "Aerolineas Argentinas", "Aeromexico", "Air Canada", "Air France",
            "Alitalia", "American Airlines", "Austral", "Avianca",
            "British Airways", "Copa Air", "Delta Air", "Gol Trans",
            "Grupo LATAM", "Iberia", "JetSmart SPA", "K.L.M.", "Lacsa",
            "Latin American Wings", "Oceanair Linhas Aereas",
            "Plus Ultra Lineas Aereas", "Qantas Airways", "Sky Airline",
            "United Airlines",
        ]
    ]
    + ["TIPOVUELO_I", "TIPOVUELO_N"]
    + ["MES_%d" % m for m in range(1, 13)]
)
assert len(CHALLENGE_FEATURES) == 37

# name -> (kind, protocol, extension, joblib compress argument)
FORMATS = {
    "pickle-p2": ("pickle", 2, "pkl", None),
    "pickle-p3": ("pickle", 3, "pkl", None),
    "pickle-p4": ("pickle", 4, "pkl", None),
    "pickle-p5": ("pickle", 5, "pkl", None),
    "joblib": ("joblib", None, "joblib", 0),
    "joblib-zlib": ("joblib-zlib", None, "joblib", 3),  # joblib's default compressor
    "joblib-gzip": ("joblib-gzip", None, "joblib", ("gzip", 3)),
    "joblib-bz2": ("joblib-bz2", None, "joblib", ("bz2", 3)),
    "joblib-xz": ("joblib-xz", None, "joblib", ("xz", 3)),
    "joblib-lzma": ("joblib-lzma", None, "joblib", ("lzma", 3)),
}
DEFAULT_FORMATS = ["pickle-p2", "pickle-p3", "pickle-p4", "pickle-p5", "joblib", "joblib-zlib"]
EXTRA_COMPRESSORS = ["joblib-gzip", "joblib-bz2", "joblib-xz", "joblib-lzma"]


def version_tuple(v):
    out = []
    for part in v.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


SK_VERSION = version_tuple(sklearn.__version__)


def has_param(cls, name):
    return name in inspect.signature(cls.__init__).parameters


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------

def load_challenge(challenge_dir, n_rows):
    x_path = os.path.join(challenge_dir, "x_test.csv")
    y_path = os.path.join(challenge_dir, "y_test.csv")
    for p in (x_path, y_path):
        if not os.path.isfile(p):
            sys.exit("error: %s not found (use --challenge-dir)" % p)
    X = np.loadtxt(x_path, delimiter=",", dtype=np.float64, max_rows=n_rows)
    # y_test.csv has CRLF line endings; read it by hand to be explicit about it
    with open(y_path, "r", newline="") as f:
        y = [int(line.strip()) for _, line in zip(range(n_rows), f) if line.strip()]
    y = np.asarray(y, dtype=np.int64)
    if X.shape != (n_rows, 37) or y.shape != (n_rows,):
        sys.exit("error: unexpected challenge data shape %r / %r" % (X.shape, y.shape))
    return X, y


def load_multiclass(n_rows):
    X, y = make_classification(
        n_samples=n_rows, n_features=12, n_informative=6, n_classes=4, random_state=0
    )
    return X.astype(np.float64), y.astype(np.int64)


# Label encodings.  The base labels are 0..k-1; each variant maps them to a
# different dtype / value set.
BINARY_LABELS = {
    "int": lambda y: y.astype(np.int64),                                 # [0, 1]
    # float labels must be integral, scikit-learn treats 1.5 as a regression target
    "float": lambda y: y.astype(np.float64) * 2.0 - 1.0,                 # [-1.0, 1.0]
    "bool": lambda y: y.astype(bool),                                    # [False, True]
    "str": lambda y: np.array(["on_time", "delayed"])[y],                # <U7
    "object": lambda y: np.array(["on_time", "delayed"], dtype=object)[y],  # object array of str
}
MULTI_LABELS = {
    # not 0..k-1 on purpose: catches index-vs-label mix-ups
    "int": lambda y: np.array([3, 7, 11, 20], dtype=np.int64)[y],
    "float": lambda y: np.array([-3.0, 7.0, 11.0, 20.0])[y],
    "str": lambda y: np.array(["alpha", "beta", "gamma", "delta"])[y],   # <U5
    "object": lambda y: np.array(["alpha", "beta", "gamma", "delta"], dtype=object)[y],
    "int32": lambda y: np.array([3, 7, 11, 20], dtype=np.int32)[y],
}


# --------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------

def _lr(**kw):
    return lambda: LogisticRegression(max_iter=1000, **kw)


def _sgd(loss, **kw):
    return lambda: SGDClassifier(loss=loss, max_iter=20, tol=None, random_state=0, **kw)


def _svc(**kw):
    # dual="auto" is the default from 1.5 on; 1.3/1.4 warn unless it is given.
    return lambda: LinearSVC(dual="auto", max_iter=5000, random_state=0, **kw)


def common_estimators():
    """(tag, estimator class name, factory) fitted on every dataset/label."""
    return [
        ("LogisticRegression", "LogisticRegression", _lr()),
        ("SGDClassifier_log_loss", "SGDClassifier", _sgd("log_loss")),
        ("SGDClassifier_modified_huber", "SGDClassifier", _sgd("modified_huber")),
        ("SGDClassifier_hinge", "SGDClassifier", _sgd("hinge")),
        ("LinearSVC", "LinearSVC", _svc()),
        ("RidgeClassifier", "RidgeClassifier", lambda: RidgeClassifier()),
        ("Perceptron", "Perceptron", lambda: Perceptron(max_iter=20, tol=None, random_state=0)),
    ]


def binary_only_estimators():
    # liblinear is one-vs-rest by construction; scikit-learn 1.9 refuses it
    # for more than two classes, so it is fitted on the binary data only
    # (the legacy fixtures add the multiclass liblinear / multi_class="ovr"
    # variants where the old scikit-learn still supports them).
    return [
        ("LogisticRegression_liblinear", "LogisticRegression", _lr(solver="liblinear")),
    ]


def ovr_estimators(binary):
    """Native one-vs-rest / multinomial switches of LogisticRegression.

    * Older scikit-learn (1.3 here) has LogisticRegression(multi_class=...).
      With multi_class="ovr" predict_proba is expit(decision) normalised per
      row; with "multinomial" it is softmax (also for two classes, where the
      decision d is turned into [-d, d] first).  "auto" means ovr for binary
      problems and for solver liblinear / newton-cholesky, multinomial
      otherwise.  solver="liblinear" always fits one-vs-rest.  (1.5 deprecated
      the parameter; its default became the string "deprecated".)
    * scikit-learn 1.9 has no multi_class parameter any more: binary problems
      are always expit, three or more classes always softmax, and
      solver="liblinear" raises for more than two classes.  One-vs-rest for
      3+ classes needs sklearn.multiclass.OneVsRestClassifier, which is not a
      plain linear model and not covered here.
    """
    if not has_param(LogisticRegression, "multi_class"):
        return []
    if binary:
        return [("LogisticRegression_multinomial", "LogisticRegression",
                 _lr(multi_class="multinomial"))]
    return [
        ("LogisticRegression_ovr", "LogisticRegression", _lr(multi_class="ovr")),
        ("LogisticRegression_liblinear", "LogisticRegression", _lr(solver="liblinear")),
    ]


# --------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------

class Fitted:
    def __init__(self, model_id, dataset, label_type, estimator, model, X_fit, X_pred,
                 feature_names=None, formats=None):
        self.model_id = model_id
        self.dataset = dataset
        self.label_type = label_type
        self.estimator = estimator
        self.model = model
        self.X_fit = X_fit
        self.X_pred = X_pred            # what is handed to predict (ndarray or DataFrame)
        self.feature_names = feature_names
        self.formats = formats


def fit_one(factory, X, y):
    model = factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning etc. are expected with max_iter=20
        model.fit(X, y)
    return model


def expected_answers(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            "classes": model.classes_.tolist(),
            "predict": model.predict(X).tolist(),
            "predict_proba": None,
            "decision_function": model.decision_function(X).tolist(),
        }
        try:
            proba = model.predict_proba
        except AttributeError:  # e.g. SGDClassifier(loss="hinge")
            proba = None
        if proba is not None:
            out["predict_proba"] = proba(X).tolist()
    return out


def build_matrix(datasets, estimator_filter=None, label_filter=None, extras=True,
                 with_pandas=True):
    """Fit everything; returns a list of Fitted.

    datasets: dict name -> (X, base_y).  "challenge" is binary, "multiclass"
    has four classes.
    estimator_filter(dataset, label_type, tag) -> bool limits the matrix.
    """
    fitted = []

    def keep(ds, lt, tag):
        return estimator_filter is None or estimator_filter(ds, lt, tag)

    for ds, (X, base_y) in datasets.items():
        binary = len(np.unique(base_y)) == 2
        labels = BINARY_LABELS if binary else MULTI_LABELS
        ests = common_estimators() + (binary_only_estimators() if binary else []) \
            + ovr_estimators(binary)
        for lt, make_y in labels.items():
            if label_filter is not None and not label_filter(ds, lt):
                continue
            # int32 labels only for a couple of estimators (classes_ dtype <i4)
            if lt == "int32":
                these = [e for e in ests if e[0] in ("LogisticRegression", "RidgeClassifier")]
            else:
                these = ests
            y = make_y(base_y)
            for tag, est_name, factory in these:
                if not keep(ds, lt, tag):
                    continue
                model = fit_one(factory, X, y)
                fitted.append(Fitted("%s-%s-%s" % (ds, lt, tag), ds, lt, est_name, model, X, X))

    if extras:
        fitted.extend(build_extras(datasets, keep))
    if with_pandas and pd is not None:
        fitted.extend(build_dataframe_models(datasets, keep))
    return fitted


def build_extras(datasets, keep):
    """Odd corners of the pickled state."""
    out = []
    if "challenge" in datasets:
        X, base_y = datasets["challenge"]
        y = BINARY_LABELS["int"](base_y)
        specs = [
            # same estimator as model-files/pickle_model.pkl
            ("LogisticRegression_balanced", "LogisticRegression", _lr(class_weight="balanced")),
            # average=True keeps extra _standard_coef / _average_coef arrays
            ("SGDClassifier_log_loss_average", "SGDClassifier", _sgd("log_loss", average=True)),
        ]
        for tag, est, factory in specs:
            if keep("challenge", "int", tag):
                out.append(Fitted("challenge-int-" + tag, "challenge", "int", est,
                                  fit_one(factory, X, y), X, X))
    if "multiclass" in datasets:
        X, base_y = datasets["multiclass"]
        y = MULTI_LABELS["int"](base_y)
        specs = [
            # fit_intercept=False: intercept_ is the Python float 0.0, not an array
            ("RidgeClassifier_nointercept", "RidgeClassifier",
             lambda: RidgeClassifier(fit_intercept=False), X),
            ("LinearSVC_nointercept", "LinearSVC", _svc(fit_intercept=False), X),
            ("LinearSVC_crammer_singer", "LinearSVC", _svc(multi_class="crammer_singer"), X),
            # float32 training data: coef_ / intercept_ are float32 (<f4)
            ("LogisticRegression_f32", "LogisticRegression", _lr(), X.astype(np.float32)),
            ("SGDClassifier_log_loss_f32", "SGDClassifier", _sgd("log_loss"), X.astype(np.float32)),
        ]
        for tag, est, factory, Xf in specs:
            if keep("multiclass", "int", tag):
                out.append(Fitted("multiclass-int-" + tag, "multiclass", "int", est,
                                  fit_one(factory, Xf, y), Xf, X))
    return out


def build_dataframe_models(datasets, keep):
    """Models fitted on a pandas DataFrame: feature_names_in_ is pickled as an
    object array of str."""
    out = []
    for ds, (X, base_y) in datasets.items():
        binary = len(np.unique(base_y)) == 2
        if ds == "challenge":
            cols = CHALLENGE_FEATURES
        else:
            cols = ["f%d" % i for i in range(X.shape[1])]
        df = pd.DataFrame(X, columns=cols)
        labels = BINARY_LABELS if binary else MULTI_LABELS
        specs = [
            ("LogisticRegression_df", "LogisticRegression", _lr(), "int"),
            ("RidgeClassifier_df", "RidgeClassifier", lambda: RidgeClassifier(), "str"),
            ("SGDClassifier_modified_huber_df", "SGDClassifier", _sgd("modified_huber"), "str"),
        ]
        for tag, est, factory, lt in specs:
            if not keep(ds, lt, tag):
                continue
            # labels as a pandas Series: str labels arrive as object dtype
            y = pd.Series(labels[lt](base_y), name="label")
            model = fit_one(factory, df, y)
            out.append(Fitted("%s-%s-%s" % (ds, lt, tag), ds, lt, est, model, df, df,
                              feature_names=list(cols)))
    return out


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------

def write_csv(path, X):
    X = np.asarray(X, dtype=np.float64)
    with open(path, "w", newline="\n") as f:
        for row in X:
            f.write(",".join(repr(float(v)) for v in row))
            f.write("\n")


def serialise(model, fmt, path):
    kind, protocol, _ext, compress = FORMATS[fmt]
    if kind == "pickle":
        with open(path, "wb") as f:
            f.write(pickle.dumps(model, protocol=protocol))
    else:
        joblib.dump(model, path, compress=compress)


def has_predict_proba(model):
    try:
        model.predict_proba
    except AttributeError:
        return False
    return True


def json_value(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def write_outputs(outdir, datasets, fitted, formats_for, extra_meta=None):
    """formats_for(Fitted) -> list of format names."""
    if os.path.isdir(outdir):
        for sub in ("models", "inputs", "expected"):
            shutil.rmtree(os.path.join(outdir, sub), ignore_errors=True)
    for sub in ("models", "inputs", "expected"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)

    for ds, (X, _y) in datasets.items():
        write_csv(os.path.join(outdir, "inputs", ds + ".csv"), X)

    cases = []
    for fm in fitted:
        exp = expected_answers(fm.model, fm.X_pred)
        exp_rel = "expected/%s.json" % fm.model_id
        with open(os.path.join(outdir, exp_rel), "w") as f:
            json.dump(exp, f, allow_nan=False, separators=(",", ":"))
            f.write("\n")
        classes = [json_value(c) for c in fm.model.classes_.tolist()]
        for fmt in formats_for(fm):
            kind, protocol, ext, _c = FORMATS[fmt]
            rel = "models/%s__%s.%s" % (fm.model_id, fmt, ext)
            serialise(fm.model, fmt, os.path.join(outdir, rel))
            cases.append({
                "file": rel,
                "model_id": fm.model_id,
                "estimator": fm.estimator,
                "format": kind,
                "protocol": protocol,
                "input": "inputs/%s.csv" % fm.dataset,
                "expected": exp_rel,
                "n_features": int(fm.model.n_features_in_),
                "classes": classes,
                "has_predict_proba": has_predict_proba(fm.model),
                # informational
                "dataset": fm.dataset,
                "label_type": fm.label_type,
                "classes_dtype": fm.model.classes_.dtype.str,
                "coef_dtype": np.asarray(fm.model.coef_).dtype.str,
                "feature_names": fm.feature_names,
            })

    manifest = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "joblib_version": joblib.__version__,
        "python_version": platform.python_version(),
    }
    if extra_meta:
        manifest.update(extra_meta)
    manifest["cases"] = cases
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        f.write(dumps_manifest(manifest))
    return manifest


def dumps_manifest(manifest):
    """JSON with one case per line (readable diffs, small files)."""
    head = {k: v for k, v in manifest.items() if k != "cases"}
    lines = ["{"]
    for k, v in head.items():
        lines.append(" %s: %s," % (json.dumps(k), json.dumps(v, allow_nan=False)))
    lines.append(' "cases": [')
    cases = manifest["cases"]
    for i, case in enumerate(cases):
        sep = "," if i + 1 < len(cases) else ""
        lines.append("  " + json.dumps(case, allow_nan=False) + sep)
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


# models that are additionally written with every joblib compressor
EXTRA_COMPRESSOR_MODELS = {
    "challenge-int-LogisticRegression",
    "challenge-str-SGDClassifier_log_loss",
    "multiclass-str-LogisticRegression",
    "multiclass-int-RidgeClassifier",
    "multiclass-float-LinearSVC",
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--challenge-dir", default=DEFAULT_CHALLENGE_DIR,
                    help="folder with x_test.csv / y_test.csv (default: %(default)s)")
    ap.add_argument("--challenge-rows", type=int, default=3000)
    ap.add_argument("--multiclass-rows", type=int, default=600)
    args = ap.parse_args(argv)

    datasets = {
        "challenge": load_challenge(args.challenge_dir, args.challenge_rows),
        "multiclass": load_multiclass(args.multiclass_rows),
    }
    fitted = build_matrix(datasets)

    def formats_for(fm):
        fmts = list(DEFAULT_FORMATS)
        if fm.model_id in EXTRA_COMPRESSOR_MODELS:
            fmts += EXTRA_COMPRESSORS
        return fmts

    manifest = write_outputs(args.outdir, datasets, fitted, formats_for)
    print("%d fitted models, %d files written to %s (scikit-learn %s, numpy %s, joblib %s)"
          % (len(fitted), len(manifest["cases"]), args.outdir, sklearn.__version__,
             np.__version__, joblib.__version__))


if __name__ == "__main__":
    main()

"""The matrix layout shared by the text and transformer generators: each model in every
container skserve reads, its inputs as JSON (documents as they are, numbers as Python's repr
writes them, null for a missing value), and scikit-learn's answers to each input: `predict`,
`predict_proba`, `decision_function` and `transform` where the model has them (and
`score_samples` where the generator asks for it), a sparse `transform` made dense, or the
error scikit-learn raised, with each row's own error.

    OUTDIR/manifest.json          versions and one case per file
    OUTDIR/models/<id>__<format>.pkl|.joblib
    OUTDIR/inputs/<name>.json     {"columns": [...], "rows": [[...], ...]}, {"documents": [...]}
                                  or {"mappings": [{feature: value, ...}, ...]}
    OUTDIR/expected/<id>.json     {"chain", "classes", "answers": {input: {method: values}}}
"""

import json
import os
import pickle
import platform
import warnings

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp
import sklearn

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

METHODS = ("predict", "predict_proba", "decision_function", "transform")


def chain(est):
    """The estimator chain skserve reports: every step, outermost first."""
    name = type(est).__name__
    if name == "Pipeline":
        out = []
        for _, step in est.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            out += chain(step)
        return out
    return [name]


def dense(values):
    if sp.issparse(values):
        values = values.toarray()
    values = np.asarray(values)
    return values.tolist()


def answers(model, X, methods=METHODS):
    """Every method of `methods` the model has, on all of X; or the error and each row's
    own."""
    out = {}
    for method in methods:
        if not hasattr(model, method):
            continue
        try:
            out[method] = dense(getattr(model, method)(X))
        except (ValueError, TypeError) as e:
            rows = []
            for i in range(len(X)):
                # The row twice: scikit-learn 1.9's SparsePCA gives one row back as a 1-D
                # array, which the next step refuses whatever the row holds.
                one = [X[i], X[i]] if isinstance(X, list) else X.iloc[[i, i]]
                try:
                    getattr(model, method)(one)
                    rows.append(None)
                except (ValueError, TypeError) as row_error:
                    rows.append(str(row_error).splitlines()[0])
            return {"error": str(e).splitlines()[0], "row_errors": rows}
    return out


def serialise(model, fmt, path):
    kind, protocol, _ = FORMATS[fmt]
    if kind == "pickle":
        with open(path, "wb") as f:
            pickle.dump(model, f, protocol=protocol)
    else:
        joblib.dump(model, path, compress=3 if kind == "joblib-zlib" else 0)


def finite_or_none(v):
    return None if isinstance(v, float) and np.isnan(v) else v


def write_input(outdir, name, data):
    """Documents (a list of str), rows of named features (a list of dicts, of lists of
    strings, or of (name, value) pairs: each written as the object a client sends, a row of
    strings as {"tokens": [...]}) or a DataFrame, as JSON."""
    if isinstance(data, list) and data and not isinstance(data[0], str):
        payload = {"mappings": [
            row if isinstance(row, dict)
            else {"tokens": row} if row and all(isinstance(s, str) for s in row)
            else dict(row)
            for row in data
        ]}
    elif isinstance(data, list):
        payload = {"documents": data}
    else:
        payload = {
            "columns": list(data.columns),
            "rows": [[finite_or_none(v.item() if hasattr(v, "item") else v) for v in row]
                     for row in data.itertuples(index=False)],
        }
    with open(os.path.join(outdir, "inputs", name + ".json"), "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, allow_nan=False)
    return "inputs/%s.json" % name


def write_matrix(outdir, cases, inputs, what, methods=METHODS):
    """`cases`: (model_id, fitted model, [input names]); `inputs`: {name: documents or
    DataFrame}; `methods`: what is asked of each model that has it."""
    for sub in ("models", "inputs", "expected"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    manifest_inputs = {name: write_input(outdir, name, data) for name, data in inputs.items()}
    entries = []
    for model_id, model, scored_on in cases:
        expected = {"chain": ">".join(chain(model)), "answers": {}}
        for name in scored_on:
            expected["answers"][name] = answers(model, inputs[name], methods)
        classes = getattr(model, "classes_", None)
        expected["classes"] = None if classes is None else np.asarray(classes).tolist()
        with open(os.path.join(outdir, "expected", model_id + ".json"), "w") as f:
            json.dump(expected, f, allow_nan=False)
        for fmt, (_, protocol, ext) in FORMATS.items():
            rel = "models/%s__%s.%s" % (model_id, fmt, ext)
            serialise(model, fmt, os.path.join(outdir, rel))
            entries.append({"file": rel, "model_id": model_id, "format": fmt, "protocol": protocol,
                            "estimator": type(model).__name__, "expected": "expected/%s.json" % model_id})
    manifest = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "python_version": platform.python_version(),
        "inputs": manifest_inputs,
        "cases": entries,
    }
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d %s, %d files in %s (scikit-learn %s, numpy %s)" % (
        len(cases), what, len(entries), outdir, sklearn.__version__, np.__version__))

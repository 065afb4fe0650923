#!/usr/bin/env python3
"""The census: walk scikit-learn's `all_estimators()`, fit a small instance of every class
that predicts or transforms new rows, and write it next to scikit-learn's answers, for
tests/model/census.rs to load each through skserve, compare, and write the support matrix of
docs/models.md.

    target/sk1.9-venv/bin/python tests/python/census/make_census.py OUTDIR

The instance is the one scikit-learn's own common tests build (`_construct_instances`: the
defaults, or the smallest required arguments such as a meta-estimator's inner estimator),
fitted on iris (classifiers, clusters, transformers and outlier detectors) or diabetes
(regressors), two targets where the class takes only several. A class is counted when it
has `predict`, `predict_proba`, `decision_function`, `score_samples` or `transform`; one that
only fits (`fit_predict`, `fit_transform`) is listed apart, and so is one whose input is not
rows of numbers (text, labels, images), with the reason. A class that takes rows of named
features (DictVectorizer, FeatureHasher) is fitted on iris's rows as mappings (each column by
name, and a string feature), its input written as {"mappings": [...]}.

Layout:

    OUTDIR/manifest.json        versions, and one entry per class: its name, its module, and
                                either its files or why it was not fitted
    OUTDIR/models/<Class>.pkl   pickle protocol 5
    OUTDIR/inputs/<Class>.json  the rows scored
    OUTDIR/expected/<Class>.json  each output's answer, by skserve's names
"""

import json
import os
import pickle
import platform
import sys
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_diabetes, load_iris
from sklearn.utils import all_estimators
from sklearn.utils._tags import get_tags
from sklearn.utils._testing import set_random_state
from sklearn.utils._test_common.instance_generator import _construct_instances

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "estimators"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "meta"))
from make_estimators import METHODS, split  # noqa: E402
from make_meta import plain  # noqa: E402  (a NaN answer as null: IsotonicRegression's out_of_bounds="nan")

warnings.simplefilter("ignore")


def data():
    iris_X, iris_y = load_iris(return_X_y=True)
    diab_X, diab_y = load_diabetes(return_X_y=True)
    return {"iris": split(iris_X, iris_y), "diabetes": split(diab_X[:240], diab_y[:240])}


# Classes that take categories: whole numbers, and only rows whose categories were seen.
CATEGORICAL = {"CategoricalNB", "OneHotEncoder", "OrdinalEncoder", "TargetEncoder"}


def not_rows(tags):
    """Why the class's input is not rows of numbers, or None."""
    inp = tags.input_tags
    if tags.target_tags.one_d_labels or tags.target_tags.two_d_labels and not inp.two_d_array:
        return "it transforms labels, not rows"
    if inp.three_d_array:
        return "its input is images, not rows"
    if inp.string and not inp.two_d_array and not inp.dict:
        return "its input is text, not rows of numbers"
    return None


def as_mappings(X):
    """Rows of numbers as rows of named features (DictVectorizer's and FeatureHasher's input):
    each column by name, and a string feature made of the first."""
    return [dict({"x%d" % j: float(v) for j, v in enumerate(row)}, kind="wide" if row[0] > 5.5 else "narrow")
            for row in X]


def fitted(name, model, tags, sets):
    """Fits `model` on the data its tags ask for; returns (the model, the rows scored)."""
    classifier = tags.classifier_tags is not None
    regressor = tags.regressor_tags is not None
    X, scored, y = sets["diabetes" if regressor else "iris"]
    if classifier and not tags.classifier_tags.multi_class:
        y = (y == 0).astype(int)
    if not tags.target_tags.single_output:
        y = np.column_stack([y, (y % 2 if classifier else X[:, 0] * 100.0 + y * 0.5)])
        y = y.astype(int) if classifier else y
    if name == "ClassifierChain":
        # A chain of binary links (multi-label targets), the chain scikit-learn's
        # decision_function can stack: a multiclass link's scores do not fit its one column.
        y = np.column_stack([y[:, 0] == 0, y[:, 1]]).astype(int)
    if name == "LocalOutlierFactor":
        # The instance a user deploys: with novelty=False it answers only for its own rows.
        model.set_params(novelty=True)
    if name in CATEGORICAL:
        X = np.floor(X)
        scored = X[::3]
    if not tags.input_tags.two_d_array and tags.input_tags.one_d_array:
        X, scored = X[:, :1], scored[:, :1]
    if tags.input_tags.pairwise:
        # A linear kernel: rows against the training rows.
        X, scored = X @ X.T, scored @ X.T
    # A random component (Nystroem's, a sketch's hashes) drawn the same on every run, as
    # scikit-learn's own common tests draw it, so that the census is the same each time.
    set_random_state(model, 0)
    if tags.input_tags.dict:
        X, scored = as_mappings(X), as_mappings(scored)
    model.fit(X, y)
    return model, scored


def answers(model, X):
    """Every output scikit-learn gives for X, by skserve's names; sparse answers made dense,
    several targets' arrays (a list, one per target) side by side as skserve gives them. An
    output scikit-learn refuses for these rows is left out."""
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
        if isinstance(result, list):
            result = np.hstack([np.asarray(r).reshape(len(X), -1) for r in result])
        out[method] = plain(np.asarray(result).tolist())
    try:
        if "return_std" in model.predict.__code__.co_varnames:
            out["predict_std"] = plain(np.asarray(model.predict(X, return_std=True)[1]).tolist())
    except (AttributeError, TypeError):
        pass
    return out


def main():
    outdir = sys.argv[1]
    for sub in ("models", "inputs", "expected"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    sets = data()
    entries = []
    for name, cls in all_estimators():
        entry = {"class": name, "module": cls.__module__.split("._")[0]}
        entries.append(entry)
        if not any(hasattr(cls, m) for m in METHODS):
            entry["apart"] = "it only fits: nothing in it predicts or transforms new rows"
            continue
        try:
            model = next(iter(_construct_instances(cls)))
            tags = get_tags(model)
        except Exception as e:  # noqa: BLE001 - a class scikit-learn cannot build is recorded
            entry["unfitted"] = "scikit-learn builds no instance: %s" % e
            continue
        reason = not_rows(tags)
        if reason:
            entry["apart"] = reason
            continue
        try:
            model, scored = fitted(name, model, tags, sets)
            try:
                outputs = answers(model, scored)
            except ValueError:
                # Rows off the data that it cannot answer (no neighbour within the radius).
                scored = scored[:-20]
                outputs = answers(model, scored)
            expected = json.dumps({"outputs": outputs}, allow_nan=False)
        except Exception as e:  # noqa: BLE001 - recorded, the class counted as not served
            entry["unfitted"] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:160] if str(e) else "")
            continue
        entry.update(file="models/%s.pkl" % name, input="inputs/%s.json" % name,
                     expected="expected/%s.json" % name)
        with open(os.path.join(outdir, entry["file"]), "wb") as f:
            pickle.dump(model, f, protocol=5)
        with open(os.path.join(outdir, entry["input"]), "w") as f:
            json.dump({"mappings": scored} if isinstance(scored, list) else scored.tolist(), f)
        with open(os.path.join(outdir, entry["expected"]), "w") as f:
            f.write(expected)
    manifest = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "classes": entries,
    }
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d classes, %d fitted in %s (scikit-learn %s)" % (
        len(entries), sum("file" in e for e in entries), outdir, sklearn.__version__))


if __name__ == "__main__":
    main()

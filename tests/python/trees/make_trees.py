#!/usr/bin/env python3
"""Fit the tree matrix with the installed scikit-learn and write each model, in every
container skserve reads, next to scikit-learn's own answers, in the Pipeline matrix's layout
(tests/python/pipelines/make_pipelines.py, whose data, containers and scoring it shares).

    python make_trees.py OUTDIR

Every tree estimator skserve serves, alone on the numeric columns (with their NaNs, where
the version fits them; otherwise on the complete rows, so that a NaN at predict time shows
what that version does with it) and as a Pipeline's last step behind string columns. Besides
the shared inputs, each model is scored on rows of its own: every threshold of its trees
exactly, and one float64 ulp either side.
"""

import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
from make_pipelines import (  # noqa: E402
    CATEGORICAL,
    NUMERIC,
    VERSION,
    preprocess,
    write_matrix,
)

if VERSION < (1, 4):
    from sklearn.experimental import enable_hist_gradient_boosting  # noqa: F401
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor  # noqa: E402

warnings.simplefilter("ignore")

MONTH = NUMERIC.index("month")


def hgb_classifier(**kw):
    return HistGradientBoostingClassifier(max_iter=15, max_leaf_nodes=8, random_state=0, **kw)


def hgb_regressor(**kw):
    return HistGradientBoostingRegressor(max_iter=15, max_leaf_nodes=8, random_state=0, **kw)


def ordinal_then(model):
    """Strings ordinal-encoded (an unknown one as -1, a missing one as NaN), numbers passed
    through."""
    return make_pipeline(ColumnTransformer([
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL),
        ("num", "passthrough", NUMERIC),
    ]), model)


def models():
    """(id, target, factory, on the numeric columns alone) of every model of the matrix."""
    forest = dict(n_estimators=8, max_depth=6, random_state=0)
    boost = dict(n_estimators=12, max_depth=3, random_state=0)
    return [
        ("decision_tree_binary", "binary", lambda: DecisionTreeClassifier(max_depth=6, random_state=0), True),
        ("decision_tree_multi", "multi", lambda: DecisionTreeClassifier(max_depth=7, criterion="entropy", random_state=0), True),
        ("decision_tree_regressor", "value", lambda: DecisionTreeRegressor(max_depth=6, random_state=0), True),
        ("decision_tree_two_outputs", "two", lambda: DecisionTreeRegressor(max_depth=5, random_state=0), True),
        ("decision_tree_two_labels", "two_labels", lambda: DecisionTreeClassifier(max_depth=6, random_state=0), True),
        ("extra_tree_two_classes", "two_classes", lambda: ExtraTreeClassifier(max_depth=6, random_state=0), True),
        ("extra_tree_multi", "multi", lambda: ExtraTreeClassifier(max_depth=6, random_state=0), True),
        ("extra_tree_regressor", "value", lambda: ExtraTreeRegressor(max_depth=6, random_state=0), True),
        ("random_forest_binary", "binary", lambda: RandomForestClassifier(**forest), True),
        ("random_forest_multi", "multi", lambda: RandomForestClassifier(**forest), True),
        ("random_forest_two_labels", "two_labels", lambda: RandomForestClassifier(**forest), True),
        ("random_forest_two_classes", "two_classes", lambda: RandomForestClassifier(**forest), True),
        ("random_forest_regressor", "value", lambda: RandomForestRegressor(**forest), True),
        ("random_forest_two_outputs", "two", lambda: RandomForestRegressor(**forest), True),
        ("extra_trees_multi", "multi", lambda: ExtraTreesClassifier(**forest), True),
        # Unbounded depth: trees of more than 64 leaves, which skserve walks rather than masks.
        ("random_forest_deep_multi", "multi", lambda: RandomForestClassifier(n_estimators=4, random_state=0), True),
        ("decision_tree_deep_regressor", "value", lambda: DecisionTreeRegressor(random_state=0), True),
        ("extra_trees_two_labels", "two_labels", lambda: ExtraTreesClassifier(**forest), True),
        ("extra_trees_regressor", "value", lambda: ExtraTreesRegressor(**forest), True),
        ("gradient_boosting_binary", "binary", lambda: GradientBoostingClassifier(**boost), True),
        ("gradient_boosting_multi", "multi", lambda: GradientBoostingClassifier(**boost), True),
        ("gradient_boosting_exponential", "binary", lambda: GradientBoostingClassifier(loss="exponential", **boost), True),
        ("gradient_boosting_regressor", "value", lambda: GradientBoostingRegressor(**boost), True),
        ("gradient_boosting_huber", "value", lambda: GradientBoostingRegressor(loss="huber", **boost), True),
        ("gradient_boosting_quantile", "value", lambda: GradientBoostingRegressor(loss="quantile", alpha=0.8, **boost), True),
        ("gradient_boosting_init_zero", "binary", lambda: GradientBoostingClassifier(init="zero", **boost), True),
        ("gradient_boosting_init_tree", "value", lambda: GradientBoostingRegressor(init=DecisionTreeRegressor(max_depth=2), **boost), True),
        ("hist_gradient_boosting_binary", "binary", lambda: hgb_classifier(), True),
        ("hist_gradient_boosting_multi", "multi", lambda: hgb_classifier(), True),
        ("hist_gradient_boosting_regressor", "value", lambda: hgb_regressor(), True),
        ("hist_gradient_boosting_poisson", "positive", lambda: hgb_regressor(loss="poisson"), True),
        ("hist_gradient_boosting_absolute", "value", lambda: hgb_regressor(loss="absolute_error"), True),
        ("hist_gradient_boosting_quantile", "value", lambda: hgb_regressor(loss="quantile", quantile=0.8), True),
        ("hist_gradient_boosting_month_categorical", "multi", lambda: hgb_classifier(categorical_features=[MONTH]), True),
        ("pipeline_ohe_random_forest", "binary", lambda: make_pipeline(preprocess(), RandomForestClassifier(**forest)), False),
        ("pipeline_ohe_random_forest_two_labels", "two_labels", lambda: make_pipeline(preprocess(), RandomForestClassifier(**forest)), False),
        ("pipeline_ohe_gradient_boosting", "value", lambda: make_pipeline(preprocess(), GradientBoostingRegressor(**boost)), False),
        ("pipeline_ordinal_hist_categorical", "multi", lambda: ordinal_then(hgb_classifier(categorical_features=[0, 1])), False),
    ] + ([
        # The Gamma loss came in scikit-learn 1.3.
        ("hist_gradient_boosting_gamma", "positive", lambda: hgb_regressor(loss="gamma"), True),
    ] if VERSION >= (1, 3) else []) + ([
        # Categorical columns by their pandas dtype (1.4): fitted on `category` columns of
        # strings, through the model's own `_preprocessor`; scored on the shared frames.
        ("hist_gradient_boosting_from_dtype", "multi", lambda: hgb_classifier(categorical_features="from_dtype"), False),
    ] if VERSION >= (1, 4) else [])


def fitted_trees(model):
    """(feature, threshold) of every numeric split of the model's trees."""
    est = model.steps[-1][1] if hasattr(model, "steps") else model
    splits = []
    if hasattr(est, "_predictors"):
        for iteration in est._predictors:
            for predictor in iteration:
                nodes = predictor.nodes
                keep = (nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0) if "is_categorical" in nodes.dtype.names else nodes["is_leaf"] == 0
                splits += list(zip(nodes["feature_idx"][keep].tolist(), nodes["num_threshold"][keep].tolist()))
        return splits
    if hasattr(est, "tree_"):
        trees = [est]
    elif isinstance(getattr(est, "estimators_", None), np.ndarray):
        trees = list(est.estimators_.ravel())
    else:
        trees = list(est.estimators_)
    for tree in trees:
        t = tree.tree_
        keep = t.feature >= 0
        splits += list(zip(t.feature[keep].tolist(), t.threshold[keep].tolist()))
    return splits


def edge_rows(model, base, limit=60):
    """Rows on each threshold and one ulp either side (the first `limit` distinct splits)."""
    rows = []
    for feature, threshold in sorted(set(fitted_trees(model)))[:limit]:
        for value in (np.nextafter(threshold, -np.inf), threshold, np.nextafter(threshold, np.inf)):
            row = dict(base)
            row[NUMERIC[feature]] = float(value)
            rows.append(row)
    return pd.DataFrame(rows, columns=NUMERIC)


def fit(model, X, y):
    """Fits on every row, or on the complete ones where this version refuses missing values."""
    try:
        return model.fit(X, y)
    except ValueError:
        keep = X.notna().all(axis=1).to_numpy()
        return model.fit(X[keep], y[keep])


def fitted_models(train, ys, inputs, write_input):
    base = train[NUMERIC].median().to_dict()
    for model_id, target, factory, numeric_only in models():
        columns = NUMERIC if numeric_only else [c for c in train.columns if c != "empty"]
        fitted_on = train[columns]
        if model_id.endswith("_from_dtype"):
            fitted_on = fitted_on.astype({c: "category" for c in CATEGORICAL if c in columns})
        model = fit(factory(), fitted_on, ys[target])
        scored_on = {name: X[columns] for name, X in inputs.items()}
        if numeric_only:
            # Scored as built: pandas' own CSV parser may land an ulp away from the text.
            edges = "edges_" + model_id
            scored_on[edges] = edge_rows(model, base)
            write_input(edges, scored_on[edges])
        yield model_id, target, model, columns, scored_on


def main():
    write_matrix(sys.argv[1], fitted_models, "tree models")


if __name__ == "__main__":
    main()

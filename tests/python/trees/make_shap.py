#!/usr/bin/env python3
"""shap's TreeExplainer (path-dependent, no background data) on tree models of the 1.9 tree
matrix, for the TreeSHAP test: per row, each feature's value and the expected value of the
output skserve explains (a classifier forest's probability of the second class, or of the
predicted one for multiclass; a boosting model's raw value).

    target/shap-venv/bin/python tests/python/trees/make_shap.py MATRIX_DIR OUT.json
"""

import json
import os
import pickle
import sys

import numpy as np
import pandas as pd
import shap

MODELS = [
    "decision_tree_regressor",
    "random_forest_binary",
    "random_forest_multi",
    "random_forest_regressor",
    "extra_trees_regressor",
    "gradient_boosting_binary",
    "gradient_boosting_regressor",
    "hist_gradient_boosting_regressor",
    "hist_gradient_boosting_binary",
]


def main():
    matrix, out = sys.argv[1], sys.argv[2]
    # Read as text and converted by Python's float, exactly as written.
    rows = pd.read_csv(os.path.join(matrix, "inputs", "scored.csv"), dtype=str, keep_default_na=False)
    cases = []
    for model_id in MODELS:
        file = "models/%s__pickle-p5.pkl" % model_id
        with open(os.path.join(matrix, file), "rb") as f:
            model = pickle.load(f)
        X = rows[list(model.feature_names_in_)].apply(
            lambda column: column.map(lambda v: float(v) if v else np.nan)).dropna().iloc[:25]
        explainer = shap.TreeExplainer(model)
        values = np.asarray(explainer.shap_values(X))
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
        if values.ndim == 3:
            classes = np.asarray(model.predict(X))
            index = np.searchsorted(model.classes_, classes)
            column = np.ones(len(X), dtype=int) if values.shape[2] == 2 else index
            phi = values[np.arange(len(X)), :, column]
            base = expected[column]
        else:
            phi = values
            base = np.full(len(X), expected[0])
        cases.append({"file": file, "rows": X.to_numpy().tolist(), "phi": phi.tolist(),
                      "expected": base.tolist()})
    with open(out, "w") as f:
        json.dump({"shap_version": shap.__version__, "cases": cases}, f)
    print("%d TreeSHAP cases (shap %s) in %s" % (len(cases), shap.__version__, out))


if __name__ == "__main__":
    main()

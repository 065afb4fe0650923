#!/usr/bin/env python3
"""Fit the spline matrix with the installed scikit-learn: SplineTransformer with every
extrapolation ('error', 'constant', 'linear', 'continue', 'periodic') at degrees 1 to 5 (and
0), knots 'uniform', 'quantile' and given as an array, include_bias both ways, order 'F', and
from 1.3 on sparse_output, from 1.8 on handle_missing='zeros'; alone (its `transform`) and in
Pipelines before Ridge and LogisticRegression, and inside a ColumnTransformer. Each spline
alone is fitted on a grid of short decimals and scored on rows of it (some beyond the fitted
range, where 'error' refuses them), on rows inside the range, and on rows of its own: every base knot, the middle of every interval,
and values below, above and far beyond the knots (tests/python/transformers/matrix.py has the
layout).

    python make_splines.py OUTDIR
"""

import os
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from matrix import VERSION, write_matrix  # noqa: E402

IRIS = load_iris(as_frame=True)
IRIS_X = IRIS.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
IRIS_Y = IRIS.target.to_numpy()
DIABETES = load_diabetes(as_frame=True)

rng = np.random.RandomState(0)
ORDER = rng.permutation(len(IRIS_X))
FIT, SCORED = ORDER[:120], ORDER[120:]
IRIS_FIT = IRIS_X.iloc[FIT].reset_index(drop=True)
# Scored rows: beyond the training range on both sides, far out, and one training row.
IRIS_SCORED = IRIS_X.iloc[SCORED].reset_index(drop=True)
IRIS_SCORED.iloc[0] = [9.0, 5.0, 8.0, 3.0]
IRIS_SCORED.iloc[1] = [0.1, 0.1, 0.1, 0.1]
IRIS_SCORED.iloc[2] = IRIS_FIT.iloc[0].to_numpy()
IRIS_SCORED.iloc[3] = [1e6, -1e3, 7.0, 2.5]
IRIS_INSIDE = IRIS_SCORED.iloc[4:].reset_index(drop=True)
IRIS_MISSING = IRIS_INSIDE.iloc[:6].copy()
IRIS_MISSING.iloc[1, 2] = np.nan
IRIS_MISSING.iloc[4, 0] = np.nan

# The splines alone are fitted on a grid whose ranges divide evenly into their knots, so that
# every knot, every middle and every value beyond is a short decimal, as a client sends it,
# and uniform knots fall on the very values scored (a degree-0 basis jumps there).
GRID_COLUMNS = ["a", "b", "c", "d"]
GRID_RANGES = [(0.0, 60.0), (-20.0, 40.0), (5.0, 65.0), (-60.0, 0.0)]


def grid(n, seed):
    r = np.random.RandomState(seed)
    columns = {name: (r.uniform(lo, hi, size=n) * 4).round() / 4 for name, (lo, hi) in zip(GRID_COLUMNS, GRID_RANGES)}
    frame = pd.DataFrame(columns)
    frame.iloc[0] = [lo for lo, _ in GRID_RANGES]
    frame.iloc[1] = [hi for _, hi in GRID_RANGES]
    return frame


GRID_FIT = grid(120, 1)
# Scored rows: beyond the training range on both sides, far out, and one training row.
GRID_SCORED = grid(30, 2)
GRID_SCORED.iloc[0] = [75.0, -30.0, 66.5, 2.0]
GRID_SCORED.iloc[1] = [-0.5, 41.0, -100.0, -61.0]
GRID_SCORED.iloc[2] = GRID_FIT.iloc[5].to_numpy()
GRID_SCORED.iloc[3] = [1e6, -1e3, 7.0, -2.5]
GRID_INSIDE = GRID_SCORED.iloc[4:].reset_index(drop=True)
GRID_MISSING = GRID_INSIDE.iloc[:6].copy()
GRID_MISSING.iloc[1, 2] = np.nan
GRID_MISSING.iloc[4, 0] = np.nan

# Base knots given as an array: uneven, wider than the data on one side.
ARRAY_KNOTS = np.array([
    [-5.0, -20.0, 5.0, -70.0],
    [12.5, 2.0, 20.0, -30.0],
    [30.0, 10.5, 50.0, -12.0],
    [61.0, 40.0, 80.0, 0.0],
])

DIABETES_FIT = DIABETES.data.iloc[:380]
DIABETES_SCORED = DIABETES.data.iloc[380:].reset_index(drop=True).round(12)
DIABETES_SCORED.iloc[0] = DIABETES_SCORED.iloc[0] * 4


def spline_models():
    """(id, SplineTransformer) of every spline scored alone."""
    out = []
    for extrapolation in ("error", "constant", "linear", "continue", "periodic"):
        for degree in range(1, 6):
            out.append(("%s_d%d" % (extrapolation, degree), SplineTransformer(
                n_knots=6, degree=degree, extrapolation=extrapolation, include_bias=degree % 2 == 1)))
        out.append(("%s_quantile" % extrapolation, SplineTransformer(
            n_knots=4, degree=3, knots="quantile", extrapolation=extrapolation, include_bias=False)))
        out.append(("%s_array" % extrapolation, SplineTransformer(
            degree=2, knots=ARRAY_KNOTS, extrapolation=extrapolation)))
    out += [
        ("continue_d0", SplineTransformer(n_knots=5, degree=0, extrapolation="continue")),
        ("constant_d0", SplineTransformer(n_knots=5, degree=0, extrapolation="constant")),
        ("linear_d0", SplineTransformer(n_knots=5, degree=0, extrapolation="linear")),
        ("order_f", SplineTransformer(n_knots=7, degree=3, order="F")),
    ]
    if VERSION >= (1, 3):
        out += [
            ("sparse_linear", SplineTransformer(n_knots=5, degree=3, extrapolation="linear", sparse_output=True)),
            ("sparse_periodic", SplineTransformer(n_knots=5, degree=2, extrapolation="periodic", sparse_output=True)),
        ]
    if VERSION >= (1, 8):
        out += [
            ("missing_zeros_constant", SplineTransformer(n_knots=5, degree=3, handle_missing="zeros")),
            ("missing_zeros_periodic", SplineTransformer(n_knots=5, degree=3, extrapolation="periodic", handle_missing="zeros")),
        ]
    return out


def knot_rows(spline):
    """Every base knot of every feature, the middle of every interval, and values below,
    above and far beyond the knots."""
    k = spline.degree
    bases = [s.t[k:len(s.t) - k] for s in spline.bsplines_]
    rows = []
    for r in range(len(bases[0])):
        rows.append([b[r] for b in bases])
    for r in range(len(bases[0]) - 1):
        rows.append([(b[r] + b[r + 1]) / 2 for b in bases])
    for where in (-0.25, -1.5, 1.2, 3.0, -40.0, 55.0):
        rows.append([b[0] + where * (b[-1] - b[0]) if where < 0 else b[-1] + (where - 1) * (b[-1] - b[0])
                     for b in bases])
    return pd.DataFrame(rows, columns=GRID_COLUMNS)


def main():
    iris = ["iris", "iris_inside", "iris_missing"]
    inputs = {"iris": IRIS_SCORED, "iris_inside": IRIS_INSIDE, "iris_missing": IRIS_MISSING,
              "grid": GRID_SCORED, "grid_inside": GRID_INSIDE, "grid_missing": GRID_MISSING,
              "diabetes": DIABETES_SCORED}
    cases = []
    for model_id, model in spline_models():
        model.fit(GRID_FIT)
        inputs["knots_" + model_id] = knot_rows(model)
        cases.append((model_id, model, ["grid", "grid_inside", "grid_missing", "knots_" + model_id]))
    lr = lambda: LogisticRegression(max_iter=5000)  # noqa: E731
    pipelines = [
        ("spline_logistic", make_pipeline(SplineTransformer(n_knots=4, degree=3), lr()), "iris"),
        ("spline_linear_logistic", make_pipeline(SplineTransformer(n_knots=5, degree=2, extrapolation="linear"), lr()), "iris"),
        ("spline_ridge", make_pipeline(SplineTransformer(n_knots=5, degree=3, extrapolation="continue", include_bias=False), Ridge(alpha=1e-3)), "diabetes"),
        ("ct_spline_logistic", make_pipeline(ColumnTransformer([
            ("spline", SplineTransformer(n_knots=5, degree=3, knots="quantile", extrapolation="periodic"), ["sepal_length", "petal_length"]),
            ("scale", StandardScaler(), ["sepal_width", "petal_width"]),
        ]), lr()), "iris"),
        ("scaler_spline_ridge", make_pipeline(StandardScaler(), SplineTransformer(n_knots=6, degree=4, extrapolation="constant"), Ridge()), "diabetes"),
    ]
    for model_id, model, data in pipelines:
        if data == "iris":
            model.fit(IRIS_FIT, IRIS_Y[FIT])
            cases.append((model_id, model, iris))
        else:
            model.fit(DIABETES_FIT, DIABETES.target.to_numpy()[:380])
            cases.append((model_id, model, ["diabetes"]))
    write_matrix(sys.argv[1], cases, inputs, "spline models")


if __name__ == "__main__":
    main()

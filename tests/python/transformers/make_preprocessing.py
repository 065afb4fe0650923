#!/usr/bin/env python3
"""Fit the preprocessing matrix with the installed scikit-learn: PowerTransformer (Yeo-Johnson
and Box-Cox, standardized or not), QuantileTransformer (uniform and normal output, fewer
quantiles than rows and more), KernelCenterer over an RBF kernel, and from 1.3 on
TargetEncoder (binary, multiclass and continuous targets; string and number categories; an
unseen category and a missing value; multiclass from 1.4 on), alone (their `transform`) and in Pipelines and
ColumnTransformers before linear models, on iris, diabetes and a frame with categorical
columns (tests/python/transformers/matrix.py has the layout). Missing values pass through
PowerTransformer and QuantileTransformer as NaN (written as null).

    python make_preprocessing.py OUTDIR
"""

import os
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    KernelCenterer,
    PowerTransformer,
    QuantileTransformer,
    StandardScaler,
)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import matrix  # noqa: E402
from matrix import VERSION, write_matrix  # noqa: E402

# Missing values come out of these transformers as NaN: JSON null, which the test reads as NaN.
_dense = matrix.dense


def _nulls(value):
    if isinstance(value, list):
        return [_nulls(v) for v in value]
    return None if isinstance(value, float) and value != value else value


matrix.dense = lambda values: _nulls(_dense(values))

IRIS = load_iris(as_frame=True)
IRIS_X = IRIS.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
IRIS_Y = IRIS.target.to_numpy()
DIABETES = load_diabetes(as_frame=True)
DIABETES_X = DIABETES.data
DIABETES_Y = DIABETES.target.to_numpy()

rng = np.random.RandomState(0)
IRIS_TRAIN = rng.permutation(len(IRIS_X))
IRIS_FIT, IRIS_SCORED = IRIS_TRAIN[:120], IRIS_TRAIN[120:]

IRIS_SCORED_X = IRIS_X.iloc[IRIS_SCORED].reset_index(drop=True)
# Beyond the training range, on a quantile, and far out.
IRIS_SCORED_X.iloc[0] = [9.0, 5.0, 8.0, 3.0]
IRIS_SCORED_X.iloc[1] = [0.1, 0.1, 0.1, 0.1]
IRIS_SCORED_X.iloc[2] = IRIS_X.iloc[IRIS_FIT[0]].to_numpy()
IRIS_SCORED_X.iloc[3] = [1e6, 1e-9, 7.0, 2.5]
IRIS_MISSING = IRIS_SCORED_X.iloc[:6].copy()
IRIS_MISSING.iloc[1, 2] = np.nan
IRIS_MISSING.iloc[4, 0] = np.nan
IRIS_NEGATIVE = IRIS_SCORED_X.iloc[:5].copy()
IRIS_NEGATIVE.iloc[2, 1] = -1.0
IRIS_NEGATIVE.iloc[3, 3] = 0.0

DIABETES_FIT = DIABETES_X.iloc[:380]
# Twelve decimals, as a client sends them: a 17-digit decimal may parse a bit away from the
# quantile it was printed from, and ties between quantiles are iris's to cover.
DIABETES_SCORED = DIABETES_X.iloc[380:].reset_index(drop=True).round(12)
DIABETES_SCORED.iloc[0] = 0.0
DIABETES_SCORED.iloc[1] = DIABETES_SCORED.iloc[1] * 10

KERNEL_FIT = IRIS_X.iloc[IRIS_FIT[:40]].to_numpy()
KERNEL_COLUMNS = ["k%d" % i for i in range(len(KERNEL_FIT))]


def kernel(rows):
    return pd.DataFrame(rbf_kernel(rows, KERNEL_FIT, gamma=0.3), columns=KERNEL_COLUMNS)


KINDS = np.array(["web", "paper", "tv", "radio", "mail"], dtype=object)


def shop(n, seed):
    """A frame with a string category, a number category and two numbers."""
    r = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "kind": KINDS[r.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])],
        "size": r.choice([1, 2, 3, 5], size=n).astype(np.int64),
        "price": r.lognormal(3.0, 0.5, size=n).round(2),
        "age": r.uniform(18, 80, size=n).round(0),
    })
    return frame


SHOP = shop(300, 1)
SHOP_CONTINUOUS = (SHOP["price"] * (SHOP["kind"] == "web") + SHOP["size"] * 3 + np.random.RandomState(2).normal(size=300)).to_numpy()
SHOP_BINARY = (SHOP_CONTINUOUS > np.median(SHOP_CONTINUOUS)).astype(np.int64)
SHOP_CLASSES = np.array(["low", "mid", "high"], dtype=object)[np.digitize(SHOP_CONTINUOUS, np.quantile(SHOP_CONTINUOUS, [1 / 3, 2 / 3]))]
SHOP_SCORED = shop(30, 3)
SHOP_SCORED.loc[0, "kind"] = "mail"       # never seen in training
SHOP_SCORED.loc[1, "size"] = 7            # never seen in training
SHOP_SCORED.loc[2, "kind"] = None         # missing, never seen in training


def models():
    """(id, factory, target, fit on, scored on) of every case."""
    iris = ["iris", "iris_missing"]
    lr = lambda: LogisticRegression(max_iter=5000)  # noqa: E731
    out = [
        ("power_yeo_johnson", lambda: PowerTransformer(), None, "diabetes", ["diabetes"]),
        ("power_yeo_johnson_raw", lambda: PowerTransformer(standardize=False), None, "diabetes", ["diabetes"]),
        ("power_yeo_johnson_iris", lambda: PowerTransformer(), None, "iris", iris),
        ("power_box_cox", lambda: PowerTransformer(method="box-cox"), None, "iris", iris + ["iris_negative"]),
        ("power_box_cox_raw", lambda: PowerTransformer(method="box-cox", standardize=False), None, "iris", iris),
        ("power_logistic", lambda: make_pipeline(PowerTransformer(), lr()), "species", "iris", iris),
        ("power_ridge", lambda: make_pipeline(PowerTransformer(standardize=False), Ridge()), "progression", "diabetes", ["diabetes"]),
        ("quantile_uniform", lambda: QuantileTransformer(n_quantiles=50), None, "diabetes", ["diabetes"]),
        ("quantile_uniform_iris", lambda: QuantileTransformer(n_quantiles=30), None, "iris", iris),
        ("quantile_normal", lambda: QuantileTransformer(output_distribution="normal", n_quantiles=1000), None, "iris", iris),
        ("quantile_normal_diabetes", lambda: QuantileTransformer(output_distribution="normal", n_quantiles=100), None, "diabetes", ["diabetes"]),
        ("quantile_ignore_zeros", lambda: QuantileTransformer(n_quantiles=20, ignore_implicit_zeros=True), None, "diabetes", ["diabetes"]),
        ("quantile_logistic", lambda: make_pipeline(QuantileTransformer(output_distribution="normal", n_quantiles=60), lr()), "species", "iris", iris),
        ("scaler_quantile_ridge", lambda: make_pipeline(StandardScaler(), QuantileTransformer(n_quantiles=40), Ridge()), "progression", "diabetes", ["diabetes"]),
        ("kernel_centerer", lambda: KernelCenterer(), None, "kernel", ["kernel"]),
        ("kernel_centerer_ridge", lambda: make_pipeline(KernelCenterer(), Ridge()), "kernel_target", "kernel", ["kernel"]),
        ("ct_power_quantile_logistic", lambda: make_pipeline(ColumnTransformer([
            ("power", PowerTransformer(method="box-cox"), ["sepal_length", "sepal_width"]),
            ("quantile", QuantileTransformer(n_quantiles=25, output_distribution="normal"), ["petal_length", "petal_width"]),
        ]), lr()), "species", "iris", ["iris"]),
    ]
    if VERSION >= (1, 3):
        from sklearn.preprocessing import TargetEncoder
        shop_in = ["shop"]
        categorical = ["kind", "size"]
        out += [
            ("target_binary", lambda: ColumnTransformer([("te", TargetEncoder(), categorical)]), "shop_binary", "shop", shop_in),
            ("target_multiclass", lambda: ColumnTransformer([("te", TargetEncoder(), categorical)]), "shop_classes", "shop", shop_in),
            ("target_continuous", lambda: ColumnTransformer([("te", TargetEncoder(smooth=5.0), categorical)]), "shop_continuous", "shop", shop_in),
            ("target_strings_alone", lambda: ColumnTransformer([("te", TargetEncoder(target_type="continuous"), ["kind"])]), "shop_continuous", "shop", shop_in),
            ("target_binary_logistic", lambda: make_pipeline(ColumnTransformer([
                ("te", TargetEncoder(), categorical),
                ("num", StandardScaler(), ["price", "age"]),
            ]), lr()), "shop_binary", "shop", shop_in),
            ("target_multiclass_logistic", lambda: make_pipeline(ColumnTransformer([
                ("te", TargetEncoder(), categorical),
                ("num", PowerTransformer(method="box-cox"), ["price", "age"]),
            ]), lr()), "shop_classes", "shop", shop_in),
            ("target_continuous_ridge", lambda: make_pipeline(ColumnTransformer([
                ("te", TargetEncoder(), categorical),
                ("num", QuantileTransformer(n_quantiles=50), ["price", "age"]),
            ]), Ridge()), "shop_continuous", "shop", shop_in),
        ]
        if VERSION < (1, 4):  # a multiclass target is 1.4's
            out = [case for case in out if "multiclass" not in case[0]]
    return out


def main():
    kernel_train = kernel(KERNEL_FIT)
    targets = {
        "species": IRIS_Y[IRIS_FIT], "progression": DIABETES_Y[:380],
        "kernel_target": IRIS_X["petal_width"].to_numpy()[IRIS_FIT[:40]],
        "shop_binary": SHOP_BINARY, "shop_classes": SHOP_CLASSES, "shop_continuous": SHOP_CONTINUOUS,
    }
    train = {
        "iris": IRIS_X.iloc[IRIS_FIT].reset_index(drop=True), "diabetes": DIABETES_FIT,
        "kernel": kernel_train, "shop": SHOP,
    }
    inputs = {
        "iris": IRIS_SCORED_X, "iris_missing": IRIS_MISSING, "iris_negative": IRIS_NEGATIVE,
        "diabetes": DIABETES_SCORED, "kernel": kernel(IRIS_SCORED_X.iloc[:20].to_numpy()),
        "shop": SHOP_SCORED,
    }
    cases = []
    for model_id, factory, target, fit_on, scored_on in models():
        model = factory()
        X = train[fit_on]
        if target is None:
            model.fit(X)
        else:
            model.fit(X, targets[target])
        cases.append((model_id, model, scored_on))
    write_matrix(sys.argv[1], cases, inputs, "preprocessing models")


if __name__ == "__main__":
    main()

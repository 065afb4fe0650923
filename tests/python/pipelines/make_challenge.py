#!/usr/bin/env python3
"""The challenge data as the Pipelines people deploy, for the HTTP tests, the docs and the
benchmarks: the flight-delay rows of model-files/ turned back into their raw columns
(OPERA, TIPOVUELO, MES) and a ColumnTransformer(OneHotEncoder) + LogisticRegression fitted on
them; and a numeric SimpleImputer + StandardScaler + Ridge pipeline. Each is written with
scikit-learn's own answers for every row.

    python make_challenge.py OUTDIR [--model-files DIR]

    OUTDIR/challenge_pipeline.pkl      ColumnTransformer(OneHotEncoder) + LogisticRegression
    OUTDIR/challenge_rows.csv          OPERA,TIPOVUELO,MES for the 22,508 rows of x_test.csv
    OUTDIR/challenge_expected.csv      label,probability of the predicted class
    OUTDIR/ridge_pipeline.pkl          SimpleImputer + StandardScaler + Ridge over 8 numbers
    OUTDIR/ridge_rows.csv              10,000 rows of 8 numbers (header a..h), a few missing
    OUTDIR/ridge_expected.csv          one value per row
"""

import argparse
import json
import os
import pickle
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.simplefilter("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def challenge_frame(model_files):
    X = np.loadtxt(os.path.join(model_files, "x_test.csv"), delimiter=",")
    names = json.load(open(os.path.join(model_files, "features.json")))
    y = np.loadtxt(os.path.join(model_files, "y_test.csv"), dtype=int)
    groups = {}
    for i, name in enumerate(names):
        field, value = name.split("_", 1)
        groups.setdefault(field, []).append((i, value))
    frame = {}
    for field, columns in groups.items():
        index = [i for i, _ in columns]
        values = [v for _, v in columns]
        frame[field] = [values[j] for j in X[:, index].argmax(axis=1)]
    df = pd.DataFrame(frame)
    df["MES"] = df["MES"].astype(int)
    return df, y


def repr_float(v):
    return repr(float(v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--model-files", default=os.path.join(REPO, "model-files"))
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)

    df, y = challenge_frame(args.model_files)
    model = make_pipeline(
        ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), ["OPERA", "TIPOVUELO", "MES"])]),
        LogisticRegression(class_weight="balanced", max_iter=1000),
    ).fit(df, y)
    with open(os.path.join(args.outdir, "challenge_pipeline.pkl"), "wb") as f:
        pickle.dump(model, f, protocol=4)
    df.to_csv(os.path.join(args.outdir, "challenge_rows.csv"), index=False)
    proba = model.predict_proba(df)
    labels = model.predict(df)
    with open(os.path.join(args.outdir, "challenge_expected.csv"), "w") as f:
        for label, p in zip(labels, proba.max(axis=1)):
            f.write("%d,%s\n" % (label, repr_float(p)))

    rng = np.random.RandomState(0)
    n, width = 10_000, 8
    X = rng.normal(size=(n, width)) * rng.uniform(0.5, 20.0, size=width) + rng.uniform(-5, 5, size=width)
    X[rng.rand(n, width) < 0.02] = np.nan
    target = np.nan_to_num(X) @ rng.normal(size=width) + rng.normal(size=n)
    frame = pd.DataFrame(X, columns=list("abcdefgh"))
    ridge = make_pipeline(SimpleImputer(), StandardScaler(), Ridge(alpha=1.0)).fit(frame, target)
    with open(os.path.join(args.outdir, "ridge_pipeline.pkl"), "wb") as f:
        pickle.dump(ridge, f, protocol=4)
    frame.to_csv(os.path.join(args.outdir, "ridge_rows.csv"), index=False, float_format=repr_float)
    with open(os.path.join(args.outdir, "ridge_expected.csv"), "w") as f:
        for v in ridge.predict(frame):
            f.write(repr_float(v) + "\n")
    print("challenge and ridge pipelines in %s" % args.outdir)


if __name__ == "__main__":
    main()

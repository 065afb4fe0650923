#!/usr/bin/env python3
"""Fit the transformer matrix with the installed scikit-learn: PCA (every solver, whitened or
not, a fraction of variance), IncrementalPCA, TruncatedSVD, Normalizer, Binarizer and
PolynomialFeatures (degrees, ranges of degrees, interaction only, with and without bias),
KBinsDiscretizer (every strategy and encoding, float32), alone
(their `transform`) and in Pipelines before linear models, on numbers with a zero row, large
and tiny values and rows with a missing value (which scikit-learn refuses), and TruncatedSVD,
Normalizer and Binarizer after vectorizers on the text matrix's documents
(tests/python/transformers/matrix.py has the layout).

    python make_transformers.py OUTDIR
"""

import os
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA, IncrementalPCA, TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    KBinsDiscretizer,
    Normalizer,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "text"))
from make_text import LABELS, SCORED, TRAIN  # noqa: E402
from matrix import write_matrix  # noqa: E402

rng = np.random.RandomState(0)
COLUMNS = ["x%d" % i for i in range(6)]


def numbers(n, seed):
    r = np.random.RandomState(seed)
    base = r.normal(size=(n, 3))
    # Six correlated features of different scales, so that components are not axes.
    X = np.column_stack([
        base[:, 0], base[:, 0] * 2 + base[:, 1] * 0.1, base[:, 1] * 100, base[:, 2] - base[:, 0],
        r.uniform(0, 1, n), base[:, 2] * 1e-3 + r.normal(scale=1e-4, size=n),
    ])
    return pd.DataFrame(X, columns=COLUMNS)


TRAIN_X = numbers(200, 1)
TARGET = (TRAIN_X["x0"] + TRAIN_X["x3"] > 0).astype(np.int64).to_numpy()
REGRESSION = (TRAIN_X["x0"] * 3 - TRAIN_X["x2"] * 0.01 + TRAIN_X["x4"]).to_numpy()

SCORED_X = numbers(30, 2)
SCORED_X.iloc[0] = 0.0
SCORED_X.iloc[1] = [1e6, -1e6, 1e-9, 3.0, 0.5, -2e-12]
SCORED_X.iloc[2] = [-0.0, 0.0, 5.0, 0.0, 0.0, 0.0]
MISSING_X = numbers(6, 3)
MISSING_X.iloc[2, 1] = np.nan
MISSING_X.iloc[4, 5] = np.nan


def frame(n, seed):
    X = numbers(n, seed)
    X["kind"] = np.array(["web", "paper", "tv"] * (n // 3 + 1), dtype=object)[:n]
    return X


def models():
    """(id, factory, target, fit on, scored on) of every case."""
    num = ["numbers", "missing"]
    lr = lambda: LogisticRegression(max_iter=5000)  # noqa: E731
    out = [
        ("pca_full", lambda: PCA(n_components=3, svd_solver="full"), None, "numbers", num),
        ("pca_all_components", lambda: PCA(), None, "numbers", num),
        ("pca_whiten", lambda: PCA(n_components=4, whiten=True), None, "numbers", num),
        ("pca_arpack_whiten", lambda: PCA(n_components=2, svd_solver="arpack", whiten=True), None, "numbers", num),
        ("pca_randomized", lambda: PCA(n_components=3, svd_solver="randomized", random_state=0), None, "numbers", num),
        ("pca_fraction", lambda: PCA(n_components=0.95, svd_solver="full"), None, "numbers", num),
        ("pca_mle", lambda: PCA(n_components="mle", svd_solver="full"), None, "numbers", num),
        ("incremental_pca", lambda: IncrementalPCA(n_components=3, batch_size=64), None, "numbers", num),
        ("incremental_pca_whiten", lambda: IncrementalPCA(n_components=3, whiten=True), None, "numbers", num),
        ("truncated_svd", lambda: TruncatedSVD(n_components=3, random_state=0), None, "numbers", num),
        ("truncated_svd_arpack", lambda: TruncatedSVD(n_components=2, algorithm="arpack"), None, "numbers", num),
        ("normalizer_l2", lambda: Normalizer(), None, "numbers", num),
        ("normalizer_l1", lambda: Normalizer(norm="l1"), None, "numbers", num),
        ("normalizer_max", lambda: Normalizer(norm="max"), None, "numbers", num),
        ("binarizer", lambda: Binarizer(), None, "numbers", num),
        ("binarizer_threshold", lambda: Binarizer(threshold=0.3), None, "numbers", num),
        ("poly_2", lambda: PolynomialFeatures(), None, "numbers", num),
        ("poly_3_no_bias", lambda: PolynomialFeatures(degree=3, include_bias=False), None, "numbers", num),
        ("poly_3_interaction_only", lambda: PolynomialFeatures(degree=3, interaction_only=True), None, "numbers", num),
        ("poly_2_to_3", lambda: PolynomialFeatures(degree=(2, 3)), None, "numbers", num),
        ("poly_2_to_2_no_bias_interaction", lambda: PolynomialFeatures(degree=(2, 2), include_bias=False, interaction_only=True), None, "numbers", num),
        ("poly_0", lambda: PolynomialFeatures(degree=0), None, "numbers", num),
        ("scaler_poly_ridge", lambda: make_pipeline(StandardScaler(), PolynomialFeatures(degree=3), Ridge()), "rating", "numbers", num),
        ("poly_scaler_logistic", lambda: make_pipeline(PolynomialFeatures(degree=2, interaction_only=True), StandardScaler(), lr()), "binary", "numbers", num),
        ("kbins_quantile_onehot", lambda: KBinsDiscretizer(n_bins=5, strategy="quantile"), None, "numbers", num),
        ("kbins_uniform_ordinal", lambda: KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="uniform"), None, "numbers", num),
        ("kbins_kmeans_dense", lambda: KBinsDiscretizer(n_bins=3, encode="onehot-dense", strategy="kmeans"), None, "numbers", num),
        ("kbins_float32_ordinal", lambda: KBinsDiscretizer(n_bins=6, encode="ordinal", dtype=np.float32), None, "numbers", num),
        ("kbins_logistic", lambda: make_pipeline(KBinsDiscretizer(n_bins=4), lr()), "binary", "numbers", num),
        ("scaler_pca_logistic", lambda: make_pipeline(StandardScaler(), PCA(n_components=3), lr()), "binary", "numbers", num),
        ("pca_whiten_ridge", lambda: make_pipeline(PCA(n_components=4, whiten=True), Ridge()), "rating", "numbers", num),
        ("normalizer_logistic", lambda: make_pipeline(Normalizer(), lr()), "binary", "numbers", num),
        ("binarizer_logistic", lambda: make_pipeline(Binarizer(threshold=0.2), lr()), "binary", "numbers", num),
        ("ct_pca_onehot_logistic", lambda: make_pipeline(ColumnTransformer([
            ("pca", make_pipeline(StandardScaler(), PCA(n_components=2)), COLUMNS),
            ("kind", OneHotEncoder(handle_unknown="ignore"), ["kind"]),
        ]), lr()), "binary", "frame", ["frame"]),
        ("tfidf_svd_logistic", lambda: make_pipeline(TfidfVectorizer(), TruncatedSVD(n_components=5, random_state=0), lr()), "labels", "text", ["documents"]),
        ("tfidf_svd", lambda: make_pipeline(TfidfVectorizer(), TruncatedSVD(n_components=4, random_state=0)), None, "text", ["documents"]),
        ("tfidf_normalizer_logistic", lambda: make_pipeline(TfidfVectorizer(norm=None), Normalizer(norm="l1"), lr()), "labels", "text", ["documents"]),
        ("count_binarizer_logistic", lambda: make_pipeline(CountVectorizer(), Binarizer(threshold=1), lr()), "labels", "text", ["documents"]),
        ("count_normalizer_max", lambda: make_pipeline(CountVectorizer(), Normalizer(norm="max")), None, "text", ["documents"]),
    ]
    return out


def main():
    targets = {"binary": TARGET, "rating": REGRESSION, "labels": LABELS}
    train = {"numbers": TRAIN_X, "frame": frame(200, 1), "text": TRAIN}
    inputs = {"numbers": SCORED_X, "missing": MISSING_X, "frame": frame(30, 2), "documents": SCORED}
    cases = []
    for model_id, factory, target, fit_on, scored_on in models():
        model = factory()
        X = train[fit_on]
        if target is None:
            model.fit(X)
        else:
            y = targets[target]
            model.fit(X, y[:len(X)] if target != "labels" else y)
        cases.append((model_id, model, scored_on))
    write_matrix(sys.argv[1], cases, inputs, "transformer models")


if __name__ == "__main__":
    main()

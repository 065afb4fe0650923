#!/usr/bin/env python3
"""Fit the random projection and kernel approximation matrix with the installed scikit-learn:
GaussianRandomProjection, SparseRandomProjection (sparse components, dense when density is 1,
`dense_output`), Nystroem with every kernel `pairwise_kernels` names (their parameters set on
the estimator or through `kernel_params`, and a precomputed kernel), RBFSampler (also fitted
on float32, its weights then float32), SkewedChi2Sampler, AdditiveChi2Sampler (sample_steps 1 to 3 and a
sample_interval of its own) and PolynomialCountSketch (degrees, coef0, gamma), alone (their
`transform`) and in Pipelines before linear models and SVMs, on numbers (a zero row, large
and tiny values), non-negative numbers for the chi2 maps (signed rows, which scikit-learn
refuses there, and rows with a missing value, refused everywhere) and after vectorizers on
the text matrix's documents (sparse rows). tests/python/transformers/matrix.py has the layout.

    python make_projections.py OUTDIR
"""

import os
import sys

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.kernel_approximation import (
    AdditiveChi2Sampler,
    Nystroem,
    PolynomialCountSketch,
    RBFSampler,
    SkewedChi2Sampler,
)
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection
from sklearn.svm import SVC, LinearSVC

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "text"))
from make_text import LABELS, SCORED, TRAIN  # noqa: E402
from make_transformers import MISSING_X, REGRESSION, SCORED_X, TARGET, TRAIN_X  # noqa: E402
from matrix import write_matrix  # noqa: E402

POSITIVE_TRAIN = TRAIN_X.abs()
POSITIVE_X = SCORED_X.abs()

# A precomputed kernel: Nystroem fitted on the kernel of 40 rows among themselves, scored on
# the kernel of the scored rows against those 40.
KERNEL_ROWS = TRAIN_X.iloc[:40].to_numpy()
KERNEL_COLUMNS = ["k%d" % i for i in range(len(KERNEL_ROWS))]
KERNEL_TRAIN = pd.DataFrame(rbf_kernel(KERNEL_ROWS, gamma=0.1), columns=KERNEL_COLUMNS)
KERNEL_X = pd.DataFrame(rbf_kernel(SCORED_X.to_numpy(), KERNEL_ROWS, gamma=0.1), columns=KERNEL_COLUMNS)


# The chi2 kernels come after a scaler: scikit-learn 1.9's chi2 kernel raises on the
# read-only array a DataFrame gives it ("buffer source array is read-only").


def models():
    """(id, factory, target, fit on, scored on) of every case."""
    num = ["numbers", "missing"]
    pos = ["positive", "signed", "missing"]
    lr = lambda: LogisticRegression(max_iter=5000)  # noqa: E731
    rs = {"random_state": 0}
    out = [
        ("gaussian_rp", lambda: GaussianRandomProjection(n_components=4, **rs), None, "numbers", num),
        ("gaussian_rp_wide", lambda: GaussianRandomProjection(n_components=9, **rs), None, "numbers", num),
        ("sparse_rp", lambda: SparseRandomProjection(n_components=5, **rs), None, "numbers", num),
        ("sparse_rp_dense_output", lambda: SparseRandomProjection(n_components=5, density=0.5, dense_output=True, **rs), None, "numbers", num),
        ("sparse_rp_density_one", lambda: SparseRandomProjection(n_components=3, density=1.0, **rs), None, "numbers", num),
        ("scaler_gaussian_rp_logistic", lambda: make_pipeline(StandardScaler(), GaussianRandomProjection(n_components=4, **rs), lr()), "binary", "numbers", num),
        ("sparse_rp_ridge", lambda: make_pipeline(SparseRandomProjection(n_components=6, **rs), Ridge()), "rating", "numbers", num),
        ("tfidf_sparse_rp", lambda: make_pipeline(TfidfVectorizer(), SparseRandomProjection(n_components=8, **rs)), None, "text", ["documents"]),
        ("tfidf_sparse_rp_dense_output", lambda: make_pipeline(TfidfVectorizer(), SparseRandomProjection(n_components=8, dense_output=True, **rs)), None, "text", ["documents"]),
        ("tfidf_sparse_rp_logistic", lambda: make_pipeline(TfidfVectorizer(), SparseRandomProjection(n_components=10, **rs), lr()), "labels", "text", ["documents"]),
        ("tfidf_gaussian_rp_linear_svc", lambda: make_pipeline(TfidfVectorizer(), GaussianRandomProjection(n_components=10, **rs), LinearSVC()), "labels", "text", ["documents"]),
        ("nystroem_default", lambda: Nystroem(**rs), None, "numbers", num),
        ("nystroem_rbf", lambda: Nystroem(gamma=0.1, n_components=30, **rs), None, "numbers", num),
        ("nystroem_rbf_kernel_params", lambda: Nystroem(kernel_params={"gamma": 0.05}, n_components=20, **rs), None, "numbers", num),
        ("nystroem_poly", lambda: Nystroem(kernel="poly", degree=2, coef0=0.5, gamma=0.2, n_components=20, **rs), None, "numbers", num),
        ("nystroem_polynomial_params", lambda: make_pipeline(StandardScaler(), Nystroem(kernel="polynomial", kernel_params={"degree": 3, "coef0": 2.0}, n_components=15, **rs)), None, "numbers", num),
        ("nystroem_sigmoid", lambda: Nystroem(kernel="sigmoid", gamma=0.001, coef0=0.5, n_components=5, **rs), None, "numbers", num),
        ("nystroem_laplacian", lambda: Nystroem(kernel="laplacian", gamma=0.3, n_components=25, **rs), None, "numbers", num),
        ("nystroem_linear", lambda: Nystroem(kernel="linear", n_components=6, **rs), None, "numbers", num),
        ("nystroem_cosine", lambda: Nystroem(kernel="cosine", n_components=4, **rs), None, "numbers", num),
        ("nystroem_chi2", lambda: make_pipeline(StandardScaler(with_mean=False), Nystroem(kernel="chi2", gamma=0.5, n_components=20, **rs)), None, "positive", pos),
        ("nystroem_additive_chi2", lambda: make_pipeline(StandardScaler(with_mean=False), Nystroem(kernel="additive_chi2", n_components=20, **rs)), None, "positive", pos),
        ("nystroem_precomputed", lambda: Nystroem(kernel="precomputed", n_components=40, **rs), None, "kernel", ["kernel"]),
        ("scaler_nystroem_logistic", lambda: make_pipeline(StandardScaler(), Nystroem(gamma=0.2, n_components=40, **rs), lr()), "binary", "numbers", num),
        ("nystroem_poly_linear_svc", lambda: make_pipeline(StandardScaler(), Nystroem(kernel="poly", degree=2, n_components=30, **rs), LinearSVC()), "binary", "numbers", num),
        ("nystroem_ridge", lambda: make_pipeline(StandardScaler(), Nystroem(kernel="laplacian", n_components=30, **rs), Ridge()), "rating", "numbers", num),
        ("tfidf_nystroem_rbf", lambda: make_pipeline(TfidfVectorizer(), Nystroem(n_components=12, **rs)), None, "text", ["documents"]),
        ("tfidf_nystroem_logistic", lambda: make_pipeline(TfidfVectorizer(), Nystroem(kernel="cosine", n_components=12, **rs), lr()), "labels", "text", ["documents"]),
        ("rbf_sampler", lambda: RBFSampler(gamma=0.3, n_components=20, **rs), None, "numbers", num),
        ("rbf_sampler_default", lambda: RBFSampler(**rs), None, "numbers", num),
        ("rbf_sampler_float32", lambda: RBFSampler(gamma=0.1, n_components=12, **rs), None, "numbers32", num),
        ("scaler_rbf_sampler_sgd", lambda: make_pipeline(StandardScaler(), RBFSampler(gamma=0.5, n_components=50, **rs), SGDClassifier(**rs)), "binary", "numbers", num),
        ("scaler_rbf_sampler_svc", lambda: make_pipeline(StandardScaler(), RBFSampler(gamma=0.5, n_components=30, **rs), SVC(kernel="linear")), "binary", "numbers", num),
        ("tfidf_rbf_sampler_logistic", lambda: make_pipeline(TfidfVectorizer(), RBFSampler(gamma=1.0, n_components=40, **rs), lr()), "labels", "text", ["documents"]),
        ("skewed_chi2", lambda: SkewedChi2Sampler(skewedness=0.5, n_components=20, **rs), None, "positive", pos),
        ("skewed_chi2_wide", lambda: SkewedChi2Sampler(skewedness=400.0, n_components=10, **rs), None, "numbers", num),
        ("minmax_skewed_chi2_logistic", lambda: make_pipeline(MinMaxScaler(), SkewedChi2Sampler(skewedness=0.1, n_components=40, **rs), lr()), "binary", "numbers", num),
        ("additive_chi2_1", lambda: AdditiveChi2Sampler(sample_steps=1), None, "positive", pos),
        ("additive_chi2_2", lambda: AdditiveChi2Sampler(), None, "positive", pos),
        ("additive_chi2_3", lambda: AdditiveChi2Sampler(sample_steps=3), None, "positive", pos),
        ("additive_chi2_interval", lambda: AdditiveChi2Sampler(sample_steps=4, sample_interval=0.3), None, "positive", pos),
        ("additive_chi2_ridge", lambda: make_pipeline(AdditiveChi2Sampler(sample_steps=3), Ridge()), "rating", "positive", pos),
        ("count_additive_chi2", lambda: make_pipeline(CountVectorizer(), AdditiveChi2Sampler(sample_steps=3)), None, "text", ["documents"]),
        ("tfidf_additive_chi2_logistic", lambda: make_pipeline(TfidfVectorizer(), AdditiveChi2Sampler(), lr()), "labels", "text", ["documents"]),
        ("count_sketch", lambda: PolynomialCountSketch(n_components=16, **rs), None, "numbers", num),
        ("count_sketch_default", lambda: PolynomialCountSketch(**rs), None, "numbers", num),
        ("count_sketch_degree_3", lambda: PolynomialCountSketch(degree=3, coef0=1.0, gamma=0.5, n_components=32, **rs), None, "numbers", num),
        ("count_sketch_degree_1", lambda: PolynomialCountSketch(degree=1, coef0=2.0, n_components=8, **rs), None, "numbers", num),
        ("scaler_count_sketch_logistic", lambda: make_pipeline(StandardScaler(), PolynomialCountSketch(degree=2, n_components=30, **rs), lr()), "binary", "numbers", num),
        ("tfidf_count_sketch_logistic", lambda: make_pipeline(TfidfVectorizer(), PolynomialCountSketch(degree=2, coef0=1.0, n_components=64, **rs), lr()), "labels", "text", ["documents"]),
    ]
    return out


def main():
    targets = {"binary": TARGET, "rating": REGRESSION, "labels": LABELS}
    train = {"numbers": TRAIN_X, "numbers32": TRAIN_X.astype(np.float32), "positive": POSITIVE_TRAIN, "text": TRAIN, "kernel": KERNEL_TRAIN}
    inputs = {
        "numbers": SCORED_X, "missing": MISSING_X, "positive": POSITIVE_X, "signed": SCORED_X,
        "documents": SCORED, "kernel": KERNEL_X,
    }
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
    write_matrix(sys.argv[1], cases, inputs, "projection and kernel approximation models")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fit the decomposition matrix with the installed scikit-learn: FastICA (every `whiten` the
version takes), KernelPCA (linear, poly, rbf, sigmoid and cosine kernels, zero eigenvalues
removed), FactorAnalysis (fewer, all and default components, a rotation), SparsePCA (lars and
cd, more components than features), MiniBatchSparsePCA and RandomTreesEmbedding (sparse and
dense output), alone (`transform`, and
`score_samples` where they have it) and in Pipelines before linear models, on the transformer
matrix's numbers (tests/python/transformers/matrix.py has the layout). A variant this version
does not take (FastICA's `whiten=True` after its deprecation) is left out of its matrix.

    python make_decomposition.py OUTDIR
"""

import os
import sys

import numpy as np
from sklearn.decomposition import (
    PCA,
    FactorAnalysis,
    FastICA,
    KernelPCA,
    MiniBatchSparsePCA,
    SparsePCA,
)
from sklearn.ensemble import RandomTreesEmbedding
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from make_transformers import MISSING_X, REGRESSION, SCORED_X, TARGET, TRAIN_X  # noqa: E402
from matrix import METHODS, VERSION, write_matrix  # noqa: E402


def models():
    """(id, factory, target) of every case; every case is fitted on the numbers."""
    lr = lambda: LogisticRegression(max_iter=5000)  # noqa: E731
    scaled = lambda step: make_pipeline(StandardScaler(), step)  # noqa: E731
    ica = lambda whiten: FastICA(n_components=3, whiten=whiten, random_state=0, max_iter=1000)  # noqa: E731
    out = [
        ("fastica_unit_variance", lambda: ica("unit-variance"), None),
        ("fastica_arbitrary_variance", lambda: ica("arbitrary-variance"), None),
        ("fastica_no_whiten", lambda: FastICA(whiten=False, random_state=0, max_iter=1000), None),
        ("fastica_default", lambda: FastICA(n_components=4, random_state=0, max_iter=1000), None),
        ("kpca_linear", lambda: KernelPCA(n_components=3), None),
        ("kpca_poly", lambda: scaled(KernelPCA(n_components=4, kernel="poly", degree=2, gamma=0.5, coef0=1.0)), None),
        ("kpca_rbf", lambda: scaled(KernelPCA(n_components=5, kernel="rbf")), None),
        ("kpca_rbf_gamma", lambda: scaled(KernelPCA(n_components=3, kernel="rbf", gamma=0.05)), None),
        ("kpca_sigmoid", lambda: scaled(KernelPCA(n_components=3, kernel="sigmoid", gamma=0.01, coef0=0.5)), None),
        ("kpca_cosine", lambda: KernelPCA(n_components=3, kernel="cosine"), None),
        ("kpca_remove_zero_eig", lambda: scaled(KernelPCA(kernel="linear", remove_zero_eig=True)), None),
        ("kpca_arpack", lambda: scaled(KernelPCA(n_components=2, kernel="rbf", eigen_solver="arpack")), None),
        ("factor_analysis", lambda: scaled(FactorAnalysis(n_components=2, random_state=0)), None),
        ("factor_analysis_all", lambda: FactorAnalysis(n_components=6, random_state=0), None),
        ("factor_analysis_default", lambda: scaled(FactorAnalysis(random_state=0)), None),
        ("factor_analysis_varimax", lambda: scaled(FactorAnalysis(n_components=2, rotation="varimax", random_state=0)), None),
        ("factor_analysis_lapack", lambda: scaled(FactorAnalysis(n_components=2, svd_method="lapack")), None),
        ("sparse_pca", lambda: SparsePCA(n_components=3, random_state=0), None),
        ("sparse_pca_cd", lambda: scaled(SparsePCA(n_components=4, method="cd", alpha=0.5, ridge_alpha=0.1, random_state=0)), None),
        ("sparse_pca_more_components", lambda: scaled(SparsePCA(n_components=8, random_state=0)), None),
        ("minibatch_sparse_pca", lambda: scaled(MiniBatchSparsePCA(n_components=3, batch_size=20, random_state=0)), None),
        ("pca_score_whiten", lambda: scaled(PCA(n_components=3, whiten=True)), None),
        ("pca_score_four", lambda: scaled(PCA(n_components=4)), None),
        ("pca_score_randomized", lambda: PCA(n_components=2, svd_solver="randomized", random_state=0), None),
        ("scaler_fastica_logistic", lambda: make_pipeline(StandardScaler(), ica("unit-variance"), lr()), "binary"),
        ("scaler_kpca_logistic", lambda: make_pipeline(StandardScaler(), KernelPCA(n_components=4, kernel="rbf"), lr()), "binary"),
        ("factor_analysis_ridge", lambda: make_pipeline(StandardScaler(), FactorAnalysis(n_components=3, random_state=0), Ridge()), "rating"),
        ("sparse_pca_logistic", lambda: make_pipeline(StandardScaler(), SparsePCA(n_components=3, random_state=0), lr()), "binary"),
    ]
    out += [
        ("trees_embedding", lambda: RandomTreesEmbedding(n_estimators=5, max_depth=3, random_state=0), None),
        ("trees_embedding_dense", lambda: RandomTreesEmbedding(n_estimators=4, max_depth=4, sparse_output=False, random_state=0), None),
        ("trees_embedding_logistic", lambda: make_pipeline(RandomTreesEmbedding(n_estimators=10, max_depth=3, random_state=0), lr()), "binary"),
    ]
    if VERSION < (1, 3):
        out.append(("fastica_true", lambda: FastICA(n_components=3, whiten=True, random_state=0), None))
    return out


def main():
    targets = {"binary": TARGET, "rating": REGRESSION}
    inputs = {"numbers": SCORED_X, "missing": MISSING_X}
    cases = []
    for model_id, factory, target in models():
        model = factory()
        if target is None:
            model.fit(TRAIN_X)
        else:
            model.fit(TRAIN_X, targets[target])
        cases.append((model_id, model, ["numbers", "missing"]))
    write_matrix(sys.argv[1], cases, inputs, "decomposition models", METHODS + ("score_samples",))


if __name__ == "__main__":
    main()

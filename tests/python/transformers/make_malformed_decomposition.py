#!/usr/bin/env python3
"""Write the malformed decomposition files of tests/fixtures/malformed_decomposition/: each a
real FastICA, KernelPCA, FactorAnalysis, SparsePCA, MiniBatchSparsePCA, PCA or
RandomTreesEmbedding fitted by
scikit-learn with one attribute edited (wrong shape, not finite, an unknown kernel or
`whiten`, a negative variance or eigenvalue, a zero noise variance, a count too large to
hold), a KernelPCA on a precomputed kernel, and manifest.json saying what the refusal must
name: the class and the attribute, or the reason.

    target/sk1.9-venv/bin/python tests/python/transformers/make_malformed_decomposition.py \
        tests/fixtures/malformed_decomposition
"""

import os
import sys
import warnings

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
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "pipelines"))
from make_malformed import write  # noqa: E402
from make_malformed_transformers import edited, with_nan  # noqa: E402

warnings.simplefilter("ignore")

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 5))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
HUGE = 10**15


def ica(**kw):
    return FastICA(n_components=3, random_state=0, max_iter=1000, **kw).fit(X)


def kpca(**kw):
    return KernelPCA(n_components=3, **kw).fit(X)


def fa():
    return FactorAnalysis(n_components=2, random_state=0).fit(X)


def spca(cls=SparsePCA):
    return cls(n_components=3, random_state=0).fit(X)


def rte():
    return RandomTreesEmbedding(n_estimators=3, max_depth=2, random_state=0).fit(X)


def categories(edit):
    """An edit of the embedding's encoder's categories_ list."""
    def apply(encoder):
        encoder.categories_ = edit(list(encoder.categories_))
        return encoder
    return apply


def at(index, value):
    """An edit putting `value` at `index` of an array."""
    def edit(a):
        a = np.array(a, dtype=float)
        a[index] = value
        return a
    return edit


def cases():
    """(name, what the refusal names, why, model)."""
    centerer_rows = lambda c: (setattr(c, "K_fit_rows_", c.K_fit_rows_[:-1]), c)[1]  # noqa: E731
    return [
        ("fastica_components_nan", "FastICA: components_[0, 1] is NaN",
         "an unmixing component that is not a number", edited(ica(), "components_", with_nan)),
        ("fastica_components_narrow", "FastICA: n_features_in_ is 5 but components_ has 4",
         "components_ one feature short", edited(ica(), "components_", lambda c: c[:, :4])),
        ("fastica_mean_short", "FastICA: mean_ has shape [4]",
         "a mean of four features for five", edited(ica(), "mean_", lambda m: m[:4])),
        ("fastica_whitening_wrong_shape", "FastICA: whitening_ has shape [3, 4]",
         "a whitening matrix one feature short", edited(ica(), "whitening_", lambda w: w[:, :4])),
        ("fastica_whiten_unknown", "FastICA: whiten is \"partial-variance\"",
         "a whiten that is no setting", edited(ica(), "whiten", "partial-variance")),
        ("kpca_kernel_unknown", "KernelPCA: kernel is \"chebyshev\"",
         "a kernel KernelPCA does not know", edited(kpca(kernel="rbf"), "kernel", "chebyshev")),
        ("kpca_precomputed", "KernelPCA: kernel='precomputed' is not served",
         "a kernel the client cannot compute",
         KernelPCA(n_components=2, kernel="precomputed").fit(X @ X.T)),
        ("kpca_eigenvectors_short", "KernelPCA: eigenvectors_ has shape [59, 3], expected [60, _]",
         "an eigenvector row per training row missing",
         edited(kpca(kernel="rbf"), "eigenvectors_", lambda v: v[:-1])),
        ("kpca_eigenvalues_nan", "KernelPCA: eigenvalues_[1] is NaN",
         "an eigenvalue that is not a number", edited(kpca(), "eigenvalues_", at(1, np.nan))),
        ("kpca_eigenvalues_negative", "KernelPCA: eigenvalues_[2] is -1",
         "a negative eigenvalue", edited(kpca(kernel="poly"), "eigenvalues_", at(2, -1.0))),
        ("kpca_eigenvalues_long", "KernelPCA: eigenvalues_ has shape [4], expected [3]",
         "an eigenvalue more than eigenvectors",
         edited(kpca(), "eigenvalues_", lambda v: np.append(v, 1.0))),
        ("kpca_fit_rows_inf", "KernelPCA: X_fit_[0, 1] is inf",
         "a training row that is not finite",
         edited(kpca(kernel="sigmoid"), "X_fit_", at((0, 1), np.inf))),
        ("kpca_centerer_rows_short", "KernelPCA: _centerer is refused: KernelCenterer: K_fit_rows_ has shape [59]",
         "a centerer of one training row less", edited(kpca(kernel="cosine"), "_centerer", centerer_rows)),
        ("kpca_gamma_nan", "KernelPCA: gamma",
         "a gamma that is not a number", edited(kpca(kernel="rbf", gamma=0.1), "gamma_", float("nan"))),
        ("kpca_huge_width", "KernelPCA: n_features_in_ = %d" % HUGE,
         "a feature count no budget could hold", edited(kpca(), "n_features_in_", HUGE)),
        ("factor_analysis_noise_zero", "FactorAnalysis: noise_variance_[2] is 0",
         "a noise variance that would divide by zero", edited(fa(), "noise_variance_", at(2, 0.0))),
        ("factor_analysis_components_wide", "FactorAnalysis: n_features_in_ is 5 but components_ has 6",
         "components_ a feature too wide", edited(fa(), "components_", lambda c: np.hstack([c, c[:, :1]]))),
        ("factor_analysis_mean_nan", "FactorAnalysis: mean_[0] is NaN",
         "a mean that is not a number", edited(fa(), "mean_", at(0, np.nan))),
        ("factor_analysis_noise_short", "FactorAnalysis: noise_variance_ has shape [4]",
         "a noise variance per feature missing", edited(fa(), "noise_variance_", lambda v: v[:4])),
        ("sparse_pca_ridge_negative", "SparsePCA: ridge_alpha is -1",
         "a negative ridge", edited(spca(), "ridge_alpha", -1.0)),
        ("sparse_pca_components_inf", "SparsePCA: components_[1, 0] is inf",
         "a component that is not finite", edited(spca(), "components_", at((1, 0), np.inf))),
        ("sparse_pca_n_components_wrong", "SparsePCA: n_components_ is 5 but components_ has 3 rows",
         "n_components_ disagreeing with components_", edited(spca(), "n_components_", 5)),
        ("minibatch_sparse_pca_mean_short", "MiniBatchSparsePCA: mean_ has shape [4]",
         "a mean of four features for five", edited(spca(MiniBatchSparsePCA), "mean_", lambda m: m[:4])),
        ("pca_noise_negative", "PCA: noise_variance_ is -1",
         "a negative noise variance", edited(PCA(n_components=2).fit(X), "noise_variance_", -1.0)),
        ("pca_huge_components", "PCA: n_components_ = %d" % HUGE,
         "a component count no budget could hold", edited(PCA(n_components=2).fit(X), "n_components_", HUGE)),
        ("trees_embedding_leaf_unknown", "RandomTreesEmbedding: one_hot_encoder_.categories_[1] lacks leaf",
         "an encoder that does not know a leaf of the second tree",
         edited(rte(), "one_hot_encoder_", categories(lambda c: c[:1] + [c[1][1:]] + c[2:]))),
        ("trees_embedding_categories_short", "RandomTreesEmbedding: one_hot_encoder_.categories_ has 2 entries for 3 trees",
         "an encoder of fewer trees than the embedding", edited(rte(), "one_hot_encoder_", categories(lambda c: c[:2]))),
        ("trees_embedding_split_category", "RandomTreesEmbedding: one_hot_encoder_.categories_[0] holds node 0",
         "an encoder whose category is the root split",
         edited(rte(), "one_hot_encoder_", categories(lambda c: [np.concatenate([[0], c[0]])] + c[1:]))),
        ("trees_embedding_threshold_nan", "RandomTreesEmbedding",
         "a tree whose threshold is not a number",
         edited(rte(), "estimators_", lambda trees: (trees[0].tree_.threshold.__setitem__(0, np.nan), trees)[1])),
        ("pipeline_kpca_eigenvalues_negative", "step kernelpca (KernelPCA): eigenvalues_[0] is -1",
         "a Pipeline whose KernelPCA has a negative eigenvalue",
         edited(make_pipeline(StandardScaler(), KernelPCA(n_components=2, kernel="rbf"), LogisticRegression()).fit(X, Y),
                "eigenvalues_", at(0, -1.0), at="kernelpca")),
        ("pipeline_fastica_components_nan", "step fastica (FastICA): components_[0, 1] is NaN",
         "a Pipeline whose FastICA has a component that is not a number",
         edited(make_pipeline(StandardScaler(), FastICA(n_components=2, random_state=0), LogisticRegression()).fit(X, Y),
                "components_", with_nan, at="fastica")),
    ]


def main():
    write(sys.argv[1], cases())


if __name__ == "__main__":
    main()

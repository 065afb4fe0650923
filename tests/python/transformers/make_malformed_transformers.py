#!/usr/bin/env python3
"""Write the malformed transformer files of tests/fixtures/malformed_transformers/: each a
real model fitted by scikit-learn with one attribute edited (components of the wrong shape or
not finite, a mean of the wrong length, a negative variance under whitening, a norm or a
threshold that is no setting, a vocabulary index beyond the terms, an idf that is not a
number), the decompositions whose transform is an optimisation, and manifest.json saying what
the refusal must name: the step and the attribute, or the reason.

    target/sk1.9-venv/bin/python tests/python/transformers/make_malformed_transformers.py \
        tests/fixtures/malformed_transformers
"""

import os
import sys
import warnings

import numpy as np
from sklearn.decomposition import (NMF, PCA, DictionaryLearning, IncrementalPCA, LatentDirichletAllocation,
                                   MiniBatchDictionaryLearning, MiniBatchNMF, SparseCoder, TruncatedSVD)
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Binarizer, KBinsDiscretizer, Normalizer, PolynomialFeatures, StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
from make_malformed import write  # noqa: E402

warnings.simplefilter("ignore")

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 5))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
DOCS = ["a good film", "a bad film", "good acting, bad plot", "the best film", "the worst plot"]


def edited(model, attr, value, at=None):
    """`model` (or its step `at`) with `attr` set to `value(old)` or `value`, or deleted when
    `value` is `delattr`."""
    target = model if at is None else model.named_steps[at]
    if value is delattr:
        delattr(target, attr)
    else:
        setattr(target, attr, value(getattr(target, attr)) if callable(value) else value)
    return model


def with_nan(a, at=(0, 1)):
    a = np.array(a, dtype=float)
    a[at] = np.nan
    return a


def objects(arrays):
    """A 1-D object array of `arrays`, as `bin_edges_` is (np.array would stack them)."""
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = a
    return out


def pca(**kw):
    return PCA(n_components=3, **kw).fit(X)


def cases():
    """(name, what the refusal names, why, model)."""
    pipe = lambda: make_pipeline(StandardScaler(), PCA(n_components=2), LogisticRegression()).fit(X, Y)  # noqa: E731
    return [
        ("pca_components_short", "PCA: n_features_in_ is 5 but components_ has 4",
         "components_ one feature short", edited(pca(), "components_", lambda c: c[:, :4])),
        ("pca_components_nan", "PCA: components_[0, 1] is NaN",
         "a component that is not a number", edited(pca(), "components_", with_nan)),
        ("pca_components_1d", "PCA: components_ has shape [15]",
         "components_ flattened", edited(pca(), "components_", lambda c: c.ravel())),
        ("pca_components_missing", "PCA: components_ is missing",
         "no components_", edited(pca(), "components_", delattr)),
        ("pca_mean_long", "PCA: mean_ has shape [6]",
         "a mean of six features for five", edited(pca(), "mean_", lambda m: np.append(m, 1.0))),
        ("pca_mean_infinite", "PCA: mean_[2] is inf",
         "an infinite mean", edited(pca(), "mean_", lambda m: np.where(np.arange(5) == 2, np.inf, m))),
        ("pca_n_components_wrong", "PCA: n_components_ is 4 but components_ has 3 rows",
         "n_components_ disagreeing with components_", edited(pca(), "n_components_", 4)),
        ("pca_whiten_negative_variance", "PCA: explained_variance_[1] is -1",
         "a negative variance under whitening",
         edited(pca(whiten=True), "explained_variance_", lambda v: np.where(np.arange(3) == 1, -1.0, v))),
        ("pca_whiten_variance_short", "PCA: explained_variance_ has shape [2]",
         "a variance per component missing",
         edited(pca(whiten=True), "explained_variance_", lambda v: v[:2])),
        ("pca_names_short", "PCA: feature_names_in_ has 2 names for 5 features",
         "feature names of the wrong length",
         edited(pca(), "feature_names_in_", np.array(["a", "b"], dtype=object))),
        ("pipeline_pca_components_nan", "step pca (PCA): components_[0, 1] is NaN",
         "a Pipeline whose PCA has a component that is not a number",
         edited(pipe(), "components_", with_nan, at="pca")),
        ("incremental_pca_mean_nan", "IncrementalPCA: mean_[0] is NaN",
         "a mean that is not a number",
         edited(IncrementalPCA(n_components=2).fit(X), "mean_", lambda m: with_nan(m, 0))),
        ("truncated_svd_components_wide", "TruncatedSVD: n_features_in_ is 5 but components_ has 7",
         "components_ two features wide",
         edited(TruncatedSVD(n_components=2).fit(X), "components_", lambda c: np.hstack([c, c[:, :2]]))),
        ("truncated_svd_components_inf", "TruncatedSVD: components_[1, 0] is inf",
         "an infinite component",
         edited(TruncatedSVD(n_components=2).fit(X), "components_",
                lambda c: np.where(np.arange(c.size).reshape(c.shape) == c.shape[1], np.inf, c))),
        ("normalizer_norm_unknown", "Normalizer: norm is \"l3\"",
         "a norm that is none of l1, l2, max", edited(Normalizer().fit(X), "norm", "l3")),
        ("normalizer_unfitted_width", "Normalizer: n_features_in_ is missing",
         "no n_features_in_ for a step that sees the client's columns",
         edited(Normalizer().fit(X), "n_features_in_", delattr)),
        ("binarizer_threshold_nan", "Binarizer: threshold is NaN",
         "a threshold that is not a number", edited(Binarizer().fit(X), "threshold", float("nan"))),
        ("binarizer_threshold_text", "Binarizer: threshold",
         "a threshold that is a string", edited(Binarizer().fit(X), "threshold", "0.5")),
        ("poly_output_count_wrong", "PolynomialFeatures: n_output_features_ is 99 but the settings give 21",
         "n_output_features_ disagreeing with the degree", edited(PolynomialFeatures().fit(X), "n_output_features_", 99)),
        ("poly_degree_without_end", "PolynomialFeatures: degree 400 over 5 features expands to more than",
         "a degree whose expansion has no end", edited(PolynomialFeatures().fit(X), "_max_degree", 400)),
        ("poly_degrees_reversed", "PolynomialFeatures: _min_degree is 3, above _max_degree 2",
         "a minimum degree above the maximum", edited(PolynomialFeatures().fit(X), "_min_degree", 3)),
        ("poly_unfitted_width", "PolynomialFeatures: n_features_in_ is missing",
         "no n_features_in_", edited(PolynomialFeatures().fit(X), "n_features_in_", delattr)),
        ("kbins_edges_unsorted", "KBinsDiscretizer: bin_edges_[1] is not sorted",
         "edges out of order", edited(KBinsDiscretizer(n_bins=3).fit(X), "bin_edges_",
                                      lambda e: objects([e[0], e[1][::-1], e[2], e[3], e[4]]))),
        ("kbins_edges_nan", "KBinsDiscretizer: bin_edges_[0][1] is NaN",
         "an edge that is not a number", edited(KBinsDiscretizer(n_bins=3).fit(X), "bin_edges_",
                                               lambda e: objects([with_nan(e[0], 1)] + list(e[1:])))),
        ("kbins_n_bins_disagree", "KBinsDiscretizer: bin_edges_[2] has 4 edges for n_bins_[2] = 5",
         "n_bins_ disagreeing with the edges", edited(KBinsDiscretizer(n_bins=3).fit(X), "n_bins_",
                                                      lambda n: np.where(np.arange(5) == 2, 5, n))),
        ("kbins_encode_unknown", "KBinsDiscretizer: encode is \"binary\"",
         "an encoding that is none of scikit-learn's", edited(KBinsDiscretizer(n_bins=3).fit(X), "encode", "binary")),
        ("kbins_encoder_categories", "_encoder categories_[0] are not the bins",
         "an inner encoder whose categories are not the bins",
         edited(KBinsDiscretizer(n_bins=3).fit(X), "_encoder",
                lambda enc: (setattr(enc, "categories_", [np.array([0, 2, 1])] + list(enc.categories_[1:])), enc)[1])),
        ("nmf_refused", "NMF is not served: its transform solves an optimisation problem",
         "NMF: transform is an optimisation", NMF(n_components=2, max_iter=500).fit(np.abs(X))),
        ("lda_refused", "LatentDirichletAllocation is not served: its transform solves an optimisation",
         "LatentDirichletAllocation: transform is an optimisation",
         LatentDirichletAllocation(n_components=2, random_state=0).fit(np.abs(X))),
        ("minibatch_nmf_refused", "MiniBatchNMF is not served: its transform solves an optimisation",
         "MiniBatchNMF: transform is an optimisation",
         MiniBatchNMF(n_components=2, max_iter=50, random_state=0).fit(np.abs(X))),
        ("dictionary_learning_refused", "DictionaryLearning is not served: its transform solves an optimisation",
         "DictionaryLearning: transform is a sparse coding solver",
         DictionaryLearning(n_components=3, max_iter=20, random_state=0).fit(X)),
        ("minibatch_dictionary_learning_refused",
         "MiniBatchDictionaryLearning is not served: its transform solves an optimisation",
         "MiniBatchDictionaryLearning: transform is a sparse coding solver",
         MiniBatchDictionaryLearning(n_components=3, max_iter=5, random_state=0).fit(X)),
        ("sparse_coder_refused", "SparseCoder is not served: its transform solves an optimisation",
         "SparseCoder: transform is a sparse coding solver",
         SparseCoder(dictionary=np.eye(5)[:3]).fit(X)),
        ("tfidf_svd_components_short", "step truncatedsvd (TruncatedSVD): n_features_in_",
         "a TruncatedSVD narrower than the vocabulary before it",
         edited(make_pipeline(TfidfVectorizer(), TruncatedSVD(n_components=2)).fit(DOCS),
                "components_", lambda c: c[:, :-1], at="truncatedsvd")),
        ("tfidf_idf_nan", "idf_",
         "an idf that is not a number",
         edited(make_pipeline(CountVectorizer(), TfidfTransformer()).fit(DOCS), "idf_",
                lambda v: with_nan(v, 0), at="tfidftransformer")),
        ("count_vocabulary_out_of_range", "vocabulary_",
         "a term whose column is beyond the vocabulary",
         edited(CountVectorizer().fit(DOCS), "vocabulary_", lambda v: {**v, "film": 99})),
    ]


def main():
    write(sys.argv[1], cases())


if __name__ == "__main__":
    main()

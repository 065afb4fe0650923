#!/usr/bin/env python3
"""Write the malformed random projection and kernel approximation files of
tests/fixtures/malformed_projections/: each a real model fitted by scikit-learn with one
attribute edited (components of the wrong shape or not finite, a sparse matrix whose index is
out of range, an unknown or callable kernel, a hash bucket beyond the sketch, sizes no memory
holds), alone and as a Pipeline step, and manifest.json saying what the refusal must name.

    target/sk1.9-venv/bin/python tests/python/transformers/make_malformed_projections.py \
        tests/fixtures/malformed_projections
"""

import os
import sys
import warnings

import numpy as np
from sklearn.kernel_approximation import (
    AdditiveChi2Sampler,
    Nystroem,
    PolynomialCountSketch,
    RBFSampler,
    SkewedChi2Sampler,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pipelines"))
sys.path.insert(0, here)
from make_malformed import write  # noqa: E402
from make_malformed_transformers import edited, with_nan  # noqa: E402

warnings.simplefilter("ignore")

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 5))
POSITIVE = np.abs(X)
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
HUGE = 10**13


def gaussian():
    return GaussianRandomProjection(n_components=4, random_state=0).fit(X)


def sparse():
    return SparseRandomProjection(n_components=4, density=0.5, random_state=0).fit(X)


def nystroem(**kw):
    return Nystroem(n_components=20, random_state=0, **kw).fit(POSITIVE if "chi2" in kw.get("kernel", "") else X)


def rbf():
    return RBFSampler(n_components=20, random_state=0).fit(X)


def skewed():
    return SkewedChi2Sampler(n_components=10, random_state=0).fit(POSITIVE)


def additive(**kw):
    return AdditiveChi2Sampler(**kw).fit(POSITIVE)


def sketch(**kw):
    return PolynomialCountSketch(n_components=16, random_state=0, **kw).fit(X)


def sparse_edit(attr, change):
    """A SparseRandomProjection whose `components_.<attr>` is `change(old)`."""
    model = sparse()
    setattr(model.components_, attr, change(getattr(model.components_, attr)))
    return model


def at(a, index, value):
    a = np.array(a, copy=True)
    a[index] = value
    return a


def cases():
    """(name, what the refusal names, why, model)."""
    pipe = lambda step: make_pipeline(StandardScaler(), step, LogisticRegression()).fit(X, Y)  # noqa: E731
    return [
        ("gaussian_components_nan", "GaussianRandomProjection: components_[0, 1] is NaN",
         "a component that is not a number", edited(gaussian(), "components_", with_nan)),
        ("gaussian_components_short", "GaussianRandomProjection: n_features_in_ is 5 but components_ has 4",
         "components_ one feature short", edited(gaussian(), "components_", lambda c: c[:, :4])),
        ("gaussian_components_1d", "GaussianRandomProjection: components_ has shape [20]",
         "components_ flattened", edited(gaussian(), "components_", lambda c: c.ravel())),
        ("gaussian_components_missing", "GaussianRandomProjection: components_ is missing",
         "no components_", edited(gaussian(), "components_", delattr)),
        ("gaussian_n_components_wrong", "GaussianRandomProjection: n_components_ is 7 but components_ gives 4",
         "n_components_ disagreeing with components_", edited(gaussian(), "n_components_", 7)),
        ("gaussian_n_components_huge", "GaussianRandomProjection: n_components_ = 10000000000000",
         "a component count no memory holds", edited(gaussian(), "n_components_", HUGE)),
        ("pipeline_gaussian_components_inf", "step gaussianrandomprojection (GaussianRandomProjection): components_[0, 1] is inf",
         "a Pipeline whose projection has an infinite component",
         edited(pipe(GaussianRandomProjection(n_components=3, random_state=0)), "components_",
                lambda c: at(c, (0, 1), np.inf), at="gaussianrandomprojection")),
        ("sparse_index_out_of_range", "SparseRandomProjection: components_ indices holds column 99 of 5",
         "a sparse component beyond the features", sparse_edit("indices", lambda i: at(i, 0, 99))),
        ("sparse_data_nan", "SparseRandomProjection: components_.data[",
         "a sparse component that is not a number", sparse_edit("data", lambda d: at(d, 0, np.nan))),
        ("sparse_indptr_short", "SparseRandomProjection: components_.indptr has 4 entries for 4 rows",
         "an index pointer one row short", sparse_edit("indptr", lambda p: p[:-1])),
        ("sparse_components_text", "SparseRandomProjection: components_ is not numeric",
         "components that are a string", edited(sparse(), "components_", "dense")),
        ("nystroem_kernel_unknown", "Nystroem: kernel \"rbf2\" is not a kernel",
         "a kernel scikit-learn has no name for", edited(nystroem(), "kernel", "rbf2")),
        ("nystroem_kernel_callable", "rbf_kernel",
         "a callable kernel", edited(nystroem(), "kernel", lambda _: rbf_kernel)),
        ("nystroem_normalization_shape", "Nystroem: normalization_ has shape [20, 19], expected [20, 20]",
         "normalization_ one column short", edited(nystroem(), "normalization_", lambda n: n[:, :19])),
        ("nystroem_normalization_nan", "Nystroem: normalization_[0, 1] is NaN",
         "a normalization that is not a number", edited(nystroem(), "normalization_", with_nan)),
        ("nystroem_components_wide", "Nystroem: n_features_in_ is 5 but components_ has 6",
         "components_ one feature wide",
         edited(nystroem(), "components_", lambda c: np.hstack([c, c[:, :1]]))),
        ("nystroem_component_index_negative", "Nystroem: component_indices_[3] is -1",
         "a component index out of range", edited(nystroem(), "component_indices_", lambda i: at(i, 3, -1))),
        ("nystroem_gamma_nan", "Nystroem: gamma is NaN",
         "a gamma that is not a number", edited(nystroem(gamma=0.1), "gamma", float("nan"))),
        ("nystroem_kernel_params_text", "Nystroem: kernel_params is not a dict",
         "kernel_params that are a string", edited(nystroem(kernel="poly"), "kernel_params", "degree=2")),
        ("nystroem_chi2_negative_component", "Nystroem: components_[0, 2] is -1",
         "a negative component under a chi2 kernel",
         edited(nystroem(kernel="chi2"), "components_", lambda c: at(c, (0, 2), -1.0))),
        ("pipeline_nystroem_normalization_missing", "step nystroem (Nystroem): normalization_ is missing",
         "a Pipeline whose Nystroem was never fitted",
         edited(pipe(Nystroem(n_components=10, random_state=0)), "normalization_", delattr, at="nystroem")),
        ("rbf_weights_nan", "RBFSampler: random_weights_[2, 3] is NaN",
         "a weight that is not a number", edited(rbf(), "random_weights_", lambda w: with_nan(w, (2, 3)))),
        ("rbf_offset_short", "RBFSampler: random_offset_ has shape [19], expected [20]",
         "an offset short of a component", edited(rbf(), "random_offset_", lambda o: o[:19])),
        ("rbf_n_components_wrong", "RBFSampler: n_components is 7 but random_weights_ gives 20",
         "n_components disagreeing with the weights", edited(rbf(), "n_components", 7)),
        ("rbf_weights_narrow", "RBFSampler: n_features_in_ is 5 but random_weights_ has 3",
         "weights for three features of five", edited(rbf(), "random_weights_", lambda w: w[:3])),
        ("skewed_skewedness_nan", "SkewedChi2Sampler: skewedness is NaN",
         "a skewedness that is not a number", edited(skewed(), "skewedness", float("nan"))),
        ("skewed_weights_1d", "SkewedChi2Sampler: random_weights_ has shape [50]",
         "weights flattened", edited(skewed(), "random_weights_", lambda w: w.ravel())),
        ("skewed_offset_inf", "SkewedChi2Sampler: random_offset_[0] is inf",
         "an infinite offset", edited(skewed(), "random_offset_", lambda o: at(o, 0, np.inf))),
        ("additive_steps_zero", "AdditiveChi2Sampler: sample_steps is 0, below 1",
         "no sample steps", edited(additive(), "sample_steps", 0)),
        ("additive_steps_huge", "AdditiveChi2Sampler: sample_steps = 10000000000000",
         "more sample steps than memory holds", edited(additive(), "sample_steps", HUGE)),
        ("additive_interval_negative", "AdditiveChi2Sampler: sample_interval is -0.5",
         "a negative sampling interval", edited(additive(sample_steps=4, sample_interval=0.3), "sample_interval", -0.5)),
        ("additive_interval_needed", "AdditiveChi2Sampler: sample_interval is None, which sample_steps = 5 needs",
         "five steps with no interval", edited(additive(), "sample_steps", 5)),
        ("additive_unfitted", "AdditiveChi2Sampler: n_features_in_ is missing",
         "no n_features_in_", edited(additive(), "n_features_in_", delattr)),
        ("sketch_index_out_of_range", "PolynomialCountSketch: indexHash_[1, 2] is 99, not a bucket below n_components = 16",
         "a hash bucket beyond the sketch", edited(sketch(), "indexHash_", lambda i: at(i, (1, 2), 99))),
        ("sketch_index_negative", "PolynomialCountSketch: indexHash_[0, 0] is -1",
         "a negative hash bucket", edited(sketch(), "indexHash_", lambda i: at(i, (0, 0), -1))),
        ("sketch_bit_three", "PolynomialCountSketch: bitHash_[1, 0] is 3, not -1 or 1",
         "a sign that is no sign", edited(sketch(), "bitHash_", lambda b: at(b, (1, 0), 3))),
        ("sketch_degree_wrong", "PolynomialCountSketch: indexHash_ has shape [2, 5], expected [4, _]",
         "a degree the hashes do not have", edited(sketch(), "degree", 4)),
        ("sketch_n_components_huge", "PolynomialCountSketch: n_components = 10000000000000",
         "a sketch no memory holds", edited(sketch(), "n_components", HUGE)),
        ("sketch_gamma_nan", "PolynomialCountSketch: gamma is NaN",
         "a gamma that is not a number", edited(sketch(), "gamma", float("nan"))),
        ("sketch_coef0_negative", "PolynomialCountSketch: coef0 is -1, below 0",
         "a negative coef0", edited(sketch(coef0=1.0), "coef0", -1.0)),
        ("sketch_hash_wide", "PolynomialCountSketch: n_features_in_ is 5 but indexHash_ has 7",
         "hashes for seven features of five",
         edited(sketch(), "indexHash_", lambda i: np.hstack([i, i[:, :2]]))),
        ("pipeline_sketch_bits_missing", "step polynomialcountsketch (PolynomialCountSketch): has no bitHash_",
         "a Pipeline whose sketch lost its signs",
         edited(pipe(PolynomialCountSketch(n_components=8, random_state=0)), "bitHash_", delattr,
                at="polynomialcountsketch")),
    ]


def main():
    write(sys.argv[1], cases())


if __name__ == "__main__":
    main()

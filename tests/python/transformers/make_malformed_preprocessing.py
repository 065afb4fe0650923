#!/usr/bin/env python3
"""Write the malformed preprocessing files of tests/fixtures/malformed_preprocessing/: each a
real PowerTransformer, QuantileTransformer, KernelCenterer or TargetEncoder fitted by
scikit-learn 1.9 with one attribute edited (of the wrong shape, not a number, out of order,
of a huge size, a setting that is no setting), alone and inside a Pipeline, and manifest.json
saying what the refusal must name: the step and the attribute.

    target/sk1.9-venv/bin/python tests/python/transformers/make_malformed_preprocessing.py \
        tests/fixtures/malformed_preprocessing
"""

import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import KernelCenterer, PowerTransformer, QuantileTransformer, StandardScaler, TargetEncoder

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pipelines"))
sys.path.insert(0, here)
from make_malformed import write  # noqa: E402
from make_malformed_transformers import edited, with_nan  # noqa: E402

warnings.simplefilter("ignore")

rng = np.random.RandomState(0)
X = np.abs(rng.normal(size=(60, 4))) + 0.1
Y = (X[:, 0] > X[:, 1]).astype(int)
K = X @ X.T
FRAME = pd.DataFrame({"kind": rng.choice(["a", "b", "c"], size=60), "size": rng.choice([1, 2, 3], size=60)})
Y3 = rng.choice(["x", "y", "z"], size=60)


def power(**kw):
    return PowerTransformer(**kw).fit(X)


def quantile(**kw):
    return QuantileTransformer(n_quantiles=20, **kw).fit(X)


def target(y=Y, **kw):
    return TargetEncoder(**kw).fit(FRAME, y)


def swap_rows(q):
    q = q.copy()
    q[[3, 4]] = q[[4, 3]]
    return q


def cases():
    """(name, what the refusal names, why, model)."""
    pipe = lambda: make_pipeline(PowerTransformer(), LogisticRegression()).fit(X, Y)  # noqa: E731
    return [
        ("power_lambdas_nan", "PowerTransformer: lambdas_[1] is NaN",
         "a lambda that is not a number", edited(power(), "lambdas_", lambda v: with_nan(v, 1))),
        ("power_lambdas_short", "PowerTransformer: n_features_in_ is 4 but lambdas_ has 3",
         "a lambda per feature missing", edited(power(), "lambdas_", lambda v: v[:3])),
        ("power_lambdas_2d", "PowerTransformer: lambdas_ has shape [2, 2]",
         "lambdas_ as a matrix", edited(power(), "lambdas_", lambda v: v.reshape(2, 2))),
        ("power_lambdas_missing", "PowerTransformer: lambdas_ is missing",
         "no lambdas_", edited(power(), "lambdas_", delattr)),
        ("power_method_unknown", "PowerTransformer: method is \"log\"",
         "a method that is none of scikit-learn's", edited(power(), "method", "log")),
        ("power_scaler_wide", "PowerTransformer: _scaler scales 5 features for 4 lambdas_",
         "a scaler of another width",
         edited(power(), "_scaler", StandardScaler().fit(np.hstack([X, X[:, :1]])))),
        ("power_scaler_not_scaler", "PowerTransformer: _scaler is not a StandardScaler",
         "a scaler that is another transformer", edited(power(), "_scaler", QuantileTransformer(n_quantiles=5).fit(X))),
        ("pipeline_power_lambdas_inf", "step powertransformer (PowerTransformer): lambdas_[0] is inf",
         "a Pipeline whose PowerTransformer has an infinite lambda",
         edited(pipe(), "lambdas_", lambda v: np.where(np.arange(4) == 0, np.inf, v), at="powertransformer")),
        ("quantile_quantiles_unsorted", "QuantileTransformer: quantiles_[4, 0] is below the quantile before it",
         "quantiles out of order", edited(quantile(), "quantiles_", swap_rows)),
        ("quantile_quantiles_nan", "QuantileTransformer: quantiles_[0, 1] is NaN",
         "a quantile that is not a number", edited(quantile(), "quantiles_", with_nan)),
        ("quantile_references_short", "QuantileTransformer: references_ has shape [19]",
         "a reference per quantile missing", edited(quantile(), "references_", lambda r: r[:-1])),
        ("quantile_references_reversed", "QuantileTransformer: references_ is not an increasing sequence",
         "references out of order", edited(quantile(), "references_", lambda r: r[::-1].copy())),
        ("quantile_n_quantiles_huge", "QuantileTransformer: n_quantiles_ = 1000000000000 needs",
         "a count of quantiles that is huge", edited(quantile(), "n_quantiles_", 10 ** 12)),
        ("quantile_quantiles_wide", "QuantileTransformer: n_features_in_ is 4 but quantiles_ has 5",
         "quantiles of five features for four", edited(quantile(), "quantiles_", lambda q: np.hstack([q, q[:, :1]]))),
        ("quantile_output_unknown", "QuantileTransformer: output_distribution is \"poisson\"",
         "an output distribution that is none of scikit-learn's", edited(quantile(), "output_distribution", "poisson")),
        ("kernel_centerer_rows_nan", "KernelCenterer: K_fit_rows_[3] is NaN",
         "a row mean that is not a number", edited(KernelCenterer().fit(K), "K_fit_rows_", lambda v: with_nan(v, 3))),
        ("kernel_centerer_rows_short", "KernelCenterer: n_features_in_ is 60 but K_fit_rows_ has 59",
         "a row mean missing", edited(KernelCenterer().fit(K), "K_fit_rows_", lambda v: v[1:])),
        ("kernel_centerer_all_text", "KernelCenterer: K_fit_all_",
         "a mean that is a string", edited(KernelCenterer().fit(K), "K_fit_all_", "12.5")),
        ("target_encodings_short", "TargetEncoder: encodings_[1] has shape [2], but feature 1 has 3 categories",
         "an encoding per category missing", edited(target(), "encodings_", lambda e: [e[0], e[1][:2]])),
        ("target_encodings_nan", "TargetEncoder: encodings_[0][2] is NaN",
         "an encoding that is not a number", edited(target(), "encodings_", lambda e: [with_nan(e[0], 2), e[1]])),
        ("target_encodings_huge", "TargetEncoder: encodings_ holds 20000 encodings for 2 features of 1 classes",
         "a list of encodings of a huge size", edited(target(), "encodings_", lambda e: [e[0]] * 20000)),
        ("target_type_unknown", "TargetEncoder: target_type_ is \"ordinal\"",
         "a target type that is none of scikit-learn's", edited(target(), "target_type_", "ordinal")),
        ("target_mean_nan", "TargetEncoder: target_mean_",
         "a target mean that is not a number", edited(target(), "target_mean_", float("nan"))),
        ("target_multiclass_classes_short", "TargetEncoder: classes_ has 2 classes, but the target is multiclass",
         "a multiclass encoder with a class removed",
         edited(target(Y3), "classes_", lambda c: c[:2])),
        ("target_categories_unknown_names", "TargetEncoder: categories_",
         "categories that are no array", edited(target(), "categories_", [{"a": 1}, {"b": 2}])),
    ]


def main():
    write(sys.argv[1], cases())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fit the DictVectorizer and FeatureHasher matrix with the installed scikit-learn: each alone
(its `transform`) and first in a Pipeline before a served predictor, in every container,
scored on rows of named features with numbers, strings, lists of strings (DictVectorizer),
unknown features and accented, emoji and empty names, and on rows holding None, which
DictVectorizer makes NaN (refused by the predictors after it) and FeatureHasher refuses
(tests/python/transformers/matrix.py has the layout; an input of mappings is written as
{"mappings": [...]}).

    python make_dicts.py OUTDIR
"""

import os
import sys

import numpy as np
from sklearn.feature_extraction import DictVectorizer, FeatureHasher
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "transformers"))
from matrix import VERSION, write_matrix  # noqa: E402

CITIES = ["Paris", "Rome", "Zürich", "東京", "São Paulo", "Kraków"]
TAGS = ["new", "sale", "🙂", "", "eco", "vintage"]


def rows(n, seed):
    rng = np.random.RandomState(seed)
    out = []
    for i in range(n):
        row = {"age": float(rng.randint(18, 80)), "city": CITIES[rng.randint(len(CITIES))]}
        if i % 3 == 0:
            row["income"] = float(np.round(rng.uniform(1_000, 9_000), 3))
        if i % 4 != 1:
            row["tags"] = [TAGS[j] for j in rng.choice(len(TAGS), size=rng.randint(1, 4), replace=False)]
        if i % 5 == 2:
            row["clicks"] = int(rng.randint(0, 30))
        out.append(row)
    return out


TRAIN = rows(60, 0)
LABELS = np.array(["buy" if r["age"] < 45 or r["city"] in ("Rome", "東京") else "skip" for r in TRAIN])
SCORED = rows(20, 1) + [
    {"age": 33.0, "city": "Atlantis", "unknown": 5.0},
    {"tags": ["never seen", "🙂", "🙂"]},
    {"city": "Paris"},
    {"age": 0.0, "clicks": 0},
    {"age": 47.25, "income": 1e6, "city": "", "tags": []},
]

# None where a client sends null: NaN at the feature's own column when DictVectorizer knows
# that name ("age", "income"), nothing when it does not ("city" alone).
NULLS = [
    {"age": None, "city": "Rome"},
    {"city": None, "age": 30.0},
    {"income": None, "tags": ["sale"]},
    {"age": 41.0, "tags": ["sale", "sale"]},
]


def scalar(rows):
    """The rows without lists: what FeatureHasher takes (a number or a string per feature)."""
    return [{k: v for k, v in r.items() if not isinstance(v, list)} for r in rows]


def tokens(rows):
    """Each row's strings (FeatureHasher(input_type="string") hashes each)."""
    return [[str(r.get("city", ""))] + list(r.get("tags", [])) for r in rows]


def models():
    """(id, factory, fit on, scored on)."""
    lr = lambda: LogisticRegression(max_iter=2000)  # noqa: E731
    sgd_loss = "log_loss" if VERSION >= (1, 1) else "log"
    return [
        ("dict_default", lambda: DictVectorizer(), "rows", ["rows"]),
        ("dict_dense_unsorted_sep", lambda: DictVectorizer(sparse=False, sort=False, separator="::"), "rows", ["rows"]),
        ("dict_float32", lambda: DictVectorizer(dtype=np.float32), "rows", ["rows"]),
        ("dict_int64", lambda: DictVectorizer(dtype=np.int64), "rows", ["rows"]),
        ("dict_logistic", lambda: make_pipeline(DictVectorizer(), lr()), "rows", ["rows", "nulls"]),
        ("dict_dense_logistic", lambda: make_pipeline(DictVectorizer(sparse=False), lr()), "rows", ["rows", "nulls"]),
        ("dict_maxabs_sgd", lambda: make_pipeline(DictVectorizer(), MaxAbsScaler(), SGDClassifier(loss=sgd_loss, random_state=0)), "rows", ["rows", "nulls"]),
        ("hasher_dict", lambda: FeatureHasher(n_features=64), "scalar", ["scalar", "scalar_nulls"]),
        ("hasher_pair_unsigned_float32", lambda: FeatureHasher(n_features=2 ** 12, input_type="pair", alternate_sign=False, dtype=np.float32), "pairs", ["pairs"]),
        ("hasher_string", lambda: FeatureHasher(n_features=32, input_type="string"), "tokens", ["tokens"]),
        ("hasher_dict_sgd", lambda: make_pipeline(FeatureHasher(n_features=2 ** 10), SGDClassifier(loss=sgd_loss, random_state=0)), "scalar", ["scalar", "scalar_nulls"]),
        ("hasher_string_multinomial_nb", lambda: make_pipeline(FeatureHasher(n_features=2 ** 8, input_type="string", alternate_sign=False), MultinomialNB()), "tokens", ["tokens"]),
    ]


def main():
    train = {"rows": TRAIN, "scalar": scalar(TRAIN), "tokens": tokens(TRAIN),
             "pairs": [list(r.items()) for r in scalar(TRAIN)]}
    inputs = {"rows": SCORED, "scalar": scalar(SCORED), "tokens": tokens(SCORED),
              "pairs": [list(r.items()) for r in scalar(SCORED)],
              "nulls": NULLS, "scalar_nulls": scalar(NULLS)}
    cases = []
    for model_id, factory, fit_on, scored_on in models():
        model = factory()
        if hasattr(model, "predict"):
            model.fit(train[fit_on], LABELS)
        else:
            model.fit(train[fit_on])
        cases.append((model_id, model, scored_on))
    write_matrix(sys.argv[1], cases, inputs, "dict and hashing models")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fit the models of rows of named features the protocol tests serve (tests/api/dicts.rs)
with scikit-learn 1.9 and write them, with scikit-learn's answers, to tests/fixtures/protocols/:
a DictVectorizer → LogisticRegression, a DictVectorizer(sparse=False) →
HistGradientBoostingClassifier fitted with missing ages (a JSON null is Python's None, which
DictVectorizer turns into NaN), and a FeatureHasher(input_type="string") → MultinomialNB.
`rows` have every feature in every row (what V2, gRPC and a CSV carry); `sparse_rows` leave
features out and give lists of strings (V1); `null_rows` hold None; `token_pairs` are rows of
two strings (a V2 `[N, 2]` BYTES input), `token_lists` rows of any length (V1 lists). The files are checked in, so
that the tests need no Python; rerun this after changing it:

    target/sk1.9-venv/bin/python tests/python/protocols/make_dict_fixtures.py
"""

import json
import os

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction import DictVectorizer, FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from make_protocol_fixtures import OUT, answers, save

CITIES = ["Paris", "Rome", "Zürich", "東京", "São Paulo", "🙂"]


def row(i):
    return {"age": 18.0 + (i * 7) % 60, "city": CITIES[i % len(CITIES)], "income": 1000.0 + 37.5 * i}


TRAIN = [dict(row(i), tags=["sale", "new", "eco"][: i % 4]) for i in range(48)]
LABELS = np.array(["buy" if r["age"] < 45 or r["city"] == "Rome" else "skip" for r in TRAIN])
ROWS = [row(i) for i in range(5, 11)] + [{"age": 40.0, "city": "Atlantis", "income": 0.0}]
SPARSE_ROWS = [
    {"age": 30.0, "tags": ["sale", "🙂", "sale"]},
    {"city": "Rome"},
    {"unknown": 3.0, "income": 2500.0, "tags": []},
    {},
]

NULL_ROWS = [
    {"age": None, "city": "Rome", "income": 1200.0},
    {"age": 50.0, "city": None, "income": None},
    {"age": None},
    {"age": 70.0, "city": "Paris", "income": 4000.0},
]
TOKEN_PAIRS = [["Rome", "sale"], ["Paris", "new"], ["🙂", "eco"], ["São Paulo", "São Paulo"]]
TOKEN_LISTS = [["Rome", "sale", "sale"], [], ["東京"], ["Atlantis", "eco", "new", "🙂"]]


def tokens(rows):
    return [[r["city"]] + r.get("tags", []) for r in rows]


def main():
    out = {}
    dict_logistic = make_pipeline(DictVectorizer(), LogisticRegression(max_iter=2000)).fit(TRAIN, LABELS)
    save("dict_logistic", dict_logistic, ROWS, out)
    out["dict_logistic"]["sparse_answers"] = answers(dict_logistic, SPARSE_ROWS)
    with_missing = [dict(r, age=None) if i % 5 == 0 else r for i, r in enumerate(TRAIN)]
    dict_hgb = make_pipeline(DictVectorizer(sparse=False),
                             HistGradientBoostingClassifier(max_iter=10, random_state=0)).fit(with_missing, LABELS)
    save("dict_hgb", dict_hgb, NULL_ROWS, out)
    hasher_nb = make_pipeline(FeatureHasher(n_features=64, input_type="string", alternate_sign=False),
                              MultinomialNB()).fit(tokens(TRAIN), LABELS)
    save("hasher_string_nb", hasher_nb, tokens(ROWS), out)
    out["hasher_string_nb"]["pair_answers"] = answers(hasher_nb, TOKEN_PAIRS)
    out["hasher_string_nb"]["list_answers"] = answers(hasher_nb, TOKEN_LISTS)
    with open(os.path.join(OUT, "dicts.json"), "w") as f:
        json.dump({"sklearn_version": sklearn.__version__, "rows": ROWS, "sparse_rows": SPARSE_ROWS,
                   "null_rows": NULL_ROWS, "tokens": tokens(ROWS), "token_pairs": TOKEN_PAIRS,
                   "token_lists": TOKEN_LISTS, "models": out}, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write the malformed DictVectorizer and FeatureHasher files of tests/fixtures/malformed_dicts/:
each a real model fitted by scikit-learn with one attribute edited (a vocabulary index out of
range or repeated, feature names that disagree with the vocabulary, a key that is not a
string, an n_features of 0 or beyond 2**31 - 1, an unknown input_type), alone and first in a
Pipeline, and manifest.json saying what the refusal must name: the step and the attribute.

    target/sk1.9-venv/bin/python tests/python/transformers/make_malformed_dicts.py \
        tests/fixtures/malformed_dicts
"""

import os
import sys
import warnings

import numpy as np
from sklearn.feature_extraction import DictVectorizer, FeatureHasher
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pipelines"))
sys.path.insert(0, here)
from make_malformed import write  # noqa: E402
from make_malformed_transformers import edited  # noqa: E402

warnings.simplefilter("ignore")

ROWS = [{"age": 30.0 + i, "city": ["Paris", "Rome", "Zürich"][i % 3], "tags": ["a", "b"][: i % 3]}
        for i in range(12)]
Y = np.array([i % 2 for i in range(12)])


def dv():
    return DictVectorizer().fit(ROWS)


def hasher(**kw):
    return FeatureHasher(n_features=32, **kw).fit(ROWS)


def vocab(change):
    """A DictVectorizer whose vocabulary_ is `change(copy of it)`."""
    def edit(v):
        v = dict(v)
        change(v)
        return v
    return edited(dv(), "vocabulary_", edit)


def cases():
    """(name, what the refusal names, why, model)."""
    pipe = make_pipeline(DictVectorizer(), LogisticRegression()).fit(ROWS, Y)
    names = dv().feature_names_
    return [
        ("dict_vocabulary_out_of_range", "DictVectorizer: vocabulary_ maps \"age\" to a column outside 0..",
         "an index beyond the features", vocab(lambda v: v.update(age=len(v) + 3))),
        ("dict_vocabulary_negative", "DictVectorizer: vocabulary_ maps \"age\" to a column outside 0..",
         "a negative index", vocab(lambda v: v.update(age=-1))),
        ("dict_vocabulary_repeated", "DictVectorizer: vocabulary_ maps two features to column",
         "two features at one column", vocab(lambda v: v.update(age=v["city=Paris"]))),
        ("dict_vocabulary_not_string_key", "DictVectorizer: vocabulary_ has a key that is not a string",
         "an integer feature name", vocab(lambda v: v.update({7: v.pop("age")}))),
        ("dict_vocabulary_not_a_dict", "DictVectorizer: vocabulary_ is not a dict",
         "a list for the vocabulary", edited(dv(), "vocabulary_", lambda v: sorted(v))),
        ("dict_vocabulary_missing", "DictVectorizer: has no vocabulary_",
         "no vocabulary_", edited(dv(), "vocabulary_", delattr)),
        ("dict_feature_names_swapped", "DictVectorizer: feature_names_ names column",
         "feature_names_ out of the vocabulary's order", edited(dv(), "feature_names_", lambda n: n[1:2] + n[:1] + n[2:])),
        ("dict_feature_names_short", "DictVectorizer: feature_names_ has %d names but vocabulary_ has %d" % (len(names) - 1, len(names)),
         "a name missing", edited(dv(), "feature_names_", lambda n: n[:-1])),
        ("dict_feature_names_not_strings", "DictVectorizer: feature_names_ holds a name that is not a string",
         "a number among the names", edited(dv(), "feature_names_", lambda n: [1.5] + n[1:])),
        ("dict_separator_not_string", "DictVectorizer: separator is not a string",
         "a separator that is a number", edited(dv(), "separator", 3)),
        ("dict_sparse_not_bool", "DictVectorizer: sparse is not a boolean",
         "sparse a string", edited(dv(), "sparse", "yes")),
        ("dict_dtype_not_a_type", "DictVectorizer: dtype is not a numpy type",
         "dtype a string", edited(dv(), "dtype", "float64")),
        ("pipeline_dict_vocabulary_repeated", "step dictvectorizer (DictVectorizer): vocabulary_ maps two features",
         "a Pipeline whose vectorizer repeats a column",
         edited(pipe, "vocabulary_", lambda v: dict(v, age=v["city=Rome"]), at="dictvectorizer")),
        ("hasher_n_features_zero", "FeatureHasher: n_features is not an integer from 1 to 2147483647",
         "no columns", edited(hasher(), "n_features", 0)),
        ("hasher_n_features_huge", "FeatureHasher: n_features is not an integer from 1 to 2147483647",
         "more columns than a 32-bit index", edited(hasher(), "n_features", 2 ** 31)),
        ("hasher_n_features_float", "FeatureHasher: n_features is not an integer from 1 to 2147483647",
         "a float count", edited(hasher(), "n_features", 32.0)),
        ("hasher_input_type_unknown", "FeatureHasher: input_type is \"json\", not 'dict', 'pair' or 'string'",
         "an input type scikit-learn does not have", edited(hasher(), "input_type", "json")),
        ("hasher_input_type_missing", "FeatureHasher: has no input_type",
         "no input_type", edited(hasher(), "input_type", delattr)),
        ("hasher_alternate_sign_not_bool", "FeatureHasher: alternate_sign is not a boolean",
         "alternate_sign a string", edited(hasher(), "alternate_sign", "no")),
    ]


def main():
    write(sys.argv[1], cases())


if __name__ == "__main__":
    main()

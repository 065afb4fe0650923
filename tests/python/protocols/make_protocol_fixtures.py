#!/usr/bin/env python3
"""Fit the small models the protocol tests serve (tests/api/families.rs, tests/api/text.rs)
with scikit-learn 1.9 and write them, with scikit-learn's answers, to
tests/fixtures/protocols/: an SVC with probabilities, KNeighborsClassifier, GaussianNB,
MLPClassifier, IsolationForest, KMeans, a StackingClassifier and a Pipeline ending in an SVC,
on iris; a TfidfVectorizer → LogisticRegression, a CountVectorizer → MultinomialNB and a
ColumnTransformer routing a text column, on sentences with accents, mixed case, emoji, an
empty string, very long words and non-Latin scripts. The files are checked in, so that the
tests need no Python; rerun this after changing it:

    target/sk1.9-venv/bin/python tests/python/protocols/make_protocol_fixtures.py
"""

import json
import os
import pickle

import numpy as np
import pandas as pd
import sklearn
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import IsolationForest, StackingClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "fixtures", "protocols")
METHODS = ("predict", "predict_proba", "decision_function", "score_samples", "transform")

TRAIN = [
    "I loved this movie, it was GREAT!",
    "A wonderful, moving story; the acting is superb.",
    "Café crème and a délicieux croissant: parfait 😀",
    "Это был прекрасный фильм, очень трогательный",
    "素晴らしい 映画 でした",
    "Brilliant performances 👏👏 and a beautiful score",
    "supercalifragilisticexpialidocious wonderful adventure",
    "Loved it. Loved it. LOVED IT.",
    "Terrible film. Awful acting and a boring plot.",
    "The worst movie I have ever seen!!!",
    "Un navet, vraiment décevant et ennuyeux",
    "Это был ужасный фильм, очень скучный",
    "最悪の 映画 でした",
    "pneumonoultramicroscopicsilicovolcanoconiosis and boredom",
    "Hated it. Hated it. HATED IT.",
    "Bad sound, bad light, bad everything 👎",
    "The film runs for two hours and ten minutes.",
    "It was released in cinemas last Friday.",
    "Der Film läuft seit Freitag im Kino.",
    "Фильм идёт два часа.",
]
LABELS = ["pos"] * 8 + ["neg"] * 8 + ["neutral"] * 4
SCORED = [
    "great movie, truly WONDERFUL",
    "AWFUL. terrible. boring!",
    "",
    "Café délicieux 😀 — parfait!",
    "ужасный фильм",
    "素晴らしい 映画",
    "x" * 300 + " great",
    "🙂🙂🙂",
]


def answers(model, x):
    out = {}
    for method in METHODS:
        if hasattr(model, method):
            try:
                values = getattr(model, method)(x)
            except AttributeError:
                continue
            out[method] = np.asarray(values).tolist()
    return out


def save(name, model, inputs, expected):
    with open(os.path.join(OUT, name + ".pkl"), "wb") as f:
        pickle.dump(model, f, protocol=5)
    expected[name] = {
        "class": type(model).__name__,
        "classes": np.asarray(model.classes_).tolist() if hasattr(model, "classes_") else None,
        "answers": answers(model, inputs),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    x, y = load_iris(return_X_y=True)
    rows = x[[0, 51, 102, 25, 77, 140]]
    numeric = {}
    svc = SVC(probability=True, random_state=0)
    for name, model in [
        ("svc_probability", svc),
        ("kneighbors", KNeighborsClassifier(n_neighbors=5, weights="distance")),
        ("gaussian_nb", GaussianNB()),
        ("mlp", MLPClassifier(hidden_layer_sizes=(8,), max_iter=2000, random_state=0)),
        ("isolation_forest", IsolationForest(n_estimators=10, random_state=0)),
        ("kmeans", KMeans(n_clusters=3, n_init=3, random_state=0)),
        ("stacking", StackingClassifier(
            [("nb", GaussianNB()), ("knn", KNeighborsClassifier(n_neighbors=3))],
            final_estimator=LogisticRegression(max_iter=1000))),
        ("pipeline_svc", make_pipeline(StandardScaler(), SVC(probability=True, random_state=0))),
    ]:
        model.fit(x, y)
        save(name, model, rows, numeric)
    with open(os.path.join(OUT, "numeric.json"), "w") as f:
        json.dump({"sklearn_version": sklearn.__version__, "rows": rows.tolist(),
                   "models": numeric}, f, indent=1)

    text = {}
    for name, model in [
        ("tfidf_logistic", make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))),
        ("count_multinomial_nb", make_pipeline(CountVectorizer(), MultinomialNB())),
    ]:
        model.fit(TRAIN, LABELS)
        save(name, model, SCORED, text)
    frame = lambda docs: pd.DataFrame({  # noqa: E731
        "review": np.array(docs, dtype=object),
        "stars": np.linspace(1.0, 5.0, len(docs)),
    })
    routed = make_pipeline(ColumnTransformer([
        ("review", TfidfVectorizer(), "review"),
        ("stars", StandardScaler(), ["stars"]),
    ]), LogisticRegression(max_iter=1000))
    routed.fit(frame(TRAIN), LABELS)
    save("column_routed_text", routed, frame(SCORED), text)
    with open(os.path.join(OUT, "text.json"), "w") as f:
        json.dump({"sklearn_version": sklearn.__version__, "documents": SCORED,
                   "stars": frame(SCORED)["stars"].tolist(), "models": text},
                  f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()

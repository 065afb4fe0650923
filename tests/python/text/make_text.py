#!/usr/bin/env python3
"""Fit the text matrix with the installed scikit-learn: every vectorizer option skserve
serves, alone (its `transform`) and before a linear model, in every container, scored on
sentences with accents, mixed case, punctuation, emoji, an empty string, very long words and
non-Latin scripts (tests/python/transformers/matrix.py has the layout).

    python make_text.py OUTDIR
"""

import os
import sys
import unicodedata

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "transformers"))
from matrix import VERSION, write_matrix  # noqa: E402

POSITIVE = [
    "I loved this movie, it was GREAT!",
    "A wonderful, moving story; the acting is superb.",
    "Best film of the year. Truly excellent!!!",
    "Café crème and a délicieux croissant: parfait 😀",
    "What a lovely, lovely day at the cinema",
    "Un film magnifique, très émouvant",
    "Eine großartige Geschichte, wunderschön erzählt",
    "Это был прекрасный фильм, очень трогательный",
    "素晴らしい映画でした。また見たい！",
    "Η ταινία ήταν ΥΠΕΡΟΧΗ, ΑΞΙΖΕΙ ΠΟΛΥ",
    "أحببت هذا الفيلم كثيرا، رائع جدا",
    "यह फ़िल्म बहुत अच्छी थी",
    "Brilliant performances 👏👏 and a beautiful score",
    "supercalifragilisticexpialidocious wonderful adventure",
    "I'd recommend it to anyone who likes great drama",
    "The director's best work; smart, funny, warm.",
    "A joy from start to finish — simply delightful",
    "Loved it. Loved it. LOVED IT.",
    "İstanbul'da çok güzel bir film izledik",
    "Wonderful cast, clever script, great music",
]
NEGATIVE = [
    "Terrible film. Awful acting and a boring plot.",
    "The worst movie I have ever seen!!!",
    "Dull, slow and far too long 😴",
    "Un navet, vraiment décevant et ennuyeux",
    "Eine schreckliche, langweilige Geschichte",
    "Это был ужасный фильм, очень скучный",
    "最悪の映画でした。時間の無駄。",
    "Η ταινία ήταν ΚΑΚΗ και ΒΑΡΕΤΗ",
    "كان الفيلم سيئا جدا ومملا",
    "यह फ़िल्म बहुत बुरी थी",
    "Awful, awful, awful. Do not watch.",
    "pneumonoultramicroscopicsilicovolcanoconiosis and boredom",
    "I wouldn't recommend it to anyone at all",
    "Poor script, wooden actors, terrible music",
    "A mess from start to finish — simply dreadful",
    "Hated it. Hated it. HATED IT.",
    "Boring boring boring, the plot made no sense",
    "Kötü bir film, hiç beğenmedim",
    "Not good, not funny, not worth the ticket",
    "Bad sound, bad light, bad everything 👎",
]
NEUTRAL = [
    "The film runs for two hours and ten minutes.",
    "It was released in cinemas last Friday.",
    "Le film dure deux heures.",
    "Der Film läuft seit Freitag im Kino.",
    "Фильм идёт два часа.",
    "映画は二時間です。",
    "The cast includes several well-known actors.",
    "It is based on a novel from 1965.",
    "Shown in French with English subtitles",
    "Tickets cost ten euros at the box office",
]

TRAIN = POSITIVE + NEGATIVE + NEUTRAL
LABELS = np.array(["pos"] * len(POSITIVE) + ["neg"] * len(NEGATIVE) + ["neutral"] * len(NEUTRAL))
BINARY = (LABELS == "pos").astype(np.int64)
RATING = np.where(LABELS == "pos", 4.5, np.where(LABELS == "neg", 1.0, 3.0)) + np.linspace(-0.4, 0.4, len(TRAIN))

SCORED = [
    "great movie, truly wonderful",
    "AWFUL. terrible. boring!",
    "",
    "   ",
    "Café délicieux 😀 — parfait!",
    "ужасный фильм",
    "素晴らしい映画",
    "ΥΠΕΡΟΧΗ ταινία, ΠΟΛΥ καλή",
    "رائع جدا",
    "अच्छी फ़िल्म",
    "x" * 300 + " great",
    "a b c d e f g",
    "The\tfilm\n\nruns   for two hours",
    "İSTANBUL çok güzel",
    "Straße groß GROSS",
    "🙂🙂🙂",
    "don't, won't, can't; it's",
    "numbers 123 4567 and ½ ² ³",
    "under_score snake_case CamelCase",
    "new words never seen in training",
]


def boundaries_agree(doc):
    """Whether every character of the lower-cased document is a word character to both Python
    and the regex crate or to neither: no combining marks, no other numbers (½ ²), no connector
    punctuation but `_`."""
    return all(c == "_" or unicodedata.category(c) not in ("Mn", "Mc", "Me", "No", "Pc")
               for c in doc.lower())


# What a token pattern with word boundaries (\b) can be served on exactly.
LATIN = [d for d in SCORED if boundaries_agree(d)]


def models():
    """(id, factory, fit on, scored on) of every case."""
    text = ["scored"]
    latin = ["latin"]
    lr = lambda: LogisticRegression(max_iter=2000)  # noqa: E731
    out = [
        ("count_default", lambda: CountVectorizer(), "binary", text),
        ("count_binary_unicode_accents", lambda: CountVectorizer(binary=True, strip_accents="unicode"), "binary", text),
        ("count_ascii_accents_no_lowercase", lambda: CountVectorizer(strip_accents="ascii", lowercase=False), "binary", text),
        ("count_char_1_3", lambda: CountVectorizer(analyzer="char", ngram_range=(1, 3)), "binary", text),
        ("count_char_wb_2_4_float32", lambda: CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), dtype=np.float32), "binary", text),
        ("count_pattern_letters", lambda: CountVectorizer(token_pattern=r"[^\W\d_]{2,}"), "binary", text),
        ("count_pattern_group", lambda: CountVectorizer(token_pattern=r"(\w\w+)"), "binary", text),
        ("count_pattern_nonspace", lambda: CountVectorizer(token_pattern=r"\S+"), "binary", text),
        ("count_pattern_boundaries", lambda: CountVectorizer(token_pattern=r"(?u)\b\w+\b"), "binary", latin),
        ("count_stop_list_bigrams", lambda: CountVectorizer(stop_words=["the", "a", "and", "it", "was"], ngram_range=(1, 2)), "binary", text),
        ("count_max_features_min_df", lambda: CountVectorizer(max_features=40, min_df=2), "binary", text),
        ("count_vocabulary_given", lambda: CountVectorizer(vocabulary=["great", "awful", "film", "movie", "bad", "good"]), "binary", text),
        ("tfidf_default", lambda: TfidfVectorizer(), "binary", text),
        ("tfidf_english_sublinear_bigrams", lambda: TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2), max_df=0.9), "binary", text),
        ("tfidf_no_idf_no_norm", lambda: TfidfVectorizer(use_idf=False, norm=None), "binary", text),
        ("tfidf_l1_no_smooth", lambda: TfidfVectorizer(norm="l1", smooth_idf=False), "binary", text),
        ("tfidf_float32", lambda: TfidfVectorizer(dtype=np.float32), "binary", text),
        ("tfidf_char_wb_binary", lambda: TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), binary=True), "binary", text),
        ("hashing_default", lambda: HashingVectorizer(n_features=2 ** 12), "binary", text),
        ("hashing_unsigned_binary_no_norm", lambda: HashingVectorizer(n_features=64, alternate_sign=False, binary=True, norm=None), "binary", text),
        ("hashing_char_l1", lambda: HashingVectorizer(n_features=2 ** 10, analyzer="char", ngram_range=(2, 3), norm="l1"), "binary", text),
        ("count_tfidf_transformer", lambda: make_pipeline(CountVectorizer(), TfidfTransformer(sublinear_tf=True)), "binary", text),
        # A ufunc that maps 0 to 0 keeps the counts sparse, as numpy on a scipy matrix does.
        ("count_log1p", lambda: make_pipeline(CountVectorizer(), FunctionTransformer(np.log1p)), "binary", text),
        ("count_sqrt_logistic", lambda: make_pipeline(CountVectorizer(), FunctionTransformer(np.sqrt), lr()), "labels", text),
        ("tfidf_logistic_binary", lambda: make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), lr()), "binary", text),
        ("tfidf_logistic_multi", lambda: make_pipeline(TfidfVectorizer(strip_accents="unicode"), lr()), "labels", text),
        ("count_tfidf_transformer_logistic", lambda: make_pipeline(CountVectorizer(), TfidfTransformer(), lr()), "labels", text),
        ("tfidf_char_wb_linear_svc", lambda: make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)), LinearSVC(max_iter=5000, random_state=0)), "labels", text),
        ("hashing_sgd", lambda: make_pipeline(HashingVectorizer(n_features=2 ** 12), SGDClassifier(loss="log_loss" if VERSION >= (1, 1) else "log", random_state=0)), "binary", text),
        ("count_ridge_classifier", lambda: make_pipeline(CountVectorizer(binary=True), RidgeClassifier()), "labels", text),
        ("tfidf_ridge_regression", lambda: make_pipeline(TfidfVectorizer(sublinear_tf=True), Ridge()), "rating", text),
        ("ct_text_column_logistic", lambda: make_pipeline(ColumnTransformer([
            ("review", TfidfVectorizer(), "review"),
            ("kind", OneHotEncoder(handle_unknown="ignore"), ["kind"]),
            ("stars", StandardScaler(), ["stars"]),
        ]), lr()), "labels", ["frame"]),
    ]
    if VERSION < (1, 9):
        # From 1.9 LogisticRegression fitted on float32 keeps float32 coefficients and computes
        # its probabilities in float32; skserve computes them in float64 (within 2e-8).
        out.append(("tfidf_float32_logistic", lambda: make_pipeline(TfidfVectorizer(dtype=np.float32), lr()), "binary", text))
    return out


def frame(documents):
    n = len(documents)
    return pd.DataFrame({
        "review": np.array(documents, dtype=object),
        "kind": np.array(["web", "paper", "tv"] * (n // 3 + 1), dtype=object)[:n],
        "stars": np.linspace(1.0, 5.0, n),
    })


def main():
    targets = {"binary": BINARY, "labels": LABELS, "rating": RATING}
    inputs = {"scored": SCORED, "latin": LATIN, "frame": frame(SCORED)}
    cases = []
    for model_id, factory, target, scored_on in models():
        model = factory()
        train = frame(TRAIN) if scored_on == ["frame"] else TRAIN
        if type(model).__name__ in ("CountVectorizer", "TfidfVectorizer", "HashingVectorizer") \
                or (hasattr(model, "steps") and not hasattr(model, "predict")):
            model.fit(train)
        else:
            model.fit(train, targets[target])
        cases.append((model_id, model, scored_on))
    write_matrix(sys.argv[1], cases, inputs, "text models")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The speed benchmark of the families beyond linear models and trees, one model of each (an
SVC with probabilities, k-neighbours, naive Bayes, an MLP, discriminant analysis, a Bayesian
ridge, an isolation forest, k-means, a Gaussian mixture, kernel ridge, a Gaussian process,
stacking, bagging, transformers in a Pipeline) and a TF-IDF + LogisticRegression Pipeline of
about 50,000 terms. Fits them into OUTDIR with their rows (rows.csv: 10,000 rows of 20
features; documents.json: one document of a few sentences and 10,000 documents) and a
manifest (bench.json: file, output, input), then times one row and 10,000 rows of each, one
thread (threadpoolctl), for `cargo bench --bench model -- families` to be set beside. Models
already in OUTDIR are timed as they are, so every timing of a run times the same models.

    target/sk1.9-venv/bin/python tests/python/families/bench_families.py OUTDIR
    target/onnx-venv/bin/python tests/python/families/bench_families.py OUTDIR --onnx

With --onnx, each model skl2onnx converts is timed in ONNX Runtime (one thread) instead, and
a model it cannot convert is reported with the converter's error.
"""

import json
import os
import pickle
import sys
import timeit
import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.cluster import KMeans
from sklearn.datasets import make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
from sklearn.ensemble import BaggingClassifier, IsolationForest, StackingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import BayesianRidge, LogisticRegression, Ridge
from sklearn.mixture import GaussianMixture
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.decomposition import PCA
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

# bench_onnx.py's one-thread session, imported where ONNX Runtime is installed.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trees"))

N_ROWS = 10_000


def models():
    """(name, model, output, fitted on: 'classes', 'values' or 'documents', training rows)."""
    return [
        ("svc", SVC(probability=True, random_state=0), "predict_proba", "classes", 2000),
        ("kneighbors", KNeighborsClassifier(n_neighbors=5), "predict_proba", "classes", 2000),
        ("gaussian_nb", GaussianNB(), "predict_proba", "classes", 2000),
        ("mlp", MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=300, random_state=0), "predict_proba", "classes", 2000),
        ("lda", LinearDiscriminantAnalysis(), "predict_proba", "classes", 2000),
        ("qda", QuadraticDiscriminantAnalysis(), "predict_proba", "classes", 2000),
        ("bayesian_ridge", BayesianRidge(), "predict", "values", 2000),
        ("isolation_forest", IsolationForest(n_estimators=100, random_state=0), "decision_function", "none", 2000),
        ("kmeans", KMeans(n_clusters=8, n_init=3, random_state=0), "predict", "none", 2000),
        ("gaussian_mixture", GaussianMixture(n_components=4, random_state=0), "predict_proba", "none", 2000),
        ("kernel_ridge", KernelRidge(kernel="rbf", gamma=0.05), "predict", "values", 2000),
        ("gaussian_process", GaussianProcessRegressor(RBF(3.0) + WhiteKernel(0.1), random_state=0), "predict", "values", 500),
        ("stacking", StackingClassifier([("nb", GaussianNB()), ("lr", LogisticRegression(max_iter=1000))],
                                        final_estimator=LogisticRegression(max_iter=1000)), "predict_proba", "classes", 2000),
        ("bagging", BaggingClassifier(DecisionTreeClassifier(max_depth=8), n_estimators=20, random_state=0), "predict_proba", "classes", 2000),
        ("pca_logistic", make_pipeline(StandardScaler(), PCA(n_components=10), LogisticRegression(max_iter=1000)), "predict_proba", "classes", 2000),
        ("poly_ridge", make_pipeline(PolynomialFeatures(degree=2), Ridge()), "predict", "values", 2000),
        ("tfidf_logistic", make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=300)), "predict_proba", "documents", 20000),
    ]


def corpus(rng, words, n_docs):
    """Documents of 30 to 80 words drawn from `words` with Zipf-like frequencies, and a label
    of three from the words they hold."""
    p = 1.0 / (np.arange(len(words)) + 10.0)
    p /= p.sum()
    docs, labels = [], []
    for _ in range(n_docs):
        picked = rng.choice(len(words), size=rng.integers(30, 81), p=p)
        docs.append(" ".join(words[i] for i in picked))
        labels.append(int(picked.sum() % 3))
    return docs, np.array(labels)


def make_data(outdir):
    x, y = make_classification(n_samples=2000 + N_ROWS, n_features=20, n_informative=10,
                               n_redundant=0, n_classes=3, random_state=0)
    rows = x[2000:]
    np.savetxt(os.path.join(outdir, "rows.csv"), rows, delimiter=",", fmt="%.17g")
    if os.path.exists(os.path.join(outdir, "documents.json")):
        return
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = sorted({"".join(rng.choice(letters, size=rng.integers(4, 11))) for _ in range(62_000)})
    rng.shuffle(words)
    train_docs, train_labels = corpus(rng, words, 20_000)
    docs, _ = corpus(rng, words, N_ROWS)
    with open(os.path.join(outdir, "documents.json"), "w") as f:
        json.dump({"train": train_docs, "train_labels": train_labels.tolist(), "scored": docs}, f)


def fitted(outdir):
    """Every model, fitted now or read back from OUTDIR."""
    x = np.loadtxt(os.path.join(outdir, "rows.csv"), delimiter=",")
    with open(os.path.join(outdir, "documents.json")) as f:
        documents = json.load(f)
    train_x, train_y = make_classification(n_samples=2000 + N_ROWS, n_features=20, n_informative=10,
                                           n_redundant=0, n_classes=3, random_state=0)
    out = []
    for name, model, output, target, n_train in models():
        path = os.path.join(outdir, name + ".pkl")
        if os.path.exists(path):
            with open(path, "rb") as f:
                model = pickle.load(f)
        else:
            if target == "documents":
                model.fit(documents["train"], documents["train_labels"])
            elif target == "values":
                model.fit(train_x[:n_train], train_x[:n_train, :3].sum(axis=1))
            elif target == "none":
                model.fit(train_x[:n_train])
            else:
                model.fit(train_x[:n_train], train_y[:n_train])
            with open(path, "wb") as f:
                pickle.dump(model, f, protocol=5)
        if target == "documents":
            scored = documents["scored"]
            one, batch, kind = [" ".join(scored[:1])], scored, "documents"
        else:
            one, batch, kind = x[:1], x, "rows"
        out.append((name, model, output, kind, one, batch))
    return out


def timed(call, one, batch):
    n = 200
    t1 = min(timeit.repeat(lambda: call(one), number=n, repeat=3)) / n
    tb = min(timeit.repeat(lambda: call(batch), number=1, repeat=3))
    return t1, tb


def onnx_session(model, one):
    import skl2onnx
    from bench_onnx import one_thread_session
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    if isinstance(one, list):
        types = [("input", StringTensorType([None, 1]))]
    else:
        types = [("input", FloatTensorType([None, one.shape[1]]))]
    options = {id(model): {"zipmap": False}} if is_classifier(model) else None
    # skl2onnx 1.20 writes tree ensembles in an ai.onnx.ml version it cannot finish.
    onnx_model = skl2onnx.convert_sklearn(model, initial_types=types, options=options,
                                          target_opset={"": 18, "ai.onnx.ml": 3})
    return one_thread_session(onnx_model)


def main():
    outdir = sys.argv[1]
    onnx = "--onnx" in sys.argv[2:]
    os.makedirs(outdir, exist_ok=True)
    warnings.simplefilter("ignore")
    if not os.path.exists(os.path.join(outdir, "rows.csv")):
        make_data(outdir)
    cases = fitted(outdir)
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump([{"name": n, "output": o, "input": k} for n, _, o, k, _, _ in cases], f, indent=1)
    if onnx:
        import onnxruntime
        import skl2onnx
        print("skl2onnx %s, onnx runtime %s" % (skl2onnx.__version__, onnxruntime.__version__))
    with threadpool_limits(limits=1):
        for name, model, output, kind, one, batch in cases:
            if kind == "documents":
                vocabulary = len(model.steps[0][1].vocabulary_)
                label = "%s (%d terms)" % (name, vocabulary)
            else:
                label = name
            if onnx:
                try:
                    sess = onnx_session(model, one)
                except Exception as error:  # the converter's exception types vary by model
                    print("onnxruntime %s: skl2onnx cannot convert it: %s: %s"
                          % (label, type(error).__name__, str(error).splitlines()[0][:140]))
                    continue
                feed = sess.get_inputs()[0].name
                if kind == "documents":
                    one_in = np.array(one, dtype=object).reshape(-1, 1)
                    batch_in = np.array(batch, dtype=object).reshape(-1, 1)
                else:
                    one_in, batch_in = one.astype(np.float32), batch.astype(np.float32)
                t1, tb = timed(lambda b: sess.run(None, {feed: b}), one_in, batch_in)
                print("onnxruntime %s %s: 1 %s %.1f us, 10000 %s %.2f ms"
                      % (label, output, kind[:-1], t1 * 1e6, kind, tb * 1e3))
            else:
                t1, tb = timed(getattr(model, output), one, batch)
                print("scikit-learn %s %s: 1 %s %.1f us, 10000 %s %.2f ms"
                      % (label, output, kind[:-1], t1 * 1e6, kind, tb * 1e3))
            sys.stdout.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The speed benchmark of every served transformer in a Pipeline: one Pipeline per transformer
class (a spline basis, discretizers, quantile and power transforms, decompositions, kernel
approximations, random projections, feature selectors, imputers, encoders, scalers, manifold
embeddings, ...), each followed by a LogisticRegression, fitted on 2,000 rows of 20 features
(make_classification, three classes, fixed seeds). Fits them into OUTDIR with the rows they
are scored on (10,000 rows of each kind: rows.csv as drawn; positive.csv, exp(x / 4), for the
transforms that need positive values; missing.csv, one value in ten missing, for the imputers;
categories.csv, x rounded into -3..3, for the encoders) and a manifest (bench.json: name,
classes, rows), then times `predict_proba` on one row (best of three loops of 200 calls) and on
10,000 rows (best of three), one thread (threadpoolctl), for `cargo bench --bench
transformers` to be set beside. Models already in OUTDIR are timed as they are, so every
timing of a run times the same models.

    target/sk1.9-venv/bin/python tests/python/transformers/bench_transformers.py OUTDIR
    target/onnx-venv/bin/python tests/python/transformers/bench_transformers.py OUTDIR --onnx

With --onnx, each Pipeline skl2onnx converts is timed in ONNX Runtime (float32, one
intra-op thread) instead, and one it cannot convert is reported with the converter's error.
"""

import json
import os
import pickle
import sys
import warnings

import numpy as np
from sklearn.cluster import FeatureAgglomeration
from sklearn.datasets import make_classification
from sklearn.decomposition import FactorAnalysis, FastICA, IncrementalPCA, KernelPCA, TruncatedSVD
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomTreesEmbedding
from sklearn.experimental import enable_iterative_imputer  # noqa: F401 (makes it importable)
from sklearn.feature_selection import (RFE, RFECV, GenericUnivariateSelect, SelectFromModel,
                                       SelectKBest, SelectPercentile, SequentialFeatureSelector,
                                       VarianceThreshold)
from sklearn.impute import IterativeImputer, KNNImputer, MissingIndicator, SimpleImputer
from sklearn.kernel_approximation import (AdditiveChi2Sampler, Nystroem, PolynomialCountSketch,
                                          RBFSampler, SkewedChi2Sampler)
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import Isomap, LocallyLinearEmbedding
from sklearn.neighbors import KNeighborsTransformer, NeighborhoodComponentsAnalysis
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import (Binarizer, FunctionTransformer, KBinsDiscretizer, MaxAbsScaler,
                                   MinMaxScaler, Normalizer, OneHotEncoder, OrdinalEncoder,
                                   PowerTransformer, QuantileTransformer, RobustScaler,
                                   SplineTransformer, TargetEncoder)
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection
from threadpoolctl import threadpool_limits

# bench_families.py's timing loop and skl2onnx conversion (one-thread ONNX Runtime session).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "families"))
from bench_families import onnx_session, timed  # noqa: E402

N_TRAIN = 2000
N_ROWS = 10_000


def logistic():
    return LogisticRegression(max_iter=1000)


def transformers():
    """(name, transformer, rows it is fitted on and given: rows, positive, missing or
    categories). The Pipelines already timed by bench_families.py (StandardScaler + PCA,
    PolynomialFeatures, TF-IDF) are not repeated. SparsePCA is left out: scikit-learn 1.9's
    transform of one row returns a vector, which the LogisticRegression after it refuses."""
    return [
        ("spline", SplineTransformer(n_knots=5, degree=3), "rows"),
        ("kbins_onehot", KBinsDiscretizer(n_bins=5, encode="onehot", strategy="quantile"), "rows"),
        ("kbins_ordinal", KBinsDiscretizer(n_bins=5, encode="ordinal", strategy="uniform"), "rows"),
        ("quantile_uniform", QuantileTransformer(random_state=0), "rows"),
        ("quantile_normal", QuantileTransformer(output_distribution="normal", random_state=0), "rows"),
        ("power_yeo_johnson", PowerTransformer(method="yeo-johnson"), "rows"),
        ("power_box_cox", PowerTransformer(method="box-cox"), "positive"),
        ("normalizer", Normalizer(), "rows"),
        ("binarizer", Binarizer(threshold=0.0), "rows"),
        ("target_encoder", TargetEncoder(random_state=0), "categories"),
        ("function_log1p", FunctionTransformer(np.log1p), "positive"),
        ("max_abs_scaler", MaxAbsScaler(), "rows"),
        ("robust_scaler", RobustScaler(), "rows"),
        ("min_max_scaler", MinMaxScaler(), "rows"),
        ("one_hot_encoder", OneHotEncoder(handle_unknown="ignore"), "categories"),
        ("ordinal_encoder", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
         "categories"),
        ("simple_imputer", SimpleImputer(), "missing"),
        ("missing_indicator", MissingIndicator(features="all"), "missing"),
        ("knn_imputer", KNNImputer(), "missing"),
        ("iterative_imputer", IterativeImputer(random_state=0), "missing"),
        ("incremental_pca", IncrementalPCA(n_components=10), "rows"),
        ("truncated_svd", TruncatedSVD(n_components=10, random_state=0), "rows"),
        ("fast_ica", FastICA(n_components=10, whiten="unit-variance", random_state=0), "rows"),
        ("kernel_pca_rbf", KernelPCA(n_components=10, kernel="rbf", gamma=0.05), "rows"),
        ("factor_analysis", FactorAnalysis(n_components=10, random_state=0), "rows"),
        ("nystroem", Nystroem(n_components=100, random_state=0), "rows"),
        ("rbf_sampler", RBFSampler(n_components=100, random_state=0), "rows"),
        ("skewed_chi2_sampler", SkewedChi2Sampler(n_components=100, random_state=0), "positive"),
        ("additive_chi2_sampler", AdditiveChi2Sampler(), "positive"),
        ("polynomial_count_sketch", PolynomialCountSketch(n_components=100, random_state=0), "rows"),
        ("gaussian_random_projection", GaussianRandomProjection(n_components=10, random_state=0), "rows"),
        ("sparse_random_projection", SparseRandomProjection(n_components=10, random_state=0), "rows"),
        ("variance_threshold", VarianceThreshold(), "rows"),
        ("select_k_best", SelectKBest(k=10), "rows"),
        ("select_percentile", SelectPercentile(percentile=50), "rows"),
        ("generic_univariate_select", GenericUnivariateSelect(mode="fpr", param=0.05), "rows"),
        ("select_from_model", SelectFromModel(logistic()), "rows"),
        ("rfe", RFE(logistic(), n_features_to_select=10), "rows"),
        ("rfecv", RFECV(logistic(), cv=3), "rows"),
        ("sequential_feature_selector",
         SequentialFeatureSelector(logistic(), n_features_to_select=5, cv=3), "rows"),
        ("isomap", Isomap(n_components=5, n_neighbors=10), "rows"),
        ("locally_linear_embedding",
         LocallyLinearEmbedding(n_components=5, n_neighbors=10, random_state=0), "rows"),
        ("random_trees_embedding", RandomTreesEmbedding(n_estimators=20, max_depth=5, random_state=0), "rows"),
        ("lda_transform", LinearDiscriminantAnalysis(n_components=2), "rows"),
        ("nca", NeighborhoodComponentsAnalysis(n_components=5, max_iter=20, random_state=0), "rows"),
        ("bernoulli_rbm", BernoulliRBM(n_components=32, random_state=0), "rows"),
        ("feature_agglomeration", FeatureAgglomeration(n_clusters=5), "rows"),
        ("kneighbors_transformer", KNeighborsTransformer(n_neighbors=5), "rows"),
        ("feature_union", FeatureUnion([("svd", TruncatedSVD(n_components=5, random_state=0)),
                                        ("scaled", MinMaxScaler())]), "rows"),
    ]


def data():
    """Each kind of rows: (the 2,000 fitted on, the 10,000 scored), and the classes."""
    x, y = make_classification(n_samples=N_TRAIN + N_ROWS, n_features=20, n_informative=10,
                               n_redundant=0, n_classes=3, random_state=0)
    missing = x.copy()
    missing[np.random.default_rng(0).random(x.shape) < 0.1] = np.nan
    kinds = {
        "rows": x,
        "positive": np.exp(x / 4),
        "missing": missing,
        "categories": np.clip(np.round(x), -3, 3),
    }
    return {k: (v[:N_TRAIN], v[N_TRAIN:]) for k, v in kinds.items()}, y[:N_TRAIN]


def fitted(outdir):
    """Every Pipeline, fitted now or read back from OUTDIR, with its rows."""
    kinds, classes = data()
    for kind, (_, scored) in kinds.items():
        path = os.path.join(outdir, kind + ".csv")
        if not os.path.exists(path):
            np.savetxt(path, scored, delimiter=",", fmt="%.17g")
    out = []
    for name, transformer, kind in transformers():
        path = os.path.join(outdir, name + ".pkl")
        if os.path.exists(path):
            with open(path, "rb") as f:
                model = pickle.load(f)
        else:
            model = make_pipeline(transformer, logistic())
            model.fit(kinds[kind][0], classes)
            with open(path, "wb") as f:
                pickle.dump(model, f, protocol=5)
        out.append((name, model, kind, kinds[kind][1]))
    return out


def onnx_call(model, one):
    """ONNX Runtime's run of the converted Pipeline on float32 rows, or why skl2onnx cannot
    convert it (the exception's type and first line)."""
    try:
        sess = onnx_session(model, one)
    except Exception as error:  # the converter's exception types vary by model
        return None, "%s: %s" % (type(error).__name__, str(error).splitlines()[0][:140])
    feed = sess.get_inputs()[0].name
    return (lambda rows: sess.run(None, {feed: rows})), None


def main():
    outdir = sys.argv[1]
    onnx = "--onnx" in sys.argv[2:]
    os.makedirs(outdir, exist_ok=True)
    warnings.simplefilter("ignore")
    cases = fitted(outdir)
    with open(os.path.join(outdir, "bench.json"), "w") as f:
        json.dump([{"name": n, "rows": k} for n, _, k, _ in cases], f, indent=1)
    if onnx:
        import onnxruntime
        import skl2onnx
        print("skl2onnx %s, onnx runtime %s" % (skl2onnx.__version__, onnxruntime.__version__))
    else:
        import sklearn
        print("scikit-learn %s, numpy %s" % (sklearn.__version__, np.__version__))
    with threadpool_limits(limits=1):
        for name, model, _, rows in cases:
            if onnx:
                call, why = onnx_call(model, rows[:1])
                if why:
                    print("onnxruntime %s: skl2onnx cannot convert it: %s" % (name, why))
                    continue
                rows, engine = rows.astype(np.float32), "onnxruntime"
            else:
                call, engine = model.predict_proba, "scikit-learn"
            t1, tb = timed(call, rows[:1], rows)
            print("%s %s predict_proba: 1 row %.1f us, 10000 rows %.2f ms"
                  % (engine, name, t1 * 1e6, tb * 1e3))
            sys.stdout.flush()

if __name__ == "__main__":
    main()

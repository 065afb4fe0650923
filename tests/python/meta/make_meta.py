#!/usr/bin/env python3
"""Fit the meta-estimator matrix with the installed scikit-learn and write each model, in
every container skserve reads, next to scikit-learn's answers to every output it offers.

    python make_meta.py OUTDIR

The classes: ensembles (AdaBoost, Bagging, Voting, Stacking), calibration and
IsotonicRegression, the multiclass and multioutput wrappers, TransformedTargetRegressor,
FeatureUnion, the threshold and self-training wrappers, feature selection, and
FunctionTransformer with numpy ufuncs; each alone and some nested in others or in a
Pipeline, fitted on small data sets scikit-learn ships. It must run unchanged under
scikit-learn 1.1, 1.3 and 1.9 (numpy 1 and 2); a model a version cannot fit (a class or an
option it lacks) is left out of that version's matrix.

Layout:

    OUTDIR/manifest.json             versions and one case per file
    OUTDIR/models/<id>__<format>.pkl|.joblib
    OUTDIR/inputs/<id>.json          the rows scored, floats as Python's repr writes them
    OUTDIR/expected/<id>.json        the chain, the classes, and each output's answer (a NaN
                                     as null)
"""

import json
import os
import platform
import sys
import warnings

import numpy as np
import sklearn
from sklearn import ensemble, feature_selection as fs, multiclass, multioutput
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, RidgeClassifier, Lasso
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
from make_pipelines import FORMATS, VERSION, chain, serialise  # noqa: E402

warnings.simplefilter("ignore")

# The outputs compared, as skserve names them.
METHODS = ["predict", "predict_proba", "decision_function", "score_samples", "transform"]


def data():
    """(X_train, X_scored, y) per data set: every third row held out, plus rows pushed off
    the data (held-out rows scaled by 1.5), so that scores reach the tails."""
    out = {}
    for name, loader in (("iris", load_iris), ("wine", load_wine), ("diabetes", load_diabetes),
                         ("cancer", load_breast_cancer)):
        X, y = loader(return_X_y=True)
        held = np.arange(len(X)) % 3 == 0
        scored = np.vstack([X[held], X[held][:20] * 1.5])
        out[name] = (X[~held], scored, y[~held])
    # One column (IsotonicRegression): diabetes' body mass index.
    X, scored, y = out["diabetes"]
    out["bmi"] = (X[:, [2]], scored[:, [2]], y)
    return out


def target(kind, X, y):
    """The target of kind `kind` made from a data set's X and y."""
    if kind == "y":
        return y
    if kind == "names":
        return np.array(["setosa", "versicolor", "virginica", "other"], dtype=object)[y.astype(int) % 4]
    if kind == "two":
        return np.column_stack([y, X[:, 0] * 100.0 + y * 0.5])
    if kind == "two_labels":
        return np.column_stack([y, (X[:, 0] > np.median(X[:, 0])).astype(int)])
    if kind == "binary_labels":
        return np.column_stack([(y == 0), (X[:, 0] > np.median(X[:, 0])), (y == 2)]).astype(int)
    if kind == "semi":
        out = y.copy()
        out[np.arange(len(y)) % 3 != 0] = -1
        return out
    raise ValueError(kind)


def scaled_lr(**kw):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, **kw))


def tree(depth=3):
    return DecisionTreeClassifier(max_depth=depth, random_state=0)


def rtree(depth=3):
    return DecisionTreeRegressor(max_depth=depth, random_state=0)


def ufunc(func, **kw):
    """A FunctionTransformer of `func`. Before scikit-learn 1.2 only `validate=True` records
    the width it was fitted on, which skserve needs to serve it first in a model."""
    if VERSION < (1, 2):
        kw.setdefault("validate", True)
    return FunctionTransformer(func, **kw)


def svc():
    return make_pipeline(StandardScaler(), LinearSVC(random_state=0, max_iter=5000))


def samme(algorithm):
    """AdaBoostClassifier's `algorithm`, where the version still takes it (SAMME alone from
    1.6, the parameter gone in 1.8)."""
    return {"algorithm": algorithm} if VERSION < (1, 6) else {}


def ensembles():
    out = [
        ("adaboost_samme_iris", "iris", "y", lambda: ensemble.AdaBoostClassifier(tree(2), n_estimators=10, random_state=0, **samme("SAMME"))),
        ("adaboost_samme_binary", "cancer", "y", lambda: ensemble.AdaBoostClassifier(tree(1), n_estimators=12, random_state=0, **samme("SAMME"))),
        ("adaboost_default_wine", "wine", "names", lambda: ensemble.AdaBoostClassifier(n_estimators=8, random_state=0)),
        ("adaboost_logistic", "iris", "y", lambda: ensemble.AdaBoostClassifier(LogisticRegression(max_iter=2000), n_estimators=5, random_state=0, **samme("SAMME"))),
        ("bagging_tree_iris", "iris", "y", lambda: ensemble.BaggingClassifier(tree(), n_estimators=8, max_features=0.6, random_state=0)),
        ("bagging_bootstrap_features", "wine", "names", lambda: ensemble.BaggingClassifier(tree(), n_estimators=6, max_features=5, bootstrap_features=True, random_state=0)),
        ("bagging_logistic_binary", "cancer", "y", lambda: ensemble.BaggingClassifier(scaled_lr(), n_estimators=5, max_samples=0.6, random_state=0)),
        ("bagging_votes_ridge", "iris", "y", lambda: ensemble.BaggingClassifier(RidgeClassifier(), n_estimators=5, max_features=3, random_state=0)),
        ("bagging_regressor", "diabetes", "y", lambda: ensemble.BaggingRegressor(rtree(4), n_estimators=8, max_features=0.5, max_samples=0.7, random_state=0)),
        ("bagging_regressor_default", "diabetes", "y", lambda: ensemble.BaggingRegressor(n_estimators=5, random_state=0)),
        ("voting_soft_weights", "iris", "y", lambda: ensemble.VotingClassifier(
            [("lr", scaled_lr()), ("dt", tree()), ("rf", ensemble.RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0))],
            voting="soft", weights=[2, 1, 1])),
        ("voting_soft_unflattened", "wine", "names", lambda: ensemble.VotingClassifier(
            [("lr", scaled_lr()), ("dt", tree())], voting="soft", flatten_transform=False)),
        ("voting_hard_binary", "cancer", "y", lambda: ensemble.VotingClassifier(
            [("lr", scaled_lr()), ("dt", tree()), ("svc", svc())], voting="hard")),
        ("voting_hard_names", "iris", "names", lambda: ensemble.VotingClassifier(
            [("lr", scaled_lr()), ("dt", tree(2)), ("drop", "drop")], voting="hard", weights=[1, 2, 1])),
        ("voting_regressor", "diabetes", "y", lambda: ensemble.VotingRegressor(
            [("lr", LinearRegression()), ("dt", rtree()), ("drop", "drop")], weights=[1, 2, 1])),
        ("stacking_auto", "iris", "y", lambda: ensemble.StackingClassifier(
            [("lr", scaled_lr()), ("dt", tree())], final_estimator=LogisticRegression(max_iter=2000), cv=3)),
        ("stacking_decision_function", "iris", "names", lambda: ensemble.StackingClassifier(
            [("lr", scaled_lr()), ("svc", svc())], stack_method="decision_function", cv=3)),
        ("stacking_predict_passthrough", "wine", "y", lambda: ensemble.StackingClassifier(
            [("dt", tree()), ("lr", scaled_lr())], final_estimator=tree(), stack_method="predict", passthrough=True, cv=3)),
        ("stacking_proba_binary", "cancer", "y", lambda: ensemble.StackingClassifier(
            [("dt", tree()), ("lr", scaled_lr()), ("drop", "drop")], stack_method="predict_proba", cv=3)),
        ("stacking_regressor", "diabetes", "y", lambda: ensemble.StackingRegressor(
            [("ridge", Ridge()), ("dt", rtree())], final_estimator=Ridge(alpha=0.5), cv=3)),
        ("stacking_regressor_passthrough", "diabetes", "y", lambda: ensemble.StackingRegressor(
            [("lr", LinearRegression()), ("bag", ensemble.BaggingRegressor(rtree(), n_estimators=3, random_state=0))],
            final_estimator=rtree(), passthrough=True, cv=3)),
    ]
    for loss in ("linear", "square", "exponential"):
        out.append(("adaboost_regressor_" + loss, "diabetes", "y", lambda loss=loss: ensemble.AdaBoostRegressor(
            rtree(3), n_estimators=10, loss=loss, random_state=0)))
    if VERSION < (1, 6):
        out.append(("adaboost_samme_r_iris", "iris", "y", lambda: ensemble.AdaBoostClassifier(
            tree(2), n_estimators=10, random_state=0, algorithm="SAMME.R")))
        out.append(("adaboost_samme_r_binary", "cancer", "y", lambda: ensemble.AdaBoostClassifier(
            tree(1), n_estimators=10, random_state=0, algorithm="SAMME.R")))
    return out


def wrappers():
    out = [
        ("calibrated_sigmoid_tree", "iris", "y", lambda: CalibratedClassifierCV(tree(), method="sigmoid", cv=3)),
        ("calibrated_isotonic_svc", "cancer", "y", lambda: CalibratedClassifierCV(svc(), method="isotonic", cv=3)),
        ("calibrated_sigmoid_single", "wine", "names", lambda: CalibratedClassifierCV(svc(), method="sigmoid", cv=3, ensemble=False)),
        ("calibrated_isotonic_single", "iris", "y", lambda: CalibratedClassifierCV(scaled_lr(), method="isotonic", cv=3, ensemble=False)),
        ("isotonic_clip", "bmi", "y", lambda: IsotonicRegression(out_of_bounds="clip")),
        ("isotonic_nan_decreasing", "bmi", "y", lambda: IsotonicRegression(out_of_bounds="nan", increasing=False, y_min=50.0)),
        ("isotonic_auto", "bmi", "y", lambda: IsotonicRegression(increasing="auto", out_of_bounds="clip")),
        ("one_vs_rest_logistic", "iris", "y", lambda: multiclass.OneVsRestClassifier(scaled_lr())),
        ("one_vs_rest_tree_names", "wine", "names", lambda: multiclass.OneVsRestClassifier(tree())),
        ("one_vs_rest_binary", "cancer", "y", lambda: multiclass.OneVsRestClassifier(svc())),
        ("one_vs_rest_multilabel", "iris", "binary_labels", lambda: multiclass.OneVsRestClassifier(scaled_lr())),
        ("one_vs_one_logistic", "iris", "y", lambda: multiclass.OneVsOneClassifier(scaled_lr())),
        ("one_vs_one_tree", "wine", "names", lambda: multiclass.OneVsOneClassifier(tree())),
        ("output_code_logistic", "iris", "y", lambda: multiclass.OutputCodeClassifier(scaled_lr(), code_size=2, random_state=0)),
        ("output_code_tree", "wine", "names", lambda: multiclass.OutputCodeClassifier(tree(), code_size=1.5, random_state=0)),
        ("multioutput_regressor", "diabetes", "two", lambda: multioutput.MultiOutputRegressor(Ridge())),
        ("multioutput_classifier", "iris", "two_labels", lambda: multioutput.MultiOutputClassifier(tree())),
        ("multioutput_classifier_logistic", "wine", "two_labels", lambda: multioutput.MultiOutputClassifier(scaled_lr())),
        ("classifier_chain", "iris", "binary_labels", lambda: multioutput.ClassifierChain(scaled_lr(), order=[2, 0, 1])),
        ("classifier_chain_tree", "wine", "binary_labels", lambda: multioutput.ClassifierChain(tree())),
        ("regressor_chain", "diabetes", "two", lambda: multioutput.RegressorChain(Ridge(), order=[1, 0])),
        ("target_log1p", "diabetes", "y", lambda: TransformedTargetRegressor(Ridge(), func=np.log1p, inverse_func=np.expm1)),
        ("target_log_tree", "diabetes", "y", lambda: TransformedTargetRegressor(rtree(4), func=np.log, inverse_func=np.exp)),
        ("target_sqrt", "diabetes", "y", lambda: TransformedTargetRegressor(LinearRegression(), func=np.sqrt, inverse_func=np.square)),
        ("target_scaler", "diabetes", "y", lambda: TransformedTargetRegressor(Ridge(), transformer=StandardScaler())),
        ("target_minmax_two", "diabetes", "two", lambda: TransformedTargetRegressor(LinearRegression(), transformer=MinMaxScaler())),
        ("feature_union", "wine", "y", lambda: FeatureUnion([("scaled", StandardScaler()), ("best", fs.SelectKBest(k=3))])),
        ("feature_union_weighted_logistic", "wine", "y", lambda: make_pipeline(
            FeatureUnion([("minmax", MinMaxScaler()), ("log", ufunc(np.log1p)), ("drop", "drop")],
                         transformer_weights={"minmax": 2.0, "log": 0.5}),
            LogisticRegression(max_iter=3000))),
        ("self_training", "iris", "semi", lambda: SelfTrainingClassifier(scaled_lr())),
        ("self_training_tree_k_best", "wine", "semi", lambda: SelfTrainingClassifier(tree(), criterion="k_best", k_best=20)),
        ("function_log1p", "wine", "none", lambda: ufunc(np.log1p)),
        ("function_sqrt_ridge", "diabetes", "y", lambda: make_pipeline(ufunc(np.abs), ufunc(np.sqrt), Ridge())),
        ("function_ufuncs", "wine", "none", lambda: make_pipeline(
            ufunc(np.log), ufunc(np.square), ufunc(np.expm1),
            ufunc(np.sign), ufunc(np.reciprocal))),
        ("function_arcsinh_after_scaler", "diabetes", "y", lambda: make_pipeline(
            StandardScaler(), FunctionTransformer(np.arcsinh), Ridge())),
        ("function_exp_inverse", "iris", "none", lambda: ufunc(np.exp, inverse_func=np.log)),
        # Nested: members that are Pipelines, ensembles of ensembles.
        ("nested_bagging_of_pipelines", "wine", "y", lambda: ensemble.BaggingClassifier(
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)), n_estimators=4, max_features=0.7, random_state=0)),
        ("nested_stacking_of_ensembles", "iris", "names", lambda: ensemble.StackingClassifier(
            [("ada", ensemble.AdaBoostClassifier(tree(1), n_estimators=4, random_state=0, **samme("SAMME"))),
             ("ovr", multiclass.OneVsRestClassifier(scaled_lr())),
             ("cal", CalibratedClassifierCV(tree(), cv=3))], cv=3)),
    ]
    if VERSION >= (1, 5):
        out += [
            ("fixed_threshold", "cancer", "y", lambda: sklearn.model_selection.FixedThresholdClassifier(scaled_lr(), threshold=0.3)),
            ("fixed_threshold_decision", "cancer", "y", lambda: sklearn.model_selection.FixedThresholdClassifier(
                svc(), threshold=-0.2, response_method="decision_function")),
            ("tuned_threshold", "cancer", "y", lambda: sklearn.model_selection.TunedThresholdClassifierCV(scaled_lr(), cv=3)),
        ]
    if VERSION >= (1, 6):
        out.append(("calibrated_frozen", "cancer", "y", frozen_calibrated))
    return out


def frozen_calibrated():
    """A classifier fitted first, then calibrated as it is (FrozenEstimator, 1.6)."""
    from sklearn.frozen import FrozenEstimator
    X, _, y = data()["cancer"]
    return CalibratedClassifierCV(FrozenEstimator(svc().fit(X, y)), method="sigmoid")


def selectors():
    return [
        ("variance_threshold", "wine", "none", lambda: fs.VarianceThreshold(threshold=1.0)),
        ("select_k_best", "cancer", "y", lambda: fs.SelectKBest(fs.f_classif, k=8)),
        ("select_k_best_logistic", "cancer", "y", lambda: make_pipeline(fs.SelectKBest(k=6), scaled_lr())),
        ("select_k_best_chi2", "wine", "y", lambda: fs.SelectKBest(fs.chi2, k=5)),
        ("select_k_best_mutual_info", "iris", "y", lambda: fs.SelectKBest(fs.mutual_info_classif, k=2)),
        ("select_percentile_ridge", "diabetes", "y", lambda: make_pipeline(fs.SelectPercentile(fs.f_regression, percentile=30), Ridge())),
        ("select_percentile_all", "wine", "y", lambda: fs.SelectPercentile(percentile=100)),
        ("select_fpr", "cancer", "y", lambda: fs.SelectFpr(alpha=1e-20)),
        ("select_fdr", "wine", "y", lambda: fs.SelectFdr(alpha=1e-10)),
        ("select_fwe", "diabetes", "y", lambda: fs.SelectFwe(fs.f_regression, alpha=1e-5)),
        ("generic_k_best", "cancer", "y", lambda: fs.GenericUnivariateSelect(mode="k_best", param=4)),
        ("generic_percentile", "wine", "y", lambda: fs.GenericUnivariateSelect(mode="percentile", param=40)),
        ("generic_fdr", "diabetes", "y", lambda: fs.GenericUnivariateSelect(fs.f_regression, mode="fdr", param=0.01)),
        ("from_model_l1", "cancer", "y", lambda: fs.SelectFromModel(LogisticRegression(C=0.05, penalty="l1", solver="liblinear"))),
        ("from_model_forest_median", "wine", "y", lambda: fs.SelectFromModel(
            ensemble.RandomForestClassifier(n_estimators=10, random_state=0), threshold="median")),
        ("from_model_lasso_max", "diabetes", "y", lambda: make_pipeline(
            fs.SelectFromModel(Lasso(alpha=0.5), max_features=3, threshold=-np.inf), LinearRegression())),
        ("from_model_scaled_mean", "iris", "y", lambda: fs.SelectFromModel(LogisticRegression(max_iter=2000), threshold="0.8*mean")),
        ("rfe_tree", "iris", "y", lambda: fs.RFE(tree(), n_features_to_select=2)),
        ("rfe_linear_step", "diabetes", "y", lambda: fs.RFE(LinearRegression(), n_features_to_select=4, step=3)),
        ("rfe_in_pipeline", "wine", "names", lambda: make_pipeline(StandardScaler(), fs.RFE(LogisticRegression(max_iter=2000), n_features_to_select=5), tree())),
        ("rfecv_tree", "wine", "y", lambda: fs.RFECV(tree(), cv=3)),
        ("rfecv_ridge", "diabetes", "y", lambda: fs.RFECV(Ridge(), step=2, cv=3)),
        ("sequential_forward", "diabetes", "y", lambda: fs.SequentialFeatureSelector(LinearRegression(), n_features_to_select=3, cv=3)),
        ("sequential_backward_pipeline", "iris", "y", lambda: make_pipeline(
            fs.SequentialFeatureSelector(tree(), n_features_to_select=2, direction="backward", cv=3), scaled_lr())),
    ]


def models():
    """(id, data set, target kind, factory). Target kinds: see `target`; `none` fits on X
    alone (transformers)."""
    return ensembles() + wrappers() + selectors()


# Served as the estimator they wrap: named outermost in the chain, as a search is.
WRAPPERS = {"SelfTrainingClassifier", "FixedThresholdClassifier", "TunedThresholdClassifierCV", "RFE", "RFECV"}


def meta_chain(est, last=True):
    """The estimator chain skserve reports: `chain`'s, with a wrapper that predicts followed by
    its estimator's own chain."""
    name = type(est).__name__
    if name == "Pipeline":
        steps = [s for _, s in est.steps if s is not None and not (isinstance(s, str) and s == "passthrough")]
        return [c for i, s in enumerate(steps) for c in meta_chain(s, last and i == len(steps) - 1)]
    if name in WRAPPERS and last:
        inner = getattr(est, "estimator_", None) or getattr(est, "base_estimator_", None)
        return [name] + meta_chain(inner)
    return chain(est)


def plain(value):
    """A JSON value of an answer, a NaN as null."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def answers(model, X):
    """Every output scikit-learn gives for X, by skserve's names; several outputs' arrays
    side by side."""
    out = {}
    for method in METHODS:
        if not hasattr(model, method):
            continue
        try:
            result = getattr(model, method)(X)
        except (AttributeError, NotImplementedError):
            continue
        result = np.hstack(result) if isinstance(result, list) else np.asarray(result)
        if result.ndim == 3:
            # VotingClassifier's transform without flatten_transform (classifiers × rows ×
            # classes): served a row at a time, each classifier's probabilities side by side.
            result = np.transpose(result, (1, 0, 2)).reshape(result.shape[1], -1)
        if result.dtype == object:
            result = result.astype(str) if method == "predict" else result.astype(float)
        out[method] = plain(result.tolist())
    return out


def classes_of(model):
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    classes = getattr(final, "classes_", None)
    if classes is None:
        return None
    if isinstance(classes, list):
        return [np.asarray(c).tolist() for c in classes]
    return np.asarray(classes).tolist()


def main():
    outdir = sys.argv[1]
    for sub in ("models", "inputs", "expected"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    sets = data()
    cases = []
    for model_id, dataset, kind, factory in models():
        X, scored, y = sets[dataset]
        model = factory()
        if kind == "none":
            model.fit(X)
        else:
            model.fit(X, target(kind, X, y))
        with open(os.path.join(outdir, "inputs", model_id + ".json"), "w") as f:
            json.dump(scored.tolist(), f)
        expected = {
            "chain": ">".join(meta_chain(model)),
            "classes": classes_of(model),
            "outputs": answers(model, scored),
        }
        with open(os.path.join(outdir, "expected", model_id + ".json"), "w") as f:
            json.dump(expected, f, allow_nan=False)
        for fmt, (_, protocol, ext) in FORMATS.items():
            rel = "models/%s__%s.%s" % (model_id, fmt, ext)
            serialise(model, fmt, os.path.join(outdir, rel))
            cases.append({"file": rel, "model_id": model_id, "format": fmt, "protocol": protocol,
                          "estimator": type(model).__name__, "input": "inputs/%s.json" % model_id,
                          "expected": "expected/%s.json" % model_id})
    manifest = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "cases": cases,
    }
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("%d meta-estimators and selectors, %d files in %s (scikit-learn %s, numpy %s)" % (
        len(cases) // len(FORMATS), len(cases), outdir, sklearn.__version__, np.__version__))


if __name__ == "__main__":
    main()

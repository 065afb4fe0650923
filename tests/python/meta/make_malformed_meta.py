#!/usr/bin/env python3
"""Write the malformed meta-estimators and selectors of tests/fixtures/malformed_meta/: each
a real model fitted by scikit-learn with one attribute edited (a wrong length, an index out
of range, a name no version has, a callable off the allow-list), a nesting deeper than the
loader reads, more estimators than it reads, and one member object shared by two places;
and manifest.json saying what the loader's refusal must name.

    target/sk1.9-venv/bin/python tests/python/meta/make_malformed_meta.py tests/fixtures/malformed_meta

Nothing here unpickles what it writes. Every file must be refused at load (exit 2) without
a panic.
"""

import copy
import json
import os
import pickle
import sys
import warnings

import joblib
import numpy as np
from sklearn import ensemble, feature_selection as fs, multiclass, multioutput
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_iris
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (FixedThresholdClassifier, HalvingGridSearchCV, HalvingRandomSearchCV,
                                     TunedThresholdClassifierCV)
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

warnings.simplefilter("ignore")

X, Y = load_iris(return_X_y=True)
XR, YR = load_diabetes(return_X_y=True)
XR, YR = XR[:150], YR[:150]
BINARY = (Y == 2).astype(int)
LABELS = np.column_stack([Y == 0, Y == 2]).astype(int)
TWO = np.column_stack([YR, -YR])


def lr():
    return LogisticRegression(max_iter=2000)


def tree():
    return DecisionTreeClassifier(max_depth=2, random_state=0)


def edited(model, attr, value):
    """`model` with `attr` set to `value` (or to `value(old)` when it is callable)."""
    setattr(model, attr, value(getattr(model, attr)) if callable(value) and not isinstance(value, np.ufunc) else value)
    return model


def deeply_nested(depth):
    """VotingRegressors each holding the next, `depth` deep, fitted."""
    model = LinearRegression()
    for _ in range(depth):
        model = ensemble.VotingRegressor([("inner", model)])
    return model.fit(XR, YR)


def too_many_estimators(n):
    """A BaggingRegressor of `n` LinearRegressions sharing their arrays (a few bytes each)."""
    bag = ensemble.BaggingRegressor(LinearRegression(), n_estimators=2, random_state=0).fit(XR, YR)
    member = bag.estimators_[0]
    bag.n_estimators = n
    bag.estimators_ = [copy.copy(member) for _ in range(n)]
    bag.estimators_features_ = [bag.estimators_features_[0]] * n
    bag._seeds = np.zeros(n, dtype=np.int64)
    return bag


def cases():
    ada = lambda: ensemble.AdaBoostClassifier(tree(), n_estimators=5, random_state=0).fit(X, Y)
    voting = lambda: ensemble.VotingClassifier([("lr", lr()), ("dt", tree())], voting="soft").fit(X, Y)
    shared = voting()
    shared.estimators_ = [shared.estimators_[0], shared.estimators_[0]]
    return [
        ("adaboost_weights_short", "estimator_weights_", "3 weights for 5 estimators",
         edited(ada(), "estimator_weights_", np.ones(3))),
        ("adaboost_n_classes_wrong", "n_classes_", "5 classes where classes_ has 3",
         edited(ada(), "n_classes_", 5)),
        ("adaboost_regressor_weight_nan", "estimator_weights_", "a NaN weight",
         edited(ensemble.AdaBoostRegressor(DecisionTreeRegressor(max_depth=2), n_estimators=4, random_state=0).fit(XR, YR),
                "estimator_weights_", lambda w: np.array([np.nan, *w[1:]]))),
        ("bagging_feature_out_of_range", "estimators_features_[1]", "a member reading column 99 of 4",
         edited(ensemble.BaggingClassifier(tree(), n_estimators=3, random_state=0).fit(X, Y),
                "estimators_features_", lambda f: [f[0], np.array([0, 99]), f[2]])),
        ("bagging_regressor_features_short", "estimators_", "feature lists for 2 of 3 members",
         edited(ensemble.BaggingRegressor(DecisionTreeRegressor(max_depth=2), n_estimators=3, random_state=0).fit(XR, YR),
                "estimators_features_", lambda f: f[:2])),
        ("voting_weights_wrong_length", "weights", "3 weights for 2 classifiers",
         edited(voting(), "weights", [1.0, 2.0, 3.0])),
        ("voting_unknown_rule", "voting", "a voting rule no version has",
         edited(voting(), "voting", "loud")),
        ("voting_regressor_member_string", "step dt holds the string", "a member that is a string",
         edited(ensemble.VotingRegressor([("lr", LinearRegression()), ("dt", DecisionTreeRegressor(max_depth=2))]).fit(XR, YR),
                "estimators_", lambda e: [e[0], "passthrough"])),
        ("voting_regressor_weights_wrong_length", "weights", "1 weight for 2 regressors",
         edited(ensemble.VotingRegressor([("lr", LinearRegression()), ("dt", DecisionTreeRegressor(max_depth=2))]).fit(XR, YR),
                "weights", [2.0])),
        ("stacking_unknown_stack_method", "stack_method_", "a stack method no estimator has",
         edited(ensemble.StackingClassifier([("lr", lr()), ("dt", tree())], cv=3).fit(X, Y),
                "stack_method_", ["predict_proba", "explode"])),
        ("stacking_regressor_final_wrong_width", "final_estimator_", "a final estimator of 5 features on 2 predictions",
         stacking_regressor_final_wrong_width()),
        ("calibrated_sigmoid_nan", "a_", "a NaN sigmoid slope", calibrated_sigmoid_nan()),
        ("calibrated_isotonic_unsorted", "X_thresholds_", "isotonic thresholds out of order", calibrated_isotonic_unsorted()),
        ("isotonic_lengths_differ", "y_thresholds_", "4 values for more thresholds",
         edited(IsotonicRegression().fit(XR[:, 2], YR), "y_thresholds_", np.ones(4))),
        ("isotonic_out_of_bounds_unknown", "out_of_bounds", "an out_of_bounds rule no version has",
         edited(IsotonicRegression().fit(XR[:, 2], YR), "out_of_bounds", "wrap")),
        ("one_vs_rest_members_short", "estimators_", "2 members for 3 classes",
         edited(multiclass.OneVsRestClassifier(lr()).fit(X, Y), "estimators_", lambda e: e[:2])),
        ("one_vs_one_members_short", "estimators_", "2 pairs of 3 classes",
         edited(multiclass.OneVsOneClassifier(lr()).fit(X, Y), "estimators_", lambda e: e[:2])),
        ("output_code_book_wrong_shape", "code_book_", "a code book of 2 classes for 3",
         edited(multiclass.OutputCodeClassifier(lr(), code_size=2, random_state=0).fit(X, Y), "code_book_", lambda c: c[:2])),
        ("multioutput_classifier_member_string", "estimators_", "a member that is a string",
         edited(multioutput.MultiOutputClassifier(tree()).fit(X, LABELS), "estimators_", lambda e: [e[0], "drop"])),
        ("multioutput_regressor_coef_wrong", "coef_", "a member's 7 weights on 10 features",
         multioutput_regressor_coef_wrong()),
        ("classifier_chain_order_out_of_range", "order_", "an order naming output 5 of 2",
         edited(multioutput.ClassifierChain(lr()).fit(X, LABELS), "order_", np.array([0, 5]))),
        ("regressor_chain_order_repeated", "order_", "an order naming one output twice",
         edited(multioutput.RegressorChain(Ridge()).fit(XR, TWO), "order_", np.array([1, 1]))),
        ("target_func_not_allowed", "numpy.sin", "a target function off the ufunc list",
         TransformedTargetRegressor(Ridge(), func=np.sin, inverse_func=np.arcsin, check_inverse=False).fit(XR, YR / 400.0)),
        ("target_training_dim_wrong", "_training_dim", "a target of 3 dimensions",
         edited(TransformedTargetRegressor(Ridge(), transformer=StandardScaler()).fit(XR, YR), "_training_dim", 3)),
        ("feature_union_member_string", "transformer_list", "a member that is a made-up name",
         edited(FeatureUnion([("a", StandardScaler()), ("b", fs.SelectKBest(k=2))]).fit(X, Y), "transformer_list",
                lambda t: [t[0], ("b", "explode")])),
        ("feature_union_weight_nan", "transformer_weights", "a NaN weight",
         edited(FeatureUnion([("a", StandardScaler()), ("b", fs.SelectKBest(k=2))], transformer_weights={"a": 1.0, "b": 2.0}).fit(X, Y),
                "transformer_weights", {"a": float("nan"), "b": 2.0})),
        ("self_training_estimator_string", "estimator_", "its estimator a string",
         edited(SelfTrainingClassifier(lr()).fit(X, np.where(np.arange(150) % 3 == 0, Y, -1)), "estimator_", "lr")),
        ("fixed_threshold_not_a_number", "threshold", "a threshold that is a word",
         edited(FixedThresholdClassifier(lr(), threshold=0.3).fit(X, BINARY), "threshold", "high")),
        ("tuned_threshold_not_a_number", "best_threshold_", "a tuned threshold that is a word",
         edited(TunedThresholdClassifierCV(lr(), cv=3).fit(X, BINARY), "best_threshold_", "high")),
        ("tuned_threshold_estimator_coef_short", "TunedThresholdClassifierCV.estimator_ (LogisticRegression): n_features_in_", "its classifier with 3 weights on 4 features",
         edited(TunedThresholdClassifierCV(lr(), cv=3).fit(X, BINARY), "estimator_",
                lambda e: (setattr(e, "coef_", e.coef_[:, :3]), e)[1])),
        ("halving_grid_best_coef_short", "HalvingGridSearchCV.best_estimator_ (LogisticRegression): n_features_in_",
         "the best estimator with 3 weights on 4 features",
         edited(HalvingGridSearchCV(lr(), {"C": [0.1, 1.0, 10.0]}, cv=3, random_state=0).fit(X, Y), "best_estimator_",
                lambda e: (setattr(e, "coef_", e.coef_[:, :3]), e)[1])),
        ("halving_random_without_best_estimator", "best_estimator_", "a halving search fitted with refit=False",
         HalvingRandomSearchCV(lr(), {"C": [0.1, 1.0, 10.0]}, cv=3, refit=False, random_state=0).fit(X, Y)),
        ("variance_threshold_variances_short", "variances_", "variances of 2 features on 4",
         edited(fs.VarianceThreshold(0.2).fit(X), "variances_", lambda v: v[:2])),
        ("select_k_best_k_too_large", "k", "k of 9 features on 4",
         edited(fs.SelectKBest(k=2).fit(X, Y), "k", 9)),
        ("select_percentile_over_100", "percentile", "a percentile of 150",
         edited(fs.SelectPercentile(percentile=50).fit(X, Y), "percentile", 150)),
        ("select_fpr_pvalues_short", "pvalues_", "p-values of 3 features on 4",
         edited(fs.SelectFpr(alpha=0.01).fit(X, Y), "pvalues_", lambda p: p[:3])),
        ("generic_unknown_mode", "mode", "a mode no version has",
         edited(fs.GenericUnivariateSelect(mode="k_best", param=2).fit(X, Y), "mode", "best")),
        ("select_from_model_unknown_threshold", "threshold", "a threshold no version understands",
         edited(fs.SelectFromModel(lr(), threshold="median").fit(X, Y), "threshold", "max")),
        ("rfe_support_short", "support_", "a mask of 3 features on 4",
         edited(fs.RFE(tree(), n_features_to_select=2).fit(X, Y), "support_", lambda s: s[:3])),
        ("rfecv_support_empty", "support_", "a mask keeping no feature",
         edited(fs.RFECV(tree(), cv=3).fit(X, Y), "support_", np.zeros(4, dtype=bool))),
        ("sequential_support_numbers", "support_", "a mask of numbers",
         edited(fs.SequentialFeatureSelector(tree(), n_features_to_select=2, cv=3).fit(X, Y), "support_", np.array([0.5, 1.0, 0.0, 2.0]))),
        ("function_not_allowed", "numpy.sin", "a FunctionTransformer of a ufunc off the list",
         FunctionTransformer(np.sin).fit(X)),
        ("function_kw_args_out", "kw_args", "a ufunc given an output array",
         FunctionTransformer(np.log1p, kw_args={"out": np.zeros((150, 4))}).fit(X)),
        ("function_builtin_eval", "eval", "a FunctionTransformer of eval",
         FunctionTransformer(eval)),
        ("nested_too_deep", "nest more than 16 steps deep", "VotingRegressors 18 deep", deeply_nested(18)),
        ("member_shared", "already read", "two members that are one object", shared),
    ]


def stacking_regressor_final_wrong_width():
    model = ensemble.StackingRegressor([("lr", LinearRegression()), ("dt", DecisionTreeRegressor(max_depth=2))], cv=3).fit(XR, YR)
    model.final_estimator_ = Ridge().fit(XR[:, :5], YR)
    return model


def calibrated_sigmoid_nan():
    model = CalibratedClassifierCV(tree(), method="sigmoid", cv=3).fit(X, Y)
    model.calibrated_classifiers_[1].calibrators[0].a_ = float("nan")
    return model


def calibrated_isotonic_unsorted():
    model = CalibratedClassifierCV(lr(), method="isotonic", cv=3).fit(X, Y)
    calibrator = model.calibrated_classifiers_[0].calibrators[1]
    calibrator.X_thresholds_ = calibrator.X_thresholds_[::-1].copy()
    return model


def multioutput_regressor_coef_wrong():
    model = multioutput.MultiOutputRegressor(Ridge()).fit(XR, TWO)
    model.estimators_[1].coef_ = np.zeros(7)
    return model


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    manifest = []
    for name, refused, why, model in cases():
        for protocol in (2, 5):
            file = "%s_p%d.pkl" % (name, protocol)
            with open(os.path.join(outdir, file), "wb") as f:
                pickle.dump(model, f, protocol=protocol)
            manifest.append({"file": file, "refused": refused, "why": why})
    # 50,001 estimators: compressed, the file is small.
    file = "too_many_estimators.joblib"
    joblib.dump(too_many_estimators(50_001), os.path.join(outdir, file), compress=3)
    manifest.append({"file": file, "refused": "more than 50000 estimators",
                     "why": "a BaggingRegressor of 50,001 members"})
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("%d malformed files in %s" % (len(manifest), outdir))


if __name__ == "__main__":
    main()

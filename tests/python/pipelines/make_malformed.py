#!/usr/bin/env python3
"""Write the malformed Pipeline files of tests/fixtures/malformed/: each a real model fitted
by scikit-learn with one piece of its fitted state edited (a wrong shape, an index out of
range, categories of the wrong kind, a callable, a Pipeline holding itself), and
manifest.json saying what the loader's refusal must name.

    target/sk1.9-venv/bin/python tests/python/pipelines/make_malformed.py tests/fixtures/malformed

Nothing here unpickles what it writes. Every file must be refused at load (exit 2) without
a panic; the fuzzing run starts from them too.
"""

import copy
import json
import os
import pickle
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import (
    ElasticNet,
    GammaRegressor,
    HuberRegressor,
    Lasso,
    LassoCV,
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    RidgeCV,
    SGDRegressor,
    TweedieRegressor,
)
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import LinearSVR

warnings.simplefilter("ignore")

rng = np.random.RandomState(0)
N = 60
FRAME = pd.DataFrame({
    "city": rng.choice(["a", "b", "c", "d"], N, p=[0.5, 0.3, 0.15, 0.05]).astype(object),
    "kind": rng.choice(["x", "y"], N).astype(object),
    "temp": rng.normal(size=N),
    "delay": rng.normal(size=N),
    "month": rng.randint(1, 13, N).astype(float),
})
FRAME.loc[3, "temp"] = np.nan
Y = (FRAME["delay"] > 0).astype(int).to_numpy()
NUMBERS = ["temp", "delay", "month"]


def pipeline(encoder=None, scaler=None, model=None, y=Y):
    encoder = encoder or OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    scaler = scaler or StandardScaler()
    return make_pipeline(
        ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(add_indicator=True), scaler), NUMBERS),
            ("cat", encoder, ["city", "kind"]),
        ]),
        model or LogisticRegression(),
    ).fit(FRAME, y)


def step(p, path):
    """The object at a path of step names (`ct/num/scale`)."""
    obj = p
    for name in path.split("/"):
        if isinstance(obj, Pipeline):
            obj = obj.named_steps[name]
        else:
            obj = dict((n, t) for n, t, _ in obj.transformers_)[name]
    return obj


def edited(path, attr, value, make=pipeline, **kw):
    p = make(**kw)
    target = step(p, path)
    setattr(target, attr, value(getattr(target, attr, None)) if callable(value) else value)
    return p


def ct_transformers(edit):
    p = pipeline()
    ct = p.steps[0][1]
    ct.transformers_ = edit(list(ct.transformers_))
    return p


def cases():
    ohe = "columntransformer/cat"
    scale = "columntransformer/num/standardscaler"
    imputer = "columntransformer/num/simpleimputer"
    out = [
        ("ohe_categories_mixed_kinds", "categories_[0]", "a category array mixing strings and numbers",
         edited(ohe, "categories_", lambda c: [np.array(["a", 1.5, "c", "d"], dtype=object), c[1]])),
        ("ohe_categories_not_arrays", "categories_[1]", "a category list that is not an array",
         edited(ohe, "categories_", lambda c: [c[0], "xy"])),
        ("ohe_duplicate_category", "twice", "a category listed twice",
         edited(ohe, "categories_", lambda c: [np.array(["a", "b", "b", "d"], dtype=object), c[1]])),
        ("ohe_missing_category_first", "missing category", "a missing category before the others",
         edited(ohe, "categories_", lambda c: [np.array([np.nan, "a", "b", "c"], dtype=object), c[1]])),
        ("ohe_drop_index_out_of_range", "drop_idx", "a dropped category beyond the categories",
         edited(ohe, "_drop_idx_after_grouping", np.array([99, None], dtype=object),
                encoder=OneHotEncoder(drop="first", sparse_output=False))),
        ("ohe_n_features_outs_wrong", "_n_features_outs", "output widths that disagree with the categories",
         edited(ohe, "_n_features_outs", [1, 1])),
        ("ohe_infrequent_mapping_out_of_range", "_default_to_infrequent_mappings[0]", "a grouping that maps beyond the categories",
         edited(ohe, "_default_to_infrequent_mappings", lambda m: [np.array([0, 1, 99, 2]), m[1]],
                encoder=OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, sparse_output=False))),
        ("ohe_infrequent_index_out_of_range", "_infrequent_indices[0]", "an infrequent category index beyond the categories",
         edited(ohe, "_infrequent_indices", lambda m: [np.array([40]), m[1]],
                encoder=OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5, sparse_output=False))),
        ("ohe_handle_unknown_unknown", "handle_unknown", "a handle_unknown no version has",
         edited(ohe, "handle_unknown", "explode")),
        ("ordinal_missing_index_wrong", "_missing_indices", "a missing index that is not the missing category",
         edited(ohe, "_missing_indices", {0: 0},
                encoder=OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))),
        ("scaler_mean_wrong_shape", "mean_", "statistics for 5 features on 3",
         edited(scale, "mean_", np.zeros(5))),
        ("scaler_scale_zero", "scale_[1]", "a zero divisor",
         edited(scale, "scale_", lambda s: np.array([s[0], 0.0, *s[2:]]))),
        ("scaler_mean_nan", "mean_[0]", "a NaN statistic",
         edited(scale, "mean_", lambda m: np.array([np.nan, *m[1:]]))),
        ("minmax_min_two_dimensional", "min_", "a 2-D offset",
         edited("columntransformer/num/minmaxscaler", "min_", np.zeros((2, 3)), scaler=MinMaxScaler())),
        ("minmax_data_min_over_max", "data_min_[0]", "a fitted minimum over the maximum",
         edited("columntransformer/num/minmaxscaler", "data_min_", lambda m: m + 1e6, scaler=MinMaxScaler())),
        ("imputer_statistics_mixed", "statistics_", "imputer statistics mixing strings and numbers",
         edited(imputer, "statistics_", np.array(["a", 1.0, 2.0], dtype=object))),
        ("imputer_indicator_feature_out_of_range", "features_", "an indicator of feature 7 of 3",
         edited(imputer, "indicator_", lambda i: (setattr(i, "features_", np.array([7])), i)[1])),
        ("imputer_statistics_wrong_length", "statistics_", "statistics for 2 features on 3",
         edited(imputer, "statistics_", np.array([1.0, 2.0]))),
        ("ct_column_index_out_of_range", "columns", "a column index beyond the input",
         ct_transformers(lambda t: [(t[0][0], t[0][1], [0, 1, 99])] + t[1:])),
        ("ct_column_name_unknown", "nope", "a column name the frame did not have",
         ct_transformers(lambda t: [(t[0][0], t[0][1], ["temp", "delay", "nope"])] + t[1:])),
        ("ct_selection_narrower_than_transformer", "is given 2", "a 3-feature step given 2 columns",
         ct_transformers(lambda t: [(t[0][0], t[0][1], ["temp", "delay"])] + t[1:])),
        ("ct_mask_wrong_length", "mask", "a boolean mask of the wrong length",
         ct_transformers(lambda t: [(t[0][0], t[0][1], np.array([True, True, True]))] + t[1:])),
        ("ct_holds_a_predictor", "predicts", "a regression where a transformer belongs",
         ct_transformers(lambda t: [(t[0][0], LinearRegression().fit(FRAME[NUMBERS].fillna(0), Y), NUMBERS)] + t[1:])),
        ("robust_center_wrong_shape", "step columntransformer > num > robustscaler (RobustScaler): center_",
         "a centre for 5 features on 3",
         edited("columntransformer/num/robustscaler", "center_", np.zeros(5), scaler=RobustScaler())),
        ("robust_scale_zero", "step columntransformer > num > robustscaler (RobustScaler): scale_[2]",
         "a zero divisor",
         edited("columntransformer/num/robustscaler", "scale_", lambda s: np.array([*s[:2], 0.0, *s[3:]]),
                scaler=RobustScaler())),
        ("maxabs_scale_zero", "step columntransformer > num > maxabsscaler (MaxAbsScaler): scale_[0]",
         "a zero divisor",
         edited("columntransformer/num/maxabsscaler", "scale_", lambda s: np.array([0.0, *s[1:]]),
                scaler=MaxAbsScaler())),
        ("maxabs_scale_strings", "step columntransformer > num > maxabsscaler (MaxAbsScaler): scale_",
         "divisors that are strings",
         edited("columntransformer/num/maxabsscaler", "scale_", np.array(["1", "2", "3", "4", "5"], dtype=object),
                scaler=MaxAbsScaler())),
        ("ordinal_categories_not_arrays", "(OrdinalEncoder): categories_[0]", "a category list that is not an array",
         edited(ohe, "categories_", lambda c: ["abcd", c[1]],
                encoder=OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))),
        ("ordinal_categories_two_dimensional", "(OrdinalEncoder): categories_[1]", "a 2-D category array",
         edited(ohe, "categories_", lambda c: [c[0], c[1].reshape(1, -1)],
                encoder=OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))),
        ("ordinal_unknown_value_is_a_code", "(OrdinalEncoder): unknown_value", "an unknown_value that is a category's code",
         edited(ohe, "unknown_value", 1,
                encoder=OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))),
        ("ridgecv_intercept_too_long", "step ridgecv (RidgeCV): intercept_", "two intercepts for one output",
         edited("ridgecv", "intercept_", np.zeros(2), model=RidgeCV())),
        ("lasso_coef_nan", "step lasso (Lasso): coef_", "a NaN weight",
         edited("lasso", "coef_", lambda c: np.array([*c[:3], np.nan, *c[4:]]), model=Lasso(alpha=0.01))),
        ("lassocv_coef_too_short", "step lassocv (LassoCV): n_features_in_", "3 weights for 12 features",
         edited("lassocv", "coef_", lambda c: c[:3], model=LassoCV(cv=3))),
        ("elasticnet_intercept_string", "step elasticnet (ElasticNet): intercept_", "an intercept that is a string",
         edited("elasticnet", "intercept_", "0.5", model=ElasticNet(alpha=0.01))),
        ("sgd_coef_scalar", "step sgdregressor (SGDRegressor): coef_", "weights of no dimension",
         edited("sgdregressor", "coef_", np.array(0.5), model=SGDRegressor(random_state=0))),
        ("huber_coef_wrong_width", "step huberregressor (HuberRegressor): n_features_in_", "weights for 20 features on 12",
         edited("huberregressor", "coef_", np.zeros(20), model=HuberRegressor())),
        ("linearsvr_intercept_infinite", "step linearsvr (LinearSVR): intercept_", "an infinite intercept",
         edited("linearsvr", "intercept_", np.array([np.inf]), model=LinearSVR(random_state=0))),
        ("poisson_coef_two_rows", "step poissonregressor (PoissonRegressor): coef_", "two rows for a log-link GLM",
         edited("poissonregressor", "coef_", lambda c: np.vstack([c, c]), model=PoissonRegressor())),
        ("gamma_coef_three_dimensional", "step gammaregressor (GammaRegressor): coef_", "weights of three dimensions",
         edited("gammaregressor", "coef_", lambda c: c.reshape(1, 1, -1), model=GammaRegressor(), y=Y + 1.0)),
        ("coef_three_dimensional", "coef_", "weights of three dimensions",
         edited("ridge", "coef_", np.zeros((2, 3, 4)), model=Ridge())),
        ("coef_infinite", "coef_", "an infinite weight",
         edited("ridge", "coef_", lambda c: np.array([np.inf, *c[1:]]), model=Ridge())),
        ("intercept_too_long", "intercept_", "three intercepts for one output",
         edited("ridge", "intercept_", np.zeros(3), model=Ridge())),
        ("n_features_in_wrong", "n_features_in_", "a feature count that disagrees with coef_",
         edited("linearregression", "n_features_in_", 99, model=LinearRegression())),
        ("tweedie_link_unknown", "link", "a link no version has",
         edited("tweedieregressor", "link", "cube", model=TweedieRegressor(power=1.5))),
        ("classes_single", "classes_", "a classifier of one class",
         edited("logisticregression", "classes_", np.array([1]))),
        ("coef_rows_disagree_with_classes", "coef_", "two weight rows for a binary classifier",
         edited("logisticregression", "coef_", lambda c: np.vstack([c, c]))),
    ]
    # A FunctionTransformer with code: a library function, and an allowed class as func.
    ft = make_pipeline(FunctionTransformer(np.sin), LinearRegression()).fit(FRAME[["delay"]].abs(), Y)
    out.append(("function_transformer_numpy_func", "numpy.sin", "a FunctionTransformer running numpy.sin, off the ufunc list", ft))
    ft = make_pipeline(FunctionTransformer(), LinearRegression()).fit(FRAME[["delay"]], Y)
    ft.steps[0][1].func = LogisticRegression
    out.append(("function_transformer_class_func", "func", "a FunctionTransformer whose func is a class", ft))
    # A Pipeline holding itself.
    p = pipeline()
    p.steps.insert(0, ("again", p))
    out.append(("pipeline_holds_itself", "Pipeline", "a Pipeline that is its own step", p))
    # Steps that do not fit together.
    p = make_pipeline(StandardScaler(), LinearRegression())
    p.fit(FRAME[NUMBERS].fillna(0), Y)
    p.steps[1] = ("linearregression", LinearRegression().fit(FRAME[["delay", "month"]], Y))
    out.append(("pipeline_widths_disagree", "takes", "a 2-feature regression after a 3-feature scaler", p))
    p = make_pipeline(StandardScaler(), LinearRegression()).fit(FRAME[NUMBERS].fillna(0), Y)
    p.steps.reverse()
    out.append(("pipeline_predictor_first", "not the last step", "a regression before a scaler", p))
    p = make_pipeline(StandardScaler(), Ridge())
    out.append(("pipeline_not_fitted", "fitted", "a Pipeline saved before fitting", p))
    search = GridSearchCV(make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": [1.0, 2.0]}, cv=3, refit=False)
    search.fit(FRAME[NUMBERS].fillna(0), Y)
    out.append(("search_without_best_estimator", "best_estimator_", "a search fitted with refit=False", search))
    # A RandomizedSearchCV whose best estimator is malformed, and one whose is no estimator.
    search = RandomizedSearchCV(make_pipeline(StandardScaler(), Lasso()), {"lasso__alpha": [0.01, 0.1, 1.0]},
                                n_iter=2, cv=3, random_state=0)
    search.fit(FRAME[NUMBERS].fillna(0), Y)
    search.best_estimator_.steps[1][1].coef_ = np.zeros(7)
    out.append(("randomized_search_best_coef_wrong", "step RandomizedSearchCV.best_estimator_ > lasso (Lasso): n_features_in_",
                "the best estimator's Lasso with 7 weights on 3 features", search))
    search = copy.deepcopy(search)
    search.best_estimator_ = "passthrough"
    out.append(("randomized_search_best_passthrough", "step RandomizedSearchCV.best_estimator_ holds the string \"passthrough\"",
                "a search whose best estimator is 'passthrough'", search))
    indicator = make_pipeline(MissingIndicator(features="all"), LinearRegression()).fit(FRAME[NUMBERS], Y)
    indicator.steps[0][1].features_ = np.array([0, 5])
    out.append(("indicator_feature_out_of_range", "features_", "a MissingIndicator of feature 5 of 3", indicator))
    return out


def write(outdir, cases):
    """Each case pickled with protocols 2 and 5, and the manifest of what each refusal names."""
    os.makedirs(outdir, exist_ok=True)
    manifest = []
    for name, refused, why, model in cases:
        for protocol in (2, 5):
            file = "%s_p%d.pkl" % (name, protocol)
            with open(os.path.join(outdir, file), "wb") as f:
                pickle.dump(model, f, protocol=protocol)
            manifest.append({"file": file, "refused": refused, "why": why})
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("%d malformed files in %s" % (len(manifest), outdir))


def main():
    write(sys.argv[1], cases())


if __name__ == "__main__":
    main()

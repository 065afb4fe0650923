#!/usr/bin/env python3
"""Write the malformed files of tests/fixtures/malformed_iterative/: each a real
IterativeImputer fitted by scikit-learn on a slice of iris with holes, with one fitted
attribute edited (a step of its imputation sequence imputing a feature out of range, reading
the wrong features or holding an estimator of the wrong width or kind, a NaN or crossed bound,
a round count the sequence does not hold, a sampling imputer), and manifest.json saying what
the refusal must name. Nothing here unpickles what it writes.

    target/sk1.9-venv/bin/python tests/python/manifold/make_malformed_iterative.py \
        tests/fixtures/malformed_iterative
"""

import copy
import os
import sys
import warnings

import numpy as np
from sklearn.datasets import load_iris
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.linear_model import BayesianRidge, LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "families"))
from make_malformed_families import write_malformed  # noqa: E402

warnings.simplefilter("ignore")

iris = load_iris()
X = iris.data[::3].copy()
Y = iris.target[::3].copy()
HOLES = X.copy()
HOLES[np.arange(len(X)) % 5 == 0, 1] = np.nan
HOLES[np.arange(len(X)) % 7 == 0, 3] = np.nan


def set_to(name, value):
    return lambda m: setattr(m, name, value)


def set_item(name, index, value):
    def edit(m):
        array = np.asarray(getattr(m, name), dtype=np.float64).copy()
        array.flat[index] = value
        setattr(m, name, array)
    return edit


def replace_step(index, **fields):
    """The sequence's step `index` with `fields` replaced (each a function of the step)."""
    def edit(m):
        step = m.imputation_sequence_[index]
        m.imputation_sequence_[index] = step._replace(**{k: f(step) for k, f in fields.items()})
    return edit


def step_as_tuple(m):
    m.imputation_sequence_[0] = tuple(m.imputation_sequence_[0])


def repeat_feature(m):
    m.imputation_sequence_[1] = m.imputation_sequence_[1]._replace(
        feat_idx=m.imputation_sequence_[0].feat_idx,
        neighbor_feat_idx=m.imputation_sequence_[0].neighbor_feat_idx,
        estimator=copy.deepcopy(m.imputation_sequence_[0].estimator))


def corrupt_coef(m):
    m.imputation_sequence_[0].estimator.coef_ = np.zeros(7)


def indicator_features_out_of_range(m):
    m.indicator_.features_ = np.array([1, 40])


IMPUTER = lambda: IterativeImputer(max_iter=3, random_state=0)  # noqa: E731
INDICATOR = lambda: IterativeImputer(max_iter=2, add_indicator=True, random_state=0)  # noqa: E731
COMPLETE = lambda: IterativeImputer(max_iter=2, skip_complete=True, random_state=0)  # noqa: E731
ON = (HOLES,)

# (file stem, model factory, fit arguments, edit, what the refusal names, why)
CASES = [
    ("feat_idx_out_of_range", IMPUTER, ON, replace_step(2, feat_idx=lambda s: np.int64(9)),
     "imputation_sequence_[2].feat_idx", "a step imputing a feature beyond the inputs"),
    ("feat_idx_repeated", COMPLETE, ON, repeat_feature,
     "imputation_sequence_[1].feat_idx", "a round imputing one feature twice"),
    ("neighbours_one_short", IMPUTER, ON,
     replace_step(1, neighbor_feat_idx=lambda s: s.neighbor_feat_idx[:-1]),
     "neighbor_feat_idx gives it 2", "a step giving its estimator one feature too few"),
    ("neighbours_include_the_feature", IMPUTER, ON,
     replace_step(0, neighbor_feat_idx=lambda s: np.array([s.feat_idx, *s.neighbor_feat_idx[1:]])),
     "imputation_sequence_[0].neighbor_feat_idx[0]", "a step reading the feature it imputes"),
    ("neighbours_out_of_range", IMPUTER, ON,
     replace_step(3, neighbor_feat_idx=lambda s: np.array([*s.neighbor_feat_idx[:-1], 17])),
     "imputation_sequence_[3].neighbor_feat_idx[2]", "a step reading a feature beyond the inputs"),
    ("estimator_wrong_width", IMPUTER, ON,
     replace_step(0, estimator=lambda s: BayesianRidge().fit(X[:, :2], X[:, 3])),
     "imputation_sequence_[0].estimator", "an estimator fitted on two features where three are given"),
    ("estimator_a_classifier", IMPUTER, ON,
     replace_step(4, estimator=lambda s: LogisticRegression(max_iter=500).fit(X[:, :3], Y)),
     "imputation_sequence_[4].estimator", "a classifier in the sequence"),
    ("estimator_only_transforms", IMPUTER, ON,
     replace_step(0, estimator=lambda s: StandardScaler().fit(X[:, :3])),
     "imputation_sequence_[0].estimator", "a transformer in the sequence"),
    ("estimator_coef_wrong_shape", IMPUTER, ON, corrupt_coef,
     "coef_", "an estimator whose coefficients do not match its features"),
    ("step_not_a_triplet", IMPUTER, ON, step_as_tuple,
     "imputation_sequence_[0]", "a plain tuple where an _ImputerTriplet should be"),
    ("min_value_nan", IMPUTER, ON, set_item("_min_value", 1, np.nan),
     "_min_value[1]", "a NaN lower bound"),
    ("max_value_below_min", IMPUTER, ON, set_item("_max_value", 0, -np.inf),
     "_max_value[0]", "an upper bound below the lower"),
    ("min_value_wrong_shape", IMPUTER, ON, set_to("_min_value", np.zeros(3)),
     "_min_value", "bounds for one feature too few"),
    ("n_iter_huge", IMPUTER, ON, set_to("n_iter_", 10**12),
     "n_iter_", "a huge declared number of rounds"),
    ("n_iter_disagrees", IMPUTER, ON, set_to("n_iter_", 7),
     "n_iter_", "more rounds than the sequence holds"),
    ("n_iter_zero_with_steps", IMPUTER, ON, set_to("n_iter_", 0),
     "imputation_sequence_", "no round, yet steps to replay"),
    ("features_with_missing_too_many", IMPUTER, ON, set_to("n_features_with_missing_", 9),
     "n_features_with_missing_", "more features with missing values than features"),
    ("sample_posterior", IMPUTER, ON, set_to("sample_posterior", True),
     "sample_posterior", "an imputer that draws at random at transform time"),
    ("initial_imputer_not_simple", IMPUTER, ON, set_to("initial_imputer_", StandardScaler().fit(X)),
     "initial_imputer_", "a scaler where the initial SimpleImputer should be"),
    ("initial_statistics_short", IMPUTER, ON,
     lambda m: setattr(m.initial_imputer_, "statistics_", m.initial_imputer_.statistics_[:-1].copy()),
     "statistics_", "initial statistics for one feature too few"),
    ("is_empty_feature_disagrees", IMPUTER, ON,
     set_to("_is_empty_feature", np.array([False, True, False, False])),
     "_is_empty_feature", "a feature said never seen that the initial imputer kept"),
    ("missing_values_number", IMPUTER, ON, set_to("missing_values", -1.0),
     "missing_values", "a number as the missing marker"),
    ("indicator_out_of_range", INDICATOR, ON, indicator_features_out_of_range,
     "features_", "an indicator feature beyond the inputs"),
    ("features_in_huge", IMPUTER, ON, set_to("n_features_in_", 10**12),
     "n_features_in_", "a huge declared number of features"),
]


def main():
    write_malformed(sys.argv[1], CASES)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write the malformed spline files of tests/fixtures/malformed_splines/: each a real
SplineTransformer fitted by scikit-learn 1.9 with one attribute edited (knots out of order or
not a number, coefficients of the wrong shape or not the identity, a degree negative, huge or
unlike the transformer's, a spline that does not extrapolate as the setting says, another
scipy class in `bsplines_`, settings that are no setting, counts that disagree), alone and
inside a Pipeline, and manifest.json saying what the refusal must name: the step and the
attribute.

    target/sk1.9-venv/bin/python tests/python/transformers/make_malformed_splines.py \
        tests/fixtures/malformed_splines
"""

import copy
import os
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.interpolate import PPoly
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "pipelines"))
sys.path.insert(0, here)
from make_malformed import write  # noqa: E402
from make_malformed_transformers import edited  # noqa: E402

warnings.simplefilter("ignore")

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 3))
Y = X[:, 0] - X[:, 1] ** 2


def spline(**kw):
    return SplineTransformer(n_knots=5, degree=3, **kw).fit(X)


def field(s, name):
    """A BSpline's array `name` (`t`, `c`), wherever this scipy keeps it."""
    return s.__dict__["_" + name] if "_" + name in s.__dict__ else s.__dict__[name]


def set_field(s, name, value):
    s.__dict__["_" + name if "_" + name in s.__dict__ else name] = value


def with_spline(i, change):
    """`bsplines_` with spline `i` copied and changed by `change(spline)`."""
    def edit(splines):
        splines = list(splines)
        s = copy.deepcopy(splines[i])
        change(s)
        splines[i] = s
        return splines
    return edit


def knots(change):
    return lambda s: set_field(s, "t", change(field(s, "t").copy()))


def coefficients(change):
    return lambda s: set_field(s, "c", change(field(s, "c").copy()))


def swap(t, i=5):
    t[[i, i + 1]] = t[[i + 1, i]]
    return t


def nan_at(t, i=4):
    t[i] = np.nan
    return t


def scaled(c):
    c[2, 2] = 0.5
    return c


def attribute(name, value):
    return lambda s: setattr(s, name, value)


def cases():
    """(name, what the refusal names, why, model)."""
    pipe = lambda: make_pipeline(SplineTransformer(n_knots=4), Ridge()).fit(X, Y)  # noqa: E731
    t_len = len(field(spline().bsplines_[0], "t"))
    return [
        ("knots_not_increasing", "SplineTransformer: bsplines_[1].t[6] is",
         "two knots swapped", edited(spline(), "bsplines_", with_spline(1, knots(swap)))),
        ("knot_nan", "SplineTransformer: bsplines_[0].t[4] is NaN",
         "a knot that is not a number", edited(spline(), "bsplines_", with_spline(0, knots(nan_at)))),
        ("knots_too_few", "SplineTransformer: bsplines_[2].t has 7 knots, fewer than the 8",
         "knots cut short", edited(spline(), "bsplines_", with_spline(2, knots(lambda t: t[:7])))),
        ("knots_unlike_the_first", "SplineTransformer: bsplines_[1].c has shape",
         "a spline with a knot more than its coefficients", edited(spline(), "bsplines_", with_spline(1, knots(lambda t: np.r_[t, t[-1] + 1.0])))),
        ("coefficients_narrow", "SplineTransformer: bsplines_[0].c has shape [7, 6]",
         "a coefficient column dropped", edited(spline(), "bsplines_", with_spline(0, coefficients(lambda c: c[:, :-1].copy())))),
        ("coefficients_flat", "SplineTransformer: bsplines_[0].c has shape [49]",
         "coefficients flattened", edited(spline(), "bsplines_", with_spline(0, coefficients(lambda c: c.ravel().copy())))),
        ("coefficients_not_identity", "SplineTransformer: bsplines_[2].c[2, 2] is 0.5",
         "a coefficient scaled", edited(spline(), "bsplines_", with_spline(2, coefficients(scaled)))),
        ("coefficients_nan", "SplineTransformer: bsplines_[0].c[3] is NaN",
         "a coefficient that is not a number", edited(spline(), "bsplines_", with_spline(0, coefficients(lambda c: nan_at(c.ravel(), 3).reshape(c.shape))))),
        ("degree_negative", "SplineTransformer: bsplines_[0].k is -1",
         "a negative spline degree", edited(spline(), "bsplines_", with_spline(0, attribute("k", -1)))),
        ("degree_huge", "SplineTransformer: bsplines_[1].k is 1000000000",
         "a huge spline degree", edited(spline(), "bsplines_", with_spline(1, attribute("k", 10 ** 9)))),
        ("degree_unlike_setting", "SplineTransformer: bsplines_[0].k is 3, but degree is 2",
         "a transformer degree unlike its splines'", edited(spline(), "degree", 2)),
        ("degree_too_high_for_knots", "SplineTransformer: bsplines_[0].t has %d knots, fewer than the" % t_len,
         "a spline degree its knots cannot carry", edited(spline(), "bsplines_", with_spline(0, attribute("k", t_len)))),
        ("extrapolate_unlike_setting", "SplineTransformer: bsplines_[1].extrapolate is True, but the extrapolation setting needs False",
         "a spline that extrapolates under extrapolation='constant'", edited(spline(), "bsplines_", with_spline(1, attribute("extrapolate", True)))),
        ("axis_not_zero", "SplineTransformer: bsplines_[0].axis is not 0",
         "a spline along another axis", edited(spline(), "bsplines_", with_spline(0, attribute("axis", 1)))),
        ("spline_is_sparse_matrix", "SplineTransformer: bsplines_[1] is an instance of csr_matrix, not a scipy BSpline",
         "another allowed scipy class in bsplines_", edited(spline(), "bsplines_", lambda s: [s[0], sp.csr_matrix(np.eye(3)), s[2]])),
        ("spline_is_ppoly", "scipy.interpolate._interpolate.PPoly",
         "a scipy class that is not allowed in bsplines_",
         edited(spline(), "bsplines_", lambda s: [PPoly(np.zeros((4, 2)), np.array([0.0, 1.0, 2.0])), s[1], s[2]])),
        ("splines_short", "SplineTransformer: bsplines_ holds 2 splines for 3 features",
         "a spline per feature missing", edited(spline(), "bsplines_", lambda s: s[:2])),
        ("splines_missing", "SplineTransformer: has no bsplines_",
         "no bsplines_", edited(spline(), "bsplines_", delattr)),
        ("extrapolation_unknown", "SplineTransformer: extrapolation is \"mirror\"",
         "an extrapolation that is none of scikit-learn's", edited(spline(), "extrapolation", "mirror")),
        ("order_unknown", "SplineTransformer: order is \"K\"",
         "an order that is none of scikit-learn's", edited(spline(), "order", "K")),
        ("n_knots_unlike_splines", "SplineTransformer: n_knots is 6, but the splines have 5 base knots",
         "n_knots unlike the splines'", edited(spline(), "n_knots", 6)),
        ("knots_array_unlike_splines", "SplineTransformer: knots[2, 1] is 0.125",
         "base knots given as an array unlike the splines'",
         edited(SplineTransformer(degree=2, knots=np.array([[-2.0, -2, -2], [0, 0, 0], [2, 2, 2]])).fit(X),
                "knots", np.array([[-2.0, -2, -2], [0, 0, 0], [2, 0.125, 2]]))),
        ("n_features_out_wrong", "SplineTransformer: n_features_out_ is 20 but the splines give 21 columns",
         "a count of outputs unlike the splines'", edited(spline(), "n_features_out_", 20)),
        ("pipeline_knot_inf", "step splinetransformer (SplineTransformer): bsplines_[0].t[3] is inf",
         "a Pipeline whose spline has an infinite knot",
         edited(pipe(), "bsplines_", with_spline(0, knots(lambda t: np.where(np.arange(len(t)) == 3, np.inf, t))), at="splinetransformer")),
    ]


def main():
    write(sys.argv[1], cases())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fit two RandomForestRegressors whose loading takes about as much memory as skserve's
default loading budget (--max-model-bytes, 256 MiB): one below it (16 trees of 32,768 leaves,
about 85 % of it) and one above it (24 such trees, about 125 %), pickled with protocol 5, with
a few rows and scikit-learn's predictions for them.

    target/sk1.9-venv/bin/python tests/python/trees/make_large_forests.py OUTDIR

OUTDIR/near_budget.pkl, OUTDIR/over_budget.pkl, OUTDIR/rows.csv and
OUTDIR/{near,over}_budget.csv (predict of each row). The tests load the first within the
default budget and refuse the second, naming the flag, until the budget is raised.
"""

import os
import pickle
import sys

import numpy as np
from sklearn.ensemble import RandomForestRegressor


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 8))
    y = X @ rng.normal(size=8) + rng.normal(size=100_000)
    rows = rng.normal(size=(100, 8))
    np.savetxt(os.path.join(outdir, "rows.csv"), rows, delimiter=",")
    for name, trees in (("near_budget", 16), ("over_budget", 24)):
        model = RandomForestRegressor(
            n_estimators=trees, max_leaf_nodes=32_768, random_state=0, n_jobs=2
        ).fit(X, y)
        with open(os.path.join(outdir, name + ".pkl"), "wb") as f:
            pickle.dump(model, f, protocol=5)
        np.savetxt(os.path.join(outdir, name + ".csv"), model.predict(rows), fmt="%.17g")
        nodes = sum(e.tree_.node_count for e in model.estimators_)
        print("%s: %d trees, %d nodes" % (name, trees, nodes), file=sys.stderr)


if __name__ == "__main__":
    main()

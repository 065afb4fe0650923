#!/usr/bin/env python3
"""Fit the benchmark's tree models (a 100-tree RandomForestClassifier of depth 10 and a
100-iteration HistGradientBoostingClassifier, on the Pipeline matrix's numeric columns), write
them to OUTDIR, and time scikit-learn's `predict_proba` on one row and on 10,000, one thread,
for `cargo bench --bench model` (`tree` figures) and tests/python/trees/bench_onnx.py to be set
beside. Models already in OUTDIR are timed as they are, not fitted again, so a second timing
in the same run times the same models.

    target/sk1.9-venv/bin/python tests/python/trees/bench_trees.py OUTDIR
"""

import itertools
import os
import pickle
import sys
import timeit

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
from make_pipelines import NUMERIC, make_data, targets  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    train, score = make_data(5000, 0)
    rows, _ = make_data(10000, 1)
    y = targets(score)["multi"]
    X = train[NUMERIC].to_numpy()
    rows = rows[NUMERIC].to_numpy()
    np.savetxt(os.path.join(outdir, "rows.csv"), rows, delimiter=",")
    models = {
        "forest": RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0, n_jobs=1),
        "hist": HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0),
    }
    with threadpool_limits(limits=1):
        for name, model in models.items():
            path = os.path.join(outdir, name + ".pkl")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    model = pickle.load(f)
            else:
                model.fit(X, y)
                with open(path, "wb") as f:
                    pickle.dump(model, f, protocol=5)
            one = rows[:1]
            n = 200
            t1 = min(timeit.repeat(lambda: model.predict_proba(one), number=n, repeat=3)) / n
            singles = itertools.cycle([rows[i:i + 1] for i in range(len(rows))])
            tv = min(timeit.repeat(lambda: model.predict_proba(next(singles)), number=n, repeat=3)) / n
            tb = min(timeit.repeat(lambda: model.predict_proba(rows), number=3, repeat=3)) / 3
            print("scikit-learn %s predict_proba: 1 row %.1f us (a new row each call %.1f us), 10000 rows %.2f ms"
                  % (name, t1 * 1e6, tv * 1e6, tb * 1e3))


if __name__ == "__main__":
    main()

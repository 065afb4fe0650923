#!/usr/bin/env python3
"""scikit-learn reference timings for the challenge model.

    python sklearn_bench.py [--model-dir DIR] [--small-loops N] [--big-loops N]

Times, in one process, the median of:
  * pickle.loads of model-files/pickle_model.pkl (bytes already in memory),
  * predict_proba on one row (a (1, 37) float64 array),
  * predict_proba on all rows of x_test.csv (already parsed to float64),
and prints them as JSON, in microseconds, for comparison with the Rust
benchmarks.
"""

import argparse
import json
import os
import pickle
import platform
import statistics
import time
import warnings

import numpy as np
import sklearn

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL_DIR = os.path.join(os.path.dirname(os.path.dirname(HERE)), "model-files")


def median_us(fn, loops, warmup=10):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(loops):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1000.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=DEFAULT_MODEL_DIR)
    ap.add_argument("--small-loops", type=int, default=2000)
    ap.add_argument("--big-loops", type=int, default=200)
    args = ap.parse_args(argv)

    with open(os.path.join(args.model_dir, "pickle_model.pkl"), "rb") as f:
        blob = f.read()
    X = np.loadtxt(os.path.join(args.model_dir, "x_test.csv"), delimiter=",", dtype=np.float64)
    X = np.ascontiguousarray(X)
    row = np.ascontiguousarray(X[:1])

    warnings.simplefilter("ignore")  # InconsistentVersionWarning (1.1.2 pickle)
    model = pickle.loads(blob)

    result = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "rows": int(X.shape[0]),
        "pickle_loads_us": median_us(lambda: pickle.loads(blob), args.small_loops),
        "predict_proba_1_row_us": median_us(lambda: model.predict_proba(row), args.small_loops),
        "predict_proba_all_rows_us": median_us(lambda: model.predict_proba(X), args.big_loops),
        "loops": {"small": args.small_loops, "big": args.big_loops},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

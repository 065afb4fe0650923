#!/usr/bin/env python3
"""scikit-learn's own timings for the benchmark Pipelines of make_challenge.py:
`pipeline.predict(df)` on one row and on 10,000 rows of an already-built DataFrame, medians
in microseconds, as JSON (set beside `cargo bench --bench model`).

    python bench_pipelines.py CHALLENGE_DIR [--small-loops N] [--big-loops N]
"""

import argparse
import json
import os
import pickle
import platform
import sys
import warnings

import numpy as np
import pandas as pd
import sklearn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from sklearn_bench import median_us  # noqa: E402  (the challenge model's timings, same clock)

warnings.simplefilter("ignore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--small-loops", type=int, default=2000)
    ap.add_argument("--big-loops", type=int, default=100)
    args = ap.parse_args()
    out = {"sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
           "python_version": platform.python_version()}
    for name, model_file, rows in [("challenge", "challenge_pipeline.pkl", "challenge_rows.csv"),
                                   ("ridge", "ridge_pipeline.pkl", "ridge_rows.csv")]:
        with open(os.path.join(args.dir, model_file), "rb") as f:
            model = pickle.load(f)
        df = pd.read_csv(os.path.join(args.dir, rows))
        one, batch = df.iloc[:1].copy(), df.iloc[:10_000].copy()
        out[name + "_1_row_us"] = median_us(lambda: model.predict(one), args.small_loops, warmup=20)
        out[name + "_10000_rows_us"] = median_us(lambda: model.predict(batch), args.big_loops, warmup=20)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

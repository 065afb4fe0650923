#!/usr/bin/env python3
"""Convert the benchmark's tree models (written by bench_trees.py to DIR) with skl2onnx and time
ONNX Runtime's probabilities on one row and on 10,000, one thread, for `cargo bench --bench
model -- tree` to be set beside. A model skl2onnx cannot convert is reported with the error,
and the others still run. Also prints how far ONNX Runtime's probabilities are from
scikit-learn's, on the rows without a NaN (it compares in float32 as scikit-learn's trees do)
and on those with one (where it sends a missing value is its own).

    target/onnx-venv/bin/python tests/python/trees/bench_onnx.py DIR
"""

import itertools
import os
import pickle
import sys
import timeit

import numpy as np
import onnxruntime
import skl2onnx


def session(model, rows):
    """An ONNX Runtime session of `model` on one thread, or the converter's error."""
    onnx_model = skl2onnx.to_onnx(model, rows[:1], options={id(model): {"zipmap": False}})
    return one_thread_session(onnx_model)


def one_thread_session(onnx_model):
    """An ONNX Runtime session of a converted model on one thread."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(onnx_model.SerializeToString(), options,
                                        providers=["CPUExecutionProvider"])


def main():
    folder = sys.argv[1]
    rows64 = np.loadtxt(os.path.join(folder, "rows.csv"), delimiter=",")
    rows = rows64.astype(np.float32)
    print("skl2onnx %s, onnx runtime %s" % (skl2onnx.__version__, onnxruntime.__version__))
    for name in ("forest", "hist"):
        with open(os.path.join(folder, name + ".pkl"), "rb") as f:
            model = pickle.load(f)
        try:
            sess = session(model, rows)
        except Exception as error:  # the converter's own exception types vary by estimator
            # The converter's message embeds every node attribute: its first line and the
            # error it wraps say why.
            why = str(error).splitlines()[0][:120]
            cause = error.__cause__ or error.__context__
            print("onnxruntime %s: skl2onnx cannot convert %s: %s: %s ... (from %s: %s)"
                  % (name, type(model).__name__, type(error).__name__, why,
                     type(cause).__name__, cause))
            continue
        feed = sess.get_inputs()[0].name
        proba = [o.name for o in sess.get_outputs()].index("probabilities")
        one = rows[:1]

        def run(batch):
            return sess.run(None, {feed: batch})[proba]

        gap = np.abs(run(rows) - model.predict_proba(rows64)).max(axis=1)
        missing = np.isnan(rows64).any(axis=1)
        n = 2000
        t1 = min(timeit.repeat(lambda: run(one), number=n, repeat=5)) / n
        # The same row every call lets the processor learn every turn; traffic is not that kind.
        singles = itertools.cycle([rows[i:i + 1] for i in range(len(rows))])
        tv = min(timeit.repeat(lambda: run(next(singles)), number=n, repeat=5)) / n
        tb = min(timeit.repeat(lambda: run(rows), number=3, repeat=3)) / 3
        print("onnxruntime %s predict_proba: 1 row %.2f us (a new row each call %.2f us), "
              "10000 rows %.2f ms "
              "(max |p - scikit-learn p|: %.1e on %d rows without NaN, %.1e on %d with one)"
              % (name, t1 * 1e6, tv * 1e6, tb * 1e3, gap[~missing].max(), (~missing).sum(),
                 gap[missing].max(), missing.sum()))


if __name__ == "__main__":
    main()

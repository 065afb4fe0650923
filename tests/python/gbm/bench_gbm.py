#!/usr/bin/env python3
"""The other side of the XGBoost and LightGBM benchmarks (load-tests/gbm.sh), one thread each.

    python bench_gbm.py fit DIR     # the models and the rows, once
    python bench_gbm.py time DIR    # the libraries, ONNX Runtime and TL2cgen's compiled C

`fit` trains an XGBClassifier (100 trees of depth 6) and an LGBMClassifier (100 trees of 31
leaves) on 20 numeric columns with some missing values, saves them as `xgb.json` and
`lgb.txt`, and writes 10,000 rows to `rows.csv`. `time` prints, for each model, the seconds
per call of probabilities on one row (a new row each call) and on the 10,000 rows:

    gbm xgb xgboost 1 <seconds>
    gbm xgb xgboost 10000 <seconds>

for XGBoost's `inplace_predict`, LightGBM's `predict`, ONNX Runtime (onnxmltools; a model it
cannot convert is reported and skipped) and TL2cgen's compiled C of Treelite's model (built
here with the machine's C compiler, once). Every engine's probabilities are checked against
the library's before it is timed.
"""

import itertools
import os
import sys
import timeit

import numpy as np

N_FEATURES = 20
N_ROWS = 10_000


def fit(folder):
    import lightgbm as lgb
    import xgboost as xgb

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(20_000, N_FEATURES))
    y = ((x[:, 0] + x[:, 1] * x[:, 2] - np.abs(x[:, 3]) + rng.normal(0, 0.5, len(x))) > 0).astype(int)
    x[rng.random(x.shape) < 0.02] = np.nan
    xgb.XGBClassifier(n_estimators=100, max_depth=6, n_jobs=1, random_state=0).fit(x, y).save_model(
        os.path.join(folder, "xgb.json")
    )
    lgb.LGBMClassifier(n_estimators=100, num_leaves=31, n_jobs=1, verbose=-1, random_state=0).fit(
        x, y
    ).booster_.save_model(os.path.join(folder, "lgb.txt"))
    np.savetxt(os.path.join(folder, "rows.csv"), x[:N_ROWS], delimiter=",", fmt="%.17g")


def per_call(run, rows):
    """Seconds per call on one row (a new row each call) and on every row."""
    singles = itertools.cycle([rows[i : i + 1] for i in range(len(rows))])
    n = 2000
    one = min(timeit.repeat(lambda: run(next(singles)), number=n, repeat=5)) / n
    batch = min(timeit.repeat(lambda: run(rows), number=3, repeat=3)) / 3
    return one, batch


def report(model, engine, times):
    print("gbm %s %s 1 %.9f" % (model, engine, times[0]))
    print("gbm %s %s %d %.9f" % (model, engine, N_ROWS, times[1]), flush=True)


def onnx_session(onnx_model):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def compiled(folder, name, treelite_model):
    """TL2cgen's C of the model, compiled once into DIR/NAME.so, as a predictor on one thread."""
    import tl2cgen

    library = os.path.join(folder, name + ".so")
    if not os.path.exists(library):
        tl2cgen.export_lib(treelite_model, toolchain="gcc", libpath=library, params={"parallel_comp": 8}, nthread=1)
    return tl2cgen.Predictor(library, nthread=1)


def check(model, engine, got, want):
    gap = float(np.nanmax(np.abs(np.asarray(got, dtype=np.float64).reshape(len(want), -1)[:, -1] - want)))
    print("check %s %s max |p - library p| %.1e" % (model, engine, gap), flush=True)


def time(folder):
    import lightgbm as lgb
    import onnxmltools
    import tl2cgen
    import treelite
    import xgboost as xgb
    from onnxmltools.convert.common.data_types import FloatTensorType

    rows = np.loadtxt(os.path.join(folder, "rows.csv"), delimiter=",")
    rows32 = rows.astype(np.float32)
    print(
        "versions: xgboost %s, lightgbm %s, onnxmltools %s, treelite %s, tl2cgen %s"
        % (xgb.__version__, lgb.__version__, onnxmltools.__version__, treelite.__version__, tl2cgen.__version__),
        flush=True,
    )

    # XGBoost.
    booster = xgb.Booster(model_file=os.path.join(folder, "xgb.json"))
    booster.set_param({"nthread": 1})
    want = booster.inplace_predict(rows)
    report("xgb", "xgboost", per_call(lambda x: booster.inplace_predict(x), rows))
    engines = {}
    try:
        onnx_model = onnxmltools.convert_xgboost(booster, initial_types=[("x", FloatTensorType([None, N_FEATURES]))])
        session = onnx_session(onnx_model)
        engines["onnxruntime"] = lambda x: session.run(None, {"x": x.astype(np.float32)})[1]
    except Exception as error:  # the converter's exceptions vary
        print("onnxruntime xgb: onnxmltools cannot convert: %s: %s" % (type(error).__name__, str(error)[:160]))
    predictor = compiled(folder, "xgb", treelite.frontend.load_xgboost_model(os.path.join(folder, "xgb.json")))
    engines["tl2cgen"] = lambda x: predictor.predict(tl2cgen.DMatrix(x, dtype="float64"))
    for engine, run in engines.items():
        check("xgb", engine, run(rows), want)
        report("xgb", engine, per_call(run, rows))

    # LightGBM.
    booster = lgb.Booster(model_file=os.path.join(folder, "lgb.txt"))
    want = booster.predict(rows, num_threads=1)
    report("lgb", "lightgbm", per_call(lambda x: booster.predict(x, num_threads=1), rows))
    engines = {}
    try:
        onnx_model = onnxmltools.convert_lightgbm(
            booster, initial_types=[("x", FloatTensorType([None, N_FEATURES]))], zipmap=False
        )
        session = onnx_session(onnx_model)
        engines["onnxruntime"] = lambda x: session.run(None, {"x": x.astype(np.float32)})[1]
    except Exception as error:  # the converter's exceptions vary
        print("onnxruntime lgb: onnxmltools cannot convert: %s: %s" % (type(error).__name__, str(error)[:160]))
    predictor = compiled(folder, "lgb", treelite.frontend.load_lightgbm_model(os.path.join(folder, "lgb.txt")))
    engines["tl2cgen"] = lambda x: predictor.predict(tl2cgen.DMatrix(x, dtype="float64"))
    for engine, run in engines.items():
        check("lgb", engine, run(rows), want)
        report("lgb", engine, per_call(run, rows))


if __name__ == "__main__":
    {"fit": fit, "time": time}[sys.argv[1]](sys.argv[2])

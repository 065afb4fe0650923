#!/usr/bin/env python3
"""Write every model of a pickle matrix (tests/python/pipelines/, tests/python/trees/) as a
skops archive, with the installed skops, the way a user saves one, next to the pickle it came
from and scikit-learn's answers.

    python make_skops.py PICKLE_MATRIX_DIR OUTDIR

The venv holds the scikit-learn that fitted the matrix, so that the pickle loads as the very
model; skops then writes it stored and, from skops 0.7, deflated. Each archive is loaded back
by skops itself (trusting what it reports as untrusted) and must predict exactly as the
pickled model, so that a difference skserve finds is skserve's. A model skops cannot write is
left out, with skops's reason, in the manifest's `skipped`.

Layout, the pickle matrix's (shared inputs and expected answers are copied):

    OUTDIR/manifest.json                 versions, one case per archive, skipped models
    OUTDIR/models/<id>__skops.skops      stored; <id>__skops-deflated.skops deflated
    OUTDIR/models/<id>__pickle.pkl       the pickle it was written from
    OUTDIR/inputs/, OUTDIR/expected/     as in the pickle matrix
"""

import inspect
import io
import json
import os
import pickle
import platform
import shutil
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io as sio

warnings.simplefilter("ignore")

METHODS = ("predict", "predict_proba", "decision_function")


def answers(model, frame):
    """Every output the model gives on the frame, or the error it raises."""
    out = {}
    for method in METHODS:
        fn = getattr(model, method, None)
        if fn is None:
            continue
        try:
            result = fn(frame)
            out[method] = np.hstack(result) if isinstance(result, list) else np.asarray(result)
        except (ValueError, AttributeError) as e:
            out[method] = type(e).__name__
    return out


def same(a, b):
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, str) or isinstance(y, str):
            if x != y:
                return False
        elif x.shape != y.shape or not (x == y)[~(pd.isna(x) & pd.isna(y))].all():
            return False
    return True


def scored_on(src, case):
    """The inputs scikit-learn's answers for the case were computed on."""
    with open(os.path.join(src, case["expected"])) as f:
        variants = json.load(f)["variants"]
    return sorted({key.rsplit("-", 1)[0] for key in variants})


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "manifest.json")) as f:
        manifest = json.load(f)
    for sub in ("inputs", "expected"):
        shutil.copytree(os.path.join(src, sub), os.path.join(out, sub), dirs_exist_ok=True)
    os.makedirs(os.path.join(out, "models"), exist_ok=True)
    frames = {name: pd.read_csv(os.path.join(src, rel), keep_default_na=True)
              for name, rel in manifest["inputs"].items()}
    compressions = {"skops": zipfile.ZIP_STORED}
    if "compression" in inspect.signature(sio.dumps).parameters:
        compressions["skops-deflated"] = zipfile.ZIP_DEFLATED

    cases, skipped, protocols = [], [], set()
    for case in manifest["cases"]:
        if case["format"] != "pickle-p4":
            continue
        model_id = case["model_id"]
        with open(os.path.join(src, case["file"]), "rb") as f:
            model = pickle.load(f)
        pickled = "models/%s__pickle.pkl" % model_id
        shutil.copyfile(os.path.join(src, case["file"]), os.path.join(out, pickled))
        for fmt, compression in compressions.items():
            try:
                if fmt == "skops":
                    data = sio.dumps(model)
                else:
                    data = sio.dumps(model, compression=compression)
            except Exception as e:  # skops refuses some types; say which
                skipped.append({"model_id": model_id, "format": fmt, "reason": "%s: %s" % (type(e).__name__, e)})
                continue
            loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
            for name in scored_on(src, case):
                frame = frames[name][case["columns"]]
                if not same(answers(model, frame), answers(loaded, frame)):
                    raise SystemExit("skops %s changes %s's answers on %s" % (skops.__version__, model_id, name))
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                protocols.add(json.loads(z.read("schema.json"))["protocol"])
            rel = "models/%s__%s.skops" % (model_id, fmt)
            with open(os.path.join(out, rel), "wb") as f:
                f.write(data)
            cases.append(dict(case, file=rel, format=fmt, protocol=None, pickle=pickled))

    result = {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "pandas_version": pd.__version__,
        "skops_version": skops.__version__,
        "skops_protocols": sorted(protocols),
        "python_version": platform.python_version(),
        "inputs": manifest["inputs"],
        "cases": cases,
        "skipped": skipped,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(result, f, indent=1)
    print("%d skops archives in %s (skops %s, protocol %s, scikit-learn %s), %d left out" % (
        len(cases), out, skops.__version__, sorted(protocols), sklearn.__version__, len(skipped)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Build the checked-in fixtures of tests/fixtures/legacy/ with an OLD
scikit-learn / numpy / joblib.

    python make_legacy_fixtures.py OUTDIR [--challenge-dir DIR] [--formats ...]

Run through make_legacy_fixtures.sh, which creates one venv per pinned
environment and calls this script in each of them.  The layout and manifest
are the ones of make_matrix.py (this script reuses its code), but the matrix
is smaller so that the checked-in files stay small: fewer rows, fewer label
variants and fewer formats.
"""

import argparse
import os
import pickle
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_matrix as mm  # noqa: E402

LEGACY_FORMATS = ["pickle-p2", "pickle-p4", "pickle-p5", "joblib", "joblib-zlib"]

# Label variants fitted for every estimator; the other variants are fitted
# for a few estimators only (see keep()).
FULL_LABELS = {"challenge": {"int", "str"}, "multiclass": {"int", "str"}}
FEW_LABEL_ESTIMATORS = {"LogisticRegression", "RidgeClassifier", "SGDClassifier_log_loss"}


def keep(dataset, label_type, tag):
    if tag == "LinearSVC_crammer_singer":
        # liblinear of scikit-learn 1.3 leaves n_iter_ uninitialised for
        # crammer_singer, so the pickle bytes change from run to run
        return False
    if tag.endswith("_df"):
        return tag in ("LogisticRegression_df", "RidgeClassifier_df")
    if label_type in FULL_LABELS.get(dataset, ()):
        return True
    return tag in FEW_LABEL_ESTIMATORS


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--challenge-dir", default=mm.DEFAULT_CHALLENGE_DIR)
    ap.add_argument("--challenge-rows", type=int, default=200)
    ap.add_argument("--multiclass-rows", type=int, default=100)
    ap.add_argument("--formats", default=",".join(LEGACY_FORMATS),
                    help="comma-separated subset of: " + ", ".join(mm.FORMATS))
    ap.add_argument("--environment", default=None,
                    help="free-form label stored in the manifest")
    args = ap.parse_args(argv)

    formats = [f for f in args.formats.split(",") if f]
    for f in formats:
        if f not in mm.FORMATS:
            sys.exit("error: unknown format %r" % f)
        _kind, proto, _ext, _c = mm.FORMATS[f]
        if proto is not None and proto > pickle.HIGHEST_PROTOCOL:
            sys.exit("error: %s needs pickle protocol %d, this Python has %d"
                     % (f, proto, pickle.HIGHEST_PROTOCOL))

    datasets = {
        "challenge": mm.load_challenge(args.challenge_dir, args.challenge_rows),
        "multiclass": mm.load_multiclass(args.multiclass_rows),
    }
    fitted = mm.build_matrix(datasets, estimator_filter=keep)
    meta = {"environment": args.environment} if args.environment else None
    manifest = mm.write_outputs(args.outdir, datasets, fitted, lambda fm: formats, meta)
    print("%d fitted models, %d files written to %s (scikit-learn %s, numpy %s, joblib %s)"
          % (len(fitted), len(manifest["cases"]), args.outdir, mm.sklearn.__version__,
             mm.np.__version__, mm.joblib.__version__))


if __name__ == "__main__":
    main()

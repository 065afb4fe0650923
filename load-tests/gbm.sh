#!/usr/bin/env bash
# XGBoost and LightGBM benchmarks: skserve against each library's own predictor, ONNX Runtime
# and TL2cgen's compiled C, one thread each, in one run on this machine:
#
#   load-tests/gbm.sh                 # MEASURE=3 s per criterion figure
#
# The models: an XGBClassifier of 100 trees of depth 6 and an LGBMClassifier of 100 trees of 31
# leaves, on 20 columns with 2 % missing values, fitted by tests/python/gbm/bench_gbm.py in
# target/gbm-bench-venv (requirements-gbm-bench.txt) into target/gbm-bench, as JSON and text.
# Probabilities on one row (a new row each call) and on 10,000:
# - XGBoost's `inplace_predict` and LightGBM's `predict` (nthread 1), ONNX Runtime through
#   onnxmltools (one intra-op thread), TL2cgen's C of Treelite's model compiled with gcc
#   (nthread 1): `bench_gbm.py time`, each engine's answers checked against the library's first;
# - skserve: `cargo bench --bench model -- gbm` (criterion, release).
# Two rounds, the second in the other order, so each ratio has both sides from the same
# stretch of time on a shared machine. The load average is printed before every step; the
# table at the end takes each side's better round. Every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
measure=${MEASURE:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

load() { echo "-- load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" | tee -a "$work/figures.txt" >&2; }

venv="$repo/target/gbm-bench-venv"
bench="$repo/target/gbm-bench"
PYTHON=${PYTHON:-python3.11} bash "$repo/tests/python/setup_venv.sh" "$venv" \
  "$repo/tests/python/gbm/requirements-gbm-bench.txt" xgboost,lightgbm,onnxmltools,onnxruntime,treelite,tl2cgen
[ -f "$bench/lgb.txt" ] || OMP_NUM_THREADS=1 timeout 600 "$venv/bin/python" "$repo/tests/python/gbm/bench_gbm.py" fit "$bench"
(cd "$repo" && timeout 3600 cargo bench --bench model --no-run --quiet)

libraries() {
  load
  OMP_NUM_THREADS=1 timeout 1200 "$venv/bin/python" "$repo/tests/python/gbm/bench_gbm.py" time "$bench" \
    | grep -E "^(gbm|check|versions|onnxruntime)" | tee -a "$work/figures.txt"
}
skserve() {
  load
  (cd "$repo" && timeout 1800 cargo bench --bench model -- --measurement-time "$measure" --warm-up-time 1 \
    --sample-size 20 gbm) | grep -E "^gbm |time:" | tee -a "$work/figures.txt"
}
echo "== round 1: the libraries, ONNX Runtime, TL2cgen, then skserve" >&2
libraries; skserve
echo "== round 2: skserve, then the others" >&2
skserve; libraries
load
"$venv/bin/python" - "$work/figures.txt" <<'PY'
import re, sys
units = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
best, name = {}, None
for line in open(sys.argv[1]):
    m = re.match(r"gbm (\w+) (\w+) (\d+) ([\d.e-]+)$", line.strip())
    if m:
        key = (m[1], m[2], int(m[3]))
        best[key] = min(best.get(key, 1e9), float(m[4]))
        continue
    m = re.match(r"gbm (\w+) predict_proba (\d+) rows?", line.strip())
    if m:
        name = (m[1], "skserve", int(m[2]))
        continue
    m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", line)
    if m and name:
        best[name] = min(best.get(name, 1e9), float(m[1]) * units[m[2]])
        name = None
def show(t):
    return "%.2f µs" % (t * 1e6) if t < 1e-3 else "%.2f ms" % (t * 1e3)
print("| model | rows | skserve | engine | engine's time | engine ÷ skserve |")
print("|---|---|---|---|---|---|")
for model in ("xgb", "lgb"):
    for rows in (1, 10000):
        ours = best.get((model, "skserve", rows))
        for engine in ("xgboost", "lightgbm", "onnxruntime", "tl2cgen"):
            theirs = best.get((model, engine, rows))
            if ours and theirs:
                print("| %s | %d | %s | %s | %s | %.2f |" % (model, rows, show(ours), engine, show(theirs), theirs / ours))
PY

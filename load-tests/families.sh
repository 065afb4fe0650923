#!/usr/bin/env bash
# The families beyond linear models and trees against scikit-learn and ONNX Runtime, in one run
# on this machine:
#
#   load-tests/families.sh                  # MEASURE=3 s per criterion figure
#   MEASURE=2 load-tests/families.sh
#
# The models: one of each family (tests/python/families/bench_families.py fits them in the
# scikit-learn 1.9 venv into target/sk-families/bench) and a TF-IDF + LogisticRegression
# Pipeline of about 50,000 terms. Their output (predict_proba, decision_function or predict) on
# one row (one document) and on 10,000, in-process, one thread, in two rounds of scikit-learn
# (threadpoolctl), ONNX Runtime (skl2onnx + onnxruntime in target/onnx-venv, from
# tests/python/trees/requirements-onnx.txt) and skserve (`cargo bench --bench model --
# families`, criterion), the second round in the other order, so each ratio has both sides
# from the same stretch of time on a shared machine. The load average is printed before every
# step. Every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
measure=${MEASURE:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

load() { echo "-- load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" >&2; }

bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
bench="$repo/target/sk-families/bench"
sklearn_python="$repo/target/sk1.9-venv/bin/python"
onnx_venv="$repo/target/onnx-venv"
bash "$repo/tests/python/setup_venv.sh" "$onnx_venv" "$repo/tests/python/trees/requirements-onnx.txt" \
  sklearn,numpy,skl2onnx,onnx,onnxruntime
script="$repo/tests/python/families/bench_families.py"
timeout 1800 "$sklearn_python" "$script" "$bench" >/dev/null
(cd "$repo" && timeout 3600 cargo bench --bench model --no-run --quiet)

sklearn() { load; timeout 1800 "$sklearn_python" "$script" "$bench" | tee -a "$work/inprocess.txt"; }
onnx() { load; timeout 1800 "$onnx_venv/bin/python" "$script" "$bench" --onnx | tee -a "$work/inprocess.txt"; }
skserve() {
  load
  (cd "$repo" && timeout 3600 cargo bench --bench model -- --measurement-time "$measure" --warm-up-time 1 \
    --sample-size 10 families) | grep -E "^families |time:" | tee -a "$work/inprocess.txt"
}
echo "== round 1: scikit-learn, ONNX Runtime, skserve (one thread)" >&2
sklearn; onnx; skserve
echo "== round 2: skserve, ONNX Runtime, scikit-learn" >&2
skserve; onnx; sklearn
load

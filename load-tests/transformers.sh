#!/usr/bin/env bash
# Every served transformer in a Pipeline against scikit-learn and ONNX Runtime, in one run on
# this machine:
#
#   load-tests/transformers.sh              # MEASURE=2 s per criterion figure
#   ONLY=knn_imputer load-tests/transformers.sh
#
# The models: one Pipeline per transformer class, each before a LogisticRegression
# (tests/python/transformers/bench_transformers.py fits them with scikit-learn 1.9 into
# target/transformers-bench). `predict_proba` on one row and on 10,000, in-process, one thread,
# in two rounds of scikit-learn (threadpoolctl), ONNX Runtime (skl2onnx, float32, one intra-op
# thread) and skserve (`cargo bench --bench transformers`, criterion, release), the second
# round in the other order, so each ratio has both sides from the same stretch of time on a
# shared machine. The load average is printed before every step; the table at the end takes
# each side's better round. Every step is bounded by `timeout`.
#
# The venvs: SKLEARN_PYTHON (default target/sk1.9-venv, made from
# tests/python/pipelines/requirements-sk1.9.txt) and ONNX_PYTHON (default target/onnx-venv,
# from tests/python/trees/requirements-onnx.txt); point them at existing venvs to reuse them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
measure=${MEASURE:-2}
only=${ONLY:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

load() { echo "-- load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" | tee -a "$work/figures.txt" >&2; }

export PYTHON=${PYTHON:-python3.11}
if [ -z "${SKLEARN_PYTHON:-}" ]; then
  bash "$repo/tests/python/setup_venv.sh" "$repo/target/sk1.9-venv" \
    "$repo/tests/python/pipelines/requirements-sk1.9.txt"
  SKLEARN_PYTHON="$repo/target/sk1.9-venv/bin/python"
fi
if [ -z "${ONNX_PYTHON:-}" ]; then
  bash "$repo/tests/python/setup_venv.sh" "$repo/target/onnx-venv" \
    "$repo/tests/python/trees/requirements-onnx.txt" sklearn,numpy,skl2onnx,onnx,onnxruntime
  ONNX_PYTHON="$repo/target/onnx-venv/bin/python"
fi
bench="$repo/target/transformers-bench"
script="$repo/tests/python/transformers/bench_transformers.py"
# Fits what is missing (a first run), so that every timing below times the same files.
timeout 1800 "$SKLEARN_PYTHON" "$script" "$bench" >/dev/null
(cd "$repo" && timeout 3600 cargo bench --bench transformers --no-run --quiet)

mine() { grep -E "^(scikit-learn|onnxruntime|skl2onnx) " | grep -E "${only:-.}" || true; }
sklearn() { load; timeout 1800 "$SKLEARN_PYTHON" "$script" "$bench" | mine | tee -a "$work/figures.txt"; }
onnx() { load; timeout 1800 "$ONNX_PYTHON" "$script" "$bench" --onnx | mine | tee -a "$work/figures.txt"; }
skserve() {
  load
  (cd "$repo" && SKSERVE_TRANSFORMERS_BENCH="$bench" timeout 3600 cargo bench --bench transformers -- \
    --measurement-time "$measure" --warm-up-time 1 --sample-size 10 "transformers ${only}") \
    | grep -E "^transformers |time:" | tee -a "$work/figures.txt"
}
echo "== round 1: scikit-learn, ONNX Runtime, skserve (one thread)" >&2
sklearn; onnx; skserve
echo "== round 2: skserve, ONNX Runtime, scikit-learn" >&2
skserve; onnx; sklearn
load
"$SKLEARN_PYTHON" - "$work/figures.txt" <<'PY'
import re, sys
units = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
best, order, refused, name = {}, [], {}, None
def keep(key, t):
    best[key] = min(best.get(key, 1e9), t)
    if key[0] not in order:
        order.append(key[0])
for line in open(sys.argv[1]):
    line = line.strip()
    m = re.match(r"(scikit-learn|onnxruntime) (\w+) predict_proba: 1 row ([\d.]+) us, 10000 rows ([\d.]+) ms", line)
    if m:
        keep((m[2], m[1], 1), float(m[3]) * 1e-6)
        keep((m[2], m[1], 10000), float(m[4]) * 1e-3)
        continue
    m = re.match(r"onnxruntime (\w+): skl2onnx cannot convert it: (.*)", line)
    if m:
        refused[m[1]] = m[2]
        continue
    m = re.match(r"transformers (\w+) predict_proba (\d+) row", line)
    if m:
        name = (m[1], "skserve", int(m[2]))
    m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", line)
    if m and name:
        keep(name, float(m[1]) * units[m[2]])
        name = None
def show(t):
    return "%.2f µs" % (t * 1e6) if t < 1e-3 else "%.2f ms" % (t * 1e3)
def ratio(model, engine, rows):
    ours, theirs = best.get((model, "skserve", rows)), best.get((model, engine, rows))
    if not (ours and theirs):
        return "—"
    r = theirs / ours
    return "%.0f×" % r if r >= 10 else "%.2f×" % r if r >= 0.1 else "%.2g×" % r
print("| Pipeline (+ LogisticRegression) | skserve, 1 row | scikit-learn ÷ skserve | ONNX Runtime ÷ skserve | skserve, 10,000 rows | scikit-learn ÷ skserve | ONNX Runtime ÷ skserve |")
print("|---|---:|---:|---:|---:|---:|---:|")
for model in order:
    cells = []
    for rows in (1, 10000):
        ours = best.get((model, "skserve", rows))
        cells += [show(ours) if ours else "—", ratio(model, "scikit-learn", rows), ratio(model, "onnxruntime", rows)]
    print("| %s | %s |" % (model, " | ".join(cells)))
missed = [m for m in order if best.get((m, "skserve", 1)) and best.get((m, "scikit-learn", 1))
          and best[(m, "scikit-learn", 1)] / best[(m, "skserve", 1)] < 100]
print()
print("one row under 100× scikit-learn: %s" % (", ".join(missed) or "none"))
for model, why in refused.items():
    print("skl2onnx does not convert %s: %s" % (model, why))
PY

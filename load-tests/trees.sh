#!/usr/bin/env bash
# Tree benchmarks against scikit-learn, ONNX Runtime and the ceiling, in one run on this machine:
#
#   load-tests/trees.sh                     # DURATION=10s per wrk run, MEASURE=3 s per figure
#   DURATION=5s MEASURE=2 load-tests/trees.sh
#
# The models: a 100-tree RandomForestClassifier of depth 10 and a 100-iteration
# HistGradientBoostingClassifier (4 classes, 3 numeric columns, NaNs in one), fitted by
# tests/python/trees/bench_trees.py in the scikit-learn 1.9 venv into target/sk-trees/bench.
# 1. predict_proba in-process on one row and on 10,000, one thread, in two rounds of
#    scikit-learn (bench_trees.py), ONNX Runtime (bench_onnx.py: skl2onnx + onnxruntime in
#    target/onnx-venv, from requirements-onnx.txt) and skserve (`cargo bench --bench model --
#    tree`, criterion), the second round in the other order, so each ratio has both sides from
#    the same stretch of time on a shared machine.
# 2. V2 single-row requests asking for predict_proba (v2_tree.lua) to skserve serving both
#    models, and the same request to the bare axum ceiling of ../shared/anchors/hello
#    (127.0.0.1:8190, started here unless it already answers), wrk -t1 -c50 --latency,
#    alternated twice.
# The load average is printed before every step. Stops what it started, by PID. Every step is
# bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib.sh
. "$here/lib.sh"
duration=${DURATION:-10s}
measure=${MEASURE:-3}
work=$(mktemp -d)
skserve_pid=""
ceiling_pid=""

cleanup() {
  stop "$skserve_pid" "$ceiling_pid"
  rm -rf "$work"
}
trap cleanup EXIT

load() { echo "-- load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)" >&2; }

need_wrk
wrk_limit=$(time_limit "$duration")

bash "$repo/tests/python/pipelines/ensure_pipelines.sh" >/dev/null
bench="$repo/target/sk-trees/bench"
sklearn_python="$repo/target/sk1.9-venv/bin/python"
onnx_venv="$repo/target/onnx-venv"
bash "$repo/tests/python/setup_venv.sh" "$onnx_venv" "$repo/tests/python/trees/requirements-onnx.txt" \
  sklearn,numpy,skl2onnx,onnx,onnxruntime
(cd "$repo" && timeout 1800 cargo build --release --quiet && timeout 1800 cargo bench --bench model --no-run --quiet)

sklearn() { load; timeout 600 "$sklearn_python" "$repo/tests/python/trees/bench_trees.py" "$bench" | tee -a "$work/inprocess.txt"; }
onnx() { load; timeout 600 "$onnx_venv/bin/python" "$repo/tests/python/trees/bench_onnx.py" "$bench" | tee -a "$work/inprocess.txt"; }
skserve() {
  load
  (cd "$repo" && timeout 1800 cargo bench --bench model -- --measurement-time "$measure" --warm-up-time 1 \
    --sample-size 20 tree) | grep -E "^tree |time:" | tee -a "$work/inprocess.txt"
}
echo "== round 1: scikit-learn, ONNX Runtime, skserve (predict_proba, one thread)" >&2
sklearn; onnx; skserve
echo "== round 2: skserve, ONNX Runtime, scikit-learn" >&2
skserve; onnx; sklearn

echo "== V2 single-row predict_proba through HTTP against the ceiling (wrk -t1 -c50 -d$duration)" >&2
port=$(free_port)
start_skserve "$port" "$work/skserve.log" --model "forest=$bench/forest.pkl,hist=$bench/hist.pkl"
skserve_pid=$STARTED_PID
wait_until "http://127.0.0.1:$port/v2/health/ready" "$work/skserve.log" skserve
ensure_ceiling
ceiling_pid=$CEILING_PID
for model in forest hist; do
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP64","data":[14.7193,1.10458,2]}],"outputs":[{"name":"predict_proba"}]}' \
    "http://127.0.0.1:$port/v2/models/$model/infer" >&2
  echo >&2
done
run_wrk() { load; timeout "$wrk_limit" wrk -t1 -c50 -d"$duration" --latency -s "$here/v2_tree.lua" "$1"; }
rps() { awk '/^Requests\/sec/ { print $2 }' "$1"; }
for run in 1 2; do
  MODEL=forest run_wrk "http://127.0.0.1:$port" > "$work/forest-$run.txt"
  WRK_PATH=/ run_wrk http://127.0.0.1:8190 > "$work/ceiling-$run.txt"
  MODEL=hist run_wrk "http://127.0.0.1:$port" > "$work/hist-$run.txt"
done
for f in "$work"/forest-*.txt "$work"/hist-*.txt; do
  grep -q 'Non-2xx' "$f" && { echo "skserve answered errors:" >&2; cat "$f" >&2; exit 1; }
done

echo
echo "In-process predict_proba (criterion's [low estimate high]; Python: best of the repeats):"
cat "$work/inprocess.txt"
printf '\n| target | run | req/s | p50 | p99 |\n|---|---|---:|---:|---:|\n'
for run in 1 2; do
  for target in forest ceiling hist; do
    f="$work/$target-$run.txt"
    printf '| %s | %s | %s | %s | %s |\n' "$target" "$run" "$(rps "$f")" \
      "$(awk '$1 == "50%" { print $2 }' "$f")" "$(awk '$1 == "99%" { print $2 }' "$f")"
  done
done
for run in 1 2; do
  for model in forest hist; do
    awk -v s="$(rps "$work/$model-$run.txt")" -v c="$(rps "$work/ceiling-$run.txt")" -v r="$run" -v m="$model" \
      'BEGIN { printf "run %s: skserve V2 %s predict_proba = %.2f× the ceiling\n", r, m, s / c }'
  done
done
load

#!/usr/bin/env bash
# Pipeline benchmarks against scikit-learn and the ceiling, in one run on this machine:
#
#   load-tests/pipelines.sh                 # DURATION=10s per wrk run, criterion's defaults
#   DURATION=5s MEASURE=3 load-tests/pipelines.sh
#
# 1. In-process predict of one row and of 10,000 rows, for the challenge data as a
#    ColumnTransformer(OneHotEncoder) + LogisticRegression Pipeline and for a SimpleImputer +
#    StandardScaler + Ridge Pipeline: `cargo bench --bench model -- pipeline` (criterion,
#    MEASURE seconds per figure) and, interleaved, `pipeline.predict(df)` timed in Python by
#    tests/python/pipelines/bench_pipelines.py in the scikit-learn 1.9 venv.
# 2. V1 named input (v1_named.lua: one row of raw columns) to skserve serving the challenge
#    Pipeline, and the same request to the bare axum ceiling of ../shared/anchors/hello
#    (127.0.0.1:8190, started here unless it already answers), wrk -t1 -c50 --latency.
# Stops what it started, by PID. Every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib.sh
. "$here/lib.sh"
duration=${DURATION:-10s}
measure=${MEASURE:-5}
work=$(mktemp -d)
skserve_pid=""
ceiling_pid=""

cleanup() {
  stop "$skserve_pid" "$ceiling_pid"
  rm -rf "$work"
}
trap cleanup EXIT

need_wrk
wrk_limit=$(time_limit "$duration")

dir=$(bash "$repo/tests/python/pipelines/ensure_pipelines.sh")
export SKSERVE_PIPELINES_DIR=$dir
python="$repo/target/sk1.9-venv/bin/python"

echo "== scikit-learn: pipeline.predict(df) (median µs)" >&2
timeout 600 "$python" "$repo/tests/python/pipelines/bench_pipelines.py" "$dir/challenge" | tee "$work/sklearn-before.json"
echo "== skserve: criterion" >&2
(cd "$repo" && timeout 1800 cargo bench --bench model -- --measurement-time "$measure" --warm-up-time 1 pipeline) \
  | grep -E "^(challenge|ridge) pipeline|time:" | tee "$work/criterion.txt"
echo "== scikit-learn again (the machine is shared: both sides, twice)" >&2
timeout 600 "$python" "$repo/tests/python/pipelines/bench_pipelines.py" "$dir/challenge" | tee "$work/sklearn-after.json"

echo "== V1 named input through HTTP against the ceiling (wrk -t1 -c50 -d$duration)" >&2
(cd "$repo" && timeout 1200 cargo build --release --quiet)
port=$(free_port)
start_skserve "$port" "$work/skserve.log" --model "$dir/challenge/challenge_pipeline.pkl"
skserve_pid=$STARTED_PID
wait_until "http://127.0.0.1:$port/v2/health/ready" "$work/skserve.log" skserve
ensure_ceiling
ceiling_pid=$CEILING_PID
curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"instances":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":7}]}' \
  "http://127.0.0.1:$port/v1/models/challenge_pipeline:predict" >&2
echo >&2
run_wrk() { timeout "$wrk_limit" wrk -t1 -c50 -d"$duration" --latency -s "$here/v1_named.lua" "$1"; }
rps() { awk '/^Requests\/sec/ { print $2 }' "$1"; }
run_wrk "http://127.0.0.1:$port" > "$work/skserve-1.txt"
WRK_PATH=/ run_wrk http://127.0.0.1:8190 > "$work/ceiling-1.txt"
run_wrk "http://127.0.0.1:$port" > "$work/skserve-2.txt"
WRK_PATH=/ run_wrk http://127.0.0.1:8190 > "$work/ceiling-2.txt"
grep -q 'Non-2xx' "$work/skserve-1.txt" && { echo "skserve answered errors:" >&2; cat "$work/skserve-1.txt" >&2; exit 1; }
printf '\n| target | run | req/s | p50 | p99 |\n|---|---|---:|---:|---:|\n'
for run in 1 2; do
  for target in skserve ceiling; do
    f="$work/$target-$run.txt"
    printf '| %s | %s | %s | %s | %s |\n' "$target" "$run" "$(rps "$f")" \
      "$(awk '$1 == "50%" { print $2 }' "$f")" "$(awk '$1 == "99%" { print $2 }' "$f")"
  done
done
for run in 1 2; do
  awk -v s="$(rps "$work/skserve-$run.txt")" -v c="$(rps "$work/ceiling-$run.txt")" -v r="$run" \
    'BEGIN { printf "run %s: skserve V1 named input = %.2f× the ceiling\n", r, s / c }'
done

#!/usr/bin/env bash
# Model health's cost, alternated in one run: two release builds of skserve serving the
# challenge model, one with model health on (against a profile made by `skserve profile` from
# model-files/x_test.csv) and one with `--health off`, measured in turns, ROUNDS times each
# (on, off, on, off, …), with the bare axum ceiling of ../shared/anchors measured in every round
# as the machine's own yardstick:
#
#   - the seed's request (seed_form.lua);
#   - a V2 batch of 100 rows with predict and predict_proba (v2_batch100.lua).
#
#   load-tests/health.sh                   # 5 rounds of 10 s per target
#   ROUNDS=3 DURATION=5 load-tests/health.sh
#
# Prints a markdown table of every round (req/s, p99) and the medians, the ratios on ÷ off (the
# acceptance: at least 0.97 for the seed request, 0.9 for the batch), and the resident memory of
# both servers after the load (the difference is what model health holds for the model). Every
# answer is checked (wrk's non-2xx count must be 0); the health server must have counted every
# row it answered. Stops what it started, by PID; every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib.sh
. "$here/lib.sh"
duration=${DURATION:-10}
rounds=${ROUNDS:-5}
connections=${CONNECTIONS:-50}
work=$(mktemp -d)
on_pid=""
off_pid=""

cleanup() {
  set +e
  stop "$on_pid" "$off_pid" "$CEILING_PID"
  rm -rf "$work"
}
CEILING_PID=""
trap cleanup EXIT

need_wrk
echo "building skserve (release)…" >&2
(cd "$repo" && timeout 1800 cargo build --release --quiet --bin skserve)

cp "$repo/model-files/pickle_model.pkl" "$repo/model-files/features.json" "$work/"
timeout 300 "$repo/target/release/skserve" profile --model "$work/pickle_model.pkl" \
  --data "$repo/model-files/x_test.csv" --out "$work/challenge.profile.json" >&2

on_port=$(free_port)
start_skserve "$on_port" "$work/on.log" --model "pickle_model=$work/pickle_model.pkl" \
  --profile "pickle_model=$work/challenge.profile.json"
on_pid=$STARTED_PID
off_port=$(free_port)
start_skserve "$off_port" "$work/off.log" --model "pickle_model=$work/pickle_model.pkl" --health off
off_pid=$STARTED_PID
wait_until "http://127.0.0.1:$on_port/v2/health/ready" "$work/on.log" "skserve (health on)"
wait_until "http://127.0.0.1:$off_port/v2/health/ready" "$work/off.log" "skserve (health off)"
ensure_ceiling
curl -sf "http://127.0.0.1:$on_port/slo.json" | python3 -c '
import json, sys
h = json.load(sys.stdin)["models"][0]["health"]
assert h["reference"]["source"] == "profile", h["reference"]' \
  || { echo "the health server has no profile reference" >&2; exit 1; }

# wrk's figures as TSV: req/s, p99 ms, non-2xx answers.
wrk_run() {
  local url=$1 script=$2
  (cd "$repo" && timeout $((duration + 30)) wrk -t1 -c"$connections" -d"${duration}s" --latency \
    -s "$here/$script" "$url" > "$work/wrk.out")
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%s\t%s\t%s\n", rps, p99, bad + 0 }' "$work/wrk.out"
}

: > "$work/results.tsv"
for round in $(seq "$rounds"); do
  echo "round $round of $rounds…" >&2
  for load in seed_form.lua v2_batch100.lua; do
    for server in on off; do
      port=$on_port
      [ "$server" = off ] && port=$off_port
      printf '%s\t%s\t%s\t%s\n' "$round" "$load" "$server" \
        "$(wrk_run "http://127.0.0.1:$port/" "$load")" >> "$work/results.tsv"
    done
  done
  printf '%s\t%s\t%s\t%s\n' "$round" seed_form.lua ceiling \
    "$(wrk_run http://127.0.0.1:8190/ seed_form.lua)" >> "$work/results.tsv"
done

rss() { awk '/VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }
on_rss=$(rss "$on_pid")
off_rss=$(rss "$off_pid")
answered=$(curl -sf "http://127.0.0.1:$on_port/metrics" | awk '/^skserve_prediction_rows_total\{/ { print $NF }')
counted=$(curl -sf "http://127.0.0.1:$on_port/metrics" | awk '/^skserve_input_rows_total\{/ { print $NF }')
health_bytes=$(curl -sf "http://127.0.0.1:$on_port/slo.json" | python3 -c '
import json, sys; print(json.load(sys.stdin)["models"][0]["health"]["memory_bytes"])')

python3 - "$work/results.tsv" "$on_rss" "$off_rss" "$answered" "$counted" "$health_bytes" "$duration" <<'PY'
import statistics, sys
path, on_rss, off_rss, answered, counted, health_bytes, duration = sys.argv[1:8]
rows = [line.rstrip("\n").split("\t") for line in open(path)]
bad = [r for r in rows if int(r[5]) != 0]
assert not bad, f"non-2xx answers: {bad}"
assert float(answered) == float(counted), f"answered {answered} rows, health counted {counted}"
loads = {"seed_form.lua": "seed form (1 row)", "v2_batch100.lua": "V2 JSON, 100 rows"}
print(f"| round | load | health on req/s | off req/s | on ÷ off | on p99 ms | off p99 ms | ceiling req/s |")
print("|---|---|---|---|---|---|---|---|")
def pick(r, load, server):
    return next(x for x in rows if x[0] == r and x[1] == load and x[2] == server)
ratios = {load: [] for load in loads}
for r in sorted({x[0] for x in rows}, key=int):
    ceiling = pick(r, "seed_form.lua", "ceiling")[3]
    for load, name in loads.items():
        on, off = pick(r, load, "on"), pick(r, load, "off")
        ratio = float(on[3]) / float(off[3])
        ratios[load].append(ratio)
        print(f"| {r} | {name} | {float(on[3]):.0f} | {float(off[3]):.0f} | {ratio:.3f} | {on[4]} | {off[4]} | {float(ceiling):.0f} |")
for load, name in loads.items():
    on = statistics.median(float(x[3]) for x in rows if x[1] == load and x[2] == "on")
    off = statistics.median(float(x[3]) for x in rows if x[1] == load and x[2] == "off")
    print(f"\n{name}: median on {on:.0f} req/s, off {off:.0f} req/s, on ÷ off {on / off:.3f} "
          f"(median of the rounds' ratios {statistics.median(ratios[load]):.3f})")
print(f"\nresident memory after the load: health on {int(on_rss) / 2**20:.1f} MiB, off "
      f"{int(off_rss) / 2**20:.1f} MiB ({(int(on_rss) - int(off_rss)) / 2**20:+.1f} MiB); model "
      f"health's counts for the model: {int(health_bytes) / 1024:.0f} KiB; rows answered and "
      f"counted: {int(float(counted))}")
PY

#!/usr/bin/env bash
# Load test: skserve (release build) against the anchors, same wrk settings, same run.
#
#   load-tests/run.sh            # 15 s per target
#   DURATION=5s load-tests/run.sh
#
# Builds skserve in release, starts it on a free loopback port, starts the anchors
# (../shared/anchors/serve.sh, unless they already answer), runs wrk -t1 -c50 --latency with
# each script against skserve and form_post.lua against each anchor, then prints a markdown
# table (req/s, p50, p99, skserve's seed-form throughput and p99 relative to each target),
# skserve's peak and current RSS and a scrape of its /metrics. Stops what it started, by PID.
# Every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
anchors=$(dirname "$repo")/shared/anchors
duration=${DURATION:-15s}
threads=${THREADS:-1}
connections=${CONNECTIONS:-50}
work=$(mktemp -d)
skserve_pid=""
started_anchors=""

cleanup() {
  [ -n "$skserve_pid" ] && kill "$skserve_pid" 2>/dev/null && wait "$skserve_pid" 2>/dev/null
  [ -n "$started_anchors" ] && bash "$anchors/serve.sh" stop
  rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
seconds=$(echo "$duration" | awk '{ v = $1 + 0; if ($1 ~ /m$/) v *= 60; print int(v) + 1 }')
wrk_limit=$((seconds + 30))

echo "building skserve (release)…" >&2
(cd "$repo" && timeout 1200 cargo build --release --quiet)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$repo/target/release/skserve" serve --listen "127.0.0.1:$port" --log-format json \
  >"$work/skserve.log" 2>&1 &
skserve_pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready" && break
  sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready" ||
  { cat "$work/skserve.log" >&2; echo "skserve did not become ready" >&2; exit 1; }

if ! curl -s -o /dev/null -X POST -d 'x=[0]' http://127.0.0.1:8190/; then
  echo "starting the anchors (first run installs them, a few minutes)…" >&2
  timeout 1200 bash "$anchors/serve.sh" start >&2
  started_anchors=1
fi

# run NAME URL SCRIPT: one wrk run; appends "name|req/s|p50 ms|p99 ms" to results.
run() {
  local name=$1 url=$2 script=$3 out
  echo "wrk $name ($duration)…" >&2
  out=$(cd "$repo" && timeout "$wrk_limit" wrk -t"$threads" -c"$connections" -d"$duration" \
    --latency -s "$script" "$url")
  echo "$out" >"$work/$(echo "$name" | tr -c 'a-zA-Z0-9' _).txt"
  local rps p50 p99 non2xx
  rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx or 3xx responses:/ {print $5}')
  echo "$name|$rps|$(to_ms "$p50")|$(to_ms "$p99")|${non2xx:-0}" >>"$work/results"
}

# to_ms 1.23ms|456.00us|1.20s → milliseconds.
to_ms() {
  echo "$1" | awk '{
    v = $1 + 0
    if ($1 ~ /us$/) v = v / 1000; else if ($1 ~ /ms$/) v = v; else if ($1 ~ /s$/) v = v * 1000
    printf "%.3f", v }'
}

base="http://127.0.0.1:$port"
run "skserve seed form (POST /)" "$base/" "$here/seed_form.lua"
run "skserve V2 single row" "$base/v2/models/pickle_model/infer" "$here/v2_single.lua"
run "skserve V2 batch of 100 rows" "$base/v2/models/pickle_model/infer" "$here/v2_batch100.lua"
rss=$(awk '/^VmHWM|^VmRSS/ {printf "%s %s %s; ", $1, $2, $3}' "/proc/$skserve_pid/status")
run "anchor 8181 python, model per request" "http://127.0.0.1:8181/" "$anchors/form_post.lua"
run "anchor 8182 python, model cached" "http://127.0.0.1:8182/" "$anchors/form_post.lua"
run "anchor 8183 gunicorn -w 2" "http://127.0.0.1:8183/" "$anchors/form_post.lua"
run "anchor 8190 bare axum ceiling" "http://127.0.0.1:8190/" "$anchors/form_post.lua"

seed_rps=$(head -1 "$work/results" | cut -d'|' -f2)
seed_p99=$(head -1 "$work/results" | cut -d'|' -f4)
echo
echo "wrk -t$threads -c$connections -d$duration --latency; skserve at $base (pid $skserve_pid)"
echo
echo "| target | req/s | p50 ms | p99 ms | non-2xx | skserve seed req/s ÷ this | skserve seed p99 ÷ this |"
echo "|---|---:|---:|---:|---:|---:|---:|"
while IFS='|' read -r name rps p50 p99 non2xx; do
  awk -v n="$name" -v r="$rps" -v a="$p50" -v b="$p99" -v e="$non2xx" -v sr="$seed_rps" -v sp="$seed_p99" \
    'BEGIN { printf "| %s | %.0f | %.3f | %.3f | %s | %.2f | %.2f |\n", n, r, a, b, e, sr / r, sp / b }'
done <"$work/results"
echo
echo "skserve memory under load: $rss"
echo
echo "skserve /metrics (requests and rows):"
curl -s "$base/metrics" | grep -E '^skserve_(http_requests_total|prediction_rows_total)' || true

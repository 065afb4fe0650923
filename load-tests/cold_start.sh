#!/usr/bin/env bash
# Cold start to the first answer: the time from launching `skserve serve` (release) to its first
# successful prediction, as a load balancer sees it (it sends traffic once readiness says 200),
# with and without --ready-after-first-scrape. A Prometheus (Debian's) starts at the same moment
# and scrapes the admin port every INTERVAL, as the managed-Prometheus sidecar starts with
# skserve on Cloud Run. Everything on 127.0.0.1; each process stopped by PID.
#
#   load-tests/cold_start.sh              RUNS=5 INTERVAL=5s WAIT=45s
#   INTERVAL=30s load-tests/cold_start.sh
#
# Prints each run and, per mode, the minimum, median and maximum in milliseconds.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/load-tests/lib.sh"

RUNS=${RUNS:-5}
INTERVAL=${INTERVAL:-5s}
WAIT=${WAIT:-45s}
[ -x "$repo/target/release/skserve" ] || { echo "build it first: cargo build --release" >&2; exit 1; }
command -v prometheus >/dev/null || { echo "prometheus is not installed (apt-get install -y prometheus)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
trap 'stop "${pids[@]}"; rm -rf "$work"' EXIT

body='{"inputs":[{"name":"input-0","shape":[1,37],"datatype":"FP64","data":[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]}]}'

# one_run MODE: milliseconds from launch to the first 200 prediction, readiness polled first,
# appended to $work/MODE.ms.
one_run() {
  local mode=$1 port admin prom
  port=$(free_port); admin=$(free_port); prom=$(free_port)
  rm -rf "$work/data"
  cat > "$work/prometheus.yml" <<EOF
global:
  scrape_interval: $INTERVAL
scrape_configs:
  - job_name: skserve
    static_configs:
      - targets: ['127.0.0.1:$admin']
EOF
  local start
  start=$(date +%s%N)
  timeout 300 prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prom" >"$work/prometheus.log" 2>&1 &
  local prometheus_pid=$!
  SKSERVE_READY_AFTER_FIRST_SCRAPE=$mode start_skserve "$port" "$work/skserve.log" --admin-listen "127.0.0.1:$admin"
  local skserve_pid=$STARTED_PID
  pids=("$prometheus_pid" "$skserve_pid")
  local deadline=$(( $(date +%s) + 120 ))
  until curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready"; do
    [ "$(date +%s)" -lt "$deadline" ] || { cat "$work/skserve.log" >&2; echo "never ready" >&2; exit 1; }
    sleep 0.01
  done
  until curl -sf -o /dev/null -H 'content-type: application/json' -d "$body" \
      "http://127.0.0.1:$port/v2/models/pickle_model/infer"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "no answer" >&2; exit 1; }
    sleep 0.01
  done
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  stop "$skserve_pid" "$prometheus_pid"
  pids=()
  echo "$ms" >> "$work/$mode.ms"
  echo "--ready-after-first-scrape $mode: $ms ms"
}

summary() {
  sort -n | awk '{ v[NR] = $1 } END { printf "min %d ms, median %d ms, max %d ms (%d runs)\n", v[1], v[int((NR + 1) / 2)], v[NR], NR }'
}

for mode in off "$WAIT"; do
  : > "$work/$mode.ms"
  for _ in $(seq "$RUNS"); do
    one_run "$mode"
  done
done
echo "Prometheus scraping every $INTERVAL, started with skserve:"
for mode in off "$WAIT"; do
  printf '  --ready-after-first-scrape %-4s ' "$mode"
  summary < "$work/$mode.ms"
done

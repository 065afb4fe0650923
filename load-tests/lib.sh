# Shared by the load-test scripts (sourced, not run): free ports, and starting a server and
# waiting until it answers. Callers keep the PIDs and stop them themselves.

# free_port: a loopback port nobody listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until URL LOG WHAT: polls URL for up to 10 s; on failure prints LOG and exits.
wait_until() {
  local url=$1 log=$2 what=$3
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$url" && return 0
    sleep 0.1
  done
  cat "$log" >&2
  echo "$what did not become ready" >&2
  exit 1
}

# start_skserve PORT LOG [ARGS…]: `skserve serve` (release) on 127.0.0.1:PORT in the
# background, logging JSON to LOG; sets STARTED_PID. Environment variables pass through.
start_skserve() {
  local port=$1 log=$2
  shift 2
  "$repo/target/release/skserve" serve --listen "127.0.0.1:$port" --log-format json "$@" >"$log" 2>&1 &
  STARTED_PID=$!
}

# ensure_ceiling: makes sure the bare axum ceiling of ../shared/anchors/hello answers on
# 127.0.0.1:8190, starting it (built on first use) when nothing does; sets CEILING_PID to the
# PID it started, or to "" when one was already there.
ensure_ceiling() {
  local anchors
  anchors=$(dirname "$repo")/shared/anchors
  CEILING_PID=""
  curl -s -o /dev/null -X POST -d 'x=[0]' http://127.0.0.1:8190/ && return 0
  [ -x /tmp/skserve-anchors/hello-target/release/hello ] \
    || (cd "$anchors/hello" && CARGO_TARGET_DIR=/tmp/skserve-anchors/hello-target timeout 1200 cargo build --release -q)
  /tmp/skserve-anchors/hello-target/release/hello >/dev/null 2>&1 &
  CEILING_PID=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null -X POST -d 'x=[0]' http://127.0.0.1:8190/ && return 0
    sleep 0.1
  done
  echo "ceiling did not start" >&2
  exit 1
}

# stop PID…: stops each process this script started and waits for it; empty PIDs are skipped.
# `wait` on a process stopped by SIGTERM returns 143: not a reason to stop cleaning up.
stop() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    { kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; } || true
  done
}

# need_wrk: ends the script with the package to install when wrk is missing.
need_wrk() {
  command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
}

# time_limit DURATION: a wrk duration (30, 10s, 2m) in whole seconds plus 30, for `timeout`.
time_limit() {
  echo "$1" | awk '{ v = $1 + 0; if ($1 ~ /m$/) v *= 60; print int(v) + 31 }'
}

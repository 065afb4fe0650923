#!/usr/bin/env bash
# Two builds of skserve against each other and against the bare axum ceiling, alternated in
# one run: for a change, what it costs the seed's form request and V2's single row.
#
#   load-tests/ab.sh BEFORE AFTER          # two skserve binaries (e.g. a copy of the last
#                                          # release build, and target/release/skserve)
#   ROUNDS=6 DURATION=5s load-tests/ab.sh BEFORE AFTER
#
# Each round runs, for each request, wrk -t1 -c50 against the ceiling, BEFORE, AFTER and the
# ceiling again, each for DURATION, so that every figure has the machine's state of the same
# few seconds; it prints each binary's req/s as a ratio of the mean of the two ceiling runs
# around it. Both binaries serve the built-in model with default settings, on free loopback
# ports, and are stopped by PID at the end; every wrk run is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib.sh
. "$here/lib.sh"
[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BINARY AFTER_BINARY" >&2; exit 2; }
before=$1
after=$2
rounds=${ROUNDS:-4}
duration=${DURATION:-5s}
work=$(mktemp -d)
before_pid=""
after_pid=""
CEILING_PID=""

cleanup() {
  set +e
  stop "$before_pid" "$after_pid" "$CEILING_PID"
  rm -rf "$work"
}
trap cleanup EXIT

need_wrk
limit=$(time_limit "$duration")
ensure_ceiling

serve() {
  local binary=$1 port=$2
  "$binary" serve --listen "127.0.0.1:$port" --log-format json >"$work/$port.log" 2>&1 &
  STARTED_PID=$!
  wait_until "http://127.0.0.1:$port/v2/health/ready" "$work/$port.log" "$binary"
}
before_port=$(free_port)
serve "$before" "$before_port"
before_pid=$STARTED_PID
after_port=$(free_port)
serve "$after" "$after_port"
after_pid=$STARTED_PID

# req/s of wrk with SCRIPT against PORT; the ceiling answers POST / only, so it is asked there.
rate() {
  local script=$1 port=$2
  local path=()
  [ "$port" = 8190 ] && path=(WRK_PATH=/)
  env "${path[@]}" timeout "$limit" wrk -t1 -c50 -d"$duration" -s "$script" \
    "http://127.0.0.1:$port/" | awk '/^Requests\/sec:/ { print $2 }'
}

printf '| round | request | ceiling req/s | before | after | after / before |\n'
printf '|---|---|---:|---:|---:|---:|\n'
for round in $(seq "$rounds"); do
  for request in seed_form v2_single; do
    script="$here/$request.lua"
    c1=$(rate "$script" 8190)
    b=$(rate "$script" "$before_port")
    a=$(rate "$script" "$after_port")
    c2=$(rate "$script" 8190)
    awk -v r="$round" -v q="$request" -v c1="$c1" -v c2="$c2" -v b="$b" -v a="$a" 'BEGIN {
      c = (c1 + c2) / 2
      printf "| %d | %s | %.0f | %.3f× | %.3f× | %.3f |\n", r, q, c, b / c, a / c, a / b
    }'
  done
done

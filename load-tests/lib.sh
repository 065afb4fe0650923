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

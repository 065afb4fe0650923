#!/usr/bin/env bash
# Soak test: skserve (release) under a fixed request rate for a bounded time. RSS is sampled
# every 10 s from /proc; at the end the SLO verdict is read from /slo.json. Passes (exit 0) when
# resident memory stays flat — less than 5 % growth from the first sample after warm-up (a
# burst at the generator's peak concurrency, then 30 s) to the last — and no SLO is breached. Load comes from the open-loop generator
# (examples/fixed_rate.rs), so queueing is not hidden.
#
#   load-tests/soak.sh                         # 5 minutes at 2,000 req/s, the seed's request
#   DURATION=60 RATE=1000 load-tests/soak.sh
#
# Stops what it started, by PID; every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib.sh
. "$here/lib.sh"
duration=${DURATION:-300}
rate=${RATE:-2000}
work=$(mktemp -d)
skserve_pid=""
load_pid=""

cleanup() {
  stop "$load_pid" "$skserve_pid"
  rm -rf "$work"
}
trap cleanup EXIT

echo "building skserve and the load generator (release)…" >&2
(cd "$repo" && timeout 1200 cargo build --release --quiet --bin skserve --example fixed_rate \
  --example overload)

port=$(free_port)
start_skserve "$port" "$work/skserve.log"
skserve_pid=$STARTED_PID
wait_until "http://127.0.0.1:$port/v2/health/ready" "$work/skserve.log" skserve

# Warm up at the generator's peak concurrency first: a latency hiccup later makes it open up to
# that many connections at once, and the allocator keeps the pages those connections used (it
# reuses them, it does not return them). With that high-water mark reached before the first
# sample, growth after it can only be a leak.
echo "warm-up: 256 clients for 3 s" >&2
timeout 60 "$repo/target/release/examples/overload" --url "http://127.0.0.1:$port/" \
  --clients 256 --duration 3 >/dev/null
echo "soak: $rate req/s for ${duration}s against http://127.0.0.1:$port/ (pid $skserve_pid)" >&2
timeout $((duration + 120)) "$repo/target/release/examples/fixed_rate" \
  --url "http://127.0.0.1:$port/" --rate "$rate" --duration "$duration" >"$work/load.json" &
load_pid=$!

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$skserve_pid/status"; }
: >"$work/rss"
elapsed=0
while kill -0 "$load_pid" 2>/dev/null && [ "$elapsed" -le $((duration + 110)) ]; do
  echo "$elapsed $(rss_kib)" >>"$work/rss"
  sleep 10
  elapsed=$((elapsed + 10))
done
wait "$load_pid"
load_pid=""
curl -sf "http://127.0.0.1:$port/slo.json" >"$work/slo.json" ||
  { echo "skserve did not answer /slo.json" >&2; exit 1; }

slo_ok=0
python3 "$here/slo_verdict.py" "$work/slo.json" || slo_ok=1
python3 - "$work/rss" "$work/load.json" "$slo_ok" <<'PY'
import json, sys
samples = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
load = json.load(open(sys.argv[2]))
slos_held = sys.argv[3] == "0"
# The first 30 s warm up allocator pools and connection buffers; flat means flat after that.
steady = [kib for t, kib in samples if t >= 30] or [kib for _, kib in samples]
growth = (steady[-1] - steady[0]) / steady[0]
print("load:", json.dumps(load))
print("RSS KiB (every 10 s):", " ".join(str(kib) for _, kib in samples))
print(f"RSS growth after warm-up: {growth * 100:.2f} % (first {steady[0]} KiB, last {steady[-1]} KiB, peak {max(steady)} KiB)")
ok = growth < 0.05 and slos_held and load.get("errors", 0) == 0
print("soak:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY

#!/usr/bin/env bash
# The protocols side by side, in one run against one release build of skserve (REST on one
# port, gRPC with --grpc-listen on another), for 1 row and for 100 rows of
# model-files/x_test.csv, every request asking for predict and predict_proba:
#
#   - V2 REST with JSON tensors (wrk, body_file.lua);
#   - V2 REST with the binary tensor data extension, inputs and outputs binary (wrk);
#   - V2 over gRPC with raw contents, by two loaders: examples/grpc_load.rs (tonic, which checks
#     every answer and measures latency) and h2load (Debian's nghttp2-client, written in C++ as
#     wrk is, so that the loader's own cost is like wrk's; its calls are checked against the
#     server's count of OK ModelInfer calls, and it reports no percentiles).
#
#   load-tests/protocols.sh                 # 10 s per target
#   DURATION=5 load-tests/protocols.sh
#
# wrk runs -t1 -c$CONNECTIONS; both gRPC loaders keep as many calls in flight over 2 HTTP/2
# connections on one thread (the tonic one with TOKIO_WORKER_THREADS=1), so every loader has
# one thread. Prints a markdown table (req/s, rows/s, p50, p99) and the ratios the protocols
# are judged by: binary ÷ JSON in rows/s at 100 rows, gRPC ÷ REST JSON in req/s at 1 row.
# Every answer is checked (wrk: non-2xx count; tonic: one label per row; h2load: the server's
# OK count grows by exactly the calls h2load saw succeed). Stops what it started, by PID;
# every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib.sh
. "$here/lib.sh"
duration=${DURATION:-10}
connections=${CONNECTIONS:-50}
work=$(mktemp -d)
skserve_pid=""

cleanup() {
  stop "$skserve_pid"
  rm -rf "$work"
}
trap cleanup EXIT

need_wrk
command -v h2load >/dev/null || { echo "h2load is not installed (apt-get install -y nghttp2-client)" >&2; exit 1; }

echo "building skserve and the gRPC load generator (release)…" >&2
(cd "$repo" && timeout 1800 cargo build --release --quiet --bin skserve --example grpc_load)

port=$(free_port)
grpc_port=$(free_port)
start_skserve "$port" "$work/skserve.log" --grpc-listen "127.0.0.1:$grpc_port"
skserve_pid=$STARTED_PID
wait_until "http://127.0.0.1:$port/v2/health/ready" "$work/skserve.log" skserve

# The request bodies: the same rows and outputs as JSON and as binary tensors.
python3 - "$repo/model-files/x_test.csv" "$work" <<'PY'
import json, struct, sys
csv, out = sys.argv[1:3]
rows = [[float(v) for v in line.split(",")] for line in open(csv) if line.strip()]
for n in (1, 100):
    x = rows[:n]
    width = len(x[0])
    outputs = [{"name": "predict"}, {"name": "predict_proba"}]
    tensor = {"name": "x", "shape": [n, width], "datatype": "FP64"}
    with open(f"{out}/json_{n}.body", "w") as f:
        json.dump({"inputs": [dict(tensor, data=x)], "outputs": outputs}, f, separators=(",", ":"))
    raw = b"".join(struct.pack("<d", v) for row in x for v in row)
    header = json.dumps({
        "inputs": [dict(tensor, parameters={"binary_data_size": len(raw)})],
        "outputs": outputs,
        "parameters": {"binary_data_output": True},
    }, separators=(",", ":")).encode()
    with open(f"{out}/binary_{n}.body", "wb") as f:
        f.write(header + raw)
    with open(f"{out}/binary_{n}.length", "w") as f:
        f.write(str(len(header)))
PY

# Each body answered once, 200, before it is timed.
for n in 1 100; do
  curl -sf -o /dev/null -H 'content-type: application/json' --data-binary "@$work/json_$n.body" \
    "http://127.0.0.1:$port/v2/models/pickle_model/infer"
  curl -sf -o /dev/null -H 'content-type: application/octet-stream' \
    -H "inference-header-content-length: $(cat "$work/binary_$n.length")" \
    --data-binary "@$work/binary_$n.body" "http://127.0.0.1:$port/v2/models/pickle_model/infer"
done

# wrk's figures as TSV: req/s, p50 ms, p99 ms, non-2xx answers.
wrk_run() {
  local body=$1 content_type=$2 header_length=$3
  BODY_FILE=$body CONTENT_TYPE=$content_type HEADER_LENGTH=$header_length \
    timeout $((duration + 30)) wrk -t1 -c"$connections" -d"${duration}s" --latency \
    -s "$here/body_file.lua" "http://127.0.0.1:$port/" > "$work/wrk.out"
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { printf "%s\t%s\t%s\t%s\n", rps, p50, p99, bad + 0 }' "$work/wrk.out"
}

grpc_run() {
  local rows=$1
  TOKIO_WORKER_THREADS=1 timeout $((duration + 30)) "$repo/target/release/examples/grpc_load" \
    --target "http://127.0.0.1:$grpc_port" --rows "$rows" --proba \
    --concurrency "$connections" --connections 2 --duration "$duration" \
    --rows-csv "$repo/model-files/x_test.csv" > "$work/grpc.out"
  python3 - "$work/grpc.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f'{r["ok_per_second"]:.0f}\t{r["latency_ms"]["p50"]}\t{r["latency_ms"]["p99"]}\t{sum(r["failures"].values())}')
PY
}

# The server's count of ModelInfer calls, from /metrics: those answered OK, and the others.
infer_calls() {
  curl -sf "http://127.0.0.1:$port/metrics" | awk '
    /^skserve_http_requests_total\{/ && /route="\/inference.GRPCInferenceService\/ModelInfer"/ {
      if ($0 ~ /code="200"/) ok += $NF; else other += $NF
    }
    END { printf "%d %d\n", ok, other }'
}

h2load_run() {
  local rows=$1 before after
  "$repo/target/release/examples/grpc_load" --target "http://127.0.0.1:$grpc_port" --rows "$rows" \
    --proba --rows-csv "$repo/model-files/x_test.csv" --write-body "$work/grpc_$rows.body"
  before=$(infer_calls)
  timeout $((duration + 30)) h2load -t1 -c2 -m$(((connections + 1) / 2)) -D"$duration" \
    -H 'content-type: application/grpc' -H 'te: trailers' -d "$work/grpc_$rows.body" \
    "http://127.0.0.1:$grpc_port/inference.GRPCInferenceService/ModelInfer" > "$work/h2load.out"
  after=$(infer_calls)
  python3 - "$work/h2load.out" "$before" "$after" "$connections" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
(ok0, other0), (ok1, other1) = (map(int, v.split()) for v in sys.argv[2:4])
in_flight = int(sys.argv[4])
seconds = float(re.search(r"finished in ([0-9.]+)s", text).group(1))
done = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, \d+ failed, (\d+) errored", text)
succeeded, errored = int(done.group(1)), int(done.group(2))
# A gRPC error still answers HTTP 200, so the server's own count is what counts: every call
# h2load saw succeed was answered OK. The calls still in flight when h2load stopped (at most
# one per stream) end either way: answered OK after h2load stopped reading, or cut off, which
# the server records as CANCELLED (499). Beyond those, any other answer is a failure.
ok, other = ok1 - ok0, other1 - other0
cut_off = ok - succeeded + other
bad = errored + max(0, succeeded - ok) + max(0, cut_off - in_flight)
print(f"{succeeded / seconds:.0f}\tnan\tnan\t{bad}")
print(f"h2load: {succeeded} calls answered OK, {max(0, cut_off)} in flight when it stopped "
      f"({other} of them recorded by the server as not OK)", file=sys.stderr)
PY
}

results="$work/results.tsv"
for n in 1 100; do
  echo "rows $n: JSON…" >&2
  printf "%s\tREST JSON\t%s\n" "$n" "$(wrk_run "$work/json_$n.body" application/json "")" >> "$results"
  echo "rows $n: binary…" >&2
  printf "%s\tREST binary\t%s\n" "$n" \
    "$(wrk_run "$work/binary_$n.body" application/octet-stream "$(cat "$work/binary_$n.length")")" >> "$results"
  echo "rows $n: gRPC…" >&2
  printf "%s\tgRPC raw\t%s\n" "$n" "$(grpc_run "$n")" >> "$results"
  echo "rows $n: gRPC (h2load)…" >&2
  printf "%s\tgRPC raw, h2load\t%s\n" "$n" "$(h2load_run "$n")" >> "$results"
done

python3 - "$results" "$duration" "$connections" <<'PY'
import sys
path, duration, connections = sys.argv[1:4]
rows = [line.rstrip("\n").split("\t") for line in open(path)]
table = {(int(n), what): (float(rps), float(p50), float(p99), int(bad)) for n, what, rps, p50, p99, bad in rows}
print(f"\n{duration} s per target, {connections} connections (gRPC: {connections} calls in flight over 2 connections), predict and predict_proba\n")
print("| rows | protocol | req/s | rows/s | p50 ms | p99 ms | failed |")
print("|---:|---|---:|---:|---:|---:|---:|")
for (n, what), (rps, p50, p99, bad) in table.items():
    ms = lambda v: "—" if v != v else f"{v:.3f}"
    print(f"| {n} | {what} | {rps:,.0f} | {rps * n:,.0f} | {ms(p50)} | {ms(p99)} | {bad} |")
ratio = lambda a, b: table[a][0] / table[b][0]
print()
print(f"- 100 rows, binary ÷ JSON (rows/s): {ratio((100, 'REST binary'), (100, 'REST JSON')):.2f} (goal ≥ 3)")
print(f"- 1 row, gRPC ÷ REST JSON (req/s): tonic loader {ratio((1, 'gRPC raw'), (1, 'REST JSON')):.2f}, "
      f"h2load {ratio((1, 'gRPC raw, h2load'), (1, 'REST JSON')):.2f} (goal ≥ 0.8)")
print(f"- 1 row, gRPC ÷ REST binary (req/s): {ratio((1, 'gRPC raw'), (1, 'REST binary')):.2f}")
print(f"- 100 rows, gRPC ÷ REST JSON (rows/s): {ratio((100, 'gRPC raw'), (100, 'REST JSON')):.2f}")
print(f"- 1 row, binary ÷ JSON (req/s): {ratio((1, 'REST binary'), (1, 'REST JSON')):.2f}")
if any(bad for *_, bad in table.values()):
    sys.exit("some requests failed")
PY

#!/usr/bin/env bash
# Load test: skserve (release build) against the anchors, same wrk settings, same run.
#
#   load-tests/run.sh            # 15 s per target
#   DURATION=5s load-tests/run.sh
#
# Builds skserve in release, starts it on a free loopback port (and a second one serving
# gs://models/pickle_model.pkl from the anchors' emulator), starts the anchors
# (../shared/anchors/serve.sh, unless they already answer), runs wrk -t1 -c50 --latency with
# each script against skserve and form_post.lua against each anchor, then prints a markdown
# table (req/s, p50, p99, skserve's seed-form throughput and p99 relative to each target),
# skserve's peak and current RSS and a scrape of its /metrics. Stops what it started, by PID.
# Another skserve checks ID tokens (--auth google; the test key's JWKS served by python3 -m
# http.server, a token minted locally): its seed-form req/s is compared with the one without.
# Every step is bounded by `timeout`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
anchors=$(dirname "$repo")/shared/anchors
# shellcheck source=lib.sh
. "$here/lib.sh"
duration=${DURATION:-15s}
threads=${THREADS:-1}
connections=${CONNECTIONS:-50}
work=$(mktemp -d)
skserve_pid=""
gcs_pid=""
auth_pid=""
jwks_pid=""
started_anchors=""

cleanup() {
  set +e
  stop "$skserve_pid" "$gcs_pid" "$auth_pid" "$jwks_pid"
  [ -n "$started_anchors" ] && bash "$anchors/serve.sh" stop
  rm -rf "$work"
}
trap cleanup EXIT

need_wrk
wrk_limit=$(time_limit "$duration")

echo "building skserve (release)…" >&2
(cd "$repo" && timeout 1200 cargo build --release --quiet)

port=$(free_port)
start_skserve "$port" "$work/skserve.log"
skserve_pid=$STARTED_PID
wait_until "http://127.0.0.1:$port/v2/health/ready" "$work/skserve.log" skserve

# skserve checking ID tokens (--auth google) against a JWKS holding the test key
# (tests/fixtures/auth), served by python3 -m http.server, with a token minted from that key
# (openssl signs RS256). The same request as the seed-form run, plus the token.
mkdir "$work/jwks"
python3 -c 'import json, sys; print(json.dumps({"keys": [json.load(open(sys.argv[1]))]}))' \
  "$repo/tests/fixtures/auth/key-a.jwk.json" >"$work/jwks/certs"
jwks_port=$(free_port)
python3 -m http.server "$jwks_port" --bind 127.0.0.1 --directory "$work/jwks" >"$work/jwks.log" 2>&1 &
jwks_pid=$!
wait_until "http://127.0.0.1:$jwks_port/certs" "$work/jwks.log" "the JWKS server"
token=$(python3 - "$repo/tests/fixtures/auth/key-a.pem" <<'PY'
import base64, json, subprocess, sys, time
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
now = int(time.time())
header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "test-key-a"}).encode())
claims = b64(json.dumps({"iss": "https://issuer.test", "aud": "skserve-load-test",
                         "sub": "load-test", "email": "load@example.com", "email_verified": True,
                         "iat": now, "exp": now + 6 * 3600}).encode())
signed = subprocess.run(["openssl", "dgst", "-sha256", "-sign", sys.argv[1]],
                        input=f"{header}.{claims}".encode(), capture_output=True, check=True)
print(f"{header}.{claims}.{b64(signed.stdout)}")
PY
)
auth_port=$(free_port)
start_skserve "$auth_port" "$work/skserve-auth.log" \
  --auth google --auth-audience skserve-load-test --auth-issuer https://issuer.test \
  --auth-jwks-url "http://127.0.0.1:$jwks_port/certs" --auth-allow '*@example.com'
auth_pid=$STARTED_PID
wait_until "http://127.0.0.1:$auth_port/v2/health/ready" "$work/skserve-auth.log" "skserve (--auth google)"
curl -sf -o /dev/null -H "Authorization: Bearer $token" -d 'x=[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]' \
  "http://127.0.0.1:$auth_port/" ||
  { cat "$work/skserve-auth.log" >&2; echo "skserve (--auth google) refused the token" >&2; exit 1; }

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

# skserve serving the same object from the same emulator (4443) as the per_request anchor.
gcs_port=$(free_port)
STORAGE_EMULATOR_HOST=http://127.0.0.1:4443 start_skserve "$gcs_port" "$work/skserve-gcs.log" \
  --model gs://models/pickle_model.pkl
gcs_pid=$STARTED_PID
wait_until "http://127.0.0.1:$gcs_port/v2/health/ready" "$work/skserve-gcs.log" "skserve (gs://)"

base="http://127.0.0.1:$port"
run "skserve seed form (POST /)" "$base/" "$here/seed_form.lua"
export TOKEN=$token
run "skserve seed form, ID token checked (POST /)" "http://127.0.0.1:$auth_port/" "$here/seed_form.lua"
unset TOKEN
run "skserve V2 single row" "$base/v2/models/pickle_model/infer" "$here/v2_single.lua"
run "skserve V2 batch of 100 rows" "$base/v2/models/pickle_model/infer" "$here/v2_batch100.lua"
rss=$(awk '/^VmHWM|^VmRSS/ {printf "%s %s %s; ", $1, $2, $3}' "/proc/$skserve_pid/status")
run "skserve from the GCS emulator (POST /)" "http://127.0.0.1:$gcs_port/" "$anchors/form_post.lua"
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
gcs_rps=$(grep '^skserve from the GCS' "$work/results" | cut -d'|' -f2)
per_request_rps=$(grep '^anchor 8181' "$work/results" | cut -d'|' -f2)
echo
awk -v a="$gcs_rps" -v b="$per_request_rps" 'BEGIN { printf "model from the emulator: skserve (cached, refreshed) %.0f req/s vs the seed per_request %.0f req/s: %.0f×\n", a, b, a / b }'
auth_rps=$(grep '^skserve seed form, ID token' "$work/results" | cut -d'|' -f2)
awk -v a="$auth_rps" -v b="$seed_rps" 'BEGIN { printf "ID tokens checked (--auth google): %.0f req/s vs %.0f without: %.2f of it\n", a, b, a / b }'
echo
echo "skserve memory under load: $rss"
echo
echo "skserve /metrics (requests and rows):"
curl -s "$base/metrics" | grep -E '^skserve_(http_requests_total|prediction_rows_total)' || true
echo
echo "SLO verdict of the run (skserve's /slo.json):"
curl -s "$base/slo.json" | python3 "$here/slo_verdict.py" - || true

#!/usr/bin/env bash
# Key rotation under load, over TLS: a verify-only demo (`--serve api2 --jwks-url https://…
# --jwks-ca …`) answers `GET /sessioninfo` under wrk while its JWKS server
# (`jwks_rotation`, rcgen certificates, rustls) publishes a new key every second. Rounds
# alternate "steady" (every token's kid known) and "rotation" (every other request carries
# the kid published this second, so each second one request triggers the one shared
# unknown-kid fetch and the requests for that kid wait on it; the others must not be
# delayed). Prints req/s, p50, p99, max and non-2xx per run, then the medians.
# Usage: benches/scripts/wrk-rotation.sh      ROUNDS=3 DURATION=10s CONNS=32 THREADS=1
# Only 127.0.0.1 is contacted; every process is started and stopped by this script.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p multi-api-demo --bin multi-api-demo
cargo build --release -q -p tower-shared-session-benches --bin jwks_rotation
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

"$TARGET"/release/jwks_rotation "$tmp" 3600 >"$tmp/jwks.out" 2>"$tmp/jwks.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$tmp/jwks.out" && break; sleep 0.1; done
jwks_base=$(sed -n 's/^listening on //p' "$tmp/jwks.out" | head -1)
case "$jwks_base" in https://localhost:*) ;; *) echo "jwks_rotation did not start:" >&2; cat "$tmp/jwks.err" >&2; exit 1;; esac

"$TARGET"/release/multi-api-demo --listen 127.0.0.1:0 --serve api2 \
  --jwks-url "$jwks_base/auth/jwt/jwks.json" --jwks-ca "$tmp/ca.pem" >"$tmp/demo.out" 2>"$tmp/demo.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$tmp/demo.out" && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$tmp/demo.out" | head -1)
case "$base" in http://127.0.0.1:*) ;; *) echo "demo did not start:" >&2; cat "$tmp/demo.err" >&2; exit 1;; esac
port=${base##*:}
export DIR=$tmp HOST_HEADER="api2.example.test:$port"

token=$(head -1 "$tmp/tokens.txt")
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/sessioninfo" -H "Host: $HOST_HEADER" \
  -H "authorization: Bearer $token" -H 'st-auth-mode: header')
[ "$code" = 200 ] || { echo "/sessioninfo answered $code, expected 200" >&2; cat "$tmp/demo.err" >&2; exit 1; }
sleep 2 # past t0: the rotation has started

to_us() { # wrk latency (e.g. 585.00us, 5.42ms, 1.02s) -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1000; else if (v ~ /s$/) m = 1000000; else m = 1; printf "%.0f", n * m }'
}
run() { # mode -> "req/s p50us p99us maxus non2xx"
  MODE=$1 wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s benches/scripts/rotation.lua "$base/sessioninfo" >"$tmp/wrk.out" 2>&1
  local rps p50 p99 max non2xx
  rps=$(awk '/^Requests\/sec:/{print $2}' "$tmp/wrk.out")
  p50=$(awk '$1=="50%"{print $2}' "$tmp/wrk.out")
  p99=$(awk '$1=="99%"{print $2}' "$tmp/wrk.out")
  max=$(awk '$1=="Latency" && NF>=4 {print $4; exit}' "$tmp/wrk.out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/{print $5}' "$tmp/wrk.out")
  echo "$rps $(to_us "$p50") $(to_us "$p99") $(to_us "$max") ${non2xx:-0}"
}
printf '%-9s %5s %10s %9s %9s %10s %7s\n' mode round req/s p50_us p99_us max_us non2xx
for r in $(seq 1 "$ROUNDS"); do
  for mode in steady rotation; do
    read -r rps p50 p99 max non2xx < <(run "$mode")
    printf '%-9s %5s %10s %9s %9s %10s %7s\n' "$mode" "$r" "$rps" "$p50" "$p99" "$max" "$non2xx"
    echo "$mode $rps $p50 $p99 $max $non2xx" >>"$tmp/results"
  done
done
echo
echo "medians over $ROUNDS rounds ($CONNS connections, $THREADS wrk thread(s), $DURATION each):"
for mode in steady rotation; do
  awk -v m="$mode" '$1==m' "$tmp/results" | python3 -c '
import sys, statistics as s
rows = [list(map(float, l.split()[1:])) for l in sys.stdin]
med = [s.median(c) for c in zip(*rows)]
print("  %-9s %10.0f req/s  p50 %6.0f us  p99 %6.0f us  max %7.0f us  non-2xx %d" % (sys.argv[1], *med[:4], med[4]))
' "$mode"
done
# With no load: the first request carrying a just-published kid (waits for one JWKS fetch
# over TLS on the pooled connection) next to the same token again (kid known, token cached).
t0=$(cat "$tmp/t0")
for _ in 1 2 3 4 5; do
  now=$(date +%s.%N)
  next=$(python3 -c "import math; print(math.floor($now) + 1)")
  sleep "$(python3 -c "print($next + 0.1 - $now)")"
  tok=$(sed -n "$((next - t0 + 1))p" "$tmp/tokens.txt")
  for what in first again; do
    curl -s -o /dev/null -w "$what %{http_code} %{time_total}\n" "$base/sessioninfo" -H "Host: $HOST_HEADER" \
      -H "authorization: Bearer $tok" -H 'st-auth-mode: header' >>"$tmp/first"
  done
done
python3 - "$tmp/first" <<'PY'
import sys, statistics as s
rows = [l.split() for l in open(sys.argv[1])]
for what in ("first", "again"):
    t = [float(r[2]) * 1e6 for r in rows if r[0] == what]
    codes = sorted({r[1] for r in rows if r[0] == what})
    print("  %-22s median %6.0f us over %d (curl time_total, status %s)" % (
        "new kid, first token" if what == "first" else "same token again", s.median(t), len(t), ",".join(codes)))
PY
echo "JWKS fetches by the verifier: $(grep -c '^jwks request' "$tmp/jwks.err" || true) (one per second of rotation runs expected, plus the first)"
echo "demo warnings/errors: $(grep -c -E 'WARN|ERROR' "$tmp/demo.err" || true)"

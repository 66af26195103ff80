#!/usr/bin/env bash
# Load on loopback: wrk against the demo (`multi-api-demo`), alternating `GET /healthz`
# (domain guard only) and `GET /sessioninfo` (full stack, valid session cookie), ROUNDS
# rounds (default 3), each run DURATION long after a 1 s warm-up. Same Cookie header shape
# as the in-process workload: `sAccessToken=<token>; prefs=<61 B>; _ga=<318 B>`.
# Usage: benches/scripts/wrk.sh        ROUNDS=3 DURATION=5s CONNS=32 THREADS=1 STORE=memory
#
# Users mode (USERS set): `GET /sessioninfo` on api2 with the access tokens of N signed-in
# users in turn (wrk Lua script `users.lua`), for each N in USERS, against each demo binary
# in DEMOS ("label=path ...", default "new=" the demo built here), rounds interleaved so
# that every demo and N is measured in the same run; prints req/s and the ratio to the
# one-token rate (same round), and each demo's RSS with max(USERS) users signed in.
#   USERS="1 1000 10000 100000" DEMOS="old=/path/to/old-demo new=target/release/multi-api-demo" \
#     benches/scripts/wrk.sh
# Only 127.0.0.1 is contacted; the demo is started and stopped by this script.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
STORE=${STORE:-memory}
HOST=api.example.test
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p multi-api-demo --bin multi-api-demo
if [ -n "${USERS:-}" ]; then exec benches/scripts/wrk-users.sh; fi
tmp=$(mktemp -d)
"$TARGET"/release/multi-api-demo --listen 127.0.0.1:0 --store "$STORE" >"$tmp/demo.out" 2>"$tmp/demo.err" &
demo=$!
trap 'kill $demo 2>/dev/null || true; wait $demo 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do grep -q '^listening on ' "$tmp/demo.out" && break; sleep 0.1; done
base=$(sed -n 's/^listening on //p' "$tmp/demo.out" | head -1)
[ -n "$base" ] || { echo "demo did not start:" >&2; cat "$tmp/demo.err" >&2; exit 1; }
case "$base" in http://127.0.0.1:*) ;; *) echo "refusing non-loopback address $base" >&2; exit 1;; esac

# sign in (cookie mode) and take the access token from Set-Cookie
curl -s -o /dev/null -D "$tmp/signin.h" -X POST "$base/auth/demo/signin" -H "Host: $HOST" \
  -H 'st-auth-mode: cookie' -H 'content-type: application/json' -H 'rid: session' \
  --data '{"userId":"alice"}'
token=$(tr -d '\r' <"$tmp/signin.h" | sed -n 's/^[Ss]et-[Cc]ookie: sAccessToken=\([^;]*\).*/\1/p' | head -1)
[ -n "$token" ] || { echo "sign-in gave no sAccessToken cookie:" >&2; cat "$tmp/signin.h" >&2; exit 1; }
prefs='theme.dark-lang.en-GB-tz.Europe_London-density.compact-v.3-a1'
ga=$(python3 -c "
v='GA1.2.1978453627.1764374400'; f='.1764374400.90210-gcl_au.1.1.1764374400-fbp.fb.1.1764374400.1234567890'
while len(v)<318: v+=f
print(v[:318])")
cookie="sAccessToken=$token; prefs=$prefs; _ga=$ga"
for path in /healthz /sessioninfo; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base$path" -H "Host: $HOST" -H "Cookie: $cookie")
  [ "$code" = 200 ] || { echo "$path answered $code, expected 200" >&2; exit 1; }
done

run() { # path duration -> "req/s non2xx avg-latency"
  wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency -H "Host: $HOST" -H "Cookie: $cookie" "$base$1" >"$tmp/wrk.out" 2>&1
  local rps non2xx lat
  rps=$(awk '/^Requests\/sec:/{print $2}' "$tmp/wrk.out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/{print $5}' "$tmp/wrk.out")
  lat=$(awk '$1=="Latency" && NF>=4 {print $2; exit}' "$tmp/wrk.out")
  echo "$rps ${non2xx:-0} $lat"
}
echo "wrk ${THREADS}t/${CONNS}c/${DURATION} on $base, Host $HOST, store $STORE, Cookie ${#cookie} B; $(nproc) vCPU, $(date -u '+%F %H:%M UTC')"
echo
echo "| round | path | req/s | avg latency | non-2xx |"
echo "|---|---|---|---|---|"
declare -a H S R
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="/healthz /sessioninfo"; else order="/sessioninfo /healthz"; fi
  for p in $order; do
    run "$p" 1s >/dev/null
    read -r rps non lat <<<"$(run "$p" "$DURATION")"
    echo "| $r | $p | $rps | $lat | $non |"
    if [ "$p" = /healthz ]; then H+=("$rps"); else S+=("$rps"); fi
  done
  R+=("$(awk -v s="${S[-1]}" -v h="${H[-1]}" 'BEGIN{printf "%.3f", s/h}')")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "median req/s: /healthz $(med "${H[@]}"), /sessioninfo $(med "${S[@]}")"
echo "per-round ratio /sessioninfo ÷ /healthz: ${R[*]}; median $(med "${R[@]}") (target ≥ 0.85)"

#!/usr/bin/env bash
# The users mode of wrk.sh (see there): N signed-in users' tokens in turn, per demo binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
STORE=${STORE:-memory}
DEMOS=${DEMOS:-new=$TARGET/release/multi-api-demo}
read -r -a NS <<<"$USERS"
[ "${NS[0]}" = 1 ] || { echo "USERS must start with 1 (the reference)" >&2; exit 2; }
MAX=$(printf '%s\n' "${NS[@]}" | sort -n | tail -1)
SIGNIN_HOST=api.example.test
HOST=api2.example.test
SCRIPTS=$(pwd)/benches/scripts
export WRK_HOST=$HOST
export WRK_PREFS='theme.dark-lang.en-GB-tz.Europe_London-density.compact-v.3-a1'
WRK_GA=$(python3 -c "
v='GA1.2.1978453627.1764374400'; f='.1764374400.90210-gcl_au.1.1.1764374400-fbp.fb.1.1764374400.1234567890'
while len(v)<318: v+=f
print(v[:318])")
export WRK_GA
tmp=$(mktemp -d)
declare -A PID BASE
LABELS=()
cleanup() {
  for l in "${LABELS[@]}"; do kill "${PID[$l]}" 2>/dev/null || true; wait "${PID[$l]}" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
rss() { awk '/^VmRSS:/{printf "%.0f MiB", $2/1024}' "/proc/$1/status"; }

for d in $DEMOS; do
  label=${d%%=*} bin=${d#*=}
  [ -x "$bin" ] || { echo "no demo binary at $bin" >&2; exit 1; }
  "$bin" --listen 127.0.0.1:0 --store "$STORE" >"$tmp/$label.out" 2>"$tmp/$label.err" &
  PID[$label]=$!
  LABELS+=("$label")
  for _ in $(seq 1 100); do grep -q '^listening on ' "$tmp/$label.out" && break; sleep 0.1; done
  base=$(sed -n 's/^listening on //p' "$tmp/$label.out" | head -1)
  case "$base" in http://127.0.0.1:*) ;; *) echo "$label did not start on loopback:" >&2; cat "$tmp/$label.err" >&2; exit 1;; esac
  BASE[$label]=$base
  rss0=$(rss "${PID[$label]}")
  t0=$(date +%s)
  python3 "$SCRIPTS/signin_users.py" "$base" "$SIGNIN_HOST" "$MAX" "$tmp/$label.tokens"
  echo "$label: $bin; RSS $rss0 at start, $(rss "${PID[$label]}") with $MAX users signed in ($(( $(date +%s) - t0 )) s)"
  for n in "${NS[@]}"; do head -n "$n" "$tmp/$label.tokens" >"$tmp/$label.$n"; done
  token=$(head -1 "$tmp/$label.tokens")
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/sessioninfo" -H "Host: $HOST" \
    -H "Cookie: sAccessToken=$token; prefs=$WRK_PREFS; _ga=$WRK_GA")
  [ "$code" = 200 ] || { echo "$label: /sessioninfo answered $code, expected 200" >&2; exit 1; }
done

run() { # label n duration -> "req/s non2xx"
  wrk -t"$THREADS" -c"$CONNS" -d"$3" -s "$SCRIPTS/users.lua" "${BASE[$1]}/sessioninfo" -- "$tmp/$1.$2" >"$tmp/wrk.out" 2>&1
  local rps non2xx
  rps=$(awk '/^Requests\/sec:/{print $2}' "$tmp/wrk.out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/{print $5}' "$tmp/wrk.out")
  [ -n "$rps" ] || { cat "$tmp/wrk.out" >&2; exit 1; }
  echo "$rps ${non2xx:-0}"
}
# one pass over the tokens before measuring (about 10k cold verifications per second)
warm_for() { echo "$(( $1 / 10000 + 1 ))s"; }

echo
echo "wrk ${THREADS}t/${CONNS}c/${DURATION} GET /sessioninfo, Host $HOST, tokens of N users in turn, store $STORE; $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M UTC')"
echo
echo "| round | demo | distinct tokens | req/s | non-2xx |"
echo "|---|---|---|---|---|"
declare -A R
for r in $(seq 1 "$ROUNDS"); do
  order=("${LABELS[@]}")
  if [ $((r % 2)) = 0 ]; then order=(); for ((i=${#LABELS[@]}-1; i>=0; i--)); do order+=("${LABELS[$i]}"); done; fi
  for n in "${NS[@]}"; do
    for l in "${order[@]}"; do
      run "$l" "$n" "$(warm_for "$n")" >/dev/null
      read -r rps non <<<"$(run "$l" "$n" "$DURATION")"
      echo "| $r | $l | $n | $rps | $non |"
      R[$l.$n.$r]=$rps
    done
  done
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
echo
head="| distinct tokens |"; sep="|---|"
for l in "${LABELS[@]}"; do head+=" $l req/s | $l ratio to 1 token |"; sep+="---|---|"; done
echo "$head"; echo "$sep"
for n in "${NS[@]}"; do
  line="| $n |"
  for l in "${LABELS[@]}"; do
    vals=(); ratios=()
    for r in $(seq 1 "$ROUNDS"); do
      vals+=("${R[$l.$n.$r]}")
      ratios+=("$(awk -v a="${R[$l.$n.$r]}" -v b="${R[$l.1.$r]}" 'BEGIN{printf "%.3f", a/b}')")
    done
    line+=" $(med "${vals[@]}") | $(med "${ratios[@]}") (${ratios[*]}) |"
  done
  echo "$line"
done
echo
for l in "${LABELS[@]}"; do
  echo "$l: RSS $(rss "${PID[$l]}") after the runs (peak $(awk '/^VmHWM:/{printf "%.0f MiB", $2/1024}' "/proc/${PID[$l]}/status")), $MAX users signed in"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

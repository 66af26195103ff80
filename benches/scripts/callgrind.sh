#!/usr/bin/env bash
# Instruction counts per call (valgrind callgrind), the figure that repeats on this shared
# machine. Usage: benches/scripts/callgrind.sh [variant...]   (default: every variant)
#   N=10000 (calls per variant), REPEATS=1, OUT=target/callgrind
# Prints a markdown table: Ir per call, and for stacks the Ir added over the bare Router
# from the same build. Collection is on only inside `run_calls` (see src/bin/callgrind_target.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
N=${N:-10000}
NPRIM=${NPRIM:-2000}
REPEATS=${REPEATS:-1}
OUT=${OUT:-$TARGET/callgrind}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
cargo build --release -q -p tower-shared-session-benches --bin callgrind_target
BIN="$TARGET"/release/callgrind_target
mkdir -p "$OUT"
# By default every variant but the EdDSA ones cycling 10k and 100k tokens: signing and
# verifying that many tokens before the counted calls takes many minutes under valgrind
# (name them to run them; the HS256 ones measure the same cache).
if [ $# -gt 0 ]; then variants=("$@"); else
  mapfile -t variants < <("$BIN" --list | grep -Ev '^stack_eddsa_tokens_(10k|100k)$'); fi
# bare first: every stack is reported relative to it
rest=(); for v in "${variants[@]}"; do [ "$v" = bare ] || rest+=("$v"); done
variants=(bare "${rest[@]}")

calls_for() { case "$1" in rs256_sign/*) echo 20;; */*) echo "$NPRIM";; *) echo "$N";; esac; }
count() { # variant repeat -> Ir total of the counted calls
  local v=$1 k=$2 f n
  n=$(calls_for "$v")
  f="$OUT/${v//\//.}.$k.out"
  valgrind --tool=callgrind --toggle-collect='*run_calls*' --callgrind-out-file="$f" \
    "$BIN" "$v" "$n" >/dev/null 2>"$f.log" || { echo "FAILED: $v (see $f.log)" >&2; tail -3 "$f.log" >&2; return 1; }
  awk '/^totals:/{t=$2} /^summary:/{s=$2} END{print (t?t:s)}' "$f"
}

declare -A per
echo "callgrind, N=$N calls per stack variant ($NPRIM per token primitive, 20 for RSA signing), $(date -u +%F), $(rustc --version)"
echo
echo "| variant | Ir total (per repeat) | Ir per call | added over bare Router | ratio to bare |"
echo "|---|---|---|---|---|"
bare=""
for v in "${variants[@]}"; do
  totals=()
  for k in $(seq 1 "$REPEATS"); do totals+=("$(count "$v" "$k")") || continue 2; done
  n=$(calls_for "$v")
  p=$(( (totals[0] + n / 2) / n ))
  per[$v]=$p
  [ "$v" = bare ] && bare=$p
  if [[ "$v" == */* ]]; then added="–"; ratio="–"; else
    added=$(( p - bare )); ratio=$(awk -v a="$p" -v b="$bare" 'BEGIN{printf "%.2f×", a/b}'); fi
  echo "| $v | ${totals[*]} | $p | $added | $ratio |"
done

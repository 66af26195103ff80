#!/usr/bin/env bash
# Criterion, every variant in one bench binary (`benches/benches/compare.rs`), RUNS times
# (default 3), then a markdown report (medians, min–max, ratios within each run).
# Usage: benches/scripts/criterion.sh [criterion filter]   e.g. '^stack/' or 'verify'
#   RUNS=3 WARMUP=1 MEASURE=3 OUT=target/bench-runs
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
RUNS=${RUNS:-3}
OUT=${OUT:-$TARGET/bench-runs}
filter=("$@")
cargo bench -q -p tower-shared-session-benches --bench compare --no-run
cargo build --release -q -p tower-shared-session-benches --bin crit_report
rm -rf "$OUT"; mkdir -p "$OUT"
for i in $(seq 1 "$RUNS"); do
  rm -rf "$TARGET"/criterion
  cargo bench -q -p tower-shared-session-benches --bench compare -- \
    --warm-up-time "${WARMUP:-1}" --measurement-time "${MEASURE:-3}" "${filter[@]}" >"$OUT/log$i.txt" 2>&1
  cp -r "$TARGET"/criterion "$OUT/run$i"
done
echo "machine: $(nproc) vCPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M UTC')"
"$TARGET"/release/crit_report "$OUT"/run*

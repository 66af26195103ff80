#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for a few seconds on its seed
# corpus (fuzz/seeds/<target>, from the real cases in the tests), so the targets keep
# building and their properties keep holding. Installs cargo-fuzz if it is missing.
#
#   scripts/fuzz-smoke.sh                 # every target, 5 s each
#   FUZZ_SECONDS=300 scripts/fuzz-smoke.sh host_guard   # one long run
#
# Stable toolchain: cargo-fuzz passes nightly-only rustc flags (-Z sanitizer, sancov), so
# RUSTC_BOOTSTRAP=1 is set for these builds only. The sanitizer is off by default
# (FUZZ_SANITIZER=none): the crates forbid unsafe code, and the build is about twice as
# fast; set FUZZ_SANITIZER=address for an ASan build.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1
SECONDS_EACH="${FUZZ_SECONDS:-5}"
SANITIZER="${FUZZ_SANITIZER:-none}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked --version '^0.13'
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

if [ "$#" -gt 0 ]; then
    for t in "${targets[@]}"; do cargo fuzz build -O -s "$SANITIZER" "$t"; done
else
    cargo fuzz build -O -s "$SANITIZER"
fi

status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "seeds/$t"
    log="$(mktemp)"
    if cargo fuzz run -O -s "$SANITIZER" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1; then
        runs="$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
        echo "fuzz-smoke: $t ok, $runs executions in ${SECONDS_EACH}s"
    else
        echo "fuzz-smoke: $t FAILED" >&2
        tail -n 40 "$log" >&2
        status=1
    fi
    rm -f "$log"
done
exit "$status"

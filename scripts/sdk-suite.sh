#!/usr/bin/env bash
# Runs supertokens-website's own mocha suite (test/*.test.js of the SDK's repository) against
# examples/sdk-test-server, the suite's backend on our layers, as the SDK's CI runs it against
# supertokens-node.
#
#   scripts/sdk-suite.sh SDK_CHECKOUT [TEST_FILE ...]
#
# SDK_CHECKOUT is a checkout of supertokens/supertokens-website (never inside this repository;
# nothing of it is committed). TEST_FILE names files under its test/ (default: every
# test/*.test.js). The suite's npm packages go to a scratch folder ($SDK_SUITE_SCRATCH, default
# target/sdk-suite) and are found through NODE_PATH, so the checkout stays untouched; puppeteer
# drives Debian's Chromium ($CHROMIUM, default /usr/bin/chromium) instead of its own download.
# Starts two sdk-test-server processes (NODE_PORT 8080 and 8082, the ports the suite uses) on
# the Redis at $SDK_SUITE_REDIS (default redis://127.0.0.1:6379).
# Prints per-file results and, last, one line: `N passed, M failed`. $SDK_SUITE_GREP (a mocha
# --grep pattern) runs only the matching tests; server logs go to $SDK_SUITE_SCRATCH/server-PORT.log.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ] || [ ! -d "$1/test/server" ]; then
  echo "usage: scripts/sdk-suite.sh SDK_CHECKOUT [TEST_FILE ...] (a supertokens-website checkout)" >&2
  exit 2
fi
sdk="$(cd "$1" && pwd)"
shift
case "$sdk/" in "$root"/*) echo "the SDK checkout must be outside this repository" >&2; exit 2 ;; esac
scratch="${SDK_SUITE_SCRATCH:-$root/target/sdk-suite}"
redis="${SDK_SUITE_REDIS:-redis://127.0.0.1:6379}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
per_test_timeout="${SDK_SUITE_TIMEOUT_MS:-60000}"
mkdir -p "$scratch"

# --- the suite's packages (versions of the SDK's package-lock.json; axios as "*" in its package.json) --
if [ ! -x "$chromium" ]; then
  echo "==> installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -f "$scratch/node_modules/.sdk-suite-ready" ]; then
  echo "==> npm install (scratch: $scratch)"
  (cd "$scratch" && [ -f package.json ] || echo '{"name":"sdk-suite-scratch","private":true}' > "$scratch/package.json")
  (cd "$scratch" && PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
    npm install --no-audit --no-fund --loglevel=error \
      mocha@6.1.4 isomorphic-fetch@2.2.1 puppeteer@11.0.0 axios@1 axios-mock-adapter@2 \
      jsonwebtoken@8.5.1 jwks-rsa@2.0.5 sinon@13.0.2 mocha-jsdom@2.0.0 jsdom@11.12.0 \
      browser-tabs-lock@1.3.0 supertokens-js-override@0.0.4)
  touch "$scratch/node_modules/.sdk-suite-ready"
fi
# The test page's own scripts come from unpkg in the original, i.e. the latest releases.
if [ ! -f "$scratch/page/node_modules/.sdk-suite-ready" ]; then
  mkdir -p "$scratch/page"
  [ -f "$scratch/page/package.json" ] || echo '{"name":"sdk-suite-page","private":true}' > "$scratch/page/package.json"
  (cd "$scratch/page" && npm install --no-audit --no-fund --loglevel=error axios@1 axios-mock-adapter@2)
  touch "$scratch/page/node_modules/.sdk-suite-ready"
fi
export NODE_PATH="$scratch/node_modules"
export PUPPETEER_EXECUTABLE_PATH="$chromium"
export TEST_MODE=testing

# --- the two test servers -------------------------------------------------------------
echo "==> cargo build -p sdk-test-server"
(cd "$root" && cargo build -q -p sdk-test-server)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
server_bin="$target_dir/debug/sdk-test-server"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  redis-cli -u "$redis" --scan --pattern 'sdk-test:*' 2>/dev/null | xargs -r redis-cli -u "$redis" del >/dev/null 2>&1 || true
}
trap cleanup EXIT
for port in 8080 8082; do
  NODE_PORT=$port RUST_LOG="${RUST_LOG:-warn}" "$server_bin" --sdk-dir "$sdk" \
    --node-modules "$scratch/page/node_modules" --redis "$redis" > "$scratch/server-$port.log" 2>&1 &
  pids+=($!)
done
for port in 8080 8082; do
  for _ in $(seq 1 100); do
    curl -fsS "http://localhost:$port/ping" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://localhost:$port/ping" >/dev/null || { echo "sdk-test-server on $port did not start" >&2; cat "$scratch/server-$port.log" >&2; exit 1; }
done

# --- mocha, one file at a time (the repository's .mocharc.yml appends every file) --------
cat > "$scratch/mocharc.yml" <<YML
exit: true
require:
  - isomorphic-fetch
reporter: json
timeout: $per_test_timeout
YML
if [ -n "${SDK_SUITE_GREP:-}" ]; then
  printf 'grep: %s\n' "$(node -e 'console.log(JSON.stringify(process.argv[1]))' "$SDK_SUITE_GREP")" >> "$scratch/mocharc.yml"
fi
if [ $# -eq 0 ]; then
  set -- $(cd "$sdk/test" && ls ./*.test.js | sed 's|^\./||')
fi
total_pass=0
total_fail=0
mkdir -p "$scratch/results"
for file in "$@"; do
  out="$scratch/results/${file%.js}.json"
  start=$(date +%s)
  (cd "$sdk" && "$scratch/node_modules/.bin/mocha" --config "$scratch/mocharc.yml" "test/$file" > "$out" 2> "$scratch/results/${file%.js}.stderr") || true
  counts=$(node -e '
    const fs = require("fs");
    let text = fs.readFileSync(process.argv[1], "utf8");
    const at = text.indexOf("{\n  \"stats\"");
    let r;
    try { r = JSON.parse(at >= 0 ? text.slice(at) : text); } catch (e) { console.log("0 0 0 unreadable"); process.exit(0); }
    console.log(r.stats.passes, r.stats.failures, r.stats.pending, "ok");
    for (const f of r.failures) console.error("    FAIL " + f.fullTitle + ": " + String((f.err && f.err.message) || "").split("\n")[0].slice(0, 200));
  ' "$out" 2> "$scratch/results/${file%.js}.failures")
  read -r pass fail pending state <<< "$counts"
  if [ "$state" != ok ]; then fail=$((fail + 1)); fi
  printf '%-45s %4s passed %4s failed %4s pending %5ss\n' "$file" "$pass" "$fail" "$pending" "$(( $(date +%s) - start ))"
  cat "$scratch/results/${file%.js}.failures"
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
done
echo "$total_pass passed, $total_fail failed"

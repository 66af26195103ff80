#!/usr/bin/env bash
# Browser end-to-end test of the demo: installs the npm packages and Debian's Chromium if
# missing, bundles supertokens-website offline, builds the demo and runs the flows.
# `run.sh --bundle-only` only builds the page's SDK bundle (www/supertokens.js).
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/supertokens-website ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node bundle.mjs
if [ "${1:-}" = "--bundle-only" ]; then exit 0; fi

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
root="$(cd ../../.. && pwd)"
(cd "$root" && cargo build -q -p multi-api-demo --bins)
# Where cargo put it: CARGO_TARGET_DIR (absolute, or relative to the workspace) or target/.
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
export DEMO_BIN="${DEMO_BIN:-$target_dir/debug/multi-api-demo}"
export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$(pwd)/artifacts}"
start=$(date +%s)
node --test --test-concurrency=1 --test-reporter=spec test/
echo "browser e2e wall time: $(( $(date +%s) - start )) s"

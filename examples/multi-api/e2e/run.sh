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
(cd ../../.. && cargo build -q -p multi-api-demo --bins)
export DEMO_BIN="${DEMO_BIN:-$(cd ../../.. && pwd)/target/debug/multi-api-demo}"
export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$(pwd)/artifacts}"
start=$(date +%s)
node --test --test-concurrency=1 --test-reporter=spec test/
echo "browser e2e wall time: $(( $(date +%s) - start )) s"

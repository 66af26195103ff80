#!/usr/bin/env bash
# Browser end-to-end test of the frontend examples: installs the npm packages of the React app,
# the Vue app, the Angular app and the test folder (npm ci, from the lock files), builds the
# React and Vue apps with Vite and the Angular app with the Angular CLI (production build), and
# runs the Playwright flows (Debian's Chromium) against the multi-api-demo binary at $DEMO_BIN
# (default: <target dir>/debug/multi-api-demo, with CARGO_TARGET_DIR honoured; this script
# does not build it).
# Prints the wall time it took, and the Angular app's install + build time on its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
start=$(date +%s)
# The Angular CLI never asks about analytics (it would wait on a prompt in CI).
export NG_CLI_ANALYTICS=false

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
export DEMO_BIN="${DEMO_BIN:-$target_dir/debug/multi-api-demo}"
if [ -z "${E2E_ARTIFACTS:-}" ]; then
  export E2E_ARTIFACTS="$here/e2e/artifacts"
  rm -rf "$E2E_ARTIFACTS"
fi
if [ ! -x "$DEMO_BIN" ]; then
  echo "multi-api-demo not found at $DEMO_BIN: run 'cargo build -p multi-api-demo' or set DEMO_BIN" >&2
  exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

for dir in react vue e2e; do
  echo "==> npm ci in examples/frontends/$dir"
  (cd "$here/$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
for app in react vue; do
  echo "==> vite build in examples/frontends/$app"
  (cd "$here/$app" && npx --no-install vite build --logLevel warn)
done
angular_start=$(date +%s)
echo "==> npm ci + ng build in examples/frontends/angular"
(cd "$here/angular" && npm ci --no-audit --no-fund --loglevel=error && npx --no-install ng build --progress=false)
echo "angular install + build wall time: $(( $(date +%s) - angular_start )) s"

echo "==> Playwright flows (React, Vue and Angular, cookie and header mode)"
status=0
(cd "$here/e2e" && node --test --test-concurrency=1 --test-reporter=spec test/) || status=$?
echo "frontend examples e2e wall time: $(( $(date +%s) - start )) s"
exit "$status"

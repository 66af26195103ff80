#!/usr/bin/env bash
# The one test command (README "Quick start"): sets up what the tests need on a fresh
# Debian machine (Redis, PostgreSQL, Chromium, npm packages) and runs every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot build gains nothing from incremental caches (and CI starts from a clean tree).
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

log() { printf '\n==> %s\n' "$*"; }

# --- services -----------------------------------------------------------------------
ensure_redis() {
  if command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    return
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing redis-server"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  log "starting redis-server on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return
    sleep 0.1
  done
  echo "redis did not start" >&2
  exit 1
}
ensure_redis

# PostgreSQL on 127.0.0.1:5432, trust auth for local TCP, database `test` (the
# tower-session-postgres tests and the demo's postgres tests use a schema each, dropped
# after); the server binaries also serve the outage test's own `pg_ctl` instance.
ensure_postgres() {
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 \
    && psql -h 127.0.0.1 -U postgres -d test -Atc 'SELECT 1' >/dev/null 2>&1; then
    return
  fi
  if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    log "installing postgresql"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    pg_createcluster "$version" main >/dev/null
  fi
  local cluster
  cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
  # Trust on loopback TCP: the tests connect as `postgres` without a password.
  local hba
  hba=$(find /etc/postgresql -name pg_hba.conf | head -1)
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster reload 2>/dev/null || true
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting postgresql on 127.0.0.1:5432"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start || service postgresql start
  fi
  for _ in $(seq 1 100); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 0.1
  done
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; then
    echo "postgresql on 127.0.0.1:5432 does not accept user postgres without a password" >&2
    exit 1
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'
}
ensure_postgres

# --- static checks ------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (all targets, all features)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

# --- Rust tests (unit, integration, doc) ---------------------------------------------
log "cargo test (all features)"
cargo test --workspace --all-features --no-fail-fast

# --- benches must keep compiling (dev profile: reuses the test build's artifacts) -------
log "cargo test --benches --no-run"
cargo test --workspace --all-features --benches --no-run

# --- every published crate on its own: default features, none, each alone ---------------
log "feature sets (cargo test -p CRATE per feature set)"
bash scripts/feature-sets.sh

# --- docs as docs.rs builds them (its nightly `--cfg docsrs`; RUSTC_BOOTSTRAP lets the
# pinned stable toolchain accept the `doc_cfg` feature gate) ------------------------------
log "cargo doc (-D warnings, --cfg docsrs)"
RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="-D warnings --cfg docsrs" \
  cargo doc --workspace --no-deps --all-features \
  --exclude multi-api-demo --exclude sdk-test-server --exclude tower-shared-session-benches --exclude tower-session-testkit

# --- packages: each published crate builds from its own packaged files -------------------
log "cargo package (with verification)"
cargo package --workspace --allow-dirty \
  --exclude multi-api-demo --exclude sdk-test-server --exclude tower-shared-session-benches --exclude tower-session-testkit

# --- fuzz targets keep building and their properties keep holding (seconds each) ----
log "fuzz smoke (cargo fuzz, every target for a few seconds)"
bash scripts/fuzz-smoke.sh

# --- browser end-to-end ---------------------------------------------------------------
if [ -x examples/multi-api/e2e/run.sh ]; then
  log "browser end-to-end (Chromium + supertokens-website)"
  examples/multi-api/e2e/run.sh
fi
if [ -x examples/frontends/run-e2e.sh ]; then
  log "frontend examples end-to-end (React, Vue and Angular)"
  examples/frontends/run-e2e.sh
fi

log "all tests passed"

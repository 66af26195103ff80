#!/usr/bin/env bash
# Refreshes per second through the whole auth stack, in process (2-worker runtime), with the
# memory store and with Redis (127.0.0.1:6379, unique key prefix, deleted afterwards), 1 and
# 16 concurrent clients; for Redis also the commands per refresh (INFO commandstats deltas).
# With PostgreSQL (a database of the run's own on that server, dropped after) the
# statements per refresh and bytes per session; every run prints p50/p99 latency.
# Usage: benches/scripts/refresh.sh      DURATION=5 REDIS=redis://127.0.0.1:6379 (REDIS= to skip)
#        POSTGRES=postgres://postgres@127.0.0.1:5432/test (POSTGRES= to skip)
#        LIVE="0 10000" (other live sessions put in the store before each run, through the
#          store API; FILL=http signs each one in through the stack instead)
#        CLUSTER_LIVE="$LIVE" (the same for the two cluster stores)
#        CLUSTER=1 (CLUSTER= to skip): a Redis Cluster (3 masters + 3 replicas) each run
#        starts on loopback itself, with WAIT 1 100 after every write and without
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
SECONDS_PER_RUN=${DURATION:-5}
REDIS=${REDIS-redis://127.0.0.1:6379}
POSTGRES=${POSTGRES-postgres://postgres@127.0.0.1:5432/test}
[ -n "${NOBUILD-}" ] || cargo build --release -q -p tower-shared-session-benches --bin refresh_load
BIN="$TARGET"/release/refresh_load
stores=(memory)
[ -n "$REDIS" ] && stores+=("$REDIS")
[ -n "$POSTGRES" ] && stores+=("$POSTGRES")
[ -n "${CLUSTER-1}" ] && stores+=(cluster cluster-nowait)
echo "refresh_load, EdDSA keys, $SECONDS_PER_RUN s per run, $(nproc) vCPU, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for store in "${stores[@]}"; do
  lives=${LIVE:-0 10000}
  case "$store" in cluster*) lives=${CLUSTER_LIVE:-$lives};; esac
  for live in $lives; do
    # one process per store and live count: fills once, then 1 and 16 clients
    "$BIN" "$store" 1,16 "$SECONDS_PER_RUN" "$live" || echo "store=$store live=$live: FAILED"
  done
done

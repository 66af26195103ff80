#!/usr/bin/env bash
# Every published crate on its own: `cargo test -p CRATE` with its default features, with
# none, and with each feature alone, so a crate that only builds with the whole
# workspace's features (or with another crate's) fails here. Sets that are the same as
# one already run are skipped (a crate whose default is empty has "none" = "default"),
# and so is each crate's full feature set: `cargo test --workspace --all-features`
# (scripts/test-all.sh) runs that.
#
# Usage: scripts/feature-sets.sh [--list] [extra cargo test args...]
set -euo pipefail
cd "$(dirname "$0")/.."

list_only=false
if [ "${1:-}" = "--list" ]; then list_only=true; shift; fi

# One line per run: "<crate> <cargo flags>", from the manifests (publish != false).
sets=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
for p in meta["packages"]:
    if p["id"] not in members or p.get("publish") == []:
        continue
    feats = p["features"]
    every = frozenset(f for f in feats if f != "default")
    default = frozenset(feats.get("default", []))
    runs = [(default, "")]
    if default:
        runs.append((frozenset(), "--no-default-features"))
    for f in sorted(every):
        runs.append((frozenset([f]), "--no-default-features --features " + f))
    seen = set()
    for enabled, flags in runs:
        if enabled in seen or (enabled == every and every):
            continue
        seen.add(enabled)
        print(p["name"], flags)
')

if $list_only; then
  printf '%s\n' "$sets"
  exit 0
fi

while read -r crate flags; do
  [ -n "$crate" ] || continue
  printf '\n==> cargo test -p %s %s\n' "$crate" "$flags"
  # shellcheck disable=SC2086
  cargo test -p "$crate" $flags --no-fail-fast "$@"
done <<< "$sets"

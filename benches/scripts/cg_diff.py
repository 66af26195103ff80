#!/usr/bin/env python3
"""Where a variant's extra instructions go: self cost per function (callgrind_annotate,
exclusive), variant minus base, per call. Usage:
  cg_diff.py BASE.out VARIANT.out [N=10000] [TOP=30]
Both files come from benches/scripts/callgrind.sh (target/callgrind/<variant>.1.out)."""
import re, subprocess, sys
from collections import defaultdict

def self_costs(path):
    out = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    costs = defaultdict(int)
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", line)
        if not m or "PROGRAM TOTALS" in line or "=>" in line or "events annotated" in line:
            continue
        fn = re.sub(r"\s+\[[^\]]*\]$", "", m.group(2))
        fn = re.sub(r"^.*/(rustc/[0-9a-f]+|registry/src/[^/]+)/", "", fn)
        costs[fn] += int(m.group(1).replace(",", ""))
    return costs

base, var = self_costs(sys.argv[1]), self_costs(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
top = int(sys.argv[4]) if len(sys.argv) > 4 else 30
delta = {k: var.get(k, 0) - base.get(k, 0) for k in set(base) | set(var)}
total = sum(var.values()) - sum(base.values())
print(f"added per call: {total / n:,.0f} Ir   (self cost by function: variant - base, per call)")
groups = [("tower_domain_guard", "guard"), ("tower_session_cookie", "cookie layer"),
          ("tower_session_refresh", "session/refresh"), ("tower_sessions", "tower-sessions"),
          ("tower_cookies", "tower-cookies"), ("cookie::", "cookie crate"),
          ("malloc", "malloc/free"), ("alloc", "malloc/free"), ("memmove", "memcpy"),
          ("memcmp", "memcmp"), ("sip::", "SipHash"), ("hashbrown", "hash maps"),
          ("http::header", "http headers"), ("http::extensions", "extensions"),
          ("axum", "axum/tower plumbing"), ("tower::", "axum/tower plumbing"),
          ("futures_util", "axum/tower plumbing"), ("from_utf8", "from_utf8"),
          ("ring_core", "ring (crypto)"), ("ring::", "ring (crypto)"),
          ("base64", "base64"), ("serde_json", "serde_json")]
by = defaultdict(int)
for fn, d in delta.items():
    name = fn.split(":", 1)[-1] if ":" in fn else fn
    g = next((label for key, label in groups if key in name or key in fn), "other")
    by[g] += d
print("by component: " + ", ".join(f"{g} {d / n:,.0f}" for g, d in sorted(by.items(), key=lambda kv: -kv[1]) if abs(d / n) >= 20))
for fn, d in sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:top]:
    print(f"{d / n:>9,.0f}  {fn[:170]}")

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
for fn, d in sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:top]:
    print(f"{d / n:>9,.0f}  {fn[:170]}")

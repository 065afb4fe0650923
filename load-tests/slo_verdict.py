#!/usr/bin/env python3
"""The SLO verdict of a load run, from skserve's /slo.json.

    python3 slo_verdict.py SLO_JSON_FILE      (or - for standard input)

Prints one line per SLO: SLI against objective, budget left, alert state. Exits 1 when an SLO
is below its objective or a page alert fires, so scripts can gate on it.
"""
import json
import sys

source = sys.stdin if sys.argv[1:] in ([], ["-"]) else open(sys.argv[1])
report = json.load(source)
missed = []
for slo in report["slos"]:
    sli = slo["sli"]
    held = (sli is None or sli >= slo["objective"]) and slo["status"] != "page"
    if not held:
        missed.append(slo["name"])
    shown = "no events" if sli is None else f"{sli * 100:.3f} %"
    print(f"SLO {slo['name']}: {'holds' if held else 'MISSED'} — SLI {shown} "
          f"(objective {slo['objective_percent']} %, {slo['good']} good of {slo['total']}), "
          f"budget left {slo['error_budget_remaining'] * 100:.1f} %, alerts: {slo['status']}")
sys.exit(1 if missed else 0)

#!/usr/bin/env python3
"""Compares the ratios of a `make budget` run with their floors; prints the k6 gate's rate.

  budget_check.py loadtests/budgets.json RESULTS.jsonl

Prints one line per budget to stderr (ratio, floor, both raw numbers, pass or FAIL) and, when
every budget holds, the k6 rate on stdout; exits 1 when any ratio is under its floor.
"""
import json
import sys


def measured(rows):
    """Each budget's (value, ceiling, what value is, what the ceiling is) from one run; a
    figure measured more than once counts with its best run."""
    http, sql = {}, {}
    for r in rows:
        if r["kind"] == "http" and r["rps"] >= http.get(r["name"], {}).get("rps", -1):
            http[r["name"]] = r
        if r["kind"] == "sql" and r["tps"] >= sql.get(r["name"], {}).get("tps", -1):
            sql[r["name"]] = r
    sink = next(r["result"] for r in rows if r["kind"] == "sink")
    e2e = next(r for r in rows if r["kind"] == "e2e")
    return {
        "feed_vs_pgbench": (http["api_events"]["rps"], sql["sql_events"]["tps"],
                            "uncached /v1/events req/s", "pgbench tps, same SQL"),
        "cached_vs_axum": (http["api_events_cached"]["rps"], http["axum_hello"]["rps"],
                           "cached /v1/events req/s", "bare axum req/s"),
        "writer_vs_copy": (sink["sink_rows_per_s"], sink["copy_rows_per_s"],
                           "batch writer rows/s", "binary COPY rows/s"),
        "ingest_vs_bare_consumer": (e2e["events_per_s"], e2e["bare"]["messages_per_s"],
                                    "ingest events/s (4 streams)", "bare consumer msg/s"),
    }


def check(budgets, rows):
    """Returns (failures, report lines, k6 rate)."""
    values = measured(rows)
    failures, lines = [], []
    for name, budget in budgets["budgets"].items():
        value, ceiling, what, against = values[name]
        ratio = value / ceiling if ceiling else 0.0
        ok = ratio >= budget["floor"]
        lines.append(f"{'pass' if ok else 'FAIL'} {name}: {ratio:.2f}x (floor {budget['floor']:.2f}x) = "
                     f"{value:.0f} {what} / {ceiling:.0f} {against}")
        if not ok:
            failures.append(name)
    gate = budgets["k6_gate"]
    capacity = values["feed_vs_pgbench"][0]
    rate = min(gate["max_rate"], max(gate["min_rate"], round(capacity * gate["share_of_feed_capacity"])))
    lines.append(f"k6 gate: {gate['share_of_feed_capacity']:.2f} x {capacity:.0f} req/s measured, within "
                 f"{gate['min_rate']}-{gate['max_rate']} = {rate} req/s")
    return failures, lines, rate


def main(budgets_path, results_path):
    budgets = json.load(open(budgets_path))
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    failures, lines, rate = check(budgets, rows)
    for line in lines:
        print(line, file=sys.stderr)
    if failures:
        print(f"load budgets not met: {', '.join(failures)}", file=sys.stderr)
        return 1
    print(rate)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

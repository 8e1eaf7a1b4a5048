"""The load-budget gate (scripts/budget_check.py) on recorded results: best run per side, a ratio
under its floor fails, and the k6 rate follows the measured capacity."""

import importlib.util
import json

from conftest import ROOT

spec = importlib.util.spec_from_file_location("budget_check", ROOT / "scripts" / "budget_check.py")
budget_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(budget_check)

BUDGETS = json.loads((ROOT / "loadtests" / "budgets.json").read_text())


def run(api_events, sql_events, cached=(40000,), hello=(80000,), sink=(30000, 35000), e2e=(6000, 7000)):
    rows = [{"kind": "http", "name": "api_events", "rps": r} for r in api_events]
    rows += [{"kind": "sql", "name": "sql_events", "tps": t} for t in sql_events]
    rows += [{"kind": "http", "name": "api_events_cached", "rps": r} for r in cached]
    rows += [{"kind": "http", "name": "axum_hello", "rps": r} for r in hello]
    rows.append({"kind": "sink", "result": {"sink_rows_per_s": sink[0], "copy_rows_per_s": sink[1]}})
    rows.append({"kind": "e2e", "events_per_s": e2e[0], "bare": {"messages_per_s": e2e[1]}})
    return budget_check.check(BUDGETS, rows)


def test_each_side_counts_with_its_best_run():
    floor = BUDGETS["budgets"]["feed_vs_pgbench"]["floor"]
    # One dip per side (the first API run, the second pgbench run) does not fail the budget.
    good = round(10000 * (floor + 0.1))
    failures, lines, _ = run(api_events=(1000, good), sql_events=(10000, 3000))
    assert failures == [], lines
    assert any(line.startswith("pass feed_vs_pgbench") for line in lines)


def test_a_ratio_under_its_floor_fails_with_both_numbers():
    floor = BUDGETS["budgets"]["feed_vs_pgbench"]["floor"]
    slow = round(10000 * (floor - 0.05))
    failures, lines, _ = run(api_events=(slow, slow), sql_events=(10000, 9000))
    assert failures == ["feed_vs_pgbench"]
    line = next(line for line in lines if "feed_vs_pgbench" in line)
    assert line.startswith("FAIL") and f"{slow} uncached" in line and "10000 pgbench" in line


def test_every_budget_can_fail():
    failures, _, _ = run(api_events=(1,), sql_events=(10000,), cached=(1,), sink=(1, 35000), e2e=(1, 7000))
    assert sorted(failures) == sorted(BUDGETS["budgets"])


def test_the_k6_rate_is_a_share_of_the_measured_capacity_within_its_bounds():
    gate = BUDGETS["k6_gate"]
    middle = round((gate["min_rate"] + gate["max_rate"]) / 2 / gate["share_of_feed_capacity"])
    _, _, rate = run(api_events=(middle,), sql_events=(middle,))
    assert rate == round(middle * gate["share_of_feed_capacity"])
    assert gate["min_rate"] < rate < gate["max_rate"]
    _, _, rate = run(api_events=(10,), sql_events=(10,))
    assert rate == gate["min_rate"]
    _, _, rate = run(api_events=(10**6,), sql_events=(10**6,))
    assert rate == gate["max_rate"]

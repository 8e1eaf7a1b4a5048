"""dashboards/src/sources.py reads the generated SLO rules the way the generator writes them: burn
conditions in one alert per window pair or OR-ed in one alert, with or without a minimum-traffic
guard; runbook links found by alert name, per SLO, or by prefix for all the alerts of an SLO.
"""

import pytest

import sources


def alert(name, severity, expr, slo="checkout"):
    return {"alert": name, "expr": expr, "labels": {"severity": severity, "slo": slo},
            "annotations": {"runbook_url": f"https://example.test/slo.md#{slo}"}}


def test_conditions_of_one_alert_per_window_pair_with_a_traffic_guard():
    rules = [
        alert("SLOBurnRatePage", "page", 'slo:sli_error:ratio_rate1h{slo="checkout"} > (13.44 * 0.001)\nand\n'
              'slo:sli_error:ratio_rate5m{slo="checkout"} > (13.44 * 0.001)\nand\n'
              'slo:sli_events:rate1h{slo="checkout"} * 3600 >= 600'),
        alert("SLOBurnRateTicket", "ticket", 'slo:sli_error:ratio_rate6h{slo="checkout"} > (0.93 * 0.001) and '
              'slo:sli_error:ratio_rate3d{slo="checkout"} > (0.93 * 0.001)'),
        alert("SLOBurnRatePage", "page", 'slo:sli_error:ratio_rate1h{slo="other"} > (99 * 0.001) and '
              'slo:sli_error:ratio_rate5m{slo="other"} > (99 * 0.001)', slo="other"),
    ]
    assert sources._conditions("checkout", rules) == (
        sources.BurnCondition("page", "SLOBurnRatePage", "1h", "5m", 13.44),
        sources.BurnCondition("ticket", "SLOBurnRateTicket", "3d", "6h", 0.93),  # long window first
    )


def test_conditions_or_ed_in_one_alert_on_burn_rate_records():
    rules = [alert("SLOBurnRatePage", "page",
                   '(slo:burn_rate:ratio_rate1h{slo="checkout"} > 14.4 and slo:burn_rate:ratio_rate5m{slo="checkout"} > 14.4)'
                   ' or (slo:burn_rate:ratio_rate6h{slo="checkout"} > 6 and slo:burn_rate:ratio_rate30m{slo="checkout"} > 6)')]
    assert [(c.long, c.short, c.factor) for c in sources._conditions("checkout", rules)] == [
        ("1h", "5m", 14.4), ("6h", "30m", 6.0)]


def test_an_unreadable_burn_alert_stops_the_generation():
    rules = [alert("SLOBurnRatePage", "page", 'slo_error_budget_burn{slo="checkout"} > 14.4')]
    with pytest.raises(ValueError, match="cannot read the windows and factors"):
        sources._conditions("checkout", rules)


def test_window_pairs_with_different_factors_are_refused():
    rules = [alert("SLOBurnRatePage", "page", 'slo:sli_error:ratio_rate1h{slo="checkout"} > (14.4 * 0.001) and '
                   'slo:sli_error:ratio_rate5m{slo="checkout"} > (6 * 0.001)')]
    with pytest.raises(ValueError, match="different factors"):
        sources._conditions("checkout", rules)


def test_runbook_urls_by_name_by_slo_and_by_prefix(monkeypatch):
    rules = [(None, alert("SLOBurnRatePage", "page", "vector(1)")),
             (None, alert("SLOInputAbsent", "ticket", "vector(1)")),
             (None, alert("SLOBurnRatePage", "page", "vector(1)", slo="other")),
             (None, {"alert": "Watchdog", "expr": "vector(1)", "labels": {"severity": "ticket"},
                     "annotations": {"runbook_url": "https://example.test/alerting.md#watchdog"}})]
    monkeypatch.setattr(sources, "alert_rules", lambda: rules)
    assert sources.runbook_url("Watchdog") == "https://example.test/alerting.md#watchdog"
    assert sources.runbook_url("SLO*", "checkout") == "https://example.test/slo.md#checkout"
    assert sources.runbook_url("SLOBurnRatePage", "other") == "https://example.test/slo.md#other"
    assert sources.runbook_url("NoSuchAlert") is None
    with pytest.raises(LookupError, match="2 runbook URLs"):
        sources.runbook_url("SLOBurnRatePage")

"""The markers that let the live validation accept a dashboard query without data, tested without
the pipeline: Google Cloud panels are skipped by their explicit marker and only they are; metrics
declared not yet exported are required as soon as the processes expose them.
"""

import pytest

from conftest import pending_metrics_in, uses_cloud_metric
from test_live_validation import CLOUD_ONLY, QUERIES, cloud_skip_reason


def test_cloud_marker_skips_exactly_the_cloud_queries():
    skipped = [(uid, title) for uid, title, _, expr in QUERIES if cloud_skip_reason(uid, title, expr)]
    assert skipped and set(skipped) == CLOUD_ONLY
    local = [(uid, title, expr) for uid, title, _, expr in QUERIES if (uid, title) not in CLOUD_ONLY]
    assert local and not any(uses_cloud_metric(expr) for _, _, expr in local)


def test_a_pending_metric_is_required_once_the_processes_expose_it(monkeypatch):
    # The list is empty while every panel's metric is exported: exercise it with entries.
    import conftest
    monkeypatch.setitem(conftest.NOT_YET_EXPORTED, "flightdeck_db_pool_waiters", "example")
    monkeypatch.setitem(conftest.NOT_YET_EXPORTED, "flightdeck_db_pool_wait_seconds", "example")
    expr = 'sum(flightdeck_db_pool_waiters{system=~"$system"})'
    assert pending_metrics_in(expr, set()) == ["flightdeck_db_pool_waiters"]
    assert pending_metrics_in(expr, {"flightdeck_db_pool_waiters"}) == []
    assert pending_metrics_in("histogram_quantile(0.99, rate(flightdeck_db_pool_wait_seconds_bucket[5m]))",
                              set()) == ["flightdeck_db_pool_wait_seconds"]


def test_an_unmarked_cloud_query_is_refused():
    with pytest.raises(AssertionError):
        cloud_skip_reason("flightdeck-overview", "API requests", "pubsub_googleapis_com:subscription_x")

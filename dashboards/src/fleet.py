"""flightdeck / fleet: many systems on one screen (docs/observability.md 4.4). Ranked top tens
instead of fifty lines, then the overview's signals with one line per system, and the Google Cloud
signals (Pub/Sub subscription, Cloud SQL) by the `system` user label of their resources.
"""

from common import (COUNT, NONE, OPS, RATE, RATIO, REQPS, SECONDS, SYSTEM, alerting_path, api_red, bargauge_panel,
                    dashboard, firing_alerts, pool_use, q, stat_panel, table_panel, timeseries_panel)

UID = "flightdeck-fleet"
BY_SYSTEM = "{{system}}"


def at_a_glance():
    return [
        stat_panel("Systems reporting", "Systems with at least one flightdeck process scraped. One fewer than "
                   "yesterday is a blind spot, not a quiet system.", NONE,
                   [q(f"count(count by (system) (flightdeck_build_info{{{SYSTEM}}}))", "systems", instant=True)],
                   width=6, runbooks=["FlightdeckTargetAbsent"]),
        stat_panel("Systems burning budget", "Systems where any SLO burns its error budget faster than 1x over "
                   "the last hour.", NONE,
                   [q(f"count(max by (system) (slo:burn_rate:ratio_rate1h{{{SYSTEM}}}) > 1) or vector(0)", "systems",
                      instant=True)], width=6, thresholds=["green", (1, "red")]),
        stat_panel("Targets down", "flightdeck targets failing their scrape, all systems.", NONE,
                   [q(f'count(up{{{SYSTEM},job=~"flightdeck-api|flightdeck-ingest"}} == 0) or vector(0)', "down",
                      instant=True)], width=6, thresholds=["green", (1, "red")],
                   runbooks=["FlightdeckJobDown", "FlightdeckTargetDown"]),
        stat_panel("Fleet API requests", "Requests per second over every selected system.", REQPS,
                   [q(f"sum(rate(http_server_request_duration_seconds_count{{{SYSTEM}}}[{RATE}]))", "requests/s",
                      instant=True)], width=6),
    ]


def where_to_look():
    return [
        bargauge_panel("Top 10 systems by burn rate (1h)", "Highest 1h burn rate of any SLO per system: start "
                       "with the top bar.", NONE,
                       [q(f"topk(10, max by (system) (slo:burn_rate:ratio_rate1h{{{SYSTEM}}}))", BY_SYSTEM,
                          instant=True)], thresholds=["green", (1, "orange"), (6, "red")]),
        bargauge_panel("Top 10 SLOs by burn rate (6h)", "The ten system/SLO pairs burning fastest over 6 hours.",
                       NONE, [q(f"topk(10, slo:burn_rate:ratio_rate6h{{{SYSTEM}}})", "{{system}} {{slo}}",
                                instant=True)], thresholds=["green", (1, "orange"), (6, "red")]),
        bargauge_panel("Least error budget left", "The ten system/SLO pairs with the least budget left in their "
                       "period: where reliability work pays first.", RATIO,
                       [q(f"bottomk(10, slo:error_budget_remaining:ratio{{{SYSTEM}}})", "{{system}} {{slo}}",
                          instant=True)], min_val=-0.5, max_val=1,
                       thresholds=["red", (0.25, "orange"), (0.5, "green")]),
    ]


def by_system():
    ingest = "flightdeck_ingest_messages_total"
    return [
        *api_red("system", BY_SYSTEM),
        timeseries_panel("Events stored by system", "Events newly stored per second, per system.", OPS,
                         [q(f'sum by (system) (rate({ingest}{{{SYSTEM},outcome="stored"}}[{RATE}]))', BY_SYSTEM)],
                         width=8),
        timeseries_panel("Ingest lag p99 by system", "99th percentile of publish-to-queryable time per system; the "
                         "freshness SLO line is 10 s.", SECONDS,
                         [q(f"histogram_quantile(0.99, sum by (system, le) (rate(flightdeck_ingest_lag_seconds_bucket"
                            f"{{{SYSTEM}}}[{RATE}])))", BY_SYSTEM)],
                         width=8, threshold_lines=True, thresholds=["green", (10, "red")],
                         runbooks=["FlightdeckIngestLagHigh"]),
        timeseries_panel("Dead letters by system", "Invalid messages dead-lettered per second, per system.", OPS,
                         [q(f"sum by (system) (rate(flightdeck_dlq_messages_total{{{SYSTEM}}}[{RATE}]))", BY_SYSTEM)],
                         width=8, runbooks=["FlightdeckDeadLetterRateHigh"]),
        timeseries_panel("Ingest paused by system", "Ingest workers paused by a database outage, per system.",
                         COUNT, [q(f"sum by (system) (flightdeck_ingest_paused{{{SYSTEM}}})", BY_SYSTEM)], width=8,
                         runbooks=["FlightdeckIngestStalled"]),
        timeseries_panel("Error budget remaining by system", "Error budget left per system and SLO over the "
                         "period.", RATIO, [q(f"slo:error_budget_remaining:ratio{{{SYSTEM}}}", "{{system}} {{slo}}")],
                         width=8),
        table_panel("Versions deployed", "Processes per system and version: a release rolling out across the fleet.",
                    [q(f"count by (system, version) (flightdeck_build_info{{{SYSTEM}}})", table_format=True)],
                    width=8, height=8),
        *pool_use("system", BY_SYSTEM),
    ]


def google_cloud():
    def by_label(expr):
        return f'max by (system) (label_replace({expr}, "system", "$1", "metadata_user_system", "(.+)"))'

    sub = 'subscription_id=~".+-ingest",metadata_user_system=~"$system"'
    sql = 'metadata_user_system=~"$system"'
    return [
        timeseries_panel("Pub/Sub backlog by system", "Undelivered messages of each system's ingest subscription.",
                         COUNT, [q(by_label(f"pubsub_googleapis_com:subscription_num_undelivered_messages{{{sub}}}"),
                                   BY_SYSTEM)], width=8, cloud=True, runbooks=["FlightdeckIngestStalled"]),
        timeseries_panel("Oldest unacknowledged message by system", "Age of the oldest unacknowledged message of "
                         "each system's ingest subscription.", SECONDS,
                         [q(by_label(f"pubsub_googleapis_com:subscription_oldest_unacked_message_age{{{sub}}}"),
                            BY_SYSTEM)], width=8, cloud=True, runbooks=["FlightdeckIngestBacklogStale"]),
        timeseries_panel("Cloud SQL CPU by system", "CPU utilisation of each system's Cloud SQL instance (0-1).",
                         RATIO, [q(by_label(f"cloudsql_googleapis_com:database_cpu_utilization{{{sql}}}"), BY_SYSTEM)],
                         width=8, cloud=True, min_val=0, max_val=1),
    ]


def build():
    return dashboard(
        UID, "flightdeck / fleet",
        "Every flightdeck system side by side: who burns budget, who is down, the same signals with one line per "
        "system (docs/observability.md 4.4). Generated from dashboards/src/fleet.py.",
        ["fleet"],
        [("Fleet at a glance", at_a_glance()),
         ("Where to look first", where_to_look()),
         ("Same signals, by system", by_system()),
         ("Firing alerts", [firing_alerts("Firing alerts by system", "Alerts firing now, counted per system, "
                                          "severity and alert.", "system, severity, alertname", width=20, height=7),
                            alerting_path(height=7)]),
         ("Google Cloud, by system", google_cloud(), True)],
        system_all=True)

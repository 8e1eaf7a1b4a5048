"""flightdeck / service overview: one system (or a few), API and ingest side by side, for the
on-call engineer first. Row by row: health at a glance, the API (RED by route, micro-cache),
consumers (per API key, with a `consumer` variable), readiness and overload protection, freshness
(the worker's lag next to the black-box probe), ingest, dead letters, the database pool (USE) and
builds, and the Google Cloud row (Pub/Sub subscription and Cloud SQL, from Cloud Monitoring).
"""

from common import (BYTES, COUNT, NONE, OPS, RATE, RATIO, REQPS, SECONDS, SYSTEM, api_red, consumer_variable,
                    dashboard, pool_use, q, ratio, slo_runbook, stat_panel, table_panel, timeseries_panel)

UID = "flightdeck-overview"
HTTP = "http_server_request_duration_seconds"
V1 = f'{SYSTEM},route=~"/v1/.*"'
MESSAGES = "flightdeck_ingest_messages_total"
CONSUMER_REQUESTS = "flightdeck_api_consumer_requests_total"
CONSUMER = f'{SYSTEM},consumer=~"$consumer"'
PROBE_RUNS = "flightdeck_probe_runs_total"
PROBE_FRESHNESS = "flightdeck_probe_freshness_seconds"
# The 10 s bucket in both spellings (Prometheus 3 stores le="10" as le="10.0").
LE_10 = 'le=~"10|10\\\\.0"'


def percentiles(metric, by="", quantiles=(0.5, 0.9, 0.99), selector=SYSTEM):
    group = f"le, {by}" if by else "le"
    return [q(f"histogram_quantile({p}, sum by ({group}) (rate({metric}_bucket{{{selector}}}[{RATE}])))",
              f"p{round(p * 100)}" + (f" {{{{{by}}}}}" if by else "")) for p in quantiles]


def health():
    return [
        stat_panel("API requests", "Requests per second answered by the API (every route).", REQPS,
                   [q(f"sum(rate({HTTP}_count{{{SYSTEM}}}[{RATE}]))", "requests/s", instant=True)]),
        stat_panel("API 5xx ratio", "Share of /v1/* requests answered with a 5xx (availability SLO: 99.9%).", RATIO,
                   [q(ratio(f'sum by (system) (rate({HTTP}_count{{{V1},status_code=~"5.."}}[{RATE}]))',
                            f"sum by (system) (rate({HTTP}_count{{{V1}}}[{RATE}]))"), "{{system}}", instant=True)],
                   decimals=3, thresholds=["green", (0.001, "red")], runbooks=[slo_runbook("api-availability")]),
        stat_panel("API p99 latency", "99th percentile of /v1/* request duration (latency SLO: 99% under 250 ms).",
                   SECONDS, [q(f"histogram_quantile(0.99, sum by (le) (rate({HTTP}_bucket{{{V1}}}[{RATE}])))", "p99",
                               instant=True)],
                   thresholds=["green", (0.25, "red")], runbooks=[slo_runbook("api-latency")]),
        stat_panel("Events stored", "Events newly stored per second by ingest.", OPS,
                   [q(f'sum(rate({MESSAGES}{{{SYSTEM},outcome="stored"}}[{RATE}]))', "stored/s", instant=True)]),
        stat_panel("Since last commit", "Seconds since ingest last committed a batch. Grows while nothing is "
                   "published (idle) and during a stall: read it with Events stored.", SECONDS,
                   [q(f"time() - max(flightdeck_ingest_last_commit_timestamp_seconds{{{SYSTEM}}})", "seconds",
                      instant=True)],
                   thresholds=["green", (300, "red")], runbooks=["FlightdeckIngestStalled"]),
        stat_panel("Targets up", "Scraped flightdeck processes that answer, per job. 0 is an outage or a blind "
                   "spot: every SLO of that job reads no errors.", NONE,
                   [q(f'sum by (job) (up{{{SYSTEM},job=~"flightdeck-api|flightdeck-ingest"}})', "{{job}}",
                      instant=True)],
                   thresholds=["red", (1, "green")],
                   runbooks=["FlightdeckJobDown", "FlightdeckTargetDown", "FlightdeckTargetAbsent"]),
    ]


def api():
    cache = "flightdeck_api_cache_requests_total"
    rate, errors, latency = api_red("route", "{{route}}", width=12)
    return [
        rate, errors,
        timeseries_panel("Client errors by route and status", "4xx per second by route and status: after a "
                         "consumer release they are theirs, after ours a contract break.", REQPS,
                         [q(f'sum by (route, status_code) (rate({HTTP}_count{{{SYSTEM},status_code=~"4.."}}[{RATE}]))',
                            "{{route}} {{status_code}}")]),
        latency,
        timeseries_panel("Latency percentiles (/v1/*)", "p50, p90 and p99 of /v1/* request duration; the latency "
                         "SLO line is 250 ms.", SECONDS, percentiles(HTTP, selector=V1),
                         threshold_lines=True, thresholds=["green", (0.25, "red")]),
        timeseries_panel("Requests in flight and open connections", "Requests being served right now and open "
                         "HTTP connections, per API instance (saturation; load shedding starts at "
                         "HTTP_MAX_IN_FLIGHT).", COUNT,
                         [q(f"sum by (instance) (http_server_active_requests{{{SYSTEM}}})", "in flight {{instance}}"),
                          q(f"sum by (instance) (flightdeck_http_open_connections{{{SYSTEM}}})",
                            "connections {{instance}}")]),
        timeseries_panel("Micro-cache hit ratio", "Share of cacheable lookups answered from the micro-cache; a drop "
                         "sends every request to PostgreSQL.", RATIO,
                         [q(ratio(f'sum by (cache) (rate({cache}{{{SYSTEM},result="hit"}}[{RATE}]))',
                                  f"sum by (cache) (rate({cache}{{{SYSTEM}}}[{RATE}]))"), "{{cache}}")],
                         min_val=0, max_val=1),
        timeseries_panel("Micro-cache lookups by result", "Hits, misses, coalesced waits and bypasses per second.",
                         OPS, [q(f"sum by (cache, result) (rate({cache}{{{SYSTEM}}}[{RATE}]))", "{{cache}} {{result}}")]),
        timeseries_panel("Micro-cache size", "Bytes held by the micro-cache per API instance, against its "
                         "configured budget.", BYTES,
                         [q(f"sum by (instance) (flightdeck_api_cache_bytes{{{SYSTEM}}})", "{{instance}}")]),
        timeseries_panel("Micro-cache evictions by reason", "Entries evicted per second by reason: evictions for "
                         "size mean the budget is too small for the working set.", OPS,
                         [q(f"sum by (reason) (rate(flightdeck_api_cache_evictions_total{{{SYSTEM}}}[{RATE}]))",
                            "{{reason}}")]),
    ]


def consumers():
    """Per API key: traffic, throttling, refusals, server errors and latency, for the `consumer` variable."""
    total = f"sum by (consumer) (rate({CONSUMER_REQUESTS}{{{CONSUMER}}}[{RATE}]))"

    def answered(status):
        return f'sum by (consumer) (rate({CONSUMER_REQUESTS}{{{CONSUMER},status_code=~"{status}"}}[{RATE}]))'

    return [
        timeseries_panel("Requests by consumer", "Requests per second by consumer: the API key's name, _other for "
                         "keys past API_CONSUMER_LABEL_LIMIT, _anonymous for requests without a valid key (missing, "
                         "unknown or revoked: all 401). Quotas are per key and per API instance.", REQPS,
                         [q(total, "{{consumer}}")], width=8),
        timeseries_panel("Throttled (429) by consumer", "Requests per second refused with 429 because the consumer "
                         "went past its key's quota (rate and burst, enforced in each API instance). The edge's own "
                         "throttle (Cloud Armor) answers before the API and is not counted here.", REQPS,
                         [q(f"{answered('429')} or {total} * 0", "{{consumer}}")], width=8,
                         runbooks=["FlightdeckConsumerThrottled"]),
        timeseries_panel("Throttled share by consumer", "Share of each consumer's requests answered 429. Above 10% "
                         "for 30 minutes, with at least 200 requests in 10 minutes, opens FlightdeckConsumerThrottled. "
                         "429s are the client's: they never spend the availability budget.", RATIO,
                         [q(ratio(answered("429"), total), "{{consumer}}")], width=8, min_val=0, max_val=1,
                         threshold_lines=True, thresholds=["green", (0.1, "red")],
                         runbooks=["FlightdeckConsumerThrottled"]),
        timeseries_panel("Unauthorized (401) by consumer", "Requests per second refused for a missing, unknown or "
                         "revoked key. They all read _anonymous (a key has a name only once it is valid): a rise "
                         "right after a revocation is that consumer still sending the old key.", REQPS,
                         [q(f"{answered('401')} or {total} * 0", "{{consumer}}")], width=8),
        timeseries_panel("Server error ratio by consumer", "Share of each consumer's requests answered with a 5xx: "
                         "one consumer alone means its query shapes fail (or its calls reach a sick instance); every "
                         "consumer means the API does (availability SLO).", RATIO,
                         [q(ratio(answered("5.."), total), "{{consumer}}")], width=8,
                         runbooks=[slo_runbook("api-availability")]),
        timeseries_panel("p99 latency by consumer", "99th percentile of request duration by consumer, throttled and "
                         "refused answers included (they are fast); the latency SLO line is 250 ms.", SECONDS,
                         [q(f"histogram_quantile(0.99, sum by (consumer, le) (rate("
                            f"flightdeck_api_consumer_request_duration_seconds_bucket{{{CONSUMER}}}[{RATE}])))",
                            "{{consumer}}")],
                         width=8, threshold_lines=True, thresholds=["green", (0.25, "red")],
                         runbooks=[slo_runbook("api-latency")]),
    ]


def protection():
    return [
        timeseries_panel("Ready processes", "flightdeck_ready per process: 1 when it accepts work, 0 while it "
                         "reports not ready (database unreachable, shutting down).", NONE,
                         [q(f"max by (job, instance) (flightdeck_ready{{{SYSTEM}}})", "{{job}} {{instance}}")],
                         width=8, min_val=0, max_val=1),
        table_panel("Unready reasons", "Why a process reports not ready, per reason.",
                    [q(f"max by (job, instance, reason) (flightdeck_unready{{{SYSTEM}}}) > 0", table_format=True)],
                    width=8, height=8, incident=True),
        timeseries_panel("Requests shed and panics", "Requests refused by load shedding (503 before any work) and "
                         "handler panics turned into 500s, per second.", REQPS,
                         [q(f"sum(rate(flightdeck_http_shed_total{{{SYSTEM}}}[{RATE}]))", "shed"),
                          q(f"sum(rate(flightdeck_http_panics_total{{{SYSTEM}}}[{RATE}]))", "panics")],
                         width=8, runbooks=[slo_runbook("api-availability")]),
    ]


def freshness():
    """The worker's own lag (white box) next to the probe's publish -> readable time (black box)."""
    runs = f"sum(rate({PROBE_RUNS}{{{SYSTEM}}}[{RATE}]))"
    judged = (f'(sum(rate({PROBE_RUNS}{{{SYSTEM},result="timeout"}}[{RATE}])) + '
              f"sum(rate({PROBE_FRESHNESS}_count{{{SYSTEM}}}[{RATE}])))")
    return [
        timeseries_panel("Ingest lag percentiles", "White box: commit time minus publish time per newly stored "
                         "event, measured by the worker; the freshness SLO line is 10 s. Blind to a stall (nothing "
                         "commits, nothing is observed) and to the API.", SECONDS,
                         percentiles("flightdeck_ingest_lag_seconds"),
                         threshold_lines=True, thresholds=["green", (10, "red")],
                         runbooks=["FlightdeckIngestLagHigh", slo_runbook("ingest-freshness")]),
        timeseries_panel("Black-box freshness (probe)", "Black box: from the probe publishing a synthetic event to "
                         "reading it through the public API (Pub/Sub, ingest, PostgreSQL and the API together); the "
                         "probe-freshness SLO line is 10 s. Above the ingest lag on the left by the publish call, the "
                         "API read and up to 100 ms of polling; a gap beyond that is outside the worker. Timed-out "
                         "probes have no observation: see the success ratio.", SECONDS,
                         percentiles(PROBE_FRESHNESS), threshold_lines=True, thresholds=["green", (10, "red")],
                         runbooks=[slo_runbook("probe-freshness")]),
        timeseries_panel("Probe success ratio", "Share of probe runs whose event was read back through the API "
                         "before PROBE_TIMEOUT_MS (every run counts, failed publishes included), and the "
                         "probe-freshness SLI: read back within 10 s / runs that published (objective 99%).", RATIO,
                         [q(ratio(f'sum(rate({PROBE_RUNS}{{{SYSTEM},result="ok"}}[{RATE}]))', runs), "read back"),
                          q(f"sum(rate({PROBE_FRESHNESS}_bucket{{{SYSTEM},{LE_10}}}[{RATE}])) / {judged}",
                            "within 10 s (SLI)")],
                         width=8, min_val=0, max_val=1, decimals=3, threshold_lines=True,
                         thresholds=["red", (0.99, "green")], runbooks=[slo_runbook("probe-freshness")]),
        timeseries_panel("Probe runs by result", "Probe runs per second by result: ok = read back, timeout = "
                         "published but not readable within PROBE_TIMEOUT_MS (the pipeline), error = the publish "
                         "itself failed (the probe's credentials, the topic, Pub/Sub).", OPS,
                         [q(f"sum by (result) (rate({PROBE_RUNS}{{{SYSTEM}}}[{RATE}]))", "{{result}}")],
                         width=8, runbooks=["FlightdeckProbeStale"]),
        timeseries_panel("Since last probe read back", "Seconds since the probe last read its event back through "
                         "the API (about PROBE_INTERVAL_MS while healthy). Above 5 minutes for 5 more opens "
                         "FlightdeckProbeStale.", SECONDS,
                         [q(f"time() - max by (instance) (flightdeck_probe_last_success_timestamp_seconds{{{SYSTEM}}})",
                            "{{instance}}")],
                         width=8, threshold_lines=True, thresholds=["green", (300, "red")],
                         runbooks=["FlightdeckProbeStale"]),
    ]


def ingest():
    return [
        timeseries_panel("Ingest throughput by outcome", "Delivered messages per second by outcome: failed = "
                         "released for redelivery (database or dead-letter publish trouble), invalid = bad publisher "
                         "data, duplicate = redeliveries.", OPS,
                         [q(f"sum by (outcome) (rate({MESSAGES}{{{SYSTEM}}}[{RATE}]))", "{{outcome}}")],
                         width=8, runbooks=["FlightdeckIngestStalled", slo_runbook("ingest-success")]),
        timeseries_panel("Batch write time", "Time of the statement that stores a batch: slow database vs "
                         "saturated worker.", SECONDS,
                         percentiles("flightdeck_ingest_batch_write_seconds", quantiles=(0.5, 0.99)), width=8),
        timeseries_panel("Batch size", "Messages per batch and batches per second: batches pinned at "
                         "INGEST_BATCH_MAX mean the worker is saturated.", COUNT,
                         [*percentiles("flightdeck_ingest_batch_size", quantiles=(0.5, 0.99)),
                          q(f"sum(rate(flightdeck_ingest_batch_size_count{{{SYSTEM}}}[{RATE}]))", "batches/s")],
                         width=8),
        timeseries_panel("Worker paused (database outage)", "1 while the worker has stopped pulling because the "
                         "database is unreachable; messages wait in Pub/Sub instead of being redelivered in a loop.",
                         NONE, [q(f"max by (instance) (flightdeck_ingest_paused{{{SYSTEM}}})", "{{instance}}")],
                         width=8, min_val=0, max_val=1, runbooks=["FlightdeckIngestStalled"]),
        timeseries_panel("Outstanding messages", "Messages pulled and not yet acknowledged or released (flow "
                         "control): what the worker can see of the queue locally.", COUNT,
                         [q(f"sum by (instance) (flightdeck_ingest_outstanding_messages{{{SYSTEM}}})", "{{instance}}")],
                         width=8, runbooks=["FlightdeckIngestLagHigh"]),
        timeseries_panel("Outstanding bytes", "Bytes of the messages held by the worker (flow control).", BYTES,
                         [q(f"sum by (instance) (flightdeck_ingest_outstanding_bytes{{{SYSTEM}}})", "{{instance}}")],
                         width=8),
    ]


def dead_letters():
    dlq, delivered = "flightdeck_dlq_messages_total", MESSAGES
    return [
        timeseries_panel("Dead letters by reason", "Invalid messages published to the dead-letter topic per second, "
                         "by reason (too_large, schema, JSON, fields, refused by the database).", OPS,
                         [q(f"sum by (reason) (rate({dlq}{{{SYSTEM}}}[{RATE}]))", "{{reason}}")], width=8,
                         runbooks=["FlightdeckDeadLetterRateHigh"]),
        timeseries_panel("Dead-letter share of deliveries", "Dead letters / delivered messages; above 5% for 15 "
                         "minutes opens a ticket.", RATIO,
                         [q(f"sum(rate({dlq}{{{SYSTEM}}}[{RATE}])) / sum(rate({delivered}{{{SYSTEM}}}[{RATE}]))",
                            "dead-lettered")], width=8, threshold_lines=True, thresholds=["green", (0.05, "red")],
                         runbooks=["FlightdeckDeadLetterRateHigh"]),
        timeseries_panel("Dead-letter publish failures", "Publishes to the dead-letter topic that failed per second: "
                         "the message is released for redelivery (outcome failed) instead of being parked.", OPS,
                         [q(f"sum(rate(flightdeck_dlq_publish_failures_total{{{SYSTEM}}}[{RATE}]))", "failures/s")],
                         width=8, runbooks=["FlightdeckDeadLetterPublishFailing"]),
    ]


def database():
    return [
        *pool_use("job", "{{job}}"),
        timeseries_panel("Database pool connections", "Connections by state and the configured maximum, per job.",
                         COUNT, [q(f"sum by (job, state) (flightdeck_db_pool_connections{{{SYSTEM}}})", "{{job}} {{state}}"),
                                 q(f"sum by (job) (flightdeck_db_pool_max{{{SYSTEM}}})", "{{job}} max")]),
        table_panel("Running builds", "Version and git commit of every running process: two versions at once is a "
                    "rollout in progress (or a stuck one).",
                    [q(f"max by (job, instance, version, git_sha) (flightdeck_build_info{{{SYSTEM}}})",
                       table_format=True)], width=12, height=8),
    ]


def google_cloud():
    """Cloud Monitoring metrics through Managed Service for Prometheus: the subscription carries the user
    label `system` (metadata_user_system), and so does the Cloud SQL instance."""
    sub = 'subscription_id=~".+-ingest",metadata_user_system=~"$system"'
    sql = 'metadata_user_system=~"$system"'
    pubsub, cloudsql = "pubsub_googleapis_com:subscription", "cloudsql_googleapis_com:database"
    return [
        timeseries_panel("Pub/Sub backlog", "Undelivered messages of the ingest subscription: ingest keeping up "
                         "or not. A backlog with no commits is a stall.", COUNT,
                         [q(f"max by (subscription_id) ({pubsub}_num_undelivered_messages{{{sub}}})",
                            "{{subscription_id}}")], width=8, cloud=True,
                         runbooks=["FlightdeckIngestStalled"]),
        timeseries_panel("Oldest unacknowledged message", "Age of the oldest message not yet acknowledged: how late "
                         "the next event will be, even when the backlog is small.", SECONDS,
                         [q(f"max by (subscription_id) ({pubsub}_oldest_unacked_message_age{{{sub}}})",
                            "{{subscription_id}}")], width=8, cloud=True, threshold_lines=True,
                         thresholds=["green", (600, "red")], runbooks=["FlightdeckIngestBacklogStale"]),
        timeseries_panel("Dead-lettered by Pub/Sub", "Messages Pub/Sub forwarded to the dead-letter topic after the "
                         "maximum delivery attempts (a delta metric, read as a rate): messages the worker never "
                         "acknowledged, unlike the app's own dead letters.", OPS,
                         [q(f"sum by (subscription_id) (rate({pubsub}_dead_letter_message_count{{{sub}}}[{RATE}]))",
                            "{{subscription_id}}")], width=8, cloud=True,
                         runbooks=["FlightdeckPubsubDeadLettered"]),
        timeseries_panel("Cloud SQL CPU", "CPU utilisation of the Cloud SQL instance (0-1).", RATIO,
                         [q(f"max by (database_id) ({cloudsql}_cpu_utilization{{{sql}}})", "{{database_id}}")],
                         width=8, cloud=True, min_val=0, max_val=1, threshold_lines=True,
                         thresholds=["green", (0.8, "red")]),
        timeseries_panel("Cloud SQL connections", "Backends connected to PostgreSQL per database: every process's "
                         "pool plus admin sessions, against max_connections.", COUNT,
                         [q(f"sum by (database_id, database) ({cloudsql}_postgresql_num_backends{{{sql}}})",
                            "{{database_id}} {{database}}")], width=8, cloud=True,
                         runbooks=["FlightdeckDatabasePoolSaturated"]),
        timeseries_panel("Cloud SQL disk", "Share of the instance's disk in use (0-1); automatic storage increase "
                         "grows it, at a cost.", RATIO,
                         [q(f"max by (database_id) ({cloudsql}_disk_utilization{{{sql}}})", "{{database_id}}")],
                         width=8, cloud=True, min_val=0, max_val=1, threshold_lines=True,
                         thresholds=["green", (0.9, "red")]),
    ]


def build():
    return dashboard(
        UID, "flightdeck / service overview",
        "API and ingest of one flightdeck system: rate, errors, latency, consumers, freshness (white box and "
        "black box), dead letters, saturation "
        "(docs/observability.md 4.2). Generated from dashboards/src/overview.py.",
        ["overview"],
        [("Health at a glance", health()),
         ("API", api()),
         ("Consumers", consumers()),
         ("Readiness and overload protection", protection()),
         ("Freshness: white box and black box", freshness()),
         ("Ingest", ingest()),
         ("Dead letters", dead_letters()),
         ("Database pool and builds", database()),
         ("Google Cloud: Pub/Sub subscription and Cloud SQL", google_cloud(), True)],
        variables=[consumer_variable()])


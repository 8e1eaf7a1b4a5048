"""The conventions every flightdeck dashboard follows, written once on top of grafana-foundation-sdk.

- a `datasource` variable that every panel and query uses, and a `system` variable read from
  `flightdeck_build_info` wherever queries filter on `system=~"$system"`;
- a unit and a description on every panel; `$__rate_interval` in every rate;
- RED rows for the API and USE rows for the database pool, built by one function each so the
  service overview (by route, by process) and the fleet (by system) ask the same questions;
- runbook links taken from the alert rules (sources.runbook_url) on the panel showing the symptom;
- markers for the two kinds of panel that are empty on a healthy local pipeline: incident-only
  panels and Google Cloud panels (their metrics come from Cloud Monitoring);
- stable uids and panel ids, so the generated JSON only changes when the source does.
"""

import json
import sys

from grafana_foundation_sdk.builders import bargauge, dashboard as db, prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm, dashboard as dm
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

import sources

DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
SYSTEM = 'system=~"$system"'
RATE = "$__rate_interval"

# Units (Grafana unit ids).
REQPS, OPS, RATIO, SECONDS, BYTES, COUNT, NONE = "reqps", "ops", "percentunit", "s", "bytes", "short", "none"

# A panel that is empty while the system is healthy says so in its description; the lint checks
# every marked panel is listed in the tests and the live validation only requires it to evaluate.
INCIDENT = "Only shows data during incidents."
# A panel whose metrics exist only in Google Cloud (Managed Service for Prometheus reads them from
# Cloud Monitoring). The live validation skips these queries by this marker, with a reason.
CLOUD = "Google Cloud only: Managed Service for Prometheus reads it from Cloud Monitoring."
CLOUD_METRIC_PREFIXES = ("pubsub_googleapis_com:", "cloudsql_googleapis_com:")

# Service metrics that panels show before every build exposes them, with why. The live
# validation requires data from these panels as soon as the running processes expose the metric;
# until then it only requires their queries to evaluate. Remove an entry once docs/metrics.md lists
# the metric (a test fails until then).
NOT_YET_EXPORTED: dict[str, str] = {}


def q(expr, legend="", *, instant=False, table_format=False):
    """One Prometheus query on the datasource variable."""
    query = prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DATASOURCE)
    query = query.instant() if instant or table_format else query.range()
    if table_format:
        query = query.format(PromQueryFormat.TABLE)
    return query


_UNLINKED = set()


def slo_runbook(slo):
    """The runbook section of an SLO, shared by all its generated alerts (burn rates, absent inputs)."""
    return ("SLO*", slo)


def runbook_links(*alerts):
    """Links to the runbook sections of `alerts`: names, or (name, slo) for generated SLO alerts."""
    links = []
    for alert in alerts:
        name, slo = alert if isinstance(alert, tuple) else (alert, None)
        url = sources.runbook_url(name, slo)
        if url is None:
            if name not in _UNLINKED:
                _UNLINKED.add(name)
                print(f"notice: alert {name} is in no rule file yet: no runbook link", file=sys.stderr)
            continue
        title = f"Runbook: SLO {slo}" if name.endswith("*") else f"Runbook: {name}" + (f" ({slo})" if slo else "")
        links.append(db.DashboardLink(title).url(url).target_blank(True))
    return links


def _common(panel, title, description, unit, queries, *, width, height, runbooks=(), decimals=None,
            min_val=None, max_val=None, thresholds=None, cloud=False, incident=False):
    notes = [description] + ([INCIDENT] if incident else []) + ([CLOUD] if cloud else [])
    panel = (panel.title(title).description(" ".join(notes)).datasource(DATASOURCE).unit(unit)
             .span(width).height(height))
    for ref, query in zip("ABCDEFGHIJ", queries):
        panel = panel.with_target(query.ref_id(ref))
    links = runbook_links(*runbooks)
    if links:
        panel = panel.links(links)
    if decimals is not None:
        panel = panel.decimals(decimals)
    if min_val is not None:
        panel = panel.min(min_val)
    if max_val is not None:
        panel = panel.max(max_val)
    if thresholds:
        steps = [dm.Threshold(value=None, color=thresholds[0])]
        steps += [dm.Threshold(value=value, color=color) for value, color in thresholds[1:]]
        panel = panel.thresholds(db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(steps))
    return panel


def timeseries_panel(title, description, unit, queries, *, width=12, height=8, threshold_lines=False, **kw):
    panel = (timeseries.Panel()
             .legend(cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.TABLE)
                     .placement(cm.LegendPlacement.BOTTOM).show_legend(True).calcs(["lastNotNull", "max"]))
             .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING)))
    if threshold_lines:
        panel = panel.thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.DASHED))
    return _common(panel, title, description, unit, queries, width=width, height=height, **kw)


def stat_panel(title, description, unit, queries, *, width=4, height=4, **kw):
    panel = (stat.Panel().reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False))
             .color_mode(cm.BigValueColorMode.VALUE).graph_mode(cm.BigValueGraphMode.NONE))
    if kw.get("thresholds"):
        panel = panel.color_scheme(db.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
    return _common(panel, title, description, unit, queries, width=width, height=height, **kw)


def bargauge_panel(title, description, unit, queries, *, width=8, height=9, **kw):
    panel = (bargauge.Panel().reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False))
             .orientation(cm.VizOrientation.HORIZONTAL).display_mode(cm.BarGaugeDisplayMode.GRADIENT))
    if kw.get("thresholds"):
        panel = panel.color_scheme(db.FieldColor().mode(dm.FieldColorModeId.THRESHOLDS))
    return _common(panel, title, description, unit, queries, width=width, height=height, **kw)


def table_panel(title, description, queries, *, width=24, height=6, **kw):
    panel = (table.Panel().show_header(True)
             .with_transformation(dm.DataTransformerConfig(id_val="organize",
                                                           options={"excludeByName": {"Time": True}})))
    return _common(panel, title, description, NONE, queries, width=width, height=height, **kw)


def ratio(errors, total):
    """errors / total with absent error series read as zero (a series is created on its first error)."""
    return f"({errors} or {total} * 0) / {total}"


def api_red(by, legend, *, scope=SYSTEM, width=8):
    """Rate, errors and duration of the API, one line per `by` (route, or system in the fleet)."""
    count = "http_server_request_duration_seconds_count"
    v1 = f'{scope},route=~"/v1/.*"'
    return [
        timeseries_panel(
            f"API request rate by {by}", f"Requests per second by {by} (every route, health and OpenAPI included).",
            REQPS, [q(f"sum by ({by}) (rate({count}{{{scope}}}[{RATE}]))", legend)], width=width),
        timeseries_panel(
            f"API server error ratio by {by}",
            f"Share of /v1/* requests answered with a 5xx, by {by}: the availability SLI before it is recorded.",
            RATIO, [q(ratio(f'sum by ({by}) (rate({count}{{{v1},status_code=~"5.."}}[{RATE}]))',
                            f"sum by ({by}) (rate({count}{{{v1}}}[{RATE}]))"), legend)],
            width=width, runbooks=[slo_runbook("api-availability")]),
        timeseries_panel(
            f"API p99 latency by {by}", f"99th percentile of /v1/* request duration by {by}; the latency SLO "
            "counts requests over 250 ms.", SECONDS,
            [q(f"histogram_quantile(0.99, sum by ({by}, le) (rate(http_server_request_duration_seconds_bucket"
               f"{{{v1}}}[{RATE}])))", legend)],
            width=width, threshold_lines=True, thresholds=["green", (0.25, "red")],
            runbooks=[slo_runbook("api-latency")]),
    ]


def pool_use(by, legend, *, width=8):
    """Utilisation and saturation of the PostgreSQL pool: in use / max, waiters and wait time."""
    return [
        timeseries_panel(
            f"Database pool utilisation by {by}",
            "Connections checked out / DB_POOL_MAX (worst process of each line). Above 90% for 10 minutes opens "
            "a ticket; requests and batches start to queue for a connection.",
            RATIO, [q(f"max by ({by}) (max by ({by}, job, instance) (flightdeck_db_pool_connections{{{SYSTEM},"
                      f'state="in_use"}}) / max by ({by}, job, instance) (flightdeck_db_pool_max{{{SYSTEM}}}))',
                      legend)],
            width=width, min_val=0, max_val=1, threshold_lines=True, thresholds=["green", (0.9, "red")],
            runbooks=["FlightdeckDatabasePoolSaturated"]),
        timeseries_panel(
            f"Database pool waiters by {by}",
            "Tasks waiting for a connection right now (sampled at scrape time): above zero the pool is the "
            "bottleneck, whatever the utilisation says.",
            COUNT, [q(f"sum by ({by}) (flightdeck_db_pool_waiters{{{SYSTEM}}})", legend)], width=width,
            runbooks=["FlightdeckDatabasePoolSaturated"]),
        timeseries_panel(
            f"Database pool wait p99 by {by}",
            "99th percentile of the time a request or batch waited to check out a connection: the latency "
            "the pool adds before any query runs.",
            SECONDS, [q(f"histogram_quantile(0.99, sum by ({by}, le) (rate(flightdeck_db_pool_wait_seconds_bucket"
                        f"{{{SYSTEM}}}[{RATE}])))", legend)], width=width,
            threshold_lines=True, thresholds=["green", (0.1, "red")], runbooks=["FlightdeckDatabasePoolWaitHigh"]),
    ]


def firing_alerts(title, description, expr_by=None, *, width, height):
    """The firing alerts table (incident-only: empty while healthy, the always-firing Watchdog aside)."""
    alerts = 'ALERTS{alertstate="firing",alertname!="Watchdog",system=~"$system|"}'
    expr = f"count by ({expr_by}) ({alerts})" if expr_by else alerts
    return table_panel(title, description, [q(expr, table_format=True)], width=width, height=height, incident=True)


def alerting_path(*, width=4, height=8):
    """Whether alerts are evaluated at all: the Watchdog alert fires all the time when they are."""
    return stat_panel("Alerting path", "1 while the always-firing Watchdog alert fires: rules are evaluated and "
                      "alerts reach Alertmanager. 0 means no alert can fire, whatever this dashboard shows.", NONE,
                      [q('count(ALERTS{alertname="Watchdog",alertstate="firing"}) or vector(0)', "Watchdog",
                         instant=True)], width=width, height=height, thresholds=["red", (1, "green")],
                      runbooks=["Watchdog"])


def system_variable(include_all):
    variable = (db.QueryVariable("system").label("System").datasource(DATASOURCE)
                .query("label_values(flightdeck_build_info, system)")
                .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
                .multi(True).include_all(include_all))
    if include_all:
        variable = variable.all_value(".*").current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
    return variable


def consumer_variable():
    """The API consumers (API key names, `_other`, `_anonymous`) of the selected systems; All by default."""
    return (db.QueryVariable("consumer").label("Consumer").datasource(DATASOURCE)
            .query(f"label_values(flightdeck_api_consumer_requests_total{{{SYSTEM}}}, consumer)")
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True).all_value(".*")
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"])))


def dashboard(uid, title, description, tags, rows, *, system_all=False, variables=()):
    """A dashboard of `rows`: (title, panels) or (title, panels, collapsed) in reading order;
    `variables` come after the datasource and system ones."""
    builder = (db.Dashboard(title).uid(uid).description(description).tags(["flightdeck", *tags])
               .editable().tooltip(dm.DashboardCursorSync.CROSSHAIR).timezone("utc").refresh("30s")
               .time("now-6h", "now").version(1)
               .annotation(db.AnnotationQuery().name("Annotations & Alerts").built_in(1).type("dashboard")
                           .datasource(dm.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
                           .enable(True).hide(True).icon_color("rgba(0, 211, 255, 1)"))
               .with_variable(db.DatasourceVariable("datasource").label("Data source").type("prometheus"))
               .with_variable(system_variable(system_all))
               .link(db.DashboardLink("flightdeck dashboards").type(dm.DashboardLinkType.DASHBOARDS)
                     .tags(["flightdeck"]).as_dropdown(True)))
    for variable in variables:
        builder = builder.with_variable(variable)
    for row in rows:
        title, panels, collapsed = (*row, False) if len(row) == 2 else row
        if collapsed:
            folded = db.Row(title).collapsed(True)
            for panel in panels:
                folded = folded.with_panel(panel)
            builder = builder.with_row(folded)
        else:
            builder = builder.with_row(db.Row(title))
            for panel in panels:
                builder = builder.with_panel(panel)
    return builder


def render(builder):
    """The dashboard as Grafana JSON text: panel ids numbered in reading order, no database id."""
    model = builder.build()
    number = 0
    for panel in model.panels:
        number += 1
        panel.id_val = number
        for nested in getattr(panel, "panels", None) or []:
            number += 1
            nested.id_val = number
    data = json.loads(json.dumps(model, cls=JSONEncoder))
    data["id"] = None
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

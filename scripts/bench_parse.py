#!/usr/bin/env python3
"""Parses wrk and pgbench output into JSON lines, and renders the benchmark report.

  bench_parse.py wrk NAME [PID] < wrk-output   (PID: the server; its CPU time per request is added)
  bench_parse.py pgbench NAME DIR        (DIR holds pgbench's summary.txt and -l logs)
  bench_parse.py overload BEFORE AFTER SECONDS IN_FLIGHT CONNECTIONS DELAY_MS   (two /metrics scrapes of the serve under overload)
  bench_parse.py report RESULTS.jsonl docs/performance.md
"""
import datetime
import glob
import json
import os
import platform
import re
import sys

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return round(float(value) * UNITS[unit], 3)


def parse_wrk(name, text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return {"kind": "http", "name": name, "rps": round(rps), "p50_ms": p50, "p99_ms": p99,
            "non_2xx": int(bad.group(1)) if bad else 0, "socket_errors": errors.group(0) if errors else ""}


def cpu_seconds(pid):
    """User plus system CPU time a process has used so far (proc(5): fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_wrk_measuring(name, pid, stream):
    """parse_wrk, plus the server's CPU microseconds per request over the run: read before wrk
    prints anything (this starts with wrk) and after its output ends (wrk has exited)."""
    before = cpu_seconds(pid)
    text = stream.read()
    used = cpu_seconds(pid) - before
    result = parse_wrk(name, text)
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    result["server_cpu_us"] = round(used * 1e6 / max(requests, 1), 1)
    return result


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def parse_pgbench(name, directory):
    summary = open(os.path.join(directory, "summary.txt")).read()
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", summary).group(1))
    latencies = []
    for path in glob.glob(os.path.join(directory, "pgbench_log.*")):
        with open(path) as log:
            latencies += [int(line.split()[2]) / 1000.0 for line in log if line.strip()]
    return {"kind": "sql", "name": name, "tps": round(tps), "p50_ms": round(percentile(latencies, 0.5), 3),
            "p99_ms": round(percentile(latencies, 0.99), 3)}


def scrape(path):
    """`series -> value` of a Prometheus text exposition."""
    values = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        series, value = line.rsplit(" ", 1)
        values[series] = float(value)
    return values


def parse_overload(before_path, after_path, seconds, in_flight, connections, delay_ms):
    """Admitted (200) and shed (503) requests of /v1/events between two scrapes, and the admitted
    requests' p99 as the upper bound of the histogram bucket that holds it."""
    before, after = scrape(before_path), scrape(after_path)
    series = 'http_server_request_duration_seconds_{}{{method="GET",route="/v1/events",status_code="{}"{}}}'
    delta = lambda key: after.get(key, 0.0) - before.get(key, 0.0)
    admitted = delta(series.format("count", "200", ""))
    shed = delta(series.format("count", "503", ""))
    buckets = sorted(
        (float(m.group(1)), delta(key)) for key in after
        if (m := re.search(r'status_code="200",le="([^"+]+)"', key)) and "route=\"/v1/events\"" in key)
    p99 = next((le for le, count in buckets if count >= 0.99 * admitted), float("inf"))
    return {"kind": "overload", "in_flight": int(in_flight), "connections": int(connections),
            "delay_ms": int(delay_ms), "admitted": int(admitted), "shed": int(shed),
            "admitted_rps": round(admitted / float(seconds)), "shed_ratio": round(shed / max(admitted + shed, 1), 3),
            "admitted_p99_le_ms": round(p99 * 1000, 1)}


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


def cpu(result):
    """The server's CPU microseconds per request, or n/a when the run did not measure it."""
    return result.get("server_cpu_us", "n/a")


def report(results_path, doc_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    http = {r["name"]: r for r in rows if r["kind"] == "http"}
    sql = {r["name"]: r for r in rows if r["kind"] == "sql"}
    one = {r["kind"]: r for r in rows if r["kind"] in ("startup", "sink", "freshness", "binary")}
    rss = {r["process"]: r["kb"] for r in rows if r["kind"] == "rss"}
    e2e = [r for r in rows if r["kind"] == "e2e"]
    lines = [f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
             f"({platform.machine()}), release build, 50 connections, "
             f"{os.environ.get('BENCH_SECONDS', '10')} s per measurement, `make bench`.", ""]
    lines += ["### API (uncached) next to pgbench running the same SQL", "",
              "| Endpoint | API req/s | p50 ms | p99 ms | serve CPU us/req | pgbench tps | p50 ms | p99 ms | API / pgbench | Target |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name in ("events", "filtered", "flight", "stats"):
        a, s = http.get(f"api_{name}"), sql.get(f"sql_{name}")
        if a and s:
            target = {"events": ">= 0.80x, p99 <= 25 ms", "filtered": ">= 0.80x"}.get(name, "")
            lines.append(f"| {name} | {a['rps']} | {a['p50_ms']} | {a['p99_ms']} | {cpu(a)} | {s['tps']} | {s['p50_ms']} | {s['p99_ms']} | "
                         f"{ratio(a['rps'], s['tps'])} | {target} |")
    keyed, open_feed = http.get("api_events"), http.get("api_events_noauth")
    if keyed and open_feed:
        lines += ["", "### Cost of the API key check (uncached /v1/events?limit=50)", "",
                  "| Server | req/s | p50 ms | p99 ms |", "| --- | ---: | ---: | ---: |",
                  f"| API key checked, quota spent (the default) | {keyed['rps']} | {keyed['p50_ms']} | {keyed['p99_ms']} |",
                  f"| API_AUTH=off | {open_feed['rps']} | {open_feed['p50_ms']} | {open_feed['p99_ms']} |", "",
                  f"Authenticated / unauthenticated: **{ratio(keyed['rps'], open_feed['rps'])}**."]
    cached, hello = http.get("api_events_cached"), http.get("axum_hello")
    if cached and hello:
        lines += ["", "### Hot reads: micro-cache next to a bare axum server", "",
                  "| Server | req/s | p50 ms | p99 ms | server CPU us/req |", "| --- | ---: | ---: | ---: | ---: |",
                  f"| /v1/events?limit=50, cache 1 s | {cached['rps']} | {cached['p50_ms']} | {cached['p99_ms']} | {cpu(cached)} |",
                  f"| axum hello (ceiling) | {hello['rps']} | {hello['p50_ms']} | {hello['p99_ms']} | {cpu(hello)} |", "",
                  f"Cached / ceiling: **{ratio(cached['rps'], hello['rps'])}** (target >= 0.70x)."]
        same = http.get("axum_same_bytes")
        page = next((r["bytes"] for r in rows if r["kind"] == "page_bytes"), None)
        if same and page:
            lines.append(f"Bare axum sending a static body of the page's {page} bytes: {same['rps']} req/s, p99 "
                         f"{same['p99_ms']} ms, {cpu(same)} us of CPU per request; cached / that: "
                         f"**{ratio(cached['rps'], same['rps'])}** (the rest of the gap to the hello ceiling is the "
                         "body crossing the loopback).")
        for name, label in (("api_events_cached_zstd", "same page, zstd (compressed once per TTL)"),
                            ("api_events_cached_304", "same page, If-None-Match: its ETag (304)")):
            if name in http:
                r = http[name]
                lines.append(f"{label}: {r['rps']} req/s, p99 {r['p99_ms']} ms, {cpu(r)} us of CPU per request, "
                             f"**{ratio(r['rps'], cached['rps'])}** the cached 200.")
    codings = {r["coding"]: r["bytes"] for r in rows if r["kind"] == "coding"}
    if "identity" in codings and "api_events" in http:
        plain = codings["identity"]
        lines += ["", "### Compression of /v1/events?limit=50 (uncached, compressed per request)", "",
                  "| Accept-Encoding | bytes | of identity | req/s | p99 ms | req/s / identity |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |",
                  f"| identity | {plain} | 100% | {http['api_events']['rps']} | {http['api_events']['p99_ms']} | 1.00x |"]
        for coding in ("zstd", "br", "gzip"):
            r = http.get(f"api_events_{coding}")
            if coding in codings and r:
                lines.append(f"| {coding} | {codings[coding]} | {codings[coding] / plain * 100:.1f}% | {r['rps']} | "
                             f"{r['p99_ms']} | {ratio(r['rps'], http['api_events']['rps'])} |")
        lines += ["", "Target: a compressed 50-event page at most 25% of the identity bytes."]
    overload, offered = next((r for r in rows if r["kind"] == "overload"), None), http.get("api_overload")
    capacity = http.get("api_events")
    if overload and offered and capacity:
        lines += ["", f"### Overload: about 3x capacity offered against HTTP_MAX_IN_FLIGHT={overload['in_flight']}, uncached", "",
                  f"{overload['connections']} wrk connections, each waiting {overload['delay_ms']} ms between requests "
                  "(so a shed answer does not fire the next request at once).", "",
                  "| Figure | Value | Next to |", "| --- | ---: | --- |",
                  f"| offered (every response, shed ones included) | {offered['rps']} req/s | "
                  f"{ratio(offered['rps'], capacity['rps'])} the capacity measured above ({capacity['rps']} req/s) |",
                  f"| admitted (200) | {overload['admitted_rps']} req/s | |",
                  f"| shed (503 + Retry-After) | {overload['shed_ratio'] * 100:.1f}% of responses | |",
                  f"| admitted p99 (histogram bucket bound) | <= {overload['admitted_p99_le_ms']} ms | SLO threshold 250 ms |"]
    if "sink" in one:
        s = one["sink"]["result"]
        lines += ["", "### Ingest sink next to raw binary COPY (same rows, same indexes, batches of 1,000)", "",
                  f"Batch writer {s['sink_rows_per_s']:.0f} rows/s; binary COPY {s['copy_rows_per_s']:.0f} rows/s; "
                  f"**{ratio(s['sink_rows_per_s'], s['copy_rows_per_s'])}** (target >= 0.80x). The writer COPYs into "
                  "a staging table, then deduplicates, upserts per-flight state and (by trigger) the daily "
                  "statistics rollup in one transaction; COPY does none of that."]
    if e2e:
        lines += ["", "### Ingest end to end next to a bare consumer (backlog of 60,000 events)", "",
                  "| Streams | ingest events/s | bare consumer msg/s | ingest / bare | ingest peak RSS MB | outstanding-bytes budget MB |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in e2e:
            budget = f"{r['budget_bytes'] / 1048576:.0f}" if "budget_bytes" in r else ""
            lines.append(f"| {r['streams']} | {r['events_per_s']} | {r['bare']['messages_per_s']:.0f} | "
                         f"{ratio(r['events_per_s'], r['bare']['messages_per_s'])} | {r['ingest_rss_kb'] / 1024:.1f} | {budget} |")
        lines += ["", "Target: >= 0.90x the bare consumer."]
    lines += ["", "### Freshness, start-up, memory, size", "", "| Figure | Value | Target |", "| --- | ---: | --- |"]
    if "freshness" in one:
        f = one["freshness"]
        lines.append(f"| publish -> queryable p50 at 2,000 events/s ({f['events']} events) | {f['p50_ms']} ms | |")
        lines.append(f"| publish -> queryable p99 at 2,000 events/s | {f['p99_ms']} ms | <= 1000 ms |")
    if "startup" in one:
        lines.append(f"| serve start-up to ready (/readyz 200) | {one['startup']['ms']} ms | <= 150 ms |")
    if "serve" in rss:
        lines.append(f"| serve peak RSS under load | {rss['serve'] / 1024:.1f} MB | <= 64 MB |")
    if "binary" in one:
        lines.append(f"| release binary | {one['binary']['bytes'] / 1048576:.1f} MB | |")
    table = "\n".join(lines)
    print(table)
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    doc = open(doc_path).read() if os.path.exists(doc_path) else f"# Performance\n\n{start}\n{end}\n"
    if start not in doc:
        doc += f"\n{start}\n{end}\n"
    before, rest = doc.split(start, 1)
    after = rest.split(end, 1)[1]
    open(doc_path, "w").write(f"{before}{start}\n{table}\n{end}{after}")


def write_section(doc_path, marker, table):
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    doc = open(doc_path).read()
    if start not in doc:
        doc += f"\n{start}\n{end}\n"
    before, rest = doc.split(start, 1)
    after = rest.split(end, 1)[1]
    open(doc_path, "w").write(f"{before}{start}\n{table}\n{end}{after}")


def growth(results_path, doc_path):
    """The cost-growth table of `make bench-growth` (scripts/bench_growth.sh)."""
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    sizes = sorted({r["events"] for r in rows if r["kind"] == "growth"})
    by = {(r["events"], r["result"]["name"]): r["result"] for r in rows if r["kind"] == "growth"}
    flights = {r["events"]: r["flights"] for r in rows if r["kind"] == "growth"}
    lines = [f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs, "
             f"release build, uncached, 50 connections, {os.environ.get('BENCH_SECONDS', '5')} s each, "
             "`make bench-growth`.", "",
             "| Endpoint | " + " | ".join(f"{s:,} events / {flights[s]:,} flights: req/s, p99 ms" for s in sizes)
             + " | largest / smallest |",
             "| --- | " + " | ".join("---:" for _ in sizes) + " | ---: |"]
    labels = {"events": "/v1/events?limit=50", "deep": "same, page 40 (keyset cursor)",
              "flight": "/v1/flights/{id}", "stats": "/v1/stats/delays, one origin, 92 days"}
    for name, label in labels.items():
        cells = [by.get((s, name)) for s in sizes]
        if all(cells):
            lines.append(f"| {label} | " + " | ".join(f"{c['rps']}, {c['p99_ms']}" for c in cells)
                         + f" | {ratio(cells[-1]['rps'], cells[0]['rps'])} |")
    largest = sizes[-1] if sizes else None
    stats, flight = by.get((largest, "stats")), by.get((largest, "flight"))
    if stats and flight:
        lines += ["", f"At {largest:,} events the statistics answer at **{ratio(stats['rps'], flight['rps'])}** the "
                  "flight lookup's req/s (target: within 2x, i.e. >= 0.50x; p99 <= 25 ms)."]
    sinks = {r["mode"]: r["result"] for r in rows if r["kind"] == "growth_sink"}
    if "rollup" in sinks and "no-rollup" in sinks:
        on, off = sinks["rollup"], sinks["no-rollup"]
        lines += ["", "| Batch writer (30,000 rows) | rows/s | binary COPY rows/s, same run | writer / COPY |",
                  "| --- | ---: | ---: | ---: |",
                  f"| daily rollup maintained (the default) | {on['sink_rows_per_s']:.0f} | {on['copy_rows_per_s']:.0f} | "
                  f"{ratio(on['sink_rows_per_s'], on['copy_rows_per_s'])} |",
                  f"| rollup triggers off (measurement only) | {off['sink_rows_per_s']:.0f} | {off['copy_rows_per_s']:.0f} | "
                  f"{ratio(off['sink_rows_per_s'], off['copy_rows_per_s'])} |", "",
                  f"The rollup costs the writer {(1 - on['sink_rows_per_s'] / off['sink_rows_per_s']) * 100:.0f}% of its rows/s."]
    table = "\n".join(lines)
    print(table)
    write_section(doc_path, "growth", table)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "wrk" and len(sys.argv) > 3:
        print(json.dumps(parse_wrk_measuring(sys.argv[2], sys.argv[3], sys.stdin)))
    elif mode == "wrk":
        print(json.dumps(parse_wrk(sys.argv[2], sys.stdin.read())))
    elif mode == "pgbench":
        print(json.dumps(parse_pgbench(sys.argv[2], sys.argv[3])))
    elif mode == "overload":
        print(json.dumps(parse_overload(*sys.argv[2:8])))
    elif mode == "report":
        report(sys.argv[2], sys.argv[3])
    elif mode == "growth":
        growth(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)

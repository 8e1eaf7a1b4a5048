"""The benchmark parser (scripts/bench_parse.py) on a recorded wrk run: its figures, and the
server's CPU time per request taken from /proc around the run."""

import importlib.util
import io
import os

from conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_parse", ROOT / "scripts" / "bench_parse.py")
bench_parse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_parse)

WRK = (ROOT / "tests" / "delivery" / "fixtures" / "wrk-hello.txt").read_text()


def test_a_wrk_run_gives_its_rate_and_percentiles():
    result = bench_parse.parse_wrk("axum_hello", WRK)
    assert result == {"kind": "http", "name": "axum_hello", "rps": 50986, "p50_ms": 0.111,
                      "p99_ms": 3.51, "non_2xx": 0, "socket_errors": ""}


def test_server_cpu_per_request_is_the_cpu_used_during_the_run_over_its_requests(monkeypatch):
    readings = iter([10.0, 12.8036])  # before wrk prints, after its output ends
    monkeypatch.setattr(bench_parse, "cpu_seconds", lambda pid: next(readings))
    result = bench_parse.parse_wrk_measuring("axum_hello", 1234, io.StringIO(WRK))
    # 2.8036 s of CPU over the run's 56,071 requests.
    assert result["server_cpu_us"] == 50.0
    assert result["rps"] == 50986


def test_cpu_seconds_reads_a_live_process_and_grows_with_its_work():
    before = bench_parse.cpu_seconds(os.getpid())
    deadline = os.times().user + os.times().system + 0.05
    while os.times().user + os.times().system < deadline:
        pass
    after = bench_parse.cpu_seconds(os.getpid())
    assert after >= before + 0.04

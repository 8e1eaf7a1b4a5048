"""Starts the real flightdeck binary (`flightdeck serve`) on free ports and fetches its OpenAPI
document: the source of tests/delivery/fixtures/openapi.json (record_openapi.py) and of the check
that the fixture is still what the binary serves (test_openapi_contract.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import selectors
import socket
import subprocess
import time
import urllib.request

BINARY = pathlib.Path(os.environ.get(
    "FLIGHTDECK_BIN",
    pathlib.Path(os.environ.get("CARGO_TARGET_DIR", "/var/tmp/flightdeck-target")) / "debug" / "flightdeck"))
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def database_reachable(url: str = DATABASE_URL) -> bool:
    host_port = re.search(r"@([^/:]+)(?::(\d+))?/", url)
    host, port = (host_port.group(1), int(host_port.group(2) or 5432)) if host_port else ("127.0.0.1", 5432)
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


@contextlib.contextmanager
def serve(binary: pathlib.Path = BINARY, timeout: float = 60):
    """Yields the base URL of a running `flightdeck serve`; stops it afterwards."""
    env = {**os.environ, "DATABASE_URL": DATABASE_URL, "PORT": "0", "METRICS_PORT": "0", "HOST": "127.0.0.1",
           "LOG_FORMAT": "json", "RUST_LOG": "info", "GOOGLE_CLOUD_PROJECT": "flightdeck-local"}
    proc = subprocess.Popen([str(binary), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            if not selector.select(timeout=1):
                if proc.poll() is not None:
                    break
                continue
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            match = re.search(r'"http_addr"\s*:\s*"([^"]+)"', line)
            if match and "listening" in line:
                yield f"http://{match.group(1)}"
                return
        raise RuntimeError(f"{binary} serve did not report its address:\n{''.join(seen[-20:])}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def fetch_openapi(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=10) as response:
        return json.load(response)


def contract(document: dict) -> dict:
    """What the fake relies on: the GET paths, their parameters (with their schema, references
    resolved) and their status codes. Prose and response bodies are left out, so editing a
    description or a body schema does not count as a change of what the deploy scripts may send."""

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                target = document
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                return resolve(target)
            return {k: resolve(v) for k, v in node.items()
                    if k not in ("description", "summary", "example", "examples", "title")}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    out = {}
    for path, item in document.get("paths", {}).items():
        operation = item.get("get")
        if operation is None:
            continue
        out[path] = {
            "parameters": sorted((resolve(p) for p in operation.get("parameters", [])),
                                 key=lambda p: (p.get("in", ""), p.get("name", ""))),
            "responses": sorted(operation.get("responses", {})),
        }
    return out

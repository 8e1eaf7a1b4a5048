"""A stand-in for the flightdeck API driven by its OpenAPI document (fixtures/openapi.json, recorded
from the real binary; test_openapi_contract.py keeps it current). It answers what the real API
answers for the parts the deploy scripts rely on: an unknown path is a 404, a request whose path or
query parameters break the document's rules (required, pattern, integer bounds, enum) is a 400, a
valid one is a 200. Bodies are minimal JSON; the scripts read status codes and probe events only.
"""

from __future__ import annotations

import json
import pathlib
import re
import urllib.parse

FIXTURE = pathlib.Path(__file__).resolve().parent / "fixtures" / "openapi.json"


def load(path: pathlib.Path = FIXTURE) -> dict:
    return json.loads(path.read_text())


def _resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _schema_errors(document: dict, schema: dict, raw: str) -> list[str]:
    schema = _resolve(document, schema or {})
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    errors = []
    if "integer" in kinds:
        if not re.fullmatch(r"-?\d+", raw):
            return [f"{raw!r} is not an integer"]
        value = int(raw)
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{value} > maximum {schema['maximum']}")
    if "pattern" in schema and not re.search(schema["pattern"], raw):
        errors.append(f"{raw!r} does not match {schema['pattern']}")
    if "enum" in schema and raw not in [str(v) for v in schema["enum"]]:
        errors.append(f"{raw!r} not in {schema['enum']}")
    if "maxLength" in schema and len(raw) > schema["maxLength"]:
        errors.append(f"{raw!r} longer than {schema['maxLength']}")
    if "minLength" in schema and len(raw) < schema["minLength"]:
        errors.append(f"{raw!r} shorter than {schema['minLength']}")
    return errors


class OpenApiFake:
    def __init__(self, document: dict | None = None):
        self.document = document or load()
        self.routes = []
        for template, item in self.document["paths"].items():
            names = re.findall(r"{(\w+)}", template)
            regex = "^" + re.sub(r"{\w+}", "([^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
            self.routes.append((re.compile(regex), names, template, item))

    def match(self, path: str):
        for regex, names, template, item in self.routes:
            m = regex.match(path)
            if m and "get" in item:
                return template, item["get"], dict(zip(names, m.groups()))
        return None

    def problems(self, url: str) -> tuple[int, list[str]]:
        """(status the real API gives this GET, reasons) for a path with its query string."""
        parsed = urllib.parse.urlsplit(url)
        found = self.match(parsed.path)
        if not found:
            return 404, [f"no path {parsed.path} in the OpenAPI document"]
        template, operation, path_values = found
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        errors = []
        known = set()
        for param in operation.get("parameters", []):
            param = _resolve(self.document, param)
            where, name = param.get("in"), param["name"]
            if where == "path":
                errors += [f"path {name}: {e}" for e in _schema_errors(self.document, param.get("schema"), path_values[name])]
            elif where == "query":
                known.add(name)
                if name not in query:
                    if param.get("required"):
                        errors.append(f"query parameter {name} is required by {template}")
                    continue
                errors += [f"query {name}: {e}" for e in _schema_errors(self.document, param.get("schema"), query[name][0])]
        return (400 if errors else 200), errors

    def status_codes(self, template: str) -> set[str]:
        return set(self.document["paths"][template]["get"].get("responses", {}))

"""Shared fixtures for the delivery tests: the repository root and YAML loading."""

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_yaml(path: pathlib.Path):
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    return workflow.get("on", workflow.get(True)) or {}


@pytest.fixture(scope="session")
def root() -> pathlib.Path:
    return ROOT

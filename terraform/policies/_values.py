"""Helpers shared by flightdeck's custom checkov policies.

checkov hands a resource to a check as a dict whose values are wrapped in lists
(`{"role": ["roles/owner"]}`, blocks as `[{"enabled": [True]}]`); these helpers
unwrap them once so each policy reads like the rule it enforces.
"""

from __future__ import annotations

from typing import Any

PUBLIC_PRINCIPALS = ("allUsers", "allAuthenticatedUsers")
PRIMITIVE_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


def first(conf: dict[str, Any], key: str, default: Any = None) -> Any:
    """The value of `key`, unwrapped from checkov's one-element list."""
    value = conf.get(key, default)
    if isinstance(value, list):
        return value[0] if value else default
    return value


def block(conf: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The first nested block `key`, or None when the block is absent or empty."""
    value = first(conf, key)
    return value if isinstance(value, dict) and value else None


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def strings(value: Any) -> list[str]:
    """Every string inside nested lists and dicts (members, policy_data, which
    checkov may hand over as a JSON string or already parsed)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in strings(item)]
    return []

"""Tool-call arguments: parse the model's JSON and check it against the tool's schema.

Runs inside the workflow, so a malformed or invalid call is answered with an observation
before any activity is scheduled, and a human's edit is checked the same way. Covers the
subset of JSON Schema that pydantic emits for tool argument models; the tool activity
validates again with the real pydantic model.
"""

from __future__ import annotations

import json
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


class ArgumentError(ValueError):
    """Why a tool call's arguments cannot be used; the text goes back to the model."""


def parse_arguments(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise ArgumentError(
            f"arguments are not valid JSON ({exc.msg} at position {exc.pos})"
        ) from exc
    if not isinstance(value, dict):
        raise ArgumentError(f"arguments must be a JSON object, got {type(value).__name__}")
    return value


def validate_arguments(schema: dict[str, Any], value: dict[str, Any]) -> None:
    problems = _check(schema, value, "arguments", schema.get("$defs", {}))
    if problems:
        raise ArgumentError("; ".join(problems[:5]))


def _type_ok(expected: str, value: Any) -> bool:
    if expected in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES.get(expected, (object,)))


def _check(schema: dict[str, Any], value: Any, where: str, defs: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in schema:
        options = [_check(option, value, where, defs) for option in schema["anyOf"]]
        return [] if any(not o for o in options) else options[0]
    expected = schema.get("type")
    if isinstance(expected, str) and not _type_ok(expected, value):
        return [f"{where} must be of type {expected}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where} must be one of {schema['enum']}"]
    problems: list[str] = []
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where} must be at most {schema['maximum']}")
    if isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{where}.{name} is required")
        for name, item in value.items():
            if name in properties:
                problems += _check(properties[name], item, f"{where}.{name}", defs)
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}.{name} is not a known argument")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += _check(schema["items"], item, f"{where}[{index}]", defs)
    return problems

"""The API reference (docs/api-reference.md), generated from the OpenAPI document the API serves.

Every endpoint with its summary, parameters, request body and answers, in the
order the document lists them; ``tests/test_reference_docs.py`` regenerates it
and compares, so the page cannot drift from the routes. Rewrite it with
``python tools/reference_docs.py``.
"""

from __future__ import annotations

from typing import Any

from tepat.api.app import create_api
from tepat.config import Settings

HEADER = """# API reference (`/api/v1`)

Generated from the OpenAPI document (`GET /api/v1/openapi.json`) by `python tools/reference_docs.py`; a test checks
that this page matches the code. How to authenticate, the error shape and worked examples are in docs/api.md.
"""


def _schema_name(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:  # an optional value: its types, "null" left out (the Required column says it)
        return " or ".join(_schema_name(s) for s in schema["anyOf"] if s.get("type") != "null")
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items', {}))}"
    return str(schema.get("type", "object"))


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} /api/v1{path}`", ""]
    if op.get("summary"):
        lines += [f"**{_cell(op['summary'])}**", ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    params = op.get("parameters", [])
    if params:
        lines += ["| Parameter | In | Required | Type | Description |", "|---|---|---|---|---|"]
        lines += [
            f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | "
            f"{_schema_name(p.get('schema', {}))} | {_cell(p.get('description', ''))} |"
            for p in params
        ]
        lines.append("")
    body = op.get("requestBody", {}).get("content", {})
    for content_type, content in body.items():
        lines += [f"Body ({content_type}): `{_schema_name(content.get('schema', {}))}`", ""]
    answers = op.get("responses", {})
    if answers:
        lines += [
            "Answers: "
            + "; ".join(f"{code} {_cell(a.get('description', ''))}" for code, a in answers.items()),
            "",
        ]
    return lines


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### `{name}`", ""]
    if schema.get("description"):
        lines += [_cell(schema["description"]), ""]
    fields = schema.get("properties", {})
    if fields:
        required = set(schema.get("required", []))
        lines += ["| Field | Type | Required | Description |", "|---|---|---|---|"]
        for field, spec in fields.items():
            lines.append(
                f"| `{field}` | {_schema_name(spec)} | {'yes' if field in required else 'no'} | "
                f"{_cell(spec.get('description', spec.get('title', '')))} |"
            )
        lines.append("")
    return lines


def markdown() -> str:
    """The whole reference page."""
    spec = create_api(Settings(), None).openapi()  # the document needs no database
    lines = [HEADER, "## Endpoints", ""]
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            lines += _operation(method, path, op)
    lines += ["## Schemas", ""]
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        lines += _schema(name, schema)
    return "\n".join(lines).rstrip() + "\n"

"""Any view model as plain JSON values: the one conversion behind the CLI's ``--json``, the pages' JSON twins and
the audit log's detail.

A model says how it reads as JSON with ``as_json()`` (or, for the older ones, ``as_dict()``); a dataclass without
either reads as its fields; enums as their value; dates and times in ISO 8601; sets, tuples and lists as lists.
Classes, functions and other objects that are not data (a template's helpers, an enum class handed to a page for
its labels) are left out rather than written as their ``repr``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


class _Skip:
    """Marks a value that is not data (left out of the JSON)."""


_SKIP = _Skip()


def plain(value: Any) -> JsonValue:
    """``value`` as JSON values (see the module docstring); what is not data becomes ``None``."""
    found = _plain(value)
    return None if isinstance(found, _Skip) else found


def _plain(value: Any) -> JsonValue | _Skip:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, type) or callable(value):
        return _SKIP
    for method in ("as_json", "as_dict"):
        convert = getattr(value, method, None)
        if callable(convert):
            return _plain(convert())
    if dataclasses.is_dataclass(value):
        return _mapping({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        return _mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in (sorted(value, key=str) if isinstance(value, set | frozenset) else value)]
        return [v for v in items if not isinstance(v, _Skip)]
    return _SKIP


def _mapping(value: Mapping[Any, Any]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for key, item in value.items():
        converted = _plain(item)
        if not isinstance(converted, _Skip):
            out[str(key.value if isinstance(key, Enum) else key)] = converted
    return out

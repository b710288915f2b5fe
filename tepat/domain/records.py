"""How a read model is built from a stored row: the row's columns that are the model's fields, by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_columns(model: type[T], row: Mapping[Any, Any], **converted: Any) -> T:
    """``model`` made from the ``row``'s columns named like its fields (others are ignored), with ``converted``
    values (an enum for a state word) in place of the stored ones."""
    values = {f.name: row[f.name] for f in fields(model) if f.name in row}  # type: ignore[arg-type]
    return model(**{**values, **converted})

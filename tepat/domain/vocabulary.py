"""A closed vocabulary: a ``StrEnum`` whose every member carries its label in Bahasa Indonesia.

    class BatchState(Labelled):
        DIBUAT = "dibuat", "Dibuat"
        DIEKSPOR = "diekspor", "Berkas diekspor"

The value is what is stored, sent and typed (``BatchState.DIBUAT == "dibuat"``, ``BatchState("dibuat")``); the
label is what a page, a document or the CLI shows (``BatchState.DIBUAT.label``). The label stands beside its value,
so a member cannot be added without one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Labelled(StrEnum):
    """A ``StrEnum`` of ``NAME = "value", "label"`` members."""

    _value_: str
    label: str

    def __new__(
        cls, value: str, label: str = ""
    ) -> Self:  # the default only lets ``Kind("value")`` type-check
        if not label:
            raise TypeError(f"{cls.__name__}.{value}: a member is written with its label")
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

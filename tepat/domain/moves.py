"""A request to move a family or a person registered in another area (``move_requests.state``)."""

from __future__ import annotations

from enum import StrEnum


class MoveState(StrEnum):
    MENUNGGU = "menunggu"  # waiting for the area the family or person is registered in
    DITERIMA = "diterima"  # that area let them go: the registry write went through
    DITOLAK = "ditolak"  # that area kept them

"""A request to move a family or a person registered in another area (``move_requests.state``)."""

from __future__ import annotations

from tepat.domain.vocabulary import Labelled


class MoveState(Labelled):
    MENUNGGU = "menunggu", "Menunggu"  # waiting for the area the family or person is registered in
    # that area let them go: the registry write went through
    DITERIMA = "diterima", "Diterima — silakan daftarkan/impor ulang"
    DITOLAK = "ditolak", "Ditolak"  # that area kept them

"""Benefit cycles: their states, who may move them, and the budget/quota cut from the poorest.

A cycle (e.g. "BLT-APBD Juli 2025") is generated from the catalogue in ``draf``
(and may be re-generated there), submitted for review (``ditinjau``), then
approved by a *different* admin (maker-checker) — its list is frozen — or
returned to ``draf``. Payments (helper B) move it to ``pembayaran``; it is closed
when every entitlement is final. ``draf`` and ``ditinjau`` may be cancelled with a reason.

The cut is a pure function so that the same order and the same stop explain one
family's place: candidates ordered poorest first (desil, then score, then id),
taken while the count stays within the quota and the running total within the budget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tepat.domain.access import Actor, Role
from tepat.domain.entitlements import FINAL
from tepat.domain.formatting import number, rupiah
from tepat.domain.records import from_columns
from tepat.domain.vocabulary import Labelled
from tepat.errors import PermissionDenied, StateError


class CycleState(Labelled):
    DRAF = "draf", "Draf"
    DITINJAU = "ditinjau", "Ditinjau"
    DISETUJUI = "disetujui", "Disetujui (dibekukan)"
    PEMBAYARAN = "pembayaran", "Pembayaran"
    DITUTUP = "ditutup", "Ditutup"
    DIBATALKAN = "dibatalkan", "Dibatalkan"


@dataclass(frozen=True)
class Cycle:
    """A benefit cycle as stored, with its programme's code, name and unit (the read model of ``benefit_cycles``)."""

    id: int
    programme_id: int
    programme_code: str
    programme_name: str
    name: str
    area_code: str
    period_start: date
    period_end: date
    reference_date: date
    state: CycleState
    programme_snapshot: Mapping[str, Any]
    version: int
    created_by: str
    created_at: datetime
    entitlements: int = 0
    total_amount: int = 0
    blocked: int = 0
    model_id: int | None = None
    budget_cap: int | None = None
    quota: int | None = None
    snapshot_sha256: str | None = None
    generated_at: datetime | None = None
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    cancel_reason: str | None = None
    unit: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Cycle:
        """The cycle from a row of ``benefit_cycles`` joined with its programme (unknown keys are ignored)."""
        return from_columns(cls, row, state=CycleState(row["state"]))

    def as_json(self) -> dict[str, Any]:
        """The cycle in the vocabulary of the CLI's ``--json`` and the pages' JSON twins."""
        return {
            "id": self.id,
            "nama": self.name,
            "program": self.programme_code,
            "wilayah": self.area_code,
            "status": self.state.value,
            "periode": [self.period_start.isoformat(), self.period_end.isoformat()],
            "tanggal_acuan": self.reference_date.isoformat(),
            "model": self.model_id,
            "pagu": self.budget_cap,
            "kuota": self.quota,
            "penerima": self.entitlements,
            "total_rupiah": self.total_amount,
            "diblokir": self.blocked,
            "sha256": self.snapshot_sha256,
            "dibuat_oleh": self.created_by,
            "diajukan_oleh": self.submitted_by,
            "disetujui_oleh": self.approved_by,
            "alasan_batal": self.cancel_reason,
        }


class CycleAction(Labelled):
    GENERATE = "susun", "Susun daftar penerima"
    SUBMIT = "ajukan", "Ajukan untuk ditinjau"
    APPROVE = "setujui", "Setujui dan bekukan"
    RETURN = "kembalikan", "Kembalikan ke draf"
    CANCEL = "batalkan", "Batalkan siklus"
    START_PAYMENT = "bayar", "Mulai pembayaran"
    CLOSE = "tutup", "Tutup siklus"


TRANSITIONS: dict[tuple[CycleState, CycleAction], CycleState] = {
    (CycleState.DRAF, CycleAction.GENERATE): CycleState.DRAF,
    (CycleState.DRAF, CycleAction.SUBMIT): CycleState.DITINJAU,
    (CycleState.DRAF, CycleAction.CANCEL): CycleState.DIBATALKAN,
    (CycleState.DITINJAU, CycleAction.APPROVE): CycleState.DISETUJUI,
    (CycleState.DITINJAU, CycleAction.RETURN): CycleState.DRAF,
    (CycleState.DITINJAU, CycleAction.CANCEL): CycleState.DIBATALKAN,
    (CycleState.DISETUJUI, CycleAction.START_PAYMENT): CycleState.PEMBAYARAN,
    (CycleState.DISETUJUI, CycleAction.CLOSE): CycleState.DITUTUP,
    (CycleState.PEMBAYARAN, CycleAction.CLOSE): CycleState.DITUTUP,
}
"""Every allowed move; anything else is refused."""

FROZEN_STATES = frozenset({CycleState.DISETUJUI, CycleState.PEMBAYARAN, CycleState.DITUTUP})
"""States whose entitlements never change again (and whose recipients count as receiving the programme)."""

FINAL_ENTITLEMENT_STATES = frozenset(s.value for s in FINAL)
"""Entitlement states a cycle may be closed with."""


def next_state(state: str, action: CycleAction) -> CycleState:
    """The state after ``action``; ``StateError`` (in Indonesian) when the move is not allowed."""
    current = CycleState(state)
    target = TRANSITIONS.get((current, action))
    if target is None:
        raise StateError(
            f"Siklus berstatus {current.label.lower()} tidak dapat di-{action.value}: "
            f"langkah '{action.label}' tidak diizinkan."
        )
    return target


def check_actor(
    action: CycleAction, actor: Actor, *, created_by: str, submitted_by: str | None, cycle_area: str
) -> None:
    """Role, area and maker-checker: only an Admin Dinsos whose area contains the cycle's moves it, and the approver
    made neither the cycle nor the submission. (Payment batches, one per kelurahan or the whole cycle, check their
    own area.)"""
    if action is CycleAction.START_PAYMENT:
        if actor.role not in (Role.ADMIN, Role.FINANCE):
            raise PermissionDenied("Hanya Admin Dinsos atau Keuangan yang dapat memulai pembayaran.")
        return
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("Hanya Admin Dinsos yang dapat mengelola siklus bantuan.")
    if not actor.in_area(cycle_area):
        raise PermissionDenied(
            "Siklus ini mencakup wilayah di luar wilayah kerja Anda; hanya Admin Dinsos yang "
            "wilayahnya mencakup seluruh wilayah siklus dapat mengubahnya."
        )
    if action is CycleAction.APPROVE and actor.username in {created_by, submitted_by}:
        raise PermissionDenied(
            "Penyetuju harus orang lain, bukan pembuat atau pengaju siklus (maker-checker)."
        )


def allowed_actions(
    state: str, actor: Actor, *, created_by: str, submitted_by: str | None, cycle_area: str
) -> list[CycleAction]:
    """The actions this actor may take on a cycle in ``state`` (for the buttons on a page)."""
    out: list[CycleAction] = []
    for source, action in TRANSITIONS:
        if source.value != state or action is CycleAction.START_PAYMENT:
            continue
        try:
            check_actor(
                action, actor, created_by=created_by, submitted_by=submitted_by, cycle_area=cycle_area
            )
        except PermissionDenied:
            continue
        out.append(action)
    return out


# ----------------------------------------------------------------- the budget / quota cut


@dataclass(frozen=True)
class Candidate:
    """One unit (family or person) that passed the rule, with what orders it and what it would cost."""

    key: int
    desil: int | None
    score: float | None
    amount: int


def poorest_first(candidate: Candidate) -> tuple[int, float, int]:
    """Desil (missing last), then score (lower is poorer; missing last), then id."""
    return (
        99 if candidate.desil is None else candidate.desil,
        math.inf if candidate.score is None else candidate.score,
        candidate.key,
    )


@dataclass(frozen=True)
class CutPlace:
    """Where one candidate stands in the cut: its rank and whether it was kept, and why not."""

    key: int
    rank: int
    running_total: int
    kept: bool
    reason: str | None  # None when kept; "kuota" or "anggaran"


def cut(candidates: Iterable[Candidate], *, quota: int | None, budget: int | None) -> list[CutPlace]:
    """Rank candidates poorest first and keep them while count ≤ quota and the running total ≤ budget.

    Amounts are never negative, so the running total only grows: once a candidate
    would push it over the budget, every later one would too (the SQL in
    ``tepat.store.candidates`` keeps ``rank <= quota and running_total <= budget``, the same set).
    """
    places: list[CutPlace] = []
    running = 0
    for rank, c in enumerate(sorted(candidates, key=poorest_first), start=1):
        running += c.amount
        reason = None
        if quota is not None and rank > quota:
            reason = "kuota"
        elif budget is not None and running > budget:
            reason = "anggaran"
        places.append(CutPlace(c.key, rank, running, reason is None, reason))
    return places


def kept_keys(places: Sequence[CutPlace]) -> list[int]:
    """The keys kept by a cut, in rank order."""
    return [p.key for p in places if p.kept]


def cut_reason_text(place: CutPlace, *, quota: int | None, budget: int | None) -> str:
    """One sentence for a candidate's place in the cut (numbers in Indonesian format by the caller's formatter)."""
    if place.kept:
        return f"Urutan ke-{number(place.rank)} dari yang termiskin; masuk dalam kuota dan anggaran."
    if place.reason == "kuota":
        return f"Urutan ke-{number(place.rank)} dari yang termiskin, di luar kuota {number(quota)} penerima."
    return (
        f"Urutan ke-{number(place.rank)} dari yang termiskin; jumlah berjalan {rupiah(place.running_total)} "
        f"melebihi pagu anggaran {rupiah(budget)}."
    )

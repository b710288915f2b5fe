"""Entitlement states: what may happen to one family's (or person's) right to a benefit in one cycle.

An entitlement is frozen when its cycle is approved (``terjadwal``). It is
``diproses`` while one payment line for it is on its way, ``dibayar`` once the
bank or PT Pos reports the money delivered, ``gagal`` when that failed, came
back, or its batch was cancelled (it may then be retried), and it ends as
``dibayar``, ``dibatalkan`` (with a reason) or ``diblokir`` (deceased,
inactive, …). A payment reported paid and later returned (``dikembalikan``)
makes a paid entitlement ``gagal`` again, so it can be retried.

Programmes that pay nothing finish their own way (``completion_of``):

* a service (``layanan``: health coverage) entitlement becomes ``aktif`` when its
  cycle is approved; the coverage ends by itself on its last day (the facility
  check and the status check read the dates) and the entitlement is ``selesai``
  when the cycle is closed after that day;
* a training (``pelatihan``) seat is ``terjadwal`` (offered) when its cycle is
  approved, ``terdaftar`` once the person enrols, then ``selesai`` (completed)
  or ``tidak_lulus`` (dropped out or failed, with a note); an offered seat
  turned down is ``dibatalkan``.

Death, deactivation and the other reasons to stop block an ``aktif`` coverage
or a ``terdaftar`` seat as they block an unpaid payment.

Services apply these transitions as guarded UPDATEs (``WHERE state IN
sources_of(target)``), so the allowed "from" states are read from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from tepat.domain.vocabulary import Labelled
from tepat.errors import FieldError, StateError, ValidationError


class EntitlementState(Labelled):
    TERJADWAL = "terjadwal", "Terjadwal"
    DIPROSES = "diproses", "Diproses"
    DIBAYAR = "dibayar", "Dibayar"
    GAGAL = "gagal", "Gagal"
    DIBLOKIR = "diblokir", "Diblokir"
    DIBATALKAN = "dibatalkan", "Dibatalkan"
    AKTIF = "aktif", "Aktif"  # service coverage in force
    TERDAFTAR = "terdaftar", "Terdaftar (peserta)"  # training seat taken up
    SELESAI = "selesai", "Selesai"  # coverage ended, or training completed
    TIDAK_LULUS = "tidak_lulus", "Tidak lulus / berhenti"  # training not completed (failed or dropped out)


class BlockReason(Labelled):
    """Why an entitlement may not be paid now (``entitlements.block_reason``)."""

    MENINGGAL = "meninggal", "meninggal"  # the recipient died
    PINDAH = "pindah", "pindah"  # the recipient left the family, or the family left the office's area
    NONAKTIF = "nonaktif", "nonaktif"  # the recipient or the family was deactivated (mampu, duplikat, …)
    # a verification visit, or an upheld sanggah, found the family not eligible
    TIDAK_LAYAK = "tidak_layak", "tidak layak (verifikasi/sanggah)"


_S = EntitlementState
TRANSITIONS: dict[EntitlementState, frozenset[EntitlementState]] = {
    _S.TERJADWAL: frozenset({_S.DIPROSES, _S.DIBATALKAN, _S.DIBLOKIR, _S.AKTIF, _S.TERDAFTAR}),
    _S.DIPROSES: frozenset({_S.DIBAYAR, _S.GAGAL}),
    _S.GAGAL: frozenset({_S.DIPROSES, _S.DIBATALKAN, _S.DIBLOKIR}),
    _S.DIBAYAR: frozenset({_S.GAGAL}),  # the bank reported the money returned
    _S.DIBLOKIR: frozenset(),
    _S.DIBATALKAN: frozenset(),
    _S.AKTIF: frozenset({_S.SELESAI, _S.DIBLOKIR}),
    _S.TERDAFTAR: frozenset({_S.SELESAI, _S.TIDAK_LULUS, _S.DIBLOKIR}),
    _S.SELESAI: frozenset(),
    _S.TIDAK_LULUS: frozenset(),
}

FINAL = frozenset({_S.DIBAYAR, _S.DIBATALKAN, _S.DIBLOKIR, _S.SELESAI, _S.TIDAK_LULUS})
"""States a cycle may close on (a paid entitlement can still be reopened by a late return)."""


class Completion(StrEnum):
    """How a programme's entitlements finish: paid by a bank or PT Pos, covered for months, or a training seat."""

    PAYMENT = "pembayaran"
    COVERAGE = "jaminan"
    TRAINING = "pelatihan"


def completion_of(benefit_type: str | None) -> Completion:
    """``tunai``/``barang`` are paid; ``layanan`` covers; ``pelatihan`` trains (``tepat.domain.programmes.BenefitType``)."""
    return {"layanan": Completion.COVERAGE, "pelatihan": Completion.TRAINING}.get(
        benefit_type or "", Completion.PAYMENT
    )


def completion_of_cycle(programme_snapshot: Mapping[str, Any]) -> Completion:
    """How a cycle's entitlements finish, from the programme as it was frozen with the cycle."""
    return completion_of(programme_snapshot.get("benefit_type"))


PAYABLE = frozenset({_S.TERJADWAL})
"""States a first payment batch takes entitlements from."""

RETRYABLE = frozenset({_S.GAGAL})
"""States a retry batch takes entitlements from (``attempt`` + 1)."""


def can_move(current: EntitlementState | str, target: EntitlementState | str) -> bool:
    return EntitlementState(target) in TRANSITIONS[EntitlementState(current)]


def check_transition(current: EntitlementState | str, target: EntitlementState | str) -> None:
    """Raise ``StateError`` (in Indonesian) unless ``current`` → ``target`` is allowed."""
    cur, tgt = EntitlementState(current), EntitlementState(target)
    if tgt not in TRANSITIONS[cur]:
        raise StateError(f"Hak berstatus '{cur.label}' tidak dapat diubah menjadi '{tgt.label}'.")


def sources_of(target: EntitlementState | str) -> frozenset[EntitlementState]:
    """Every state from which ``target`` may be reached (the guard of a set-based UPDATE)."""
    tgt = EntitlementState(target)
    return frozenset(s for s, targets in TRANSITIONS.items() if tgt in targets)


def check_cancel_reason(reason: str | None, what: str = "pembatalan") -> str:
    """A cancellation (or a training not completed) needs a reason a person wrote (at least a few words' worth)."""
    text = " ".join((reason or "").split())
    if len(text) < 5:
        message = f"Alasan {what} wajib diisi (paling sedikit 5 huruf)."
        raise ValidationError(message, [FieldError("alasan", message)])
    return text[:1000]

"""Entitlement states: what may happen to one family's (or person's) right to a benefit in one cycle.

An entitlement is frozen when its cycle is approved (``terjadwal``). It is
``diproses`` while one payment line for it is on its way, ``dibayar`` once the
bank or PT Pos reports the money delivered, ``gagal`` when that failed, came
back, or its batch was cancelled (it may then be retried), and it ends as
``dibayar``, ``dibatalkan`` (with a reason) or ``diblokir`` (deceased,
inactive, …). A payment reported paid and later returned (``dikembalikan``)
makes a paid entitlement ``gagal`` again, so it can be retried.

Services apply these transitions as guarded UPDATEs (``WHERE state IN
sources_of(target)``), so the allowed "from" states are read from here.
"""

from __future__ import annotations

from enum import StrEnum

from tepat.errors import FieldError, StateError, ValidationError


class EntitlementState(StrEnum):
    TERJADWAL = "terjadwal"
    DIPROSES = "diproses"
    DIBAYAR = "dibayar"
    GAGAL = "gagal"
    DIBLOKIR = "diblokir"
    DIBATALKAN = "dibatalkan"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    EntitlementState.TERJADWAL: "Terjadwal",
    EntitlementState.DIPROSES: "Diproses",
    EntitlementState.DIBAYAR: "Dibayar",
    EntitlementState.GAGAL: "Gagal",
    EntitlementState.DIBLOKIR: "Diblokir",
    EntitlementState.DIBATALKAN: "Dibatalkan",
}

class BlockReason(StrEnum):
    """Why an entitlement may not be paid now (``entitlements.block_reason``)."""

    MENINGGAL = "meninggal"  # the recipient died
    PINDAH = "pindah"  # the recipient left the family, or the family left the office's area
    NONAKTIF = "nonaktif"  # the recipient or the family was deactivated (mampu, duplikat, …)
    TIDAK_LAYAK = "tidak_layak"  # a verification visit, or an upheld sanggah, found the family not eligible

    @property
    def label(self) -> str:
        return {"meninggal": "meninggal", "pindah": "pindah", "nonaktif": "nonaktif",
                "tidak_layak": "tidak layak (verifikasi/sanggah)"}[self.value]


_S = EntitlementState
TRANSITIONS: dict[EntitlementState, frozenset[EntitlementState]] = {
    _S.TERJADWAL: frozenset({_S.DIPROSES, _S.DIBATALKAN, _S.DIBLOKIR}),
    _S.DIPROSES: frozenset({_S.DIBAYAR, _S.GAGAL}),
    _S.GAGAL: frozenset({_S.DIPROSES, _S.DIBATALKAN, _S.DIBLOKIR}),
    _S.DIBAYAR: frozenset({_S.GAGAL}),  # the bank reported the money returned
    _S.DIBLOKIR: frozenset(),
    _S.DIBATALKAN: frozenset(),
}

FINAL = frozenset({_S.DIBAYAR, _S.DIBATALKAN, _S.DIBLOKIR})
"""States a cycle may close on (a paid entitlement can still be reopened by a late return)."""

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


def check_cancel_reason(reason: str | None) -> str:
    """A cancellation needs a reason a person wrote (at least a few words' worth)."""
    text = " ".join((reason or "").split())
    if len(text) < 5:
        message = "Alasan pembatalan wajib diisi (paling sedikit 5 huruf)."
        raise ValidationError(message, [FieldError("alasan", message)])
    return text[:1000]

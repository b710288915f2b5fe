"""Programme status in a resident's words: what the public status check says about each programme a person is in.

Pure functions over plain values: the store hands over the person's entitlements
in frozen cycles (the latest cycle of each programme; every cycle of a service
programme, since an older one may still cover today) and this module words them.

* Cash, goods and training: the latest cycle's entitlement — waiting, paid on a
  day, being retried, suspended or cancelled.
* Services (``layanan``, health coverage): covered today or not, decided by
  ``tepat.domain.coverage`` — the same rule the facility check answers with, so
  a resident and a hospital never read different dates. The period shown is the
  coverage (``period_start`` to the last day covered), not the cycle's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from tepat.domain.coverage import ServiceCycle, covering_cycle
from tepat.domain.entitlements import EntitlementState
from tepat.domain.formatting import long_date, month_name
from tepat.domain.programmes import BenefitType

WAITING = "Terdaftar, menunggu penyaluran"
SUSPENDED = "Ditangguhkan"
CANCELLED = "Dibatalkan"
RETRYING = "Penyaluran belum berhasil, akan disalurkan ulang"


@dataclass(frozen=True)
class Entry:
    """One entitlement of the person (or their family) in a frozen cycle, as plain values."""

    programme_id: int
    programme: str
    benefit_type: str
    cycle_id: int
    period_start: date
    period_end: date
    state: str
    paid_at: datetime | None = None
    coverage_months: int | None = None
    """The cycle's programme snapshot value (service programmes)."""
    settled_on: date | None = None
    """The bank's settlement date of the paying line (shown to residents; ``paid_at`` is when we learnt of it)."""

    def as_service_cycle(self) -> ServiceCycle:
        return ServiceCycle(
            self.programme,
            self.cycle_id,
            self.period_start,
            self.period_end,
            self.coverage_months,
            self.state,
        )


def period_words(start: date, end: date) -> str:
    """``Juli 2025``; ``Juli–Desember 2025``; ``Juli 2025–Juni 2026``."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{month_name(start.month)} {start.year}"
    if start.year == end.year:
        return f"{month_name(start.month)}–{month_name(end.month)} {end.year}"
    return f"{month_name(start.month)} {start.year}–{month_name(end.month)} {end.year}"


def _stopped(state: str) -> str | None:
    if state == EntitlementState.DIBLOKIR:
        return SUSPENDED
    if state == EntitlementState.DIBATALKAN:
        return CANCELLED
    return None


TRAINING_WORDS = {
    EntitlementState.TERJADWAL: "Mendapat kursi pelatihan, menunggu pendaftaran",
    EntitlementState.TERDAFTAR: "Peserta pelatihan",
    EntitlementState.SELESAI: "Lulus pelatihan",
    EntitlementState.TIDAK_LULUS: "Tidak menyelesaikan pelatihan",
}


def status_words(entry: Entry) -> str:
    """A cash, goods or training entitlement's state as a resident reads it."""
    stopped = _stopped(entry.state)
    if stopped:
        return stopped
    if entry.benefit_type == BenefitType.PELATIHAN:
        return TRAINING_WORDS.get(EntitlementState(entry.state), WAITING)
    if entry.state == EntitlementState.DIBAYAR:
        when = entry.settled_on or entry.paid_at
        return f"Sudah disalurkan {long_date(when)}" if when else "Sudah disalurkan"
    if entry.state == EntitlementState.GAGAL:
        return RETRYING
    return WAITING


def service_words(entries: Iterable[Entry], today: date) -> tuple[str, str]:
    """(status, period) of one service programme from every frozen cycle the person is in.

    Covered today: *Aktif, berlaku sampai …* with the latest end of the covering
    cycles. Otherwise the latest cycle speaks: suspended or cancelled; not begun
    yet (*Terdaftar, berlaku mulai …*); or over (*Berakhir …*, the last day covered).
    """
    cycles = [e.as_service_cycle() for e in entries]
    if not cycles:
        raise ValueError("a service programme's status needs at least one cycle")
    covering = covering_cycle(cycles, today)
    if covering is not None:
        return f"Aktif, berlaku sampai {long_date(covering.end)}", period_words(covering.start, covering.end)
    latest = max(cycles, key=lambda c: (c.start, c.cycle_id))
    period = period_words(latest.start, latest.end)
    stopped = _stopped(latest.state)
    if stopped:
        return stopped, period
    if latest.start > today:
        return f"Terdaftar, berlaku mulai {long_date(latest.start)}", period
    ended = max(c.end for c in cycles if not c.void and c.start <= today)
    return f"Berakhir {long_date(ended)}", period


def programme_statuses(entries: Iterable[Entry], today: date) -> list[dict[str, str]]:
    """Each programme once, by name: ``programme``, ``status`` and ``period``.

    For a cash, goods or training programme the latest cycle (by start, then id)
    counts; for a service programme every cycle given counts (``service_words``).
    """
    by_programme: dict[int, list[Entry]] = {}
    for entry in entries:
        by_programme.setdefault(entry.programme_id, []).append(entry)
    out: list[tuple[str, int, dict[str, str]]] = []
    for programme_id, mine in by_programme.items():
        latest = max(mine, key=lambda e: (e.period_start, e.cycle_id))
        if latest.benefit_type == BenefitType.LAYANAN:
            status, period = service_words(mine, today)
        else:
            status, period = status_words(latest), period_words(latest.period_start, latest.period_end)
        row = {"programme": latest.programme, "status": status, "period": period}
        out.append((latest.programme, programme_id, row))
    return [row for _, _, row in sorted(out, key=lambda t: (t[0], t[1]))]

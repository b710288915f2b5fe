"""Health coverage: from when until when a frozen cycle of a service (``layanan``) programme covers a person.

A service programme (Kartu Sehat / LKM-NIK) has ``coverage_months``: an approved
cycle covers each of its people from the cycle's ``period_start`` for that many
months, ending the day before the same day ``coverage_months`` months later
(1 January 2025 for 12 months: until 31 December 2025). When that day does not
exist in the month (31 January + 1 month), the coverage runs to the end of the
month (28 or 29 February): a later start never ends earlier.

The months come from the cycle's programme snapshot (the catalogue as it was at
approval), so a later edit of the catalogue does not change a past cycle. A
cycle whose snapshot holds no ``coverage_months`` covers its own period.

An entitlement blocked or cancelled (deceased, moved away, a duplicate) covers
nothing. A person covered by several cycles at once is covered until the latest
end. The facility check (``tepat.services.coverage``) and the resident's status
check (``tepat.domain.programme_status``) both decide here, so they agree.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from tepat.domain.entitlements import EntitlementState

NOT_COVERING = frozenset({EntitlementState.DIBLOKIR.value, EntitlementState.DIBATALKAN.value})
"""Entitlement states that cover nothing, whatever the dates."""


def coverage_end(period_start: date, coverage_months: int) -> date:
    """The last day covered by ``coverage_months`` months from ``period_start``.

    ``coverage_end(date(2025, 1, 1), 12) == date(2025, 12, 31)``;
    ``coverage_end(date(2025, 7, 15), 6) == date(2026, 1, 14)``;
    ``coverage_end(date(2025, 1, 31), 1) == date(2025, 2, 28)``.
    """
    if coverage_months < 1:
        raise ValueError("coverage_months must be at least 1")
    index = period_start.year * 12 + period_start.month - 1 + coverage_months
    year, month = divmod(index, 12)
    if year > date.max.year:
        return date.max
    last = calendar.monthrange(year, month + 1)[1]
    if period_start.day <= last:
        return date(year, month + 1, period_start.day) - timedelta(days=1)
    return date(year, month + 1, last)  # the same day does not exist: to the end of that month


def cycle_coverage_end(period_start: date, period_end: date, coverage_months: int | None) -> date:
    """The last day a service cycle covers: ``coverage_months`` from its start, or its own period without them."""
    return coverage_end(period_start, coverage_months) if coverage_months else period_end


@dataclass(frozen=True)
class ServiceCycle:
    """A person's entitlement in one frozen cycle of a service programme: the plain values coverage needs.

    ``coverage_months`` is the cycle's snapshot value (``None``: the cycle covers
    its own period); ``state`` is the entitlement's state.
    """

    programme: str
    cycle_id: int
    period_start: date
    period_end: date
    coverage_months: int | None
    state: str

    @property
    def start(self) -> date:
        """The first day covered."""
        return self.period_start

    @property
    def end(self) -> date:
        """The last day covered."""
        return cycle_coverage_end(self.period_start, self.period_end, self.coverage_months)

    @property
    def void(self) -> bool:
        """Blocked or cancelled: covers nothing."""
        return self.state in NOT_COVERING

    def covers(self, day: date) -> bool:
        return not self.void and self.start <= day <= self.end


def covering_cycle(cycles: Iterable[ServiceCycle], today: date) -> ServiceCycle | None:
    """Of the cycles covering ``today``, the one that covers longest (ties: the later start, then the later cycle)."""
    return max(
        (c for c in cycles if c.covers(today)), key=lambda c: (c.end, c.start, c.cycle_id), default=None
    )


def covered_until(cycles: Iterable[ServiceCycle], today: date) -> date | None:
    """The last day the person is covered, counted from ``today``; ``None`` when not covered today."""
    found = covering_cycle(cycles, today)
    return found.end if found else None

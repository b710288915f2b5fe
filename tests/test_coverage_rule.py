"""The coverage rule (tepat.domain.coverage): months from a cycle's start, overlapping cycles, void entitlements."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from tepat.domain.coverage import ServiceCycle, coverage_end, covered_until, covering_cycle


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2025, 1, 1), 12, date(2025, 12, 31)),
        (date(2025, 1, 1), 1, date(2025, 1, 31)),
        (date(2025, 7, 15), 6, date(2026, 1, 14)),
        (date(2025, 12, 1), 1, date(2025, 12, 31)),
        (date(2025, 11, 20), 3, date(2026, 2, 19)),
        (date(2025, 7, 1), 30, date(2027, 12, 31)),
        # the same day does not exist N months later: to the end of that month
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 1, 29), 1, date(2025, 2, 28)),
        (date(2024, 1, 29), 1, date(2024, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 5, 31), 1, date(2025, 6, 30)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
    ],
)
def test_coverage_ends_the_day_before_the_same_day_n_months_later(
    start: date, months: int, end: date
) -> None:
    assert coverage_end(start, months) == end


def test_coverage_end_over_every_start_of_two_years() -> None:
    """A later start never ends earlier; one month more ends 28–31 days later; the day after the end is the anniversary."""
    starts = [date(2024, 1, 1) + timedelta(days=i) for i in range(731)]
    for months in (1, 2, 6, 11, 12, 13, 24):
        ends = [coverage_end(s, months) for s in starts]
        assert all(e >= s + timedelta(days=27 * months) for s, e in zip(starts, ends))
        assert all(b >= a for a, b in itertools.pairwise(ends))
        for s, e in zip(starts, ends):
            longer = coverage_end(s, months + 1)
            assert 28 <= (longer - e).days <= 31
            # the day after the end is the start's day of month, or the 1st of a month the day is missing from
            after = e + timedelta(days=1)
            assert after.day == s.day or (after.day == 1 and s.day > 28)
            assert (after.year * 12 + after.month) - (s.year * 12 + s.month) in (months, months + 1)


def test_coverage_end_refuses_no_months_and_caps_at_the_calendar() -> None:
    with pytest.raises(ValueError):
        coverage_end(date(2025, 1, 1), 0)
    assert coverage_end(date(2025, 1, 1), 12 * 9000) == date.max


def _cycle(
    start: date,
    end: date,
    months: int | None,
    state: str = "terjadwal",
    cycle_id: int = 1,
    programme: str = "Kartu Sehat",
) -> ServiceCycle:
    return ServiceCycle(programme, cycle_id, start, end, months, state)


def test_the_snapshot_months_decide_and_the_period_only_without_them() -> None:
    one_month_cycle = _cycle(date(2025, 1, 1), date(2025, 1, 31), 12)
    assert one_month_cycle.end == date(2025, 12, 31)
    assert one_month_cycle.covers(date(2025, 6, 1)) and one_month_cycle.covers(date(2025, 12, 31))
    assert not one_month_cycle.covers(date(2026, 1, 1)) and not one_month_cycle.covers(date(2024, 12, 31))
    long_period = _cycle(date(2025, 1, 1), date(2025, 12, 31), 3)
    assert long_period.end == date(2025, 3, 31) and not long_period.covers(date(2025, 6, 1))
    no_months = _cycle(date(2025, 1, 1), date(2025, 6, 30), None)
    assert no_months.end == date(2025, 6, 30)


def test_overlapping_cycles_cover_until_the_latest_end() -> None:
    today = date(2025, 9, 1)
    older = _cycle(date(2025, 1, 1), date(2025, 1, 31), 12, cycle_id=1)  # to 31 Dec 2025
    newer = _cycle(date(2025, 7, 1), date(2025, 7, 31), 6, cycle_id=2)  # to 31 Dec 2025 as well
    longest = _cycle(date(2025, 3, 1), date(2025, 3, 31), 24, cycle_id=3)  # to 28 Feb 2027
    ended = _cycle(date(2024, 1, 1), date(2024, 1, 31), 12, cycle_id=4)
    upcoming = _cycle(date(2026, 1, 1), date(2026, 1, 31), 12, cycle_id=5)
    assert covered_until([older, newer, ended, upcoming], today) == date(2025, 12, 31)
    assert covering_cycle([older, newer], today) == newer  # same end: the later start
    assert covered_until([older, longest, newer], today) == date(2027, 2, 28)
    assert covering_cycle([longest, older, newer], today) == longest
    assert covered_until([ended, upcoming], today) is None
    assert covered_until([], today) is None


def test_blocked_or_cancelled_entitlements_cover_nothing() -> None:
    today = date(2025, 9, 1)
    blocked = _cycle(date(2025, 7, 1), date(2025, 7, 31), 24, state="diblokir", cycle_id=2)
    cancelled = _cycle(date(2025, 8, 1), date(2025, 8, 31), 24, state="dibatalkan", cycle_id=3)
    older = _cycle(date(2025, 1, 1), date(2025, 1, 31), 12, state="dibayar", cycle_id=1)
    assert not blocked.covers(today) and not cancelled.covers(today)
    assert covered_until([blocked, cancelled], today) is None
    assert covered_until([blocked, cancelled, older], today) == date(2025, 12, 31)

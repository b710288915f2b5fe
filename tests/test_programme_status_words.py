"""Programme status in a resident's words (tepat.domain.programme_status), from plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tepat.domain import programme_status as words
from tepat.domain.programme_status import Entry, period_words, programme_statuses, service_words, status_words

TODAY = date(2025, 9, 1)


def _cash(
    state: str,
    *,
    paid_at: datetime | None = None,
    cycle_id: int = 1,
    start: date = date(2025, 7, 1),
    end: date = date(2025, 7, 31),
    programme_id: int = 1,
    name: str = "BLT-APBD",
) -> Entry:
    return Entry(programme_id, name, "tunai", cycle_id, start, end, state, paid_at)


def _health(start: date, end: date, months: int | None, state: str = "terjadwal", cycle_id: int = 1) -> Entry:
    return Entry(9, "Kartu Sehat", "layanan", cycle_id, start, end, state, None, months)


@pytest.mark.parametrize(
    ("state", "paid_at", "expected"),
    [
        ("terjadwal", None, words.WAITING),
        ("diproses", None, words.WAITING),
        ("gagal", None, words.RETRYING),
        ("diblokir", None, words.SUSPENDED),
        ("dibatalkan", None, words.CANCELLED),
        ("dibayar", None, "Sudah disalurkan"),
        ("dibayar", datetime(2025, 7, 11, 18, 30, tzinfo=UTC), "Sudah disalurkan 12 Juli 2025"),  # 01.30 WIB
    ],
)
def test_cash_states_in_words(state: str, paid_at: datetime | None, expected: str) -> None:
    assert status_words(_cash(state, paid_at=paid_at)) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("terjadwal", "Mendapat kursi pelatihan, menunggu pendaftaran"),
        ("terdaftar", "Peserta pelatihan"),
        ("selesai", "Lulus pelatihan"),
        ("tidak_lulus", "Tidak menyelesaikan pelatihan"),
        ("dibatalkan", words.CANCELLED),
        ("diblokir", words.SUSPENDED),
    ],
)
def test_training_seats_in_words(state: str, expected: str) -> None:
    seat = Entry(5, "Pelatihan BLK", "pelatihan", 3, date(2025, 8, 1), date(2025, 8, 28), state)
    assert status_words(seat) == expected


def test_health_coverage_active_or_ended_reads_the_dates_whatever_the_stored_state() -> None:
    for state in ("aktif", "selesai"):
        year = _health(date(2025, 1, 1), date(2025, 1, 31), 12, state=state)
        assert service_words([year], TODAY)[0] == "Aktif, berlaku sampai 31 Desember 2025"
        assert service_words([year], date(2026, 1, 1))[0] == "Berakhir 31 Desember 2025"


def test_health_coverage_runs_for_the_snapshot_months_from_the_start() -> None:
    january = _health(date(2025, 1, 1), date(2025, 1, 31), 12)  # a one-month cycle covering a year
    assert service_words([january], TODAY) == (
        "Aktif, berlaku sampai 31 Desember 2025",
        "Januari–Desember 2025",
    )
    assert service_words([january], date(2026, 1, 1)) == (
        "Berakhir 31 Desember 2025",
        "Januari–Desember 2025",
    )
    assert service_words([january], date(2024, 12, 31)) == (
        "Terdaftar, berlaku mulai 1 Januari 2025",
        "Januari–Desember 2025",
    )
    mid_year = _health(date(2025, 7, 15), date(2025, 12, 31), 12)
    assert service_words([mid_year], TODAY) == ("Aktif, berlaku sampai 14 Juli 2026", "Juli 2025–Juli 2026")
    no_months = _health(date(2025, 1, 1), date(2025, 12, 31), None)
    assert service_words([no_months], TODAY)[0] == "Aktif, berlaku sampai 31 Desember 2025"


def test_health_coverage_with_several_cycles() -> None:
    this_year = _health(date(2025, 1, 1), date(2025, 1, 31), 12, cycle_id=1)
    next_year = _health(date(2026, 1, 1), date(2026, 1, 31), 12, cycle_id=2)
    longer = _health(date(2025, 6, 1), date(2025, 6, 30), 18, cycle_id=3)
    # the approved next year does not make today's coverage longer, and does not hide it
    assert service_words([this_year, next_year], TODAY)[0] == "Aktif, berlaku sampai 31 Desember 2025"
    assert service_words([this_year, longer], TODAY) == (
        "Aktif, berlaku sampai 30 November 2026",
        "Juni 2025–November 2026",
    )
    # the latest cycle blocked (e.g. moved away) while an older one still covers: covered, as the facility is told
    blocked = _health(date(2025, 7, 1), date(2025, 7, 31), 12, state="diblokir", cycle_id=4)
    assert service_words([this_year, blocked], TODAY)[0] == "Aktif, berlaku sampai 31 Desember 2025"
    assert service_words([blocked], TODAY) == (words.SUSPENDED, "Juli 2025–Juni 2026")
    cancelled = _health(date(2025, 7, 1), date(2025, 7, 31), 12, state="dibatalkan", cycle_id=4)
    assert service_words([cancelled], TODAY)[0] == words.CANCELLED
    # over: the last day covered, not the cycle's own end
    assert service_words([this_year, longer], date(2027, 1, 1))[0] == "Berakhir 30 November 2026"
    with pytest.raises(ValueError):
        service_words([], TODAY)


def test_one_line_per_programme_by_name_from_the_latest_cycle() -> None:
    june = _cash(
        "dibayar",
        paid_at=datetime(2025, 6, 12, 3, tzinfo=UTC),
        cycle_id=1,
        start=date(2025, 6, 1),
        end=date(2025, 6, 30),
    )
    july = _cash("terjadwal", cycle_id=2)
    sembako = Entry(2, "Sembako", "barang", 5, date(2025, 7, 1), date(2025, 12, 31), "diblokir")
    health = [
        _health(date(2025, 1, 1), date(2025, 1, 31), 12, cycle_id=3),
        _health(date(2024, 1, 1), date(2024, 1, 31), 12, cycle_id=4),
    ]
    found = programme_statuses([sembako, *health, july, june], TODAY)
    assert found == [
        {"programme": "BLT-APBD", "status": words.WAITING, "period": "Juli 2025"},
        {
            "programme": "Kartu Sehat",
            "status": "Aktif, berlaku sampai 31 Desember 2025",
            "period": "Januari–Desember 2025",
        },
        {"programme": "Sembako", "status": words.SUSPENDED, "period": "Juli–Desember 2025"},
    ]
    assert programme_statuses([june], TODAY) == [
        {"programme": "BLT-APBD", "status": "Sudah disalurkan 12 Juni 2025", "period": "Juni 2025"}
    ]
    assert programme_statuses([], TODAY) == []


def test_period_words() -> None:
    assert period_words(date(2025, 7, 1), date(2025, 7, 31)) == "Juli 2025"
    assert period_words(date(2025, 7, 1), date(2025, 12, 31)) == "Juli–Desember 2025"
    assert period_words(date(2025, 7, 1), date(2026, 6, 30)) == "Juli 2025–Juni 2026"

"""Numbers, money and dates as Indonesians write them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tepat.domain.formatting import long_date, moment, number, rupiah
from tepat.web.templating import tanggal


def test_numbers_and_money():
    assert number(1234567) == "1.234.567" and rupiah(250000) == "Rp250.000"
    assert number(4.01, 2) == "4,01" and number(None) == "–"


def test_dates_and_moments_in_jakarta():
    assert long_date(date(2025, 7, 24)) == "24 Juli 2025"
    assert moment(datetime(2025, 7, 24, 20, 5, tzinfo=UTC)) == "25 Juli 2025 03.05 WIB"
    assert (
        moment(datetime(2025, 7, 24, 20, 5)) == "25 Juli 2025 03.05 WIB"
    )  # naive = UTC, as SQLite returns it


def test_template_filter_accepts_iso_text():
    assert tanggal("2025-07-24") == "24 Juli 2025" and tanggal("") == "–" and tanggal("kemarin") == "kemarin"

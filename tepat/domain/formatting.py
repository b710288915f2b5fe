"""Numbers, money and dates the way Indonesians write them (Babel ``id_ID``, Asia/Jakarta).

Every shell — pages, charts, PDFs, the CLI — formats through these functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LOCALE = "id_ID"
TIMEZONE = ZoneInfo("Asia/Jakarta")


def number(value: float | None, digits: int = 0) -> str:
    """``1.234.567``; with ``digits``: ``4,01``. ``None`` is ``–``."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=LOCALE))


def rupiah(value: int | None) -> str:
    """Money in whole rupiah: ``Rp250.000``."""
    if value is None:
        return "–"
    return "Rp" + number(value)


def local_time(value: datetime) -> datetime:
    """A stored moment in Asia/Jakarta (naive values are UTC, as SQLite returns them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(TIMEZONE)


def local_today() -> date:
    """Today's date in Asia/Jakarta (where the office's days begin and end)."""
    return datetime.now(TIMEZONE).date()


def month_name(month: int) -> str:
    """``Januari`` … ``Desember``."""
    return format_date(date(2000, month, 1), "LLLL", locale=LOCALE)


def day_name(day: date) -> str:
    """The weekday: ``Senin`` … ``Minggu``."""
    return format_date(day, "EEEE", locale=LOCALE)


def long_date(value: date | datetime | None) -> str:
    """``24 Juli 2025`` (a datetime is taken in Asia/Jakarta)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = local_time(value).date()
    return str(format_date(value, format="long", locale=LOCALE))


def moment(value: datetime | None) -> str:
    """``24 Juli 2025 14.05 WIB``."""
    if value is None:
        return "–"
    local = local_time(value)
    return f"{long_date(local)} {format_datetime(local, 'HH.mm', locale=LOCALE)} WIB"

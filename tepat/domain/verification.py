"""Field verification (verivali): what a verifier re-observed at the house, and what it decides.

A visit records the housing and asset indicators seen again, an optional GPS
point and one decision. The decision sets the family's verification status;
indicators that differ from the registry become a normal registry change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tepat.domain.households import ASSETS, FAMILY_FIELDS, HOUSING
from tepat.domain.vocabulary import Labelled
from tepat.errors import FieldError, ValidationError

REVERIFY_AFTER_YEARS = 2  # a family not verified for two years goes back on the work list

# The indicators a verifier can see at the house (not identity, not region, not status).
OBSERVABLE = tuple(f.name for f in FAMILY_FIELDS if f.name in HOUSING or f.name in {a[0] for a in ASSETS})


class VisitDecision(Labelled):
    LAYAK = "layak", "Layak (data sesuai / diperbaiki)"  # data confirmed (or corrected): the family qualifies
    TIDAK_LAYAK = "tidak_layak", "Tidak layak"  # the family does not match the criteria
    TIDAK_DITEMUKAN = "tidak_ditemukan", "Keluarga tidak ditemukan di alamat"  # nobody found at the address
    KUNJUNGAN_ULANG = "kunjungan_ulang", "Perlu kunjungan ulang"  # nobody home: come back

    @property
    def verification_status(self) -> str | None:
        """The family's new verification status, or ``None`` when the visit settles nothing yet."""
        return {"layak": "terverifikasi", "tidak_layak": "ditolak", "tidak_ditemukan": "ditolak"}.get(
            self.value
        )


@dataclass(frozen=True)
class GpsPoint:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Visit:
    """A verifier's findings at one house on one day."""

    family_id: int
    visited_on: date
    decision: VisitDecision
    observed: dict[str, Any] = field(default_factory=dict)
    gps: GpsPoint | None = None
    note: str = ""


def parse_gps(latitude: str | float | None, longitude: str | float | None) -> GpsPoint | None:
    """A GPS point from form fields (both empty = none); refuses impossible coordinates."""
    if latitude in (None, "") and longitude in (None, ""):
        return None
    try:
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(
            "Titik GPS tidak sah", [FieldError("gps", "Isi lintang dan bujur sebagai angka")]
        ) from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValidationError("Titik GPS tidak sah", [FieldError("gps", "Lintang -90..90, bujur -180..180")])
    return GpsPoint(lat, lon)


def changed_indicators(current: Mapping[str, Any], observed: Mapping[str, Any]) -> dict[str, Any]:
    """The observed indicators that differ from the registry (an empty observation changes nothing)."""
    return {k: v for k, v in observed.items() if k in OBSERVABLE and v is not None and current.get(k) != v}


def registry_changes(current: Mapping[str, Any], visit: Visit) -> dict[str, Any]:
    """What the visit changes in the family record: differing indicators plus the verification status and date.
    A visit that found nobody home (``kunjungan_ulang``) changes nothing: what it saw is kept with the visit."""
    if visit.decision is VisitDecision.KUNJUNGAN_ULANG:
        return {}
    changes = changed_indicators(current, visit.observed)
    status = visit.decision.verification_status
    if status is not None:
        changes["verification_status"] = status
        changes["verified_on"] = visit.visited_on
    return changes


def due_before(today: date, since_years: int = REVERIFY_AFTER_YEARS) -> date:
    """Families last verified before this day are due for a visit: ``since_years`` years back, the same day counted
    (so it agrees with ``is_due`` except on a 29 February verification, which ``is_due`` ages a day sooner)."""
    try:
        back = today.replace(year=today.year - since_years)
    except ValueError:  # today is 29 February
        back = today.replace(year=today.year - since_years, day=28)
    return back + timedelta(days=1)


def is_due(verified_on: date | None, today: date) -> bool:
    """True when a family was never verified or not in the last two years."""
    if verified_on is None:
        return True
    try:
        limit = verified_on.replace(year=verified_on.year + REVERIFY_AFTER_YEARS)
    except ValueError:  # 29 February
        limit = verified_on.replace(year=verified_on.year + REVERIFY_AFTER_YEARS, day=28)
    return today >= limit

"""Plain functions that build valid registry data for tests."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from tepat.domain.access import Actor
from tepat.services import registry
from tepat.store.database import Database

_serial = itertools.count(1)


def next_serial() -> int:
    """A serial for the next NIK or KK, here and in ``tests.registry_files``: 1000–8999 over and over (a whole test session makes more than that; a fifth
    digit would make a 17-digit NIK). Serials 0001–0999 and 9000–9999 are never given here: a test that writes out
    a NIK or KK (``…0007``, or ``…9999`` for a number that is nobody's) uses one of those, and cannot meet a
    factory's number in its database whatever ran before it in the same process."""
    return next(_serial) % 8000 + 1000


KELURAHAN = "32.75.01.1001"  # Bekasijaya, Bekasi Timur
OTHER_KELURAHAN = "32.75.02.1001"


def nik(birth: date, sex: str = "L", region: str = "327501", serial: int | None = None) -> str:
    """A valid NIK for a birth date and sex."""
    day = birth.day + (40 if sex == "P" else 0)
    return f"{region}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial or next_serial():04d}"


def kk(region: str = "327501", issued: date = date(2020, 7, 15), serial: int | None = None) -> str:
    return f"{region}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{serial or next_serial():04d}"


def letters(i: int) -> str:
    """A number as letters for names in test data (a name holds no digits): 0 → ``A``, 25 → ``Z``, 26 → ``Ab``."""
    out = ""
    while True:
        out = chr(ord("a") + i % 26) + out
        i = i // 26 - 1
        if i < 0:
            return out.capitalize()


def member_values(
    name: str = "Budi Santoso",
    sex: str = "L",
    birth: date = date(1980, 5, 17),
    relationship: str = "kepala_keluarga",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "nik": nik(birth, sex),
        "name": name,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "relationship": relationship,
        **extra,
    }


def family_values(kelurahan: str = KELURAHAN, **extra: Any) -> dict[str, Any]:
    return {
        "kk_number": kk(),
        "kelurahan_code": kelurahan,
        "rw": 3,
        "rt": 5,
        "address": "Jl. Mawar No. 7",
        "floor_material": "keramik",
        "power_va": "900",
        **extra,
    }


def make_family(
    db: Database,
    actor: Actor,
    kelurahan: str = KELURAHAN,
    members: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> int:
    """Create a family (head, spouse, child by default) and return its id."""
    people = (
        members
        if members is not None
        else [
            member_values(),
            member_values("Siti Aminah", "P", date(1983, 2, 3), "istri_suami"),
            member_values(
                "Rizky Pratama", "L", date(2012, 9, 1), "anak", school_participation="masih_sekolah"
            ),
        ]
    )
    return registry.create_family(
        db, actor, family_values(kelurahan, **extra), people, reason="pendataan awal"
    )

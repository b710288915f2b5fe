"""Choices the pages offer that depend on who is asking: the kelurahan (or kecamatan) inside the user's area."""

from __future__ import annotations

from tepat.domain.access import Actor
from tepat.domain.regions import Level
from tepat.services.office import working_area
from tepat.store.database import Database


def kelurahan_options(db: Database, actor: Actor, *, with_kecamatan: bool = False) -> list[tuple[str, str]]:
    """(code, name) of every kelurahan in the user's area, by name; an operator of one kelurahan gets that one.

    ``with_kecamatan`` adds the kecamatan to each name ("Jatimulya (Tambun Selatan)"), for lists across kecamatan.
    """
    area = working_area(db, actor)
    found = list(db.regions.descendants(area, Level.KELURAHAN))
    own = db.regions.get(area)
    if not found and own is not None:
        found = [own]

    def label(code: str, name: str) -> str:
        return f"{name} ({db.regions.name(code.rsplit('.', 1)[0])})" if with_kecamatan else name

    return sorted(((r.code, label(r.code, r.name)) for r in found), key=lambda x: x[1])


def cycle_area_options(db: Database, actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of the areas an admin may make a benefit cycle for: their whole area, then each kecamatan in it."""
    own = [(actor.area_code, f"{db.regions.name(actor.area_code)} (seluruh wilayah Anda)")]
    inside = sorted(
        ((r.code, r.name) for r in db.regions.descendants(actor.area_code, Level.KECAMATAN)),
        key=lambda x: x[1],
    )
    return own + [(code, f"Kecamatan {name}") for code, name in inside]

"""Linking an outside list to the registry (issue 15): a school's KIP list, a kelurahan's usul list, a bank's
account holders, a Dukcapil extract, matched to the registry's people of the user's area by the record-linkage
model of ``tepat dedup`` / ``tepat link``.

The answer is one row per record of the list: ``cocok`` (one registry person above the threshold, with the
probability), ``beberapa kandidat`` (several: a person must choose; the most probable is shown) or ``tidak ada``.
Reading it needs the right to see personal data in the area, and every run is audited (``registri.tautkan``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.files.person_lists import ID, PersonList
from tepat.services import record_linkage
from tepat.services.office import working_area
from tepat.store import audit
from tepat.store import duplicates as store
from tepat.store.database import Database

# The registry's compared columns under the linkage fields' names.
_AS_LINK_FIELDS = {
    "nik": "nik",
    "name": "nama",
    "birth_date": "tanggal_lahir",
    "sex": "jenis_kelamin",
    "kk_number": "nomor_kk",
    "kelurahan_code": "kode_kelurahan",
    "rw": "rw",
    "rt": "rt",
}
RESULT_COLUMNS = (
    "id",
    "hasil",
    "kandidat",
    "peluang",
    "nik",
    "nama",
    "tanggal_lahir",
    "nomor_kk",
    "kode_kelurahan",
)


LINK_STEPS = ("Membaca berkas", "Membaca data registri", "Melatih model dan menautkan", "Menyimpan hasil")
"""The steps a linking from the page reports (``progress(step, len(LINK_STEPS))`` as each begins): the first and
the last are the page's (reading the uploaded file, writing the answer), the middle two ``link_to_registry``'s."""


@dataclass(frozen=True)
class RegistryLink:
    """Per record of the outside list, what the registry holds; and the run's summary."""

    rows: pl.DataFrame  # RESULT_COLUMNS
    pairs: pl.DataFrame  # every pair above the threshold: id_a (the list's id), id_b (the person's NIK)
    summary: dict[str, Any]

    def counts(self) -> dict[str, int]:
        found = dict(self.rows.group_by("hasil").len().iter_rows())
        return {label: int(found.get(label, 0)) for label in record_linkage.OUTCOMES}


def registry_people(db: Database, actor: Actor, area: str) -> PersonList:
    """The active people of ``area`` (inside the actor's) as a person list, ``unique_id`` the member id."""
    actor.require(Permission.READ_PERSONAL, area)
    with db.read() as conn:
        records = store.compared_records(conn, area)
    frame = records.select(
        pl.col("unique_id").cast(pl.String).alias(ID),
        *(pl.col(c).cast(pl.String).alias(f) for c, f in _AS_LINK_FIELDS.items()),
    )
    return PersonList(f"registri {area}", frame, 0)


def link_to_registry(
    db: Database,
    actor: Actor,
    outside: PersonList,
    *,
    threshold: float = record_linkage.DEFAULT_THRESHOLD,
    area: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> RegistryLink:
    """Match every record of ``outside`` to the registry's people of the area (an audited read)."""
    step = progress or (lambda done, total: None)
    area = area or working_area(db, actor)
    step(2, len(LINK_STEPS))
    registry = registry_people(db, actor, area)
    step(3, len(LINK_STEPS))
    result = record_linkage.link(outside, registry, threshold=threshold)
    per_row = record_linkage.per_row(outside, result.pairs)
    people = registry.frame.rename({ID: "id_b"})
    rows = (
        per_row.join(people, on="id_b", how="left", maintain_order="left")
        .rename({"id_a": "id", "probability": "peluang"})
        .with_columns(pl.col("peluang").round(4))
        .select(RESULT_COLUMNS)
    )
    pairs = result.pairs.join(people.select("id_b", "nik"), on="id_b").select(
        "id_a", pl.col("nik").alias("id_b"), "probability"
    )
    linked = RegistryLink(rows, pairs.sort("id_a", "id_b"), result.summary())
    audit.record_read(
        db,
        actor,
        AuditAction.LINKAGE_RUN,
        "members",
        None,
        area_code=area,
        detail={"daftar": outside.name, "catatan": outside.frame.height, **linked.counts()},
    )
    return linked

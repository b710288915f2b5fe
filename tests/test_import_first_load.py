"""The first-load path of the import (empty registry: rows appended directly) against the matching path."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tepat.domain.households import CANONICAL_COLUMNS
from tepat.services import imports as import_service
from tepat.services import registry, registry_reads
from tepat.services.imports import import_file
from tepat.store.database import Database
from tepat.store.schema import families, family_versions, imports, member_versions, members
from tepat.store.staging import Stager
from tests.registry_files import OTHER_KELURAHAN, family, kk, nik, row, write_csv

_VOLATILE = {"id", "family_id", "valid_from", "import_id"}


def _messy_rows() -> list[dict[str, str]]:
    """Families of every shape: status cells left empty, an inactive family, a bad row, a KK split by batches."""
    rows = family() + family(kelurahan=OTHER_KELURAHAN, status_keluarga="", status_verifikasi="")
    rows += [dict(r, status_keluarga="nonaktif", alasan_nonaktif="pindah") for r in family()]
    split = kk()
    rows += [row(split, "Ahmad Fauzi", birth=date(1970, 1, 2), status_hidup="")]
    rows += family()  # between the two rows of the split KK
    rows += [row(split, "Dewi Lestari", "P", date(1975, 3, 4), "istri_suami", nik=nik(date(1975, 3, 4), "P"))]
    rows += [row(kk(), "Tanpa NIK", nik="12345")]  # rejected: the NIK is malformed
    return rows


def _stamp_texts(db: Database) -> set[str]:
    """The shapes of the stored ``valid_from`` texts (digits blanked): one format whichever path wrote them."""
    with db.read() as conn:
        texts = conn.execute(
            sa.text(
                "SELECT CAST(valid_from AS TEXT) FROM families UNION SELECT CAST(valid_from AS TEXT) FROM members"
            )
        )
        return {re.sub(r"\d", "0", t) for t in texts.scalars()}


def _snapshot(db: Database) -> dict[str, Any]:
    """Every stored row without ids and stamps, members keyed by NIK with their family's KK."""
    with db.read() as conn:
        fams = {r["id"]: dict(r) for r in conn.execute(sa.select(families)).mappings()}
        mems = [dict(r) for r in conn.execute(sa.select(members)).mappings()]
        versions = [
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (family_versions, member_versions)
        ]
    out_f = {f["kk_number"]: {k: v for k, v in f.items() if k not in _VOLATILE} for f in fams.values()}
    out_m = {
        m["nik"]: {
            **{k: v for k, v in m.items() if k not in _VOLATILE},
            "kk": fams[m["family_id"]]["kk_number"],
        }
        for m in mems
    }
    return {"families": out_f, "members": out_m, "versions": versions}


def _counts(result: import_service.ImportResult) -> tuple[int, ...]:
    return (
        result.rows_read,
        result.rows_rejected,
        result.families_created,
        result.families_updated,
        result.members_created,
        result.members_updated,
    )


def _empty(db: Database) -> None:
    with db.begin() as conn:
        for table in (member_versions, members, family_versions, families):
            conn.execute(table.delete())


_FEW = (
    "nomor_kk",
    "kode_kelurahan",
    "rw",
    "rt",
    "nik",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "hubungan_keluarga",
)


@pytest.mark.parametrize("columns", [CANONICAL_COLUMNS, _FEW], ids=["all-columns", "required-columns-only"])
def test_first_load_stores_what_the_matching_path_stores(
    db: Database, admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: tuple[str, ...]
) -> None:
    monkeypatch.setattr(
        import_service, "BATCH_ROWS", 4
    )  # the split KK and the families cross batch boundaries
    path = write_csv(tmp_path / "campur.csv", _messy_rows(), columns=columns)
    paths: list[bool] = []
    real_init = Stager.__init__

    def spy(self: Stager, *args: Any, **kwargs: Any) -> None:
        real_init(self, *args, **kwargs)
        paths.append(self.first_load)

    monkeypatch.setattr(Stager, "__init__", spy)
    fast = import_file(db, admin, path)
    fast_rows, fast_stamps = _snapshot(db), _stamp_texts(db)
    _empty(db)
    monkeypatch.setattr(Stager, "_empty_registry", lambda self: False)
    matched = import_file(db, admin, path)
    assert paths == [True, False]
    if db.dialect == "sqlite":  # PostgreSQL prints timestamps itself (and drops trailing zeros)
        assert fast_stamps == _stamp_texts(db) and len(fast_stamps) == 1
    assert _counts(fast) == _counts(matched) == (15, 1, 5, 0, 14, 0)
    assert _snapshot(db) == fast_rows
    assert fast_rows["versions"] == [0, 0]
    split = [m for m in fast_rows["members"].values() if m["name"] in ("Ahmad Fauzi", "Dewi Lestari")]
    assert len({m["kk"] for m in split}) == 1 and {m["life_status"] for m in split} == {"hidup"}
    other = next(f for f in fast_rows["families"].values() if f["kelurahan_code"] == OTHER_KELURAHAN)
    assert (other["registry_status"], other["verification_status"], other["kecamatan_code"]) == (
        "aktif",
        "belum",
        "32.75.02",
    )
    inactive = sum(f["registry_status"] == "nonaktif" for f in fast_rows["families"].values())
    assert inactive == (
        1 if columns is CANONICAL_COLUMNS else 0
    )  # without the status column every family is aktif
    assert all(m["status"] == "aktif" for m in fast_rows["members"].values())


def test_first_load_rows_carry_the_import_and_later_edits_get_new_ids(
    db: Database, admin, tmp_path: Path
) -> None:
    rows = family() + family()
    result = import_file(db, admin, write_csv(tmp_path / "awal.csv", rows))
    with db.read() as conn:
        stamps = set(
            conn.execute(
                sa.select(
                    families.c.version, families.c.changed_by, families.c.change_reason, families.c.import_id
                )
            ).all()
        )
        member_stamps = set(
            conn.execute(sa.select(members.c.version, members.c.status, members.c.import_id)).all()
        )
        started = conn.execute(sa.select(imports.c.started_at)).scalar_one()
        valid_from = conn.execute(sa.select(families.c.valid_from)).scalars().first()
        top = conn.execute(sa.select(sa.func.max(families.c.id))).scalar_one()
    assert stamps == {(1, "admin", "impor awal.csv", result.import_id)}
    assert member_stamps == {(1, "aktif", result.import_id)}
    assert (
        valid_from is not None
        and abs((valid_from.replace(tzinfo=None) - started.replace(tzinfo=None)).total_seconds()) < 60
    )
    # The ids handed out by the first load are taken: a family added by hand gets the next one.
    added = registry.create_family(
        db,
        admin,
        {"kk_number": kk(), "kelurahan_code": rows[0]["kode_kelurahan"], "rw": 1, "rt": 2},
        [
            {
                "nik": nik(date(1990, 1, 1)),
                "name": "Joko",
                "sex": "L",
                "birth_date": "1990-01-01",
                "relationship": "kepala_keluarga",
            }
        ],
        reason="tambah",
    )
    assert added > top
    assert registry_reads.get_family(db, admin, top).members[0]["name"] == "Budi Santoso"


def test_an_import_into_a_registry_with_rows_matches_them(
    db: Database, admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = family()
    import_file(db, admin, write_csv(tmp_path / "a.csv", first))
    seen: list[bool] = []
    real_apply = Stager.apply

    def spy(self: Stager, *args: Any) -> Any:
        seen.append(self.first_load)
        return real_apply(self, *args)

    monkeypatch.setattr(Stager, "apply", spy)
    moved = dict(first[2], nomor_kk=kk(), hubungan_keluarga="kepala_keluarga")
    result = import_file(db, admin, write_csv(tmp_path / "b.csv", [moved]))
    assert seen == [False]
    assert (result.families_created, result.members_created, result.members_updated) == (1, 0, 1)

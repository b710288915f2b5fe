"""An office's snapshot for the national ranking (``tepat nasional snapshot``), and a set of them checked as one.

A snapshot is ``<office>.parquet`` (the office's active families, in family-id order, with the model's features as
of the reference date) and ``<office>.json`` (the manifest: office, model version by its fingerprint with its spec,
reference date, count). See ``tepat.services.national_ranking`` for the whole flow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tepat.domain.access import Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.regions import Level, RegionCode
from tepat.domain.welfare import model_fingerprint, model_from_spec
from tepat.errors import NotFound, ValidationError
from tepat.services.registry_ranking import require_city_ranking
from tepat.services.targeting import columns_of
from tepat.store import audit, pmt_features
from tepat.store import targeting as store
from tepat.store.database import Database
from tepat.store.engine import now


@dataclass(frozen=True)
class Snapshot:
    """What an office's snapshot manifest says: whose, under which model, as of when, how many families."""

    office: str
    office_name: str
    model_sha256: str
    model: dict[str, Any]
    reference_date: date
    families: int
    written_at: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reference_date": self.reference_date.isoformat()}

    @classmethod
    def read(cls, path: Path) -> Snapshot:
        """The manifest at ``path``; ``ValidationError`` naming the file when it is not one."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found = cls(
                office=str(data["office"]),
                office_name=str(data.get("office_name", "")),
                model_sha256=str(data["model_sha256"]),
                model=dict(data["model"]),
                reference_date=date.fromisoformat(str(data["reference_date"])),
                families=int(data["families"]),
                written_at=str(data.get("written_at", "")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise ValidationError(
                f"{path.name}: bukan manifest snapshot tepat (perlu office, model_sha256, model, reference_date, "
                "families)."
            ) from None
        if model_fingerprint(found.model) != found.model_sha256:
            raise ValidationError(
                f"{path.name}: model di manifest tidak sesuai sidik jarinya (berkas diubah?)."
            )
        return found


def write_snapshot(
    db: Database,
    actor: Actor,
    model_id: int,
    out_dir: Path,
    *,
    reference_date: date | None = None,
    office_code: str | None = None,
) -> Snapshot:
    """Write one office's active families with the features of model version ``model_id`` to ``out_dir`` (as
    ``<office>.parquet`` and its manifest ``<office>.json``; a snapshot written before is replaced). The office is
    ``office_code`` — one of several a province's database serves (``write_snapshots`` writes them all) — or the
    database's one office."""
    require_city_ranking(db, actor)
    day = reference_date or now().date()
    office = db.offices.of(office_code) if office_code else db.office
    if office is None or (office_code and office.code != office_code):
        raise ValidationError(f"Kantor {office_code} tidak dilayani basis data ini.")
    with db.read() as conn:
        row = store.get_model(conn, model_id)
        if row is None:
            raise NotFound("Versi model PMT tidak ditemukan.")
        model = model_from_spec(row["spec"])
        area = None if db.offices.single else office.code
        ids, versions, columns = pmt_features.read_features(conn, columns_of(model), day, area=area)
    frame = pl.DataFrame(
        [
            pl.Series("office", [office.code] * len(ids), dtype=pl.String),
            pl.Series("family_id", ids, dtype=pl.Int64),
            pl.Series("family_version", versions, dtype=pl.Int64),
            *(_feature_series(name, values) for name, values in columns.items()),
        ]
    )
    snapshot = Snapshot(
        office=office.code,
        office_name=office.name,
        model_sha256=model_fingerprint(row["spec"]),
        model=dict(row["spec"]),
        reference_date=day,
        families=frame.height,
        written_at=now().isoformat(timespec="seconds"),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    _replace(out_dir / f"{office.code}.parquet", lambda path: frame.write_parquet(path))
    _replace(
        out_dir / f"{office.code}.json",
        lambda path: path.write_text(json.dumps(snapshot.as_dict(), indent=2, ensure_ascii=False), "utf-8"),
    )
    with db.begin() as conn:
        audit.record(
            conn,
            actor,
            AuditAction.NATIONAL_SNAPSHOT_WRITE,
            "pmt_model",
            model_id,
            detail={"families": frame.height, "reference_date": day.isoformat(), "folder": out_dir.name},
        )
    return snapshot


def write_snapshots(
    db: Database, actor: Actor, model_id: int, out_dir: Path, *, reference_date: date | None = None
) -> list[Snapshot]:
    """``write_snapshot`` for every office the database serves (one, or a province deployment's several)."""
    day = reference_date or now().date()
    return [
        write_snapshot(db, actor, model_id, out_dir, reference_date=day, office_code=code)
        for code in db.offices.codes
    ]


def _feature_series(name: str, values: Any) -> pl.Series:
    """A feature column as the snapshot holds it: numbers as Float64 with missing as null (never NaN), codes as
    text."""
    array = np.asarray(values)
    if array.dtype == object:
        return pl.Series(name, [None if v is None else str(v) for v in array.tolist()], dtype=pl.String)
    return pl.Series(name, array.astype(np.float64), dtype=pl.Float64).fill_nan(None)


def _replace(path: Path, write: Any) -> None:
    """Write beside ``path`` and rename over it: a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.tmp")
    write(partial)
    partial.replace(path)


def read_snapshots(snapshot_dir: Path, offices: Sequence[str] = ()) -> list[Snapshot]:
    """The snapshots in ``snapshot_dir``, checked as one set: every office in ``offices`` (when given) present,
    each a kabupaten/kota, one model, one reference date, each file holding its manifest's families."""
    if not snapshot_dir.is_dir():
        raise ValidationError(f"Folder snapshot {snapshot_dir} tidak ada.")
    found = sorted((Snapshot.read(path) for path in snapshot_dir.glob("*.json")), key=lambda s: s.office)
    problems = [
        f"{code}: {problem}"
        for code in dict.fromkeys([*offices, *(s.office for s in found)])
        if (problem := _not_a_kabkota(code))
    ]
    by_office = {s.office: s for s in found}
    missing = [code for code in offices if code not in by_office]
    if missing:
        problems.append("snapshot kantor berikut tidak ada: " + ", ".join(missing))
    if not found:
        problems.append(f"tidak ada snapshot (<kode>.json dan <kode>.parquet) di {snapshot_dir}")
    if problems:
        raise ValidationError("Snapshot tidak dapat diperingkat: " + "; ".join(problems) + ".")
    model = _most_common([s.model_sha256 for s in found])
    other_model = [s.office for s in found if s.model_sha256 != model]
    newest = max(s.reference_date for s in found)
    stale = [f"{s.office} ({s.reference_date.isoformat()})" for s in found if s.reference_date != newest]
    if other_model:
        problems.append("kantor berikut memakai versi model PMT lain: " + ", ".join(other_model))
    if stale:
        problems.append(
            f"snapshot kantor berikut lebih lama dari tanggal acuan {newest.isoformat()}: " + ", ".join(stale)
        )
    for snapshot in found:
        data = snapshot_dir / f"{snapshot.office}.parquet"
        if not data.is_file():
            problems.append(f"{snapshot.office}: berkas {data.name} tidak ada")
            continue
        try:
            rows, another_office, in_order = (
                pl.scan_parquet(data)
                .select(
                    pl.len(),
                    (pl.col("office") != snapshot.office).any(),
                    (pl.col("family_id").diff().drop_nulls() > 0).all(),
                )
                .collect()
                .row(0)
            )
        except (OSError, pl.exceptions.PolarsError) as exc:
            problems.append(f"{snapshot.office}: {data.name} tidak terbaca ({exc})")
            continue
        if rows != snapshot.families:
            problems.append(
                f"{snapshot.office}: {data.name} memuat {rows} keluarga, manifest menyebut {snapshot.families}"
            )
        elif rows and (another_office or not in_order):
            problems.append(
                f"{snapshot.office}: {data.name} bukan snapshot tepat kantor ini (kode kantor lain, atau keluarga "
                "tidak urut nomor)"
            )
    if problems:
        raise ValidationError("Snapshot tidak dapat diperingkat: " + "; ".join(problems) + ".")
    return found


def _not_a_kabkota(code: str) -> str | None:
    """Why ``code`` is not a kabupaten/kota code, or ``None``."""
    try:
        RegionCode.parse(code, level=Level.KABKOTA)
    except ValueError as exc:
        return str(exc)
    return None


def _most_common(values: Sequence[str]) -> str:
    return max(sorted(set(values)), key=values.count)

"""Column-mapping files an office keeps, one per source ("DTKS kelurahan", "SIKS-NG"), so that an operator picks
one on the import page instead of uploading it every time (issue 12 point 8). The file format is the CLI's
``--mapping`` file (docs/import-export.md); a saved mapping is checked when saved and when used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.errors import FieldError, NotFound, PermissionDenied, ValidationError
from tepat.files.canonical import ColumnMapping, parse_mapping
from tepat.store import audit
from tepat.store import import_mappings as store
from tepat.store.database import Database
from tepat.store.engine import now

MAX_BYTES = 64 * 1024
SUFFIXES = (".toml", ".json", ".csv")


@dataclass(frozen=True)
class SavedMapping:
    """A mapping as the import uses it: its name, the parsed mapping and the text it came from."""

    id: int | None
    name: str
    file_name: str
    content: str
    mapping: ColumnMapping


def _editor(actor: Actor) -> None:
    if not actor.may(Permission.EDIT_REGISTRY):
        raise PermissionDenied("Hanya admin dan operator yang mengimpor data registri.")


def read(content: bytes, file_name: str) -> SavedMapping:
    """A mapping file as uploaded: checked, not yet saved."""
    name = Path(file_name or "pemetaan.toml").name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ValidationError(
            "Berkas pemetaan tidak dikenal", [FieldError("pemetaan", "Pilih berkas .toml, .json atau .csv")]
        )
    if len(content) > MAX_BYTES:
        raise ValidationError("Berkas pemetaan terlalu besar", [FieldError("pemetaan", "Paling besar 64 KB")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            "Berkas pemetaan harus UTF-8", [FieldError("pemetaan", "Simpan sebagai UTF-8")]
        ) from None
    return SavedMapping(None, Path(name).stem, name, text, parse_mapping(text, name))


def listed(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The saved mappings (names, who saved them, when)."""
    _editor(actor)
    with db.read() as conn:
        return store.all_mappings(conn)


def get(db: Database, actor: Actor, mapping_id: int) -> SavedMapping:
    """One saved mapping, parsed."""
    _editor(actor)
    with db.read() as conn:
        row = store.get(conn, mapping_id)
    if row is None:
        raise NotFound("Pemetaan kolom tidak ditemukan.")
    return SavedMapping(
        row["id"],
        row["name"],
        row["file_name"],
        row["content"],
        parse_mapping(row["content"], row["file_name"]),
    )


def save(db: Database, actor: Actor, name: str, found: SavedMapping) -> int:
    """Keep a checked mapping under ``name`` (replacing one of the same name); audited."""
    _editor(actor)
    name = " ".join(name.split())
    if not 3 <= len(name) <= 80:
        raise ValidationError(
            "Nama pemetaan belum benar",
            [FieldError("nama_pemetaan", "Nama 3–80 karakter, mis. DTKS kelurahan")],
        )
    parse_mapping(found.content, found.file_name)
    with db.begin() as conn:
        mapping_id = store.save(
            conn,
            name=name,
            file_name=found.file_name,
            content=found.content,
            saved_by=actor.username,
            at=now(),
        )
        audit.record(
            conn,
            actor,
            AuditAction.IMPORT_MAPPING_SAVE,
            "import_mapping",
            mapping_id,
            detail={"name": name, "file": found.file_name},
        )
    return mapping_id

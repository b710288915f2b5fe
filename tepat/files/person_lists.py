"""Reading a person list for record linkage (``tepat dedup``, ``tepat link``): any CSV, XLSX or Parquet file of
people, with an id column of its own and any of the linkage fields (``tepat.domain.linkage.LINK_FIELDS``).

The file is read by the registry file reader (header row found, separators and encodings recognised, every cell
text), mapped by the import's column-mapping file (``[columns]``, ``[values]``, ``[combine]``, ``[formats]``).
What is refused, with the reason in Indonesian and nothing written: no id column, an empty id, the same id
twice, no field to compare, too few records, and birth dates written in no recognisable way (a ``[formats]``
line reads a file's own way). A date of the right shape but no calendar day (``19561309``: a digit typed
wrongly) is kept as typed, ``1956-13-09``: it is still evidence of who the person is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tepat.domain.linkage import LINK_FIELDS
from tepat.errors import ValidationError
from tepat.files.canonical import IDENTITY, ColumnMapping, load_mapping
from tepat.files.readers import ROW, kept_column, open_registry_file

ID = "unique_id"
DATE = "tanggal_lahir"
LINK_FIELD_SET = frozenset(LINK_FIELDS)
_SHOWN = 5  # rows named in a message

# How dates are written when no [formats] line says: ISO (with a time after it, as spreadsheets give), or day
# first with / . or - (Indonesian usage).
_USUAL_SHAPES = (
    r"^(?P<Y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T].*)?$",
    r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<Y>\d{4})$",
)
_DIRECTIVES = {"%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d{1,2})", "%d": r"(?P<d>\d{1,2})"}


@dataclass(frozen=True)
class PersonList:
    """A person list read for linkage: ``unique_id`` and the linkage fields present, all text, dates
    ``YYYY-MM-DD``."""

    name: str
    frame: pl.DataFrame
    impossible_dates: int  # dates kept as typed: the right shape, no calendar day

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c for c in self.frame.columns if c in LINK_FIELD_SET)


def load_link_mapping(path: str | Path | None) -> ColumnMapping:
    """The column mapping of a person list (the import's mapping file, over the linkage fields)."""
    return load_mapping(path, LINK_FIELD_SET) if path else IDENTITY.with_fields(LINK_FIELD_SET)


def date_shape(fmt: str) -> str:
    """The regular expression of the dates a strptime format writes (``%Y``, ``%m``, ``%d`` and literal text)."""
    pattern, rest = "", fmt
    while rest:
        if rest[:2] in _DIRECTIVES:
            pattern, rest = pattern + _DIRECTIVES[rest[:2]], rest[2:]
        elif rest.startswith("%"):
            raise ValidationError(
                f"Format tanggal '{fmt}' di [formats] memakai {rest[:2]}; yang dikenal hanya %Y, %m dan %d."
            )
        else:
            pattern, rest = pattern + re.escape(rest[0]), rest[1:]
    if not all(d in fmt for d in _DIRECTIVES):
        raise ValidationError(f"Format tanggal '{fmt}' di [formats] harus memuat %Y, %m dan %d.")
    return f"^{pattern}$"


def _dates(frame: pl.DataFrame, fmt: str | None, name: str) -> tuple[pl.DataFrame, int]:
    """Birth dates as ``YYYY-MM-DD`` text; ``ValidationError`` naming the rows whose dates have no known shape."""
    shapes = ((date_shape(fmt),) if fmt else ()) + _USUAL_SHAPES
    text = pl.col(DATE)

    def written(shape: str) -> pl.Expr:
        parts = text.str.extract_groups(shape)
        return pl.when(parts.struct.field("Y").is_not_null()).then(
            pl.concat_str(
                parts.struct.field("Y"),
                pl.lit("-"),
                parts.struct.field("m").str.zfill(2),
                pl.lit("-"),
                parts.struct.field("d").str.zfill(2),
            )
        )

    frame = frame.with_columns(pl.coalesce(*(written(s) for s in shapes)).alias("_date"))
    unread = frame.filter(pl.col(DATE).is_not_null() & pl.col("_date").is_null())
    if unread.height:
        shown = ", ".join(f"baris {r} ('{v}')" for r, v in unread.select(ROW, DATE).head(_SHOWN).iter_rows())
        more = f" dan {unread.height - _SHOWN} lainnya" if unread.height > _SHOWN else ""
        raise ValidationError(
            f"Tanggal lahir di {name} tidak dapat dibaca: {shown}{more}. Tulis TTTT-BB-HH atau HH/BB/TTTT, atau "
            'sebutkan formatnya di berkas pemetaan, mis. [formats] tanggal_lahir = "%Y%m%d".'
        )
    impossible = frame.select(
        (
            pl.col("_date").is_not_null() & pl.col("_date").str.to_date("%Y-%m-%d", strict=False).is_null()
        ).sum()
    ).item()
    return frame.with_columns(pl.col("_date").alias(DATE)).drop("_date"), int(impossible)


def read_person_list(
    path: str | Path, id_column: str, mapping: ColumnMapping, *, minimum: int = 1, name: str | None = None
) -> PersonList:
    """Read ``path`` (at least ``minimum`` records) for linkage; ``ValidationError`` for anything refused."""
    shown = name or Path(path).name
    source = open_registry_file(path, mapping, filename=shown, keep=(id_column,), min_matches=2)
    if not source.columns:
        raise ValidationError(
            f"{shown} tidak punya kolom yang dapat dibandingkan ({', '.join(LINK_FIELDS)}); "
            "petakan kolomnya dengan --mapping."
        )
    batches = list(source.batches())
    kept = kept_column(id_column)
    frame = (
        pl.concat(batches, how="vertical_relaxed")
        if batches
        else pl.DataFrame(schema={ROW: pl.Int64, kept: pl.String, **dict.fromkeys(source.columns, pl.String)})
    )
    frame = frame.select(ROW, pl.col(kept).str.strip_chars().alias(ID), *source.columns)
    if frame.height < minimum:
        raise ValidationError(
            f"{shown} berisi {frame.height} catatan; perlu paling sedikit {minimum}."
            if frame.height
            else f"{shown} tidak berisi catatan."
        )
    empty = frame.filter(pl.col(ID).is_null() | (pl.col(ID) == ""))
    if empty.height:
        rows = ", ".join(str(r) for r in empty[ROW].head(_SHOWN))
        raise ValidationError(
            f"Kolom {id_column} di {shown} kosong di baris {rows}; setiap catatan perlu id."
        )
    twice = frame.filter(pl.col(ID).is_duplicated()).group_by(ID, maintain_order=True).agg(pl.col(ROW))
    if twice.height:
        listed = "; ".join(
            f"{i} (baris {', '.join(map(str, rows))})" for i, rows in twice.head(_SHOWN).iter_rows()
        )
        raise ValidationError(f"Id ganda di kolom {id_column} di {shown}: {listed}. Setiap id harus unik.")
    impossible = 0
    if DATE in frame.columns:
        frame, impossible = _dates(frame, mapping.formats.get(DATE), shown)
    return PersonList(shown, frame.drop(ROW), impossible)

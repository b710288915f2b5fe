"""Vectorised (polars) checks of registry file rows, driven by the field catalogue.

``RowChecker.check(batch)`` takes a batch of text cells (as ``readers`` yields
them) and returns the rows that pass, converted to typed canonical values, and
one error per bad cell (row, column, value, message in Bahasa Indonesia).
The NIK and KK rules are those of ``tepat.domain.nik`` (same lookup tables,
same messages); ``check_identifiers`` is the vectorised ``check_nik`` /
``check_kk``. The checker remembers NIKs and family columns already seen, so
a duplicate NIK or a family row that disagrees with an earlier row of the same
KK is caught across batches (the later row is the one reported).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from tepat.domain import names
from tepat.domain.households import FieldSpec
from tepat.domain.nik import KK_DATE_CODES, NIK_DATE_CODES
from tepat.domain.office import Offices
from tepat.files.canonical import FAMILY_COLUMNS, FIELD_BY_COLUMN
from tepat.files.readers import ROW, numeric_flag

ERROR_SCHEMA = {"row": pl.Int64, "column": pl.String, "value": pl.String, "message": pl.String}

_NIK_CODES = pl.Series(sorted(NIK_DATE_CODES), dtype=pl.String)
_KK_CODES = pl.Series(sorted(KK_DATE_CODES), dtype=pl.String)
_SCIENTIFIC = r"^[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+$"
_DOT_ZERO = r"^([0-9]+)[.,]0+$"
_TRUE = ("1", "ya", "y", "true", "benar", "yes", "iya")
_FALSE = ("0", "tidak", "t", "false", "salah", "no", "tdk")
_EXCEL_EPOCH = date(1899, 12, 30)


def _join(parts: Iterable[pl.Expr]) -> pl.Expr:
    """Join the non-null messages with ``; `` (null when there are none)."""
    joined = pl.concat_str(list(parts), separator="; ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def _msg(condition: pl.Expr, message: pl.Expr | str) -> pl.Expr:
    return pl.when(condition).then(pl.lit(message) if isinstance(message, str) else message)


# Each check below works in small steps on a scratch frame: polars does not share a
# sub-expression used in several branches, so one big expression would redo the cleaning many times.


def check_identifiers(values: pl.Series, kind: str, excel_number: pl.Series | None = None) -> pl.DataFrame:
    """Columns ``digits`` and ``error`` for NIK (``kind="NIK"``) or KK numbers, as ``check_nik``/``check_kk`` give them."""
    prefix = "NIK" if kind == "NIK" else "Nomor KK"
    w = pl.DataFrame({"raw": values.cast(pl.String)}).with_columns(
        (excel_number.fill_null(False) if excel_number is not None else pl.lit(False)).alias("excel")
    )
    w = w.with_columns(
        t=pl.col("raw")
        .str.strip_chars()
        .str.strip_chars_start("'\u2018\u2019`")
        .str.strip_chars()
        .str.replace_all(" ", "", literal=True)
        .str.replace_all("\u00a0", "", literal=True)
    )
    w = w.with_columns(
        d=pl.when(pl.col("t").str.contains(_DOT_ZERO))
        .then(pl.col("t").str.replace(_DOT_ZERO, "$1"))
        .otherwise(pl.col("t"))
    )
    sixteen = pl.col("t").str.contains(r"^[0-9]{16}$")
    empty = pl.col("raw").is_null() | (pl.col("t") == "")
    w = w.with_columns(
        clean=pl.when(empty)
        .then(pl.lit(f"{prefix} kosong"))
        .when(pl.col("excel") & sixteen & pl.col("t").str.ends_with("0"))
        .then(
            pl.lit(
                f"{prefix} tersimpan sebagai angka di Excel dan berakhir 0; digit ke-16 mungkin hilang, ketik ulang sebagai teks"
            )
        )
        .when(pl.col("excel") & ~sixteen)
        .then(
            pl.lit(
                f"{prefix} angka desimal dari Excel; digit terakhir sudah hilang, ketik ulang sebagai teks"
            )
        )
        .when(pl.col("t").str.contains(_SCIENTIFIC))
        .then(
            pl.lit(
                f"{prefix} tertulis sebagai notasi ilmiah Excel (mis. 3.27501E+15); digit terakhir sudah hilang, ketik ulang sebagai teks"
            )
        ),
        length=pl.col("d").str.len_chars(),
        numeric=pl.col("d").str.contains(r"^[0-9]+$"),
        dd=pl.col("d").str.slice(6, 2),
        mm=pl.col("d").str.slice(8, 2),
        yy=pl.col("d").str.slice(10, 2),
        code=pl.col("d").str.slice(6, 6),
    )
    shape = (
        pl.when(~pl.col("numeric"))
        .then(pl.lit(f"{kind} hanya boleh berisi angka"))
        .when(pl.col("length") != 16)
        .then(pl.format(f"{kind} harus 16 digit, bukan {{}} digit", pl.col("length")))
    )
    region = _msg(pl.col("d").str.slice(0, 6) == "000000", f"Kode wilayah {kind} tidak boleh 000000")
    if kind == "NIK":
        day, month = pl.col("dd").cast(pl.Int32, strict=False), pl.col("mm").cast(pl.Int32, strict=False)
        shown_day = pl.when(day > 40).then(day - 40).otherwise(day).cast(pl.String).str.zfill(2)
        born: pl.Expr = (
            pl.when(~month.is_between(1, 12))
            .then(pl.format("Bulan lahir pada NIK ({}) harus 01–12", pl.col("mm")))
            .when(~(day.is_between(1, 31) | day.is_between(41, 71)))
            .then(
                pl.format("Tanggal lahir pada NIK ({}) harus 01–31, atau 41–71 untuk perempuan", pl.col("dd"))
            )
            .when(~pl.col("code").is_in(_NIK_CODES.implode()))
            .then(
                pl.format(
                    "Tanggal lahir pada NIK ({}-{}-{}) bukan tanggal yang ada",
                    shown_day,
                    pl.col("mm"),
                    pl.col("yy"),
                )
            )
        )
        serial_name = "NIK"
    else:
        born = _msg(
            ~pl.col("code").is_in(_KK_CODES.implode()),
            pl.format(
                "Tanggal terbit pada nomor KK ({}-{}-{}) bukan tanggal yang ada",
                pl.col("dd"),
                pl.col("mm"),
                pl.col("yy"),
            ),
        )
        serial_name = "KK"
    serial = _msg(
        pl.col("d").str.slice(12, 4) == "0000",
        f"Nomor urut {serial_name} (4 digit terakhir) tidak boleh 0000",
    )
    error = (
        pl.when(pl.col("clean").is_not_null())
        .then(pl.col("clean"))
        .otherwise(pl.coalesce(shape, _join([region, born, serial])))
    )
    return w.select(error.alias("error")).select(
        pl.when(pl.col("error").is_null()).then(w["d"]).alias("digits"), "error"
    )


def parse_dates(values: pl.Series) -> pl.Series:
    """ISO, ``dd/mm/yyyy``, ``dd-mm-yyyy`` and Excel serial day numbers, as ``Date`` (null when none fits)."""
    w = pl.DataFrame({"t": values.cast(pl.String)})
    w = w.with_columns(
        serial=pl.col("t").str.replace(r"[.,]0+$", "").cast(pl.Int64, strict=False),
        iso=pl.col("t").str.slice(0, 10),
    )
    t = pl.col("t")
    return w.select(
        pl.coalesce(
            pl.when(t.str.contains(r"^\d{4}-\d{2}-\d{2}([ T]|$)")).then(
                pl.col("iso").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
            ),
            pl.when(t.str.contains(r"^\d{1,2}/\d{1,2}/\d{4}$")).then(
                t.str.strptime(pl.Date, "%d/%m/%Y", strict=False)
            ),
            pl.when(t.str.contains(r"^\d{1,2}-\d{1,2}-\d{4}$")).then(
                t.str.strptime(pl.Date, "%d-%m-%Y", strict=False)
            ),
            pl.when(t.str.contains(r"^\d{1,2}\.\d{1,2}\.\d{4}$")).then(
                t.str.strptime(pl.Date, "%d.%m.%Y", strict=False)
            ),
            pl.when(pl.col("serial").is_between(1, 73050)).then(
                pl.lit(_EXCEL_EPOCH) + pl.duration(days=pl.col("serial"))
            ),
        ).alias(values.name)
    ).to_series()


_BOOLEANS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False), "1.0": True, "0.0": False}


def _typed(spec: FieldSpec, raw: pl.Series, ctx: CheckContext) -> tuple[pl.Series, pl.Expr]:
    """The converted value and the problem (an expression over columns ``raw`` and ``value``)."""
    label = spec.label
    value_col, raw_col = pl.col("value"), pl.col("raw")
    if spec.kind == "text":
        return raw, _msg(
            raw_col.str.len_chars() > (spec.max_length or 10**9),
            f"{label} paling panjang {spec.max_length} karakter",
        )
    if spec.kind == "name":
        tidy = raw.str.normalize(names.NORMAL_FORM).str.replace_all(r"\s+", " ")
        return tidy, (
            pl.when(value_col.str.len_chars() > (spec.max_length or 10**9))
            .then(pl.lit(f"{label} paling panjang {spec.max_length} karakter"))
            .when(~value_col.str.contains(names.POLARS_PATTERN))
            .then(pl.lit(f"{label} {names.MESSAGE}"))
        )
    if spec.kind == "int":
        cleaned = raw.str.replace(r"[.,]0+$", "")
        value = cleaned.cast(pl.Int64, strict=False)
        low = spec.min_value if spec.min_value is not None else -(10**9)
        high = spec.max_value if spec.max_value is not None else 10**9
        return value, (
            pl.when(value_col.is_null())
            .then(pl.lit(f"{label} harus bilangan bulat"))
            .when(~value_col.is_between(low, high))
            .then(pl.lit(f"{label} harus antara {spec.min_value} dan {spec.max_value}"))
        )
    if spec.kind == "date":
        problem = _msg(
            value_col.is_null(), f"{label} bukan tanggal yang sah (gunakan YYYY-MM-DD atau DD/MM/YYYY)"
        )
        if spec.name in ("birth_date", "death_date", "verified_on"):
            problem = (
                pl.when(value_col > ctx.today)
                .then(pl.lit(f"{label} tidak boleh di masa depan"))
                .otherwise(problem)
            )
        return parse_dates(raw), problem
    if spec.kind == "bool":
        value = raw.str.to_lowercase().replace_strict(_BOOLEANS, default=None, return_dtype=pl.Boolean)
        return value, _msg(value_col.is_null(), f"{label} harus 1/0 atau ya/tidak")
    if spec.kind == "enum":
        assert spec.choices is not None
        value = raw.str.to_lowercase().replace_strict(
            spec.choices.names(), default=None, return_dtype=pl.String
        )
        labels = ", ".join(c.label for c in spec.choices)
        return value, _msg(value_col.is_null(), f"{label} tidak dikenal; pilihan: {labels}")
    # region: accept 32.76.01.1006 and 3276011006
    compact = raw.str.replace_all(r"[\s.]", "")
    w = pl.DataFrame({"c": compact}).with_columns(ok=pl.col("c").str.contains(r"^[0-9]{10}$"))
    c = pl.col("c")
    value = w.select(
        pl.when(pl.col("ok")).then(
            pl.concat_str(
                [c.str.slice(0, 2), c.str.slice(2, 2), c.str.slice(4, 2), c.str.slice(6, 4)], separator="."
            )
        )
    ).to_series()
    area = ctx.area_code
    inside = pl.lit(True) if not area else (value_col == area) | value_col.str.starts_with(area + ".")
    served = pl.lit(True) if not ctx.offices else value_col.str.slice(0, 5).is_in(list(ctx.offices))
    return value, (
        pl.when(~value_col.is_in(ctx.kelurahan_codes.implode()).fill_null(False))
        .then(pl.lit("Kode kelurahan tidak ada dalam daftar wilayah Kepmendagri 2025"))
        .when(~served)
        .then(pl.lit(ctx.not_served))
        .when(~inside)
        .then(pl.lit(f"Kelurahan di luar wilayah kerja Anda ({area})"))
    )


def _check_field(spec: FieldSpec, frame: pl.DataFrame, ctx: CheckContext) -> tuple[pl.Series, pl.Series]:
    """``(typed value, error message)`` for one column; the value is null on error."""
    raw = frame.get_column(spec.column)
    if spec.kind in ("nik", "kk"):
        flag = numeric_flag(spec.column)
        out = check_identifiers(
            raw,
            "NIK" if spec.kind == "nik" else "KK",
            frame.get_column(flag) if flag in frame.columns else None,
        )
        return out.get_column("digits").alias(spec.column), out.get_column("error").alias(f"_e_{spec.column}")
    value, problem = _typed(spec, raw, ctx)
    missing = pl.col("raw").is_null()
    required = _msg(missing, f"{spec.label} wajib diisi") if spec.required else pl.lit(None, pl.String)
    out = (
        pl.DataFrame({"raw": raw, "value": value})
        .select(pl.when(missing).then(required).otherwise(problem).cast(pl.String).alias("error"))
        .with_columns(pl.when(pl.col("error").is_null()).then(value).alias("value"))
    )
    return out.get_column("value").alias(spec.column), out.get_column("error").alias(f"_e_{spec.column}")


@dataclass(frozen=True)
class CheckContext:
    """What the checks need from outside: known kelurahan codes, the actor's area, today."""

    kelurahan_codes: pl.Series
    area_code: str = ""
    today: date = field(default_factory=date.today)
    offices: tuple[str, ...] = ()  # the kabupaten/kota the database serves (none: no such check)
    not_served: str = ""  # what to say of a kelurahan outside them

    @classmethod
    def build(
        cls,
        kelurahan_codes: Iterable[str],
        area_code: str = "",
        today: date | None = None,
        *,
        offices: Offices | None = None,
    ) -> CheckContext:
        return cls(
            pl.Series(sorted(kelurahan_codes), dtype=pl.String),
            area_code,
            today or date.today(),
            offices.codes if offices else (),
            offices.not_served() if offices else "",
        )


@dataclass(frozen=True)
class CheckedBatch:
    valid: pl.DataFrame  # typed canonical values of the rows that passed, plus ``_row``
    errors: pl.DataFrame  # row, column, value, message
    rows: int

    @property
    def rejected(self) -> int:
        return self.rows - self.valid.height


class RowChecker:
    """Checks batches of one file in order, remembering NIKs and families seen."""

    def __init__(self, ctx: CheckContext, columns: Iterable[str]) -> None:
        self.ctx = ctx
        self.columns = [c for c in columns if c in FIELD_BY_COLUMN]
        self.family_columns = [c for c in self.columns if c in FAMILY_COLUMNS and c != "nomor_kk"]
        self._seen_nik = pl.DataFrame(schema={"_nik": pl.Int64, "_first": pl.Int64})
        self._seen_kk = pl.DataFrame(
            schema={
                "_kk": pl.Int64,
                "_first": pl.Int64,
                **{f"_h_{c}": pl.UInt32 for c in self.family_columns},
            }
        )

    def check(self, batch: pl.DataFrame) -> CheckedBatch:
        """Check one batch; see the module docstring."""
        series: list[pl.Series] = [batch.get_column(ROW)]
        for column in self.columns:
            series += _check_field(FIELD_BY_COLUMN[column], batch, self.ctx)
        typed = pl.DataFrame(series)
        typed = self._cross_field(batch, typed)
        typed = self._duplicate_niks(batch, typed)
        typed = self._family_agreement(batch, typed)
        errors = (
            pl.concat(
                [
                    typed.select(
                        pl.col(ROW).alias("row"),
                        pl.lit(c).alias("column"),
                        batch.get_column(c).alias("value"),
                        pl.col(f"_e_{c}").alias("message"),
                    ).filter(pl.col("message").is_not_null())
                    for c in self.columns
                ],
                how="vertical",
            ).sort("row", maintain_order=True)
            if self.columns
            else pl.DataFrame(schema=ERROR_SCHEMA)
        )
        bad = pl.any_horizontal(pl.col(f"_e_{c}").is_not_null() for c in self.columns)
        valid = typed.filter(~bad).select(ROW, *self.columns)
        return CheckedBatch(valid, errors.cast(ERROR_SCHEMA), batch.height)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ across fields and rows

    def _add_error(
        self, typed: pl.DataFrame, column: str, condition: pl.Expr, message: pl.Expr
    ) -> pl.DataFrame:
        err = f"_e_{column}"
        return typed.with_columns(
            pl.when(condition.fill_null(False))
            .then(pl.concat_str([pl.col(err), message], separator="; ", ignore_nulls=True))
            .otherwise(pl.col(err))
            .alias(err)
        )

    def _cross_field(self, batch: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
        if "nik" not in self.columns:
            return typed
        nik = pl.col("nik")
        dd = nik.str.slice(6, 2).cast(pl.Int32, strict=False)
        if "tanggal_lahir" in self.columns:
            born = pl.col("tanggal_lahir")
            day = pl.when(dd > 40).then(dd - 40).otherwise(dd)
            differs = (
                (day != born.dt.day())
                | (nik.str.slice(8, 2).cast(pl.Int32) != born.dt.month())
                | (nik.str.slice(10, 2).cast(pl.Int32) != born.dt.year() % 100)
            )
            shown = pl.format(
                "{}-{}-{}", day.cast(pl.String).str.zfill(2), nik.str.slice(8, 2), nik.str.slice(10, 2)
            )
            typed = self._add_error(
                typed,
                "tanggal_lahir",
                differs,
                pl.format("Tanggal lahir tidak sesuai dengan tanggal lahir pada NIK ({})", shown),
            )
        if "jenis_kelamin" in self.columns:
            from_nik = pl.when(dd > 40).then(pl.lit("P")).otherwise(pl.lit("L"))
            typed = self._add_error(
                typed,
                "jenis_kelamin",
                nik.is_not_null() & (pl.col("jenis_kelamin") != from_nik),
                pl.when(from_nik == "P")
                .then(pl.lit("Jenis kelamin tidak sesuai dengan NIK (NIK menunjukkan perempuan)"))
                .otherwise(pl.lit("Jenis kelamin tidak sesuai dengan NIK (NIK menunjukkan laki-laki)")),
            )
        return typed

    def _duplicate_niks(self, batch: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
        if "nik" not in self.columns:
            return typed
        keyed = typed.select(ROW, pl.col("nik").cast(pl.Int64, strict=False).alias("_nik"))
        keyed = keyed.with_columns(pl.col(ROW).first().over("_nik").alias("_batch_first"))
        keyed = keyed.join(self._seen_nik, on="_nik", how="left", nulls_equal=False, maintain_order="left")
        first = pl.coalesce("_first", "_batch_first")
        keyed = keyed.with_columns(first.alias("_first_row"))
        new = (
            keyed.filter(pl.col("_nik").is_not_null() & pl.col("_first").is_null())
            .group_by("_nik")
            .agg(pl.col("_batch_first").first().alias("_first"))
        )
        self._seen_nik = pl.concat([self._seen_nik, new.select("_nik", "_first")])
        typed = typed.with_columns(keyed.get_column("_first_row").alias("_dup_first"))
        typed = self._add_error(
            typed,
            "nik",
            pl.col("nik").is_not_null() & (pl.col("_dup_first") != pl.col(ROW)),
            pl.format("NIK ganda: sudah ada di baris {}", pl.col("_dup_first")),
        )
        return typed.drop("_dup_first")

    def _family_agreement(self, batch: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
        if "nomor_kk" not in self.columns or not self.family_columns:
            return typed
        hashes = [
            (
                pl.when(pl.col(f"_e_{c}").is_null())
                .then(pl.col(c).cast(pl.String))
                .otherwise(pl.lit("\u0000") + batch.get_column(c))
                .hash(seed=7)
                % (1 << 32)
            )
            .cast(pl.UInt32)
            .alias(f"_h_{c}")
            for c in self.family_columns
        ]
        keyed = typed.select(ROW, pl.col("nomor_kk").cast(pl.Int64, strict=False).alias("_kk"), *hashes)
        h_names = [f"_h_{c}" for c in self.family_columns]
        firsts = keyed.with_columns(pl.col(n).first().over("_kk").alias(f"_bf{n}") for n in h_names + [ROW])
        joined = firsts.join(
            self._seen_kk, on="_kk", how="left", nulls_equal=False, suffix="_seen", maintain_order="left"
        )
        in_state = pl.col("_first").is_not_null()
        new = (
            joined.filter(pl.col("_kk").is_not_null() & ~in_state)
            .group_by("_kk", maintain_order=True)
            .agg(
                pl.col(f"_bf{ROW}").first().alias("_first"),
                *(pl.col(f"_bf{n}").first().alias(n) for n in h_names),
            )
        )
        self._seen_kk = pl.concat([self._seen_kk, new.select(self._seen_kk.columns)])
        first_row = pl.when(in_state).then(pl.col("_first")).otherwise(pl.col(f"_bf{ROW}"))
        checks = joined.select(
            first_row.alias("_first_row"),
            *(
                (
                    pl.col("_kk").is_not_null()
                    & (first_row != pl.col(ROW))
                    & (pl.when(in_state).then(pl.col(f"{n}_seen")).otherwise(pl.col(f"_bf{n}")) != pl.col(n))
                ).alias(n)
                for n in h_names
            ),
        )
        for column, name in zip(self.family_columns, h_names, strict=True):
            label = FIELD_BY_COLUMN[column].label
            typed = typed.with_columns(
                checks.get_column("_first_row").alias("_kk_first"), checks.get_column(name).alias("_kk_diff")
            )
            typed = self._add_error(
                typed,
                column,
                pl.col("_kk_diff"),
                pl.format(f"{label} berbeda dengan baris {{}} untuk nomor KK yang sama", pl.col("_kk_first")),
            )
        return typed.drop("_kk_first", "_kk_diff", strict=False)

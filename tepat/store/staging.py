"""Set-based upsert of checked registry rows through temporary staging tables.

A batch of families (one row per KK) and members (one row per NIK) is loaded
into two temporary tables (``executemany`` on SQLite, ``COPY`` on PostgreSQL)
and applied with a handful of ``INSERT … SELECT`` / ``UPDATE … FROM``
statements, never one statement per row. Per table, one ``INSERT … SELECT``
resolves the whole batch into a second temporary table ``matched_*``: the
matching row's id (a correlated subquery, i.e. one index probe per staged row
whatever the planner's statistics say) and whether it differs. Nothing is
``UPDATE``-d in the staging tables (each UPDATE rewrote the batch under MVCC).
Then the changed rows' old versions are copied, the changed rows updated and
the new rows inserted:

* a family is matched by its KK number: the active family with that KK, else
  the most recent one; a member by NIK the same way; both only **inside the
  importer's area** (``area_code``): a family or person of another area is never
  matched, moved or changed. A KK whose number, or one of whose NIKs, belongs to
  an *active* record outside the area is refused whole (``Stager.refused``), for
  the caller to report and to send to that area as a move request; an inactive
  record outside is left alone and a new one is made;
* only rows whose values really differ are touched: their old version is
  copied to ``family_versions`` / ``member_versions`` (``valid_to`` = now) and
  the current row gets ``version + 1``; so loading the same rows twice changes
  nothing;
* a member whose NIK already belongs to another family is moved (its
  ``family_id`` changes, with history);
* columns the file does not have are left as they are; an empty status cell
  keeps the stored status (new rows get ``aktif`` / ``belum`` / ``hidup``).

**First load.** When ``families`` and ``members`` are empty as the import starts
(checked under a table lock on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already
excludes other writers), nothing can match except rows of earlier batches of the
same file, and the file checker guarantees that a NIK occurs once per file and
that every row of one KK carries the same family values. So each batch is
appended straight to ``families`` and ``members`` (``COPY`` / ``executemany``,
as a raw load would), with family ids allocated up front and a KK → id map of
this import kept in memory for members whose family came in an earlier batch.
The rows and versions stored are the same as the matching path would store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from tepat.domain.households import (
    FAMILY_FIELDS,
    MEMBER_FIELDS,
    LifeStatus,
    RegistryStatus,
    VerificationStatus,
)
from tepat.store.areas import join_on
from tepat.store.bulk import insert_frame
from tepat.store.families import in_area
from tepat.store.schema import families, family_versions, member_versions, members
from tepat.store.targeting import scores_follow

_KEEP_WHEN_EMPTY = {
    "registry_status": RegistryStatus.AKTIF.value,
    "verification_status": VerificationStatus.BELUM.value,
    "life_status": LifeStatus.HIDUP.value,
}


@dataclass(frozen=True)
class UpsertCounts:
    families_created: int = 0
    families_updated: int = 0
    members_created: int = 0
    members_updated: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.families_created + other.families_created,
            self.families_updated + other.families_updated,
            self.members_created + other.members_created,
            self.members_updated + other.members_updated,
        )


def _stage_table(
    md: sa.MetaData, name: str, source: sa.Table, columns: list[str], extra: list[sa.Column[object]]
) -> sa.Table:
    return sa.Table(
        name,
        md,
        *(sa.Column(c, source.c[c].type) for c in columns),
        *extra,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


@dataclass(frozen=True)
class Refusal:
    """A staged KK refused because it, or one of its NIKs (``nik``), is an active record of another area."""

    kk_number: str
    nik: str | None
    family_id: int
    member_id: int | None
    from_kelurahan_code: str
    to_kelurahan_code: str


class Stager:
    """Applies batches inside the caller's transaction (``conn``); never commits."""

    def __init__(
        self,
        conn: sa.Connection,
        *,
        area_code: str,
        family_columns: list[str],
        member_columns: list[str],
        changed_by: str,
        change_reason: str,
        import_id: int | None,
        now: datetime,
    ) -> None:
        known_f = {f.name for f in FAMILY_FIELDS}
        known_m = {f.name for f in MEMBER_FIELDS}
        self.conn = conn
        self.area_code = area_code
        self.refused: list[Refusal] = []
        # Derived from the kelurahan in ``apply``: the kecamatan, and the office the family and its members
        # belong to (the partition they live in on PostgreSQL).
        self.family_columns = [c for c in family_columns if c in known_f and c != "kk_number"] + [
            "kecamatan_code",
            "office_code",
        ]
        self.member_columns = [c for c in member_columns if c in known_m] + ["office_code"]
        self.stamp = {
            "changed_by": changed_by,
            "change_reason": change_reason[:200],
            "import_id": import_id,
            "now": now,
        }
        self.now = now
        md = sa.MetaData()
        # The batch as read (``stage_*``), and the batch with its matches resolved (``matched_*``): each
        # is written once per batch, never updated (an UPDATE rewrites every row under MVCC).
        self.sf = _stage_table(md, "stage_families", families, ["kk_number", *self.family_columns], [])
        self.sm = _stage_table(
            md, "stage_members", members, self.member_columns, [sa.Column("kk_number", sa.String(16))]
        )
        self.mf = _stage_table(
            md,
            "matched_families",
            families,
            ["kk_number", *self.family_columns],
            [sa.Column("family_id", sa.Integer), sa.Column("changed", sa.Integer, nullable=False)],
        )
        self.mm = _stage_table(
            md,
            "matched_members",
            members,
            self.member_columns,
            [
                sa.Column("kk_number", sa.String(16)),
                sa.Column("family_id", sa.Integer),
                sa.Column("member_id", sa.Integer),
                sa.Column("changed", sa.Integer, nullable=False),
            ],
        )
        # Only the KK lookup from members to their matched family needs an index.
        sa.Index("ix_matched_families_kk", self.mf.c.kk_number)
        self._md = md
        self.first_load = self._empty_registry()
        self._kk_ids = pl.DataFrame(schema={"kk_number": pl.String, "id": pl.Int64})
        if conn.dialect.name == "postgresql":
            # Matching a batch sorts and hashes tens of thousands of keys: keep that in memory, for this transaction only.
            conn.execute(sa.text("SET LOCAL work_mem = '128MB'"))
            # The matching statements are index probes per staged row, whose estimated cost (stale statistics)
            # crosses the JIT thresholds: compiling them took longer (~0.2 s a statement) than running them.
            conn.execute(sa.text("SET LOCAL jit = off"))
        for table in (self.sf, self.sm, self.mf, self.mm):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        md.create_all(conn)

    def close(self) -> None:
        """Drop the staging tables (SQLite keeps temporary tables for the connection's life)."""
        if self.conn.dialect.name == "sqlite":
            for table in (self.mm, self.mf, self.sm, self.sf):
                self.conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))

    def _empty_registry(self) -> bool:
        """Whether this import is the first load (no family and no member stored yet).

        On PostgreSQL the tables are then locked against other writers (readers go on) until
        the import commits, so that no row can appear behind the first-load path's back.
        """

        def empty() -> bool:
            return all(
                self.conn.execute(sa.select(t.c.id).limit(1)).first() is None for t in (families, members)
            )

        if not empty():
            return False
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(sa.text("LOCK TABLE families, members IN SHARE ROW EXCLUSIVE MODE"))
            return empty()
        return True

    # ------------------------------------------------------------------ loading

    def _empty(self, table: sa.Table) -> None:
        """Empty a staging table: TRUNCATE on PostgreSQL (a DELETE would leave the dead rows of every
        earlier batch in a temporary table, which no autovacuum ever cleans), DELETE on SQLite."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(sa.text(f"TRUNCATE {table.name}"))
        else:
            self.conn.execute(table.delete())

    def _load(self, table: sa.Table, frame: pl.DataFrame, *, replace: bool = True) -> None:
        """Bulk-write ``frame`` into ``table`` (after emptying it when ``replace``)."""
        if replace:
            self._empty(table)
        if frame.height == 0:
            return
        insert_frame(self.conn, table.name, frame, csv=True)  # checked text: an empty cell is NULL

    # ------------------------------------------------------------------ applying

    def apply(self, family_rows: pl.DataFrame, member_rows: pl.DataFrame) -> UpsertCounts:
        """Upsert one batch: ``family_rows`` keyed by ``kk_number``, ``member_rows`` by ``nik`` (with ``kk_number``)."""
        family_rows = family_rows.with_columns(
            pl.col("kelurahan_code").str.slice(0, 8).alias("kecamatan_code"),
            pl.col("kelurahan_code").str.slice(0, 5).alias("office_code"),  # tepat.domain.regions.office_of
        )
        # A member belongs to its KK's office: the family row of the same batch (the checker puts every row of
        # a KK in one batch), applied before the members.
        member_rows = member_rows.join(
            family_rows.select("kk_number", "office_code"), on="kk_number", how="left", maintain_order="left"
        )
        if self.first_load:
            return self._append(
                family_rows.select("kk_number", *self.family_columns),
                member_rows.select("kk_number", *self.member_columns),
            )
        self._load(self.sf, family_rows.select("kk_number", *self.family_columns))
        self._load(self.sm, member_rows.select("kk_number", *self.member_columns))
        refused = self._outside_area(family_rows)
        if refused:
            self.refused.extend(refused)
            kept = ~pl.col("kk_number").is_in(sorted({r.kk_number for r in refused}))
            self._load(self.sf, family_rows.filter(kept).select("kk_number", *self.family_columns))
            self._load(self.sm, member_rows.filter(kept).select("kk_number", *self.member_columns))
        created_f, updated_f = self._apply_families()
        created_m, updated_m = self._apply_members()
        return UpsertCounts(created_f, updated_f, created_m, updated_m)

    # ------------------------------------------------------------------ first load

    def _allocate_ids(self, table: sa.Table, count: int) -> pl.Series:
        if count == 0:
            return pl.Series("id", [], dtype=pl.Int64)
        if self.conn.dialect.name == "postgresql":
            ids = (
                self.conn.execute(
                    sa.text(
                        f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"
                    ),
                    {"n": count},
                )
                .scalars()
                .all()
            )
            return pl.Series("id", ids, dtype=pl.Int64)
        # SQLite: this transaction is the only writer (BEGIN IMMEDIATE).
        top = int(self.conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())
        return pl.Series("id", range(top + 1, top + 1 + count), dtype=pl.Int64)

    def _as_new(self, frame: pl.DataFrame, target: sa.Table, fixed: dict[str, str]) -> pl.DataFrame:
        """``frame`` completed as version 1 of new rows, as ``_insert_new`` would write them."""
        s = self.stamp
        dialect = self.conn.dialect
        bind = target.c.valid_from.type.dialect_impl(dialect).bind_processor(dialect)
        stamp_value = (
            bind(self.now) if bind is not None else self.now.isoformat()
        )  # the text the column would be sent
        filled = [
            pl.col(c).fill_null(pl.lit(default))
            for c, default in _KEEP_WHEN_EMPTY.items()
            if c in frame.columns
        ]
        added = [
            pl.lit(default).alias(c)
            for c, default in _KEEP_WHEN_EMPTY.items()
            if c in target.c and c not in frame.columns and c not in fixed
        ]
        return frame.with_columns(
            *filled,
            *added,
            *(pl.lit(v).alias(k) for k, v in fixed.items()),
            pl.lit(1).alias("version"),
            pl.lit(stamp_value).alias("valid_from"),
            pl.lit(s["changed_by"]).alias("changed_by"),
            pl.lit(s["change_reason"]).alias("change_reason"),
            pl.lit(s["import_id"], dtype=pl.Int64).alias("import_id"),
        )

    def _append(self, family_rows: pl.DataFrame, member_rows: pl.DataFrame) -> UpsertCounts:
        """First load: write the batch's new families and all its members directly, no matching."""
        fresh = family_rows.join(self._kk_ids, on="kk_number", how="anti", maintain_order="left")
        fresh = fresh.with_columns(self._allocate_ids(families, fresh.height))
        self._load(families, self._as_new(fresh, families, {}), replace=False)
        self._kk_ids = pl.concat([self._kk_ids, fresh.select("kk_number", "id")])
        placed = member_rows.join(
            self._kk_ids.rename({"id": "family_id"}), on="kk_number", how="left", maintain_order="left"
        ).select("family_id", *self.member_columns)
        if placed.get_column("family_id").null_count():
            raise RuntimeError(
                "anggota tanpa keluarga dalam batch impor"
            )  # the checker's rows always carry their KK
        self._load(
            members, self._as_new(placed, members, {"status": RegistryStatus.AKTIF.value}), replace=False
        )
        return UpsertCounts(families_created=fresh.height, members_created=member_rows.height)

    # ------------------------------------------------------------------ area

    def _outside(
        self, probe: sa.ScalarSelect[int], staged: sa.Table, keys: list[str]
    ) -> list[tuple[Any, ...]]:
        """``keys`` of the staged rows for which ``probe`` (a correlated id lookup) finds a record, with its id.

        The probe stays a scalar subquery in a derived table kept apart by ``OFFSET 0``: one index probe per
        staged row, as in ``_resolve``, never a join the planner might turn into a scan of the registry.
        """
        probed = sa.select(*(staged.c[k] for k in keys), probe.label("found")).offset(0).subquery("p")
        return [tuple(r) for r in self.conn.execute(sa.select(probed).where(probed.c.found.is_not(None)))]

    def _outside_area(self, family_rows: pl.DataFrame) -> list[Refusal]:
        """The staged KKs that are, or hold a NIK that is, an active record outside the importer's area."""
        if not self.area_code:
            return []
        outside_family = sa.not_(in_area(self.area_code, families.c.kelurahan_code))
        by_kk = self._outside(
            sa.select(families.c.id)
            .where(
                families.c.kk_number == self.sf.c.kk_number,
                families.c.registry_status == RegistryStatus.AKTIF.value,
                outside_family,
            )
            .limit(1)
            .scalar_subquery(),
            self.sf,
            ["kk_number"],
        )
        by_nik = self._outside(
            sa.select(members.c.id)
            .join(families, join_on(members.c.family_id, families.c.id))
            .where(
                members.c.nik == self.sm.c.nik, members.c.status == RegistryStatus.AKTIF.value, outside_family
            )
            .limit(1)
            .scalar_subquery(),
            self.sm,
            ["kk_number", "nik"],
        )
        if not by_kk and not by_nik:
            return []
        member_ids = [member_id for _, _, member_id in by_nik]
        family_of: dict[int, int] = (
            {
                m: f
                for m, f in self.conn.execute(
                    sa.select(members.c.id, members.c.family_id).where(members.c.id.in_(member_ids))
                )
            }
            if member_ids
            else {}
        )
        family_ids = {family_id for _, family_id in by_kk} | set(family_of.values())
        kelurahan_of: dict[int, str] = {
            f: k
            for f, k in self.conn.execute(
                sa.select(families.c.id, families.c.kelurahan_code).where(families.c.id.in_(family_ids))
            )
        }
        target = dict(family_rows.select("kk_number", "kelurahan_code").iter_rows())
        refused = [
            Refusal(kk, None, family_id, None, kelurahan_of[family_id], target[kk]) for kk, family_id in by_kk
        ]
        whole = {
            family_id for _, family_id in by_kk
        }  # a person of a family asked for whole is no request of its own
        refused += [
            Refusal(kk, nik, family_of[member_id], member_id, kelurahan_of[family_of[member_id]], target[kk])
            for kk, nik, member_id in by_nik
            if family_of[member_id] not in whole
        ]
        return refused

    # ------------------------------------------------------------------ matching

    def _differs(
        self, current: sa.Table, staged: sa.FromClause, columns: list[str]
    ) -> sa.ColumnElement[bool]:
        terms = []
        for c in columns:
            diff = current.c[c].is_distinct_from(staged.c[c])
            terms.append(sa.and_(staged.c[c].is_not(None), diff) if c in _KEEP_WHEN_EMPTY else diff)
        return sa.or_(*terms)

    def _best(
        self, target: sa.Table, key: str, value: sa.ColumnElement[str], status: str
    ) -> sa.ScalarSelect[int]:
        """The id of the active, else the latest, row of ``target`` with this ``key`` inside the importer's area.

        A correlated subquery on purpose: it is an index probe per staged row on both databases,
        whatever the planner believes about table sizes (statistics lag far behind during a big import).
        """
        preference = (
            sa.case((target.c[status] == RegistryStatus.AKTIF.value, 0), else_=1),
            target.c.id.desc(),
        )
        q = sa.select(target.c.id).where(target.c[key] == value)
        if self.area_code:
            if target is not families:
                q = q.join(families, join_on(target.c.family_id, families.c.id))
            q = q.where(in_area(self.area_code, families.c.kelurahan_code))
        return q.order_by(*preference).limit(1).scalar_subquery()

    def _resolve(
        self,
        matched: sa.Table,
        staged: sa.Table,
        ids: Mapping[str, sa.ColumnElement[Any]],
        id_column: str,
        current: sa.Table,
        compared: list[str],
    ) -> None:
        """Write ``staged`` into ``matched`` with its ids (``ids``) and whether the stored row differs: one pass.

        The ids are computed in a derived table kept apart by ``OFFSET 0`` (neither database merges
        it into the outer query), so the change test below reads each id without probing again.
        """
        with_ids = (
            sa.select(*staged.c, *(expr.label(name) for name, expr in ids.items())).offset(0).subquery("x")
        )
        differs = (
            sa.select(sa.literal(1))
            .where(current.c.id == with_ids.c[id_column], self._differs(current, with_ids, compared))
            .scalar_subquery()
        )
        changed = sa.case((differs.is_not(None), 1), else_=0)
        names = [c.name for c in staged.c] + list(ids)
        self.conn.execute(matched.insert().from_select([*names, "changed"], sa.select(*with_ids.c, changed)))

    def _new_values(self, current: sa.Table, staged: sa.Table, columns: list[str]) -> dict[str, object]:
        values: dict[str, object] = {}
        for c in columns:
            values[c] = sa.func.coalesce(staged.c[c], current.c[c]) if c in _KEEP_WHEN_EMPTY else staged.c[c]
        s = self.stamp
        values.update(
            version=current.c.version + 1,
            valid_from=sa.literal(s["now"], current.c.valid_from.type),
            changed_by=s["changed_by"],
            change_reason=s["change_reason"],
            import_id=s["import_id"],
        )
        return values

    def _update_changed(
        self, current: sa.Table, history: sa.Table, matched: sa.Table, id_column: str, compared: list[str]
    ) -> int:
        """Keep the old version of every changed row, then write the new one; returns how many changed."""
        ids = sa.select(matched.c[id_column]).where(matched.c.changed == 1)
        names = [c.name for c in current.columns]
        kept = self.conn.execute(
            history.insert().from_select(
                [*names, "valid_to"],
                sa.select(*current.columns, sa.literal(self.stamp["now"], history.c.valid_to.type)).where(
                    current.c.id.in_(ids)
                ),
            ),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        if kept:
            self.conn.execute(
                current.update()
                .where(current.c.id == matched.c[id_column], matched.c.changed == 1)
                .values(self._new_values(current, matched, compared))
            )
        return int(kept)

    def _insert_new(
        self,
        staged: sa.Table,
        target: sa.Table,
        columns: list[str],
        new: sa.ColumnElement[bool],
        fixed: dict[str, object],
    ) -> int:
        s = self.stamp
        selected: list[sa.ColumnElement[object]] = []
        for c in columns:
            if c in _KEEP_WHEN_EMPTY:
                selected.append(sa.func.coalesce(staged.c[c], _KEEP_WHEN_EMPTY[c]))
            else:
                selected.append(staged.c[c])
        extra = {
            "version": sa.literal(1),
            "valid_from": sa.literal(s["now"], target.c.valid_from.type),
            "changed_by": sa.literal(s["changed_by"]),
            "change_reason": sa.literal(s["change_reason"]),
            "import_id": sa.literal(s["import_id"], sa.Integer),
            **{k: sa.literal(v) for k, v in fixed.items()},
        }
        defaults = {
            k: sa.literal(v)
            for k, v in _KEEP_WHEN_EMPTY.items()
            if k in target.c and k not in columns and k not in extra
        }
        names = [*columns, *extra, *defaults]
        return int(
            self.conn.execute(
                target.insert().from_select(
                    names, sa.select(*selected, *extra.values(), *defaults.values()).where(new)
                ),
                execution_options={"preserve_rowcount": True},
            ).rowcount
        )

    def _apply_families(self) -> tuple[int, int]:
        sf, mf = self.sf, self.mf
        self._empty(mf)
        ids = {"family_id": self._best(families, "kk_number", sf.c.kk_number, "registry_status")}
        self._resolve(mf, sf, ids, "family_id", families, self.family_columns)
        updated = self._update_changed(families, family_versions, mf, "family_id", self.family_columns)
        if updated and "kelurahan_code" in self.family_columns:
            scores_follow(self.conn, sa.select(mf.c.family_id).where(mf.c.changed == 1))
        created = self._insert_new(
            mf, families, ["kk_number", *self.family_columns], mf.c.family_id.is_(None), {}
        )
        return created, updated

    def _apply_members(self) -> tuple[int, int]:
        sm, mm, mf = self.sm, self.mm, self.mf
        self._empty(mm)
        # The family matched above, or (for a family created just now) the one with this KK.
        matched_family = sa.select(mf.c.family_id).where(mf.c.kk_number == sm.c.kk_number).scalar_subquery()
        family_of = sa.func.coalesce(
            matched_family, self._best(families, "kk_number", sm.c.kk_number, "registry_status")
        )
        ids = {"family_id": family_of, "member_id": self._best(members, "nik", sm.c.nik, "status")}
        compared = [c for c in self.member_columns if c != "nik"] + ["family_id"]
        self._resolve(mm, sm, ids, "member_id", members, compared)
        updated = self._update_changed(members, member_versions, mm, "member_id", compared)
        created = self._insert_new(
            mm,
            members,
            ["family_id", *self.member_columns],
            mm.c.member_id.is_(None),
            {"status": RegistryStatus.AKTIF.value},
        )
        return created, updated

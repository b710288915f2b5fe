"""Set-based upsert of checked registry rows through temporary staging tables.

A batch of families (one row per KK) and members (one row per NIK) is loaded
into two temporary tables (``executemany`` on SQLite, ``COPY`` on PostgreSQL)
and applied with a handful of ``INSERT … SELECT`` / ``UPDATE … FROM``
statements, never one statement per row:

* a family is matched by its KK number: the active family with that KK, else
  the most recent one; a member by NIK the same way;
* only rows whose values really differ are touched: their old version is
  copied to ``family_versions`` / ``member_versions`` (``valid_to`` = now) and
  the current row gets ``version + 1``; so loading the same rows twice changes
  nothing;
* a member whose NIK already belongs to another family is moved (its
  ``family_id`` changes, with history);
* columns the file does not have are left as they are; an empty status cell
  keeps the stored status (new rows get ``aktif`` / ``belum`` / ``hidup``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl
import sqlalchemy as sa

from tepat.domain.households import FAMILY_FIELDS, MEMBER_FIELDS
from tepat.store.schema import families, family_versions, member_versions, members

_KEEP_WHEN_EMPTY = {"registry_status": "aktif", "verification_status": "belum", "life_status": "hidup"}


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


def _stage_table(md: sa.MetaData, name: str, source: sa.Table, columns: list[str], extra: list[sa.Column[object]]) -> sa.Table:
    return sa.Table(
        name,
        md,
        *(sa.Column(c, source.c[c].type) for c in columns),
        *extra,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


class Stager:
    """Applies batches inside the caller's transaction (``conn``); never commits."""

    def __init__(
        self,
        conn: sa.Connection,
        *,
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
        self.family_columns = [c for c in family_columns if c in known_f and c != "kk_number"] + ["kecamatan_code"]
        self.member_columns = [c for c in member_columns if c in known_m]
        self.stamp = {"changed_by": changed_by, "change_reason": change_reason[:200], "import_id": import_id, "now": now}
        md = sa.MetaData()
        self.sf = _stage_table(
            md, "stage_families", families, ["kk_number", *self.family_columns],
            [sa.Column("family_id", sa.Integer), sa.Column("changed", sa.Integer, nullable=False, server_default="0")],
        )
        self.sm = _stage_table(
            md, "stage_members", members, self.member_columns,
            [
                sa.Column("kk_number", sa.String(16)),
                sa.Column("family_id", sa.Integer),
                sa.Column("member_id", sa.Integer),
                sa.Column("changed", sa.Integer, nullable=False, server_default="0"),
            ],
        )
        # Only the KK lookup from members to their staged family needs an index; any other index
        # on a staging table would be rewritten by every UPDATE of a batch.
        sa.Index("ix_stage_families_kk", self.sf.c.kk_number)
        self._md = md
        if conn.dialect.name == "postgresql":
            # Matching a batch sorts and hashes tens of thousands of keys: keep that in memory, for this transaction only.
            conn.execute(sa.text("SET LOCAL work_mem = '128MB'"))
        for table in (self.sf, self.sm):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))
        md.create_all(conn)

    def close(self) -> None:
        """Drop the staging tables (SQLite keeps temporary tables for the connection's life)."""
        if self.conn.dialect.name == "sqlite":
            for table in (self.sm, self.sf):
                self.conn.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))

    # ------------------------------------------------------------------ loading

    def _load(self, table: sa.Table, frame: pl.DataFrame) -> None:
        self.conn.execute(table.delete())
        if frame.height == 0:
            return
        names = list(frame.columns)
        if self.conn.dialect.name == "postgresql":
            raw = self.conn.connection.driver_connection
            cols = ", ".join(names)
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN (FORMAT csv)") as copy:  # type: ignore[union-attr]
                copy.write(frame.write_csv(include_header=False, date_format="%Y-%m-%d"))
            return
        native = frame.with_columns(
            *(pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Date),
            *(pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean),
        )
        marks = ", ".join("?" for _ in names)
        self.conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", native.rows())

    # ------------------------------------------------------------------ applying

    def apply(self, family_rows: pl.DataFrame, member_rows: pl.DataFrame) -> UpsertCounts:
        """Upsert one batch: ``family_rows`` keyed by ``kk_number``, ``member_rows`` by ``nik`` (with ``kk_number``)."""
        family_rows = family_rows.with_columns(pl.col("kelurahan_code").str.slice(0, 8).alias("kecamatan_code"))
        self._load(self.sf, family_rows.select("kk_number", *self.family_columns))
        self._load(self.sm, member_rows.select("kk_number", *self.member_columns))
        created_f, updated_f = self._apply_families()
        created_m, updated_m = self._apply_members()
        return UpsertCounts(created_f, updated_f, created_m, updated_m)

    def _differs(self, current: sa.Table, staged: sa.Table, columns: list[str]) -> sa.ColumnElement[bool]:
        terms = []
        for c in columns:
            diff = current.c[c].is_distinct_from(staged.c[c])
            terms.append(sa.and_(staged.c[c].is_not(None), diff) if c in _KEEP_WHEN_EMPTY else diff)
        return sa.or_(*terms)

    def _mark_changed(self, staged: sa.Table, id_column: str, current: sa.Table, columns: list[str]) -> None:
        """Set ``changed`` on staged rows whose stored row differs in any of ``columns``."""
        # A scalar subquery, not EXISTS: PostgreSQL would turn EXISTS into a hash join over the
        # whole target table for every batch; this stays one primary-key probe per staged row.
        differs = (
            sa.select(sa.literal(1))
            .where(current.c.id == staged.c[id_column], self._differs(current, staged, columns))
            .scalar_subquery()
        )
        self.conn.execute(staged.update().where(staged.c[id_column].is_not(None), differs.is_not(None)).values(changed=1))

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

    def _keep_history(self, current: sa.Table, history: sa.Table, ids: sa.Select[tuple[int]]) -> None:
        names = [c.name for c in current.columns]
        self.conn.execute(
            history.insert().from_select(
                [*names, "valid_to"],
                sa.select(*current.columns, sa.literal(self.stamp["now"], history.c.valid_to.type)).where(current.c.id.in_(ids)),
            )
        )

    def _match(self, staged: sa.Table, key: str, target: sa.Table, status: str, id_column: str) -> None:
        """Fill ``staged.<id_column>`` (where still empty) with the active, else latest, row of ``target`` by ``key``.

        A correlated subquery on purpose: it is an index probe per staged row on both databases,
        whatever the planner believes about table sizes (statistics lag far behind during a big import).
        """
        preference = (sa.case((target.c[status] == "aktif", 0), else_=1), target.c.id.desc())
        best_id = sa.select(target.c.id).where(target.c[key] == staged.c[key]).order_by(*preference).limit(1).scalar_subquery()
        self.conn.execute(staged.update().where(staged.c[id_column].is_(None)).values({id_column: best_id}))

    def _insert_new(self, staged: sa.Table, target: sa.Table, columns: list[str], new: sa.ColumnElement[bool], fixed: dict[str, object]) -> None:
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
        defaults = {k: sa.literal(v) for k, v in _KEEP_WHEN_EMPTY.items() if k in target.c and k not in columns and k not in extra}
        names = [*columns, *extra, *defaults]
        self.conn.execute(
            target.insert().from_select(names, sa.select(*selected, *extra.values(), *defaults.values()).where(new))
        )

    def _count_where(self, table: sa.Table, condition: sa.ColumnElement[bool]) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one())

    def _apply_families(self) -> tuple[int, int]:
        sf, cols = self.sf, ["kk_number", *self.family_columns]
        self._match(sf, "kk_number", families, "registry_status", "family_id")
        self._mark_changed(sf, "family_id", families, self.family_columns)
        updated = self._count_where(sf, sf.c.changed == 1)
        if updated:
            self._keep_history(families, family_versions, sa.select(sf.c.family_id).where(sf.c.changed == 1))
            self.conn.execute(
                families.update()
                .where(families.c.id == sf.c.family_id, sf.c.changed == 1)
                .values(self._new_values(families, sf, self.family_columns))
            )
        created = self._count_where(sf, sf.c.family_id.is_(None))
        if created:
            self._insert_new(sf, families, cols, sf.c.family_id.is_(None), {})
            self._match(sf, "kk_number", families, "registry_status", "family_id")
        return created, updated

    def _apply_members(self) -> tuple[int, int]:
        sm, sf = self.sm, self.sf
        family_of = sa.select(sf.c.family_id).where(sf.c.kk_number == sm.c.kk_number).scalar_subquery()
        self.conn.execute(sm.update().values(family_id=family_of))
        self._match(sm, "nik", members, "status", "member_id")
        compared = [c for c in self.member_columns if c != "nik"] + ["family_id"]
        self._mark_changed(sm, "member_id", members, compared)
        updated = self._count_where(sm, sm.c.changed == 1)
        if updated:
            self._keep_history(members, member_versions, sa.select(sm.c.member_id).where(sm.c.changed == 1))
            self.conn.execute(
                members.update()
                .where(members.c.id == sm.c.member_id, sm.c.changed == 1)
                .values(self._new_values(members, sm, compared))
            )
        created = self._count_where(sm, sm.c.member_id.is_(None))
        if created:
            self._insert_new(sm, members, ["family_id", *self.member_columns], sm.c.member_id.is_(None), {"status": "aktif"})
        return created, updated

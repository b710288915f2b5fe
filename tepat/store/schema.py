"""The database schema (SQLAlchemy Core), shared by SQLite and PostgreSQL.

History is kept the way SQL:2011 system-versioned tables keep it: ``families``
and ``members`` hold the current version of each row (``version``,
``valid_from``, ``changed_by``, ``change_reason``); before a row changes, its
old version is copied to ``family_versions`` / ``member_versions`` with
``valid_to`` set. Creating a row therefore writes one row, and "what did this
family look like on 1 March" is one query over the current and old versions.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tepat.domain.households import ASSETS
from tepat.domain.payments import MISMATCH_OUTCOMES

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_N_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = sa.DateTime(timezone=True)

MAX_INTEGER = 2**31 - 1
"""The largest value of an ``sa.Integer`` column (32-bit on PostgreSQL): ids, versions. Larger numbers from a
request are refused before they reach a statement (PostgreSQL would fail on them: "integer out of range")."""

regions = sa.Table(
    "regions",
    metadata,
    sa.Column("code", sa.String(13), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("level", sa.String(12), nullable=False),
    sa.Column("parent_code", sa.String(13), nullable=True, index=True),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("full_name", sa.String(120), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("area_code", sa.String(13), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Timestamp, nullable=False),
    # Set by an admin's reset: the one-time password must be replaced at the next login.
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("password_changed_at", Timestamp),
    sa.Column("totp_secret", sa.String(64)),  # base32; set once the user confirmed a code from their app
    sa.Column(
        "totp_last_step", sa.Integer
    ),  # the 30-second step of the last code accepted: a code is used once
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("label", sa.String(80), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp),
    sa.Column("revoked_at", Timestamp),
    sa.Column("expires_at", Timestamp),  # tokens made before expiry existed have none
)

import_mappings = sa.Table(
    # Column-mapping files an office keeps for its sources ("DTKS kelurahan", "SIKS-NG"), picked on the import page.
    "import_mappings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("file_name", sa.String(120), nullable=False),  # its suffix says the format (.toml, .json, .csv)
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("saved_by", sa.String(64), nullable=False),
    sa.Column("saved_at", Timestamp, nullable=False),
)

offices = sa.Table(
    # The kabupaten/kota this database serves (``tepat init --office CODE``) and the names its pages and
    # documents use. One row today; a province deployment holds several.
    "offices",
    metadata,
    sa.Column("code", sa.String(13), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("province_name", sa.String(120), nullable=False),
    sa.Column("agency", sa.String(160), nullable=False),
    sa.Column("short_agency", sa.String(80), nullable=False),
    sa.Column("address", sa.String(200)),
    sa.Column("chosen_at", Timestamp, nullable=False),
)

jobs = sa.Table(
    # Long work started from a page (an import, an export) runs in the background; the page shows this row's
    # progress and, when done, its result. ``heartbeat_at`` moves while it runs: a row that stopped moving belongs
    # to a process that died, and its work was rolled back.
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),  # impor | ekspor
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("area_code", sa.String(13), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # menunggu | berjalan | selesai | gagal
    sa.Column("done", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("total", sa.BigInteger),
    sa.Column(
        "result", sa.JSON(none_as_null=True)
    ),  # what the page shows when it is done (counts, the first bad rows, file names)
    sa.Column("message", sa.String(1000)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp),
    sa.Column("heartbeat_at", Timestamp),
    sa.Column("finished_at", Timestamp),
    sa.Index("ix_jobs_created_by", "created_by", "id"),
)

user_sessions = sa.Table(
    # A logged-in browser: the cookie carries a random secret, this row its hash, so logout, a password change or
    # an admin's revocation ends the session at once, on every worker.
    "user_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp),
    sa.Column("ended_reason", sa.String(20)),  # keluar | sandi_diganti | dicabut | akun_nonaktif
    sa.Index("ix_user_sessions_user", "user_id", "ended_at"),
)


def _office_column() -> sa.Column[str]:
    """The office (kabupaten/kota code, ``32.75``) a row belongs to: on PostgreSQL the partition key of the large
    tables (``PARTITIONED``) and, for Citus, the distribution column; set on every insert (docs/scaling.md)."""
    return sa.Column("office_code", sa.String(5), nullable=False)


def _office_follows(column: str) -> sa.CheckConstraint:
    """``office_code`` is the office of ``column`` (a region code): what ``tepat.domain.regions.office_of`` says,
    held by the database so that no insert or move can leave a row in another office's partition."""
    return sa.CheckConstraint(f"office_code = substr({column}, 1, 5)", name="office")


def _in_office(column: str, target: str) -> sa.ForeignKeyConstraint:
    """A foreign key from ``column`` (and the row's ``office_code``) to a row of a large table, by its id and office:
    the only key a table partitioned by office offers (PostgreSQL). A family moving to another office takes what
    names it along (``ON UPDATE CASCADE``)."""
    return sa.ForeignKeyConstraint(
        [column, "office_code"], [f"{target}.id", f"{target}.office_code"], onupdate="CASCADE"
    )


def _versioning_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", Timestamp, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("change_reason", sa.String(200), nullable=False),
        sa.Column("import_id", sa.Integer, nullable=True),
    ]


def _family_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("kk_number", sa.String(16), nullable=False),
        sa.Column("kelurahan_code", sa.String(13), nullable=False),
        sa.Column("kecamatan_code", sa.String(8), nullable=False),
        sa.Column("rw", sa.SmallInteger, nullable=False),
        sa.Column("rt", sa.SmallInteger, nullable=False),
        sa.Column("address", sa.String(200)),
        sa.Column("tenure", sa.String(20)),
        sa.Column("floor_area_m2", sa.Integer),
        sa.Column("floor_material", sa.String(24)),
        sa.Column("wall_material", sa.String(24)),
        sa.Column("roof_material", sa.String(24)),
        sa.Column("water_source", sa.String(24)),
        sa.Column("lighting", sa.String(24)),
        sa.Column("power_va", sa.String(16)),
        sa.Column("cooking_fuel", sa.String(24)),
        sa.Column("toilet", sa.String(16)),
        sa.Column("septic", sa.String(24)),
        *(sa.Column(name, sa.Boolean) for name, _, _ in ASSETS),
        sa.Column("registry_status", sa.String(10), nullable=False),
        sa.Column("inactive_reason", sa.String(20)),
        sa.Column("verification_status", sa.String(16), nullable=False),
        sa.Column("verified_on", sa.Date),
        *_versioning_columns(),
        _office_column(),
    ]


def _member_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("family_id", sa.Integer, nullable=False),
        sa.Column("nik", sa.String(16), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_place", sa.String(80)),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("relationship", sa.String(20), nullable=False),
        sa.Column("marital_status", sa.String(16)),
        sa.Column("education", sa.String(24)),
        sa.Column("school_participation", sa.String(24)),
        sa.Column("work_status", sa.String(24)),
        sa.Column("disability", sa.String(16)),
        sa.Column("chronic_illness", sa.String(16)),
        sa.Column("pregnant", sa.Boolean),
        sa.Column("life_status", sa.String(10), nullable=False),
        sa.Column("death_date", sa.Date),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("inactive_reason", sa.String(20)),
        *_versioning_columns(),
        _office_column(),
    ]


families = sa.Table(
    "families",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *_family_columns(),
    sa.ForeignKeyConstraint(["kelurahan_code"], ["regions.code"]),
    _office_follows("kelurahan_code"),
    sa.UniqueConstraint("id", "office_code"),  # what members' foreign key names
    sa.Index("ix_families_kk_number", "kk_number"),
    sa.Index(
        "uq_families_active_kk",
        "kk_number",
        "office_code",  # one active family per KK in each office (a KK is issued by the kab/kota's Dukcapil)
        unique=True,
        sqlite_where=sa.text("registry_status = 'aktif'"),
        postgresql_where=sa.text("registry_status = 'aktif'"),
    ),
    sa.Index("ix_families_area", "kelurahan_code", "rw", "rt"),
    sa.Index("ix_families_kecamatan", "kecamatan_code"),
)

family_versions = sa.Table(
    "family_versions",
    metadata,
    sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
    *_family_columns(),
    sa.Column("valid_to", Timestamp, nullable=False),
    sa.PrimaryKeyConstraint("id", "version", name="pk_family_versions"),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    *_member_columns(),
    # A family moving to another office takes its members along (ON UPDATE CASCADE; on PostgreSQL a move
    # between partitions).
    _in_office("family_id", "families"),
    sa.UniqueConstraint("id", "office_code"),  # what foreign keys to a member name
    sa.Index("ix_members_nik", "nik"),
    sa.Index("ix_members_family_id", "family_id"),
    sa.Index("ix_members_name", "name"),
)

member_versions = sa.Table(
    "member_versions",
    metadata,
    sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
    *_member_columns(),
    sa.Column("valid_to", Timestamp, nullable=False),
    sa.PrimaryKeyConstraint("id", "version", name="pk_member_versions"),
    sa.Index("ix_member_versions_family_id", "family_id"),
)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("mode", sa.String(12), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # running | done | rejected | failed
    sa.Column("rows_read", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("families_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("families_updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("members_created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("members_updated", sa.Integer, nullable=False, server_default="0"),
)

move_requests = sa.Table(
    # A registry write (import row, page/API create, approved usul) that matched an active family or person of
    # another area: refused, and sent to that area's operators to accept (they release the record) or refuse.
    "move_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("source", sa.String(8), nullable=False),  # impor | halaman (page, API or usul)
    sa.Column("import_id", sa.Integer),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("to_kelurahan_code", sa.String(13), nullable=False),
    sa.Column("kk_number", sa.String(16), nullable=False),  # the KK the record was to join
    sa.Column("nik", sa.String(16)),  # empty when the family itself (by KK) is asked for
    sa.Column("family_id", sa.Integer, nullable=False),  # the record's family today
    sa.Column("member_id", sa.Integer),
    sa.Column("from_kelurahan_code", sa.String(13), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # menunggu | diterima | ditolak
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", Timestamp),
    sa.Column("decision_note", sa.String(500)),
    _office_column(),  # the record's office (its family's)
    _in_office("family_id", "families"),
    _in_office("member_id", "members"),
    sa.Index("ix_move_requests_from", "from_kelurahan_code", "state"),
    sa.Index("ix_move_requests_to", "to_kelurahan_code", "state"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("entity", sa.String(24), nullable=False),
    sa.Column("entity_id", sa.String(40)),
    sa.Column("area_code", sa.String(13)),
    sa.Column("detail", sa.JSON),
    _office_column(),  # the office of area_code; "" for none (a province, the whole country, no area)
    sa.Index("ix_audit_log_entity", "entity", "entity_id"),
    sa.Index("ix_audit_log_at", "at"),
)

VERSIONED = {"families": family_versions, "members": member_versions}

# "A NIK is active in only one member", across every office: the table is keyed by NIK, so it holds in one index
# whatever partition the member lives in (a unique index of a partitioned table must include its partition key).
# Kept by the database's own triggers on ``members`` (migration 0019), in the statement that changes a member:
# no code path can forget it, and a second active NIK fails that statement as the unique index did before.
active_niks = sa.Table(
    "active_niks",
    metadata,
    sa.Column("nik", sa.String(16), primary_key=True),
    sa.Column("member_id", sa.Integer, nullable=False),
    sa.Column("office_code", sa.String(5), nullable=False),
)


# ---- citizen services (issue 5) --------------------------------------------
# Public status checks, usul / sanggah / pengaduan cases, their uploads and
# field-verification visits. Appended only: the tables above are untouched.

status_checks = sa.Table(
    "status_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
    # Never the full NIK: a keyed hash (HMAC with the secret key) and the masked form.
    sa.Column("nik_hash", sa.String(64), nullable=False),
    sa.Column("nik_masked", sa.String(16), nullable=False),
    sa.Column("client_hash", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),  # web | json
    sa.Column("outcome", sa.String(16), nullable=False),  # cocok | tidak_cocok | dibatasi
    sa.Index("ix_status_checks_nik_hash", "nik_hash"),
    sa.Index("ix_status_checks_at", "at"),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(10), nullable=False),  # usul | sanggah | pengaduan
    sa.Column("tracking_number", sa.String(20), nullable=False, unique=True),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("category", sa.String(24)),
    sa.Column("kelurahan_code", sa.String(13), nullable=False),
    sa.Column("subject_family_id", sa.Integer),
    sa.Column("created_family_id", sa.Integer),
    sa.Column("reporter_name", sa.String(120)),
    sa.Column("reporter_contact", sa.String(120)),
    sa.Column("reporter_nik_hash", sa.String(64)),
    sa.Column("description", sa.String(2000), nullable=False),
    sa.Column("payload", sa.JSON),
    sa.Column("deadline", Timestamp),
    sa.Column("assigned_team", sa.String(40)),
    sa.Column("outcome", sa.String(16)),
    sa.Column("resolution", sa.String(1000)),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("closed_at", Timestamp),
    _office_column(),  # the office of its kelurahan (of its family, when it has one)
    _in_office("subject_family_id", "families"),
    _in_office("created_family_id", "families"),
    sa.Index("ix_cases_kind_state", "kind", "state"),
    sa.Index("ix_cases_kelurahan_code", "kelurahan_code"),
)

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("from_state", sa.String(24)),
    sa.Column("to_state", sa.String(24), nullable=False),
    sa.Column("note", sa.String(1000)),
    sa.Index("ix_case_events_case_id", "case_id"),
)

verification_visits = sa.Table(
    "verification_visits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("family_id", sa.Integer, nullable=False),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id")),
    sa.Column("verifier", sa.String(64), nullable=False),
    sa.Column("visited_on", sa.Date, nullable=False),
    sa.Column("observed", sa.JSON, nullable=False),
    sa.Column("changed_fields", sa.JSON, nullable=False),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("note", sa.String(1000)),
    sa.Column("created_at", Timestamp, nullable=False),
    _office_column(),  # its family's
    _in_office("family_id", "families"),
    sa.Index("ix_verification_visits_family_id", "family_id"),
)

uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # The random file name under Settings.upload_dir; never the uploader's name.
    sa.Column("token", sa.String(64), nullable=False, unique=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id")),
    sa.Column("visit_id", sa.Integer, sa.ForeignKey("verification_visits.id")),
    sa.Column("purpose", sa.String(16), nullable=False),  # bukti | foto_rumah | berita_acara | foto_kunjungan
    sa.Column("content_type", sa.String(40), nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("area_code", sa.String(13), nullable=False),
    sa.Column("uploaded_by", sa.String(64), nullable=False),
    sa.Column("uploaded_at", Timestamp, nullable=False),
    sa.Index("ix_uploads_case_id", "case_id"),
)


# ---- targeting (issue 3) ----------------------------------------------------
# Proxy-means model versions, their evaluations on survey data, ranking runs and
# the per-family scores (predicted welfare, score, desil) of each model version.
# Appended only: the tables above are untouched.

pmt_models = sa.Table(
    "pmt_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("weight", sa.String(64)),
    sa.Column("features", sa.JSON, nullable=False),  # feature names, in order
    sa.Column("reference_levels", sa.JSON, nullable=False),  # categorical feature -> reference level
    sa.Column("spec", sa.JSON, nullable=False),  # PmtModel.as_dict(): coefficients, levels, means, statistics
    sa.Column("r2", sa.Float, nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("source_file", sa.String(255), nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("first_used_at", Timestamp),  # set by the first ranking; from then on the version is immutable
)

pmt_evaluations = sa.Table(
    "pmt_evaluations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("pmt_models.id"), nullable=False),
    sa.Column("source_file", sa.String(255), nullable=False),
    sa.Column("source_sha256", sa.String(64), nullable=False),
    sa.Column("households", sa.Integer, nullable=False),
    sa.Column(
        "results", sa.JSON, nullable=False
    ),  # one entry per coverage: inclusion/exclusion error, counts
    sa.Column("evaluated_by", sa.String(64), nullable=False),
    sa.Column("evaluated_at", Timestamp, nullable=False),
    sa.Index("ix_pmt_evaluations_model_id", "model_id"),
)

ranking_runs = sa.Table(
    "ranking_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("pmt_models.id"), nullable=False),
    sa.Column("reference_date", sa.Date, nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("families", sa.Integer, nullable=False),  # families ranked
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("deleted", sa.Integer, nullable=False),
    sa.Column("unknown_levels", sa.Integer, nullable=False),
    sa.Column("imputed", sa.Integer, nullable=False),
    sa.Index("ix_ranking_runs_model_id", "model_id"),
)

# Derived data, rewritten in bulk by each ranking run (up to a million rows at a time), so
# it carries no foreign keys: per-row FK triggers would cost more than the write itself.
# Integrity holds by construction: families and used model versions and runs are never deleted.
family_scores = sa.Table(
    "family_scores",
    metadata,
    sa.Column("model_id", sa.Integer, nullable=False),
    sa.Column("family_id", sa.Integer, nullable=False),
    sa.Column("family_version", sa.Integer, nullable=False),
    _office_column(),
    sa.Column("predicted", sa.Float, nullable=False),  # predicted monthly per-capita consumption, rupiah
    sa.Column("score", sa.Float, nullable=False),  # ln(predicted): lower = poorer
    sa.Column("desil", sa.SmallInteger, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("model_id", "family_id", name="pk_family_scores"),
    sa.Index("ix_family_scores_model_desil", "model_id", "desil"),
)


# ---- programmes, benefit cycles and payments (issue 4) ----------------------
# The catalogue (amounts, budgets and rules are data), hand-made enrolment changes
# (maker-checker), benefit cycles with their frozen entitlements, payment batches
# and lines, disbursement results as the bank or PT Pos sent them, and the health
# facilities that may ask whether a person is covered. Appended only.
# Vocabulary (Indonesian codes stored as they are shown; the domain modules
# ``tepat.domain.programmes``, ``cycles`` and ``payments`` own the transitions):
#   programmes.unit: keluarga | orang; benefit_type: tunai | barang | layanan | pelatihan;
#   funding_source: APBD | APBN; frequency: sekali | bulanan | tahunan | angkatan
#   benefit_cycles.state: draf | ditinjau | disetujui | pembayaran | ditutup | dibatalkan
#   entitlements.state: terjadwal | diproses | dibayar | gagal | diblokir | dibatalkan
#   payments.state: dikirim | dibayar | gagal | dikembalikan | dibatalkan

programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(24), nullable=False),  # e.g. BLT-APBD: unique in its office's catalogue
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("description", sa.String(1000)),
    sa.Column("unit", sa.String(10), nullable=False),
    sa.Column("benefit_type", sa.String(12), nullable=False),
    sa.Column("funding_source", sa.String(8), nullable=False),
    sa.Column("frequency", sa.String(10), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),  # rupiah per unit per cycle (0: service or training)
    sa.Column("amounts_by_level", sa.JSON),  # education aid: {"SD": 450000, "SMP": 750000, "SMA": 1800000}
    sa.Column("budget_year", sa.Integer, nullable=False),
    sa.Column("annual_budget", sa.BigInteger),  # rupiah; NULL: no budget cap
    sa.Column("quota", sa.Integer),  # units per cycle (e.g. seats per BLK batch); NULL: no quota
    sa.Column("rule", sa.String(4000), nullable=False),  # family-level eligibility rule (tepat.domain.rules)
    sa.Column(
        "member_rule", sa.String(4000)
    ),  # unit = orang: condition on one member, as inside any(anggota, …)
    sa.Column("exclusions", sa.JSON, nullable=False),  # programme codes whose current recipients are left out
    sa.Column("coverage_months", sa.Integer),  # layanan (health): months an approved cycle covers a person
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    # The office whose catalogue holds it: its budget is that office's, its cycles pay that office's families
    # (an APBD programme is one kabupaten/kota's; in a province's database each office has its own).
    sa.Column("office_code", sa.String(5), nullable=False),
    sa.UniqueConstraint("office_code", "code"),
)

enrolment_overrides = sa.Table(
    "enrolment_overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("programme_id", sa.Integer, sa.ForeignKey("programmes.id"), nullable=False),
    sa.Column("family_id", sa.Integer, nullable=False),
    sa.Column("member_id", sa.Integer),  # unit = orang
    sa.Column("action", sa.String(8), nullable=False),  # tambah | hapus
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("evidence", sa.String(255), nullable=False),  # e.g. "BA Muskel No. 12/2025"
    sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id")),  # optional scanned evidence
    sa.Column("state", sa.String(10), nullable=False),  # diajukan | disetujui | ditolak | dicabut
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("requested_at", Timestamp, nullable=False),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", Timestamp),
    sa.Column("decision_note", sa.String(1000)),
    _office_column(),  # its family's
    _in_office("family_id", "families"),
    _in_office("member_id", "members"),
    sa.Index("ix_enrolment_overrides_programme_state", "programme_id", "state"),
    sa.Index("ix_enrolment_overrides_family_id", "family_id"),
)

benefit_cycles = sa.Table(
    "benefit_cycles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("programme_id", sa.Integer, sa.ForeignKey("programmes.id"), nullable=False),
    sa.Column("name", sa.String(120), nullable=False),  # e.g. "BLT-APBD Juli 2025"
    # The region the cycle covers (the city, a kecamatan…): only admins whose area contains it act on it.
    sa.Column("area_code", sa.String(13), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("reference_date", sa.Date, nullable=False),  # ages and rules are evaluated on this day
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("pmt_models.id")),  # scores used for desil and order
    sa.Column("programme_snapshot", sa.JSON, nullable=False),  # the programme's row as it was when generated
    sa.Column("budget_cap", sa.BigInteger),  # rupiah this cycle may spend (NULL: none)
    sa.Column("quota", sa.Integer),
    sa.Column("entitlements", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total_amount", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column(
        "blocked", sa.Integer, nullable=False, server_default="0"
    ),  # blocked at approval (pages count the rows)
    sa.Column("snapshot_sha256", sa.String(64)),  # digest of the frozen list, set on approval
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("generated_at", Timestamp),
    sa.Column("submitted_by", sa.String(64)),
    sa.Column("submitted_at", Timestamp),
    sa.Column("approved_by", sa.String(64)),
    sa.Column("approved_at", Timestamp),
    sa.Column("closed_by", sa.String(64)),
    sa.Column("closed_at", Timestamp),
    sa.Column("cancel_reason", sa.String(1000)),
    sa.Index("ix_benefit_cycles_programme_id", "programme_id"),
)

# Up to hundreds of thousands of rows per cycle, written by one INSERT … SELECT; the
# beneficiary's details are copied in so that a frozen cycle never changes when the
# registry does. family_id / member_id point into the registry for lookups only.
entitlements = sa.Table(
    "entitlements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("cycle_id", sa.Integer, sa.ForeignKey("benefit_cycles.id"), nullable=False),
    sa.Column("unit_key", sa.Integer, nullable=False),  # family id (unit keluarga) or member id (unit orang)
    sa.Column("family_id", sa.Integer, nullable=False),
    sa.Column("member_id", sa.Integer),  # the person (unit orang) or the family's recipient (its head)
    sa.Column("kk_number", sa.String(16), nullable=False),
    sa.Column("recipient_nik", sa.String(16)),
    sa.Column("recipient_name", sa.String(120)),
    sa.Column("kelurahan_code", sa.String(13), nullable=False),
    sa.Column("kecamatan_code", sa.String(8), nullable=False),
    sa.Column("rw", sa.SmallInteger, nullable=False),
    sa.Column("rt", sa.SmallInteger, nullable=False),
    sa.Column("address", sa.String(200)),
    sa.Column("desil", sa.SmallInteger),
    sa.Column("score", sa.Float),
    sa.Column("rank", sa.Integer),  # 1 = poorest, the order the budget was cut in
    sa.Column("level", sa.String(8)),  # education aid: SD | SMP | SMA
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("source", sa.String(8), nullable=False),  # aturan | tambahan (approved hand-made addition)
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("block_reason", sa.String(40)),  # meninggal | nonaktif | …
    sa.Column("cancel_reason", sa.String(1000)),
    sa.Column("paid_at", Timestamp),
    sa.Column("updated_at", Timestamp),
    _office_column(),
    _office_follows("kelurahan_code"),
    sa.UniqueConstraint("id", "office_code"),  # what payments' foreign key names
    sa.UniqueConstraint("cycle_id", "unit_key", "office_code", name="uq_entitlements_cycle_unit"),
    sa.Index("ix_entitlements_cycle_kelurahan", "cycle_id", "kelurahan_code"),
    sa.Index("ix_entitlements_family_id", "family_id"),
    sa.Index("ix_entitlements_member_id", "member_id"),
    # Half-empty pages on PostgreSQL, so that a row's two state changes (into a batch, then paid or failed)
    # are HOT updates: a new row version on the same page and no index entries (4-7x faster, docs/benchmarks.md).
    postgresql_with={"fillfactor": 50},
)

training_participation = sa.Table(
    # A training seat taken up: who enrolled the person and when, and how it ended (the seat's state is on its
    # entitlement: terdaftar, then selesai or tidak_lulus with ``note``).
    "training_participation",
    metadata,
    sa.Column("entitlement_id", sa.Integer, primary_key=True),
    sa.Column("cycle_id", sa.Integer, sa.ForeignKey("benefit_cycles.id"), nullable=False),
    sa.Column("enrolled_by", sa.String(64), nullable=False),
    sa.Column("enrolled_at", Timestamp, nullable=False),
    sa.Column("finished_by", sa.String(64)),
    sa.Column("finished_at", Timestamp),
    sa.Column("note", sa.String(1000)),  # why the training was not completed
    _office_column(),  # its entitlement's
    _in_office("entitlement_id", "entitlements"),
    sa.Index("ix_training_participation_cycle_id", "cycle_id"),
)

training_attendance = sa.Table(
    # One enrolled seat on one day of training: present or absent (recorded again: the last word counts).
    "training_attendance",
    metadata,
    sa.Column("entitlement_id", sa.Integer, primary_key=True),
    sa.Column("session_date", sa.Date, primary_key=True),
    sa.Column("cycle_id", sa.Integer, sa.ForeignKey("benefit_cycles.id"), nullable=False),
    sa.Column("present", sa.Boolean, nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    _office_column(),  # its entitlement's
    _in_office("entitlement_id", "entitlements"),
    sa.Index("ix_training_attendance_cycle_id", "cycle_id", "session_date"),
)

payment_batches = sa.Table(
    "payment_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("cycle_id", sa.Integer, sa.ForeignKey("benefit_cycles.id"), nullable=False),
    sa.Column("number", sa.String(40), nullable=False, unique=True),  # printed on the file and the BAST
    sa.Column("channel", sa.String(10), nullable=False),  # bank | pos | voucher
    sa.Column("kelurahan_code", sa.String(13)),  # NULL: the whole cycle
    sa.Column("state", sa.String(12), nullable=False),  # dibuat | diekspor | selesai | dibatalkan
    sa.Column("control_count", sa.Integer, nullable=False),
    sa.Column("control_total", sa.BigInteger, nullable=False),
    sa.Column("file_name", sa.String(255)),
    sa.Column("file_sha256", sa.String(64)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("exported_by", sa.String(64)),
    sa.Column("exported_at", Timestamp),
    sa.Column("closed_at", Timestamp),
    sa.Column("cancel_reason", sa.String(1000)),
    sa.Index("ix_payment_batches_cycle_id", "cycle_id"),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("payment_batches.id"), nullable=False),
    sa.Column("entitlement_id", sa.Integer, nullable=False),
    sa.Column("attempt", sa.SmallInteger, nullable=False),  # 1, then 2, … for retries after a failure
    sa.Column("reference", sa.String(40), nullable=False),  # the line id the bank echoes back
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("recipient_nik", sa.String(16)),
    sa.Column("recipient_name", sa.String(120)),
    sa.Column("kelurahan_code", sa.String(13), nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    # On its way or paid: what the exactly-once index counts. Derived from state by the database, so no code
    # can forget it; the index reads this column, not state, so a line going dikirim → dibayar keeps every
    # index entry (a HOT update on PostgreSQL).
    sa.Column(
        "live", sa.Boolean, sa.Computed("state IN ('dikirim', 'dibayar')", persisted=True), nullable=False
    ),
    sa.Column("failure_reason", sa.String(200)),
    sa.Column("bank_reference", sa.String(64)),
    sa.Column("settled_on", sa.Date),  # the day the bank / PT Pos says it paid
    # Written by imports before the ledger (migration 0018) and by its downgrade: since, which import applied a
    # line's result is read from its applied ledger rows (tepat.store.payment_states).
    sa.Column("result_import_id", sa.Integer),
    sa.Column("cancel_reason", sa.String(1000)),
    sa.Column("updated_at", Timestamp),
    _office_column(),
    _office_follows("kelurahan_code"),
    sa.ForeignKeyConstraint(
        ["entitlement_id", "office_code"], ["entitlements.id", "entitlements.office_code"]
    ),
    sa.UniqueConstraint("reference", "office_code"),
    # Exactly once, enforced by the database: an entitlement has at most one payment
    # that is on its way or paid. A failed or returned line may be followed by a retry.
    sa.Index(
        "uq_payments_live_entitlement",
        "entitlement_id",
        "office_code",
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    ),
    sa.Index("ix_payments_batch_id", "batch_id"),
    sa.Index("ix_payments_entitlement_id", "entitlement_id"),
    postgresql_with={"fillfactor": 50},  # room for the result's HOT update, as for entitlements
)

payment_result_imports = sa.Table(
    "payment_result_imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("payment_batches.id"), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # selesai | ditolak
    sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("applied", sa.Integer, nullable=False, server_default="0"),
    sa.Column("already_applied", sa.Integer, nullable=False, server_default="0"),
    sa.Column("mismatches", sa.Integer, nullable=False, server_default="0"),
    sa.Column("control_count", sa.Integer),
    sa.Column("control_total", sa.BigInteger),
    sa.Column("message", sa.String(1000)),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.Index("ix_payment_result_imports_batch_id", "batch_id"),
    # The same file is applied to a batch once, whatever the code does: a database rule.
    sa.Index(
        "uq_payment_result_imports_once",
        "batch_id",
        "file_sha256",
        unique=True,
        sqlite_where=sa.text("status = 'selesai'"),
        postgresql_where=sa.text("status = 'selesai'"),
    ),
)

# The outcomes of a result row that was not applied as sent: what reconciliation lists (few rows among many, so
# their own small partial index). Written out as literals, so that SQLite sees the query's condition is the index's;
# as equalities, since SQLite evaluates an IN list on every row written at three times the cost.
_MISMATCHED = tuple(sorted(o.value for o in MISMATCH_OUTCOMES))
_MISMATCH_SQL = sa.text(" OR ".join(f"outcome = '{o}'" for o in _MISMATCHED))


def is_mismatch(outcome: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """``outcome`` is a mismatch, as ``ix_payment_result_lines_mismatches`` reads it."""
    return sa.or_(*(outcome == sa.literal_column(f"'{o}'") for o in _MISMATCHED))


# The bank's rows exactly as received, each judged against our line: the payments ledger. A result moves no other
# row: a line's state after the bank's report, and its entitlement's, are read from here
# (``tepat.store.payment_states``), so an import is one bulk write (docs/payments.md, "The ledger").
payment_result_lines = sa.Table(
    "payment_result_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # No foreign key: these rows are written only by the import, in bulk, in the transaction that inserts their
    # import (which is never deleted); PostgreSQL's per-row foreign-key check doubled the cost of that write.
    sa.Column("import_id", sa.Integer, nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("reference", sa.String(40)),
    sa.Column("recipient_nik", sa.String(16)),
    sa.Column("amount", sa.BigInteger),
    sa.Column("status", sa.String(16)),  # as the bank wrote it, normalised: dibayar | gagal | dikembalikan
    sa.Column("reason", sa.String(200)),
    sa.Column("bank_reference", sa.String(64)),
    sa.Column("settled_on", sa.Date),
    sa.Column(
        "outcome", sa.String(16), nullable=False
    ),  # diterapkan | sudah | tidak_cocok | tidak_dikenal | ganda
    sa.Column("detail", sa.String(200)),
    sa.Column(
        "payment_id", sa.Integer
    ),  # our line with this reference in the batch (none: unknown reference)
    sa.Column("entitlement_id", sa.Integer),
    # An applied payment not returned since: set on a row applied as paid, cleared when the line's return is
    # applied. At most one per entitlement, so a second payment of an entitlement is refused by the database.
    sa.Column("paid_open", sa.Boolean),
    _office_column(),
    sa.Index("ix_payment_result_lines_import_id", "import_id"),
    sa.Index(
        "ix_payment_result_lines_mismatches",
        "import_id",
        sqlite_where=_MISMATCH_SQL,
        postgresql_where=_MISMATCH_SQL,
    ),
    # Every applied row but the open payments (those are found by the unique index below): a failure, a return,
    # a payment since returned. Together the two indexes hold each applied row once (tepat.store.payment_states).
    sa.Index(
        "ix_payment_result_lines_applied",
        "payment_id",
        sqlite_where=sa.text("outcome = 'diterapkan' AND paid_open IS NULL"),
        postgresql_where=sa.text("outcome = 'diterapkan' AND paid_open IS NULL"),
    ),
    # Written as SQLAlchemy writes ``paid_open.is_(True)`` on each database, so the planners match it.
    sa.Index(
        "uq_payment_result_lines_paid_once",
        "entitlement_id",
        "office_code",
        unique=True,
        sqlite_where=sa.text("paid_open IS 1"),
        postgresql_where=sa.text("paid_open IS true"),
    ),
)

# Lines and amounts of each batch per kelurahan and state, kept in the transaction of every change of a line's
# state (batch creation, result import, cancellation): reconciliation reads these few rows, not the lines.
payment_batch_totals = sa.Table(
    "payment_batch_totals",
    metadata,
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("payment_batches.id"), primary_key=True),
    sa.Column("kelurahan_code", sa.String(13), primary_key=True),
    sa.Column("state", sa.String(12), primary_key=True),
    sa.Column("lines", sa.Integer, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
)

facilities = sa.Table(
    "facilities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False, unique=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # rsud | puskesmas | klinik
    sa.Column(
        "key_hash", sa.String(64), nullable=False, unique=True
    ),  # SHA-256 of the API key; the key is shown once
    sa.Column("key_prefix", sa.String(12), nullable=False),  # to recognise a key without storing it
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp),
)

coverage_checks = sa.Table(
    "coverage_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("facility_id", sa.Integer, sa.ForeignKey("facilities.id"), nullable=False),
    sa.Column("nik_hash", sa.String(64), nullable=False),  # keyed hash, never the NIK
    sa.Column("covered", sa.Boolean, nullable=False),
    sa.Index("ix_coverage_checks_facility_at", "facility_id", "at"),
)

linkage_models = sa.Table(
    # One run of the duplicate search (issue 15): the Fellegi–Sunter model Splink estimated without labels
    # (EM for m, random sampling for u), kept as Splink's own JSON so any pair can be explained later.
    "linkage_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("area_code", sa.String(13), nullable=False),  # the area searched
    sa.Column("model", sa.JSON, nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("pairs", sa.Integer, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

duplicate_pairs = sa.Table(
    # Two member records that may be one person, with the evidence; ``member_l`` < ``member_r``. A decided pair
    # keeps its decision while both records keep the versions it was decided on.
    "duplicate_pairs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("member_l", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("member_r", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("version_l", sa.Integer, nullable=False),
    sa.Column("version_r", sa.Integer, nullable=False),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("linkage_models.id"), nullable=False),
    sa.Column("match_probability", sa.Float, nullable=False),
    sa.Column("match_weight", sa.Float, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),  # field -> match weight
    sa.Column("decision", sa.String(10), nullable=False),  # belum | sama | berbeda | kunjungan
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", Timestamp),
    sa.Column("note", sa.String(500)),
    sa.Column("found_at", Timestamp, nullable=False),
    sa.UniqueConstraint("member_l", "member_r", name="uq_duplicate_pairs_members"),
    sa.Index("ix_duplicate_pairs_decision_probability", "decision", "match_probability"),
)

member_merges = sa.Table(
    # A found pair merged: the ``merged`` record is marked nonaktif / duplikat (and its family, when nobody else
    # was in it), pointing here to the ``survivor``; nothing is deleted, and undoing restores both. A merge that
    # touches a paid entitlement waits for a second person (``diajukan`` → ``berlaku``).
    "member_merges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pair_id", sa.Integer, sa.ForeignKey("duplicate_pairs.id"), nullable=False),
    sa.Column("survivor_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("merged_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
    sa.Column("family_closed", sa.Boolean, nullable=False),
    sa.Column("paid", sa.Integer, nullable=False),  # the merged record's paid entitlements when asked
    sa.Column("state", sa.String(10), nullable=False),  # diajukan | berlaku | dibatalkan
    sa.Column("note", sa.String(500), nullable=False),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("requested_at", Timestamp, nullable=False),
    sa.Column("approved_by", sa.String(64)),
    sa.Column("approved_at", Timestamp),
    sa.Column("undone_by", sa.String(64)),
    sa.Column("undone_at", Timestamp),
    sa.Index("ix_member_merges_merged_id", "merged_id"),
)

# ---- DCI Social Registry interface (issue 16) -------------------------------
# Systems that call tepat through the DCI standard (/dci/registry/...). Each client is backed by a tepat account
# (its role and area scope every answer; its API tokens authenticate it) and may only be called back at the URLs
# registered for it. Transactions remember what was asked (for txn/status and the asynchronous answers);
# deliveries are the callbacks owed to clients, retried with backoff and kept as the delivery log.

dci_clients = sa.Table(
    "dci_clients",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, unique=True),
    sa.Column("callback_urls", sa.JSON, nullable=False),  # URL prefixes the client may be called back at
    sa.Column("public_key", sa.Text),  # Ed25519, base64: when set, every message must carry a valid signature
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp),
)

dci_transactions = sa.Table(
    "dci_transactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("dci_clients.id"), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),  # search | subscribe | unsubscribe | txn-status
    sa.Column("transaction_id", sa.String(99), nullable=False),
    sa.Column("correlation_id", sa.String(99), nullable=False, unique=True),
    sa.Column("message_id", sa.String(99), nullable=False),
    sa.Column("reference_ids", sa.JSON, nullable=False),
    sa.Column("status", sa.String(4), nullable=False),  # rcvd | pdng | succ | rjct
    sa.Column("request", sa.JSON),  # the message, while its asynchronous answer is owed (then cleared)
    sa.Column("callback_url", sa.String(500)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("completed_at", Timestamp),
    sa.Index("ix_dci_transactions_client_txn", "client_id", "transaction_id"),
)

# Each reference id a transaction's request named, one row each: a transaction-status request by reference id
# finds every transaction that named it, however old (``reference_ids`` holds them as JSON, which no index reaches).
dci_transaction_references = sa.Table(
    "dci_transaction_references",
    metadata,
    sa.Column("transaction_pk", sa.Integer, sa.ForeignKey("dci_transactions.id"), primary_key=True),
    sa.Column("reference_id", sa.String(99), primary_key=True),
    sa.Column("client_id", sa.Integer, nullable=False),
    sa.Index("ix_dci_transaction_references_client_reference", "client_id", "reference_id"),
)

dci_subscriptions = sa.Table(
    "dci_subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(99), nullable=False, unique=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("dci_clients.id"), nullable=False),
    sa.Column("transaction_id", sa.String(99), nullable=False),
    sa.Column("reference_id", sa.String(99), nullable=False),
    sa.Column("event_type", sa.String(20), nullable=False),  # REGISTER | UPDATE | DELETE | LINK | UNLINK
    sa.Column("filter", sa.JSON, nullable=False),
    sa.Column("notify_record_type", sa.String(40), nullable=False),
    sa.Column("area_code", sa.String(13), nullable=False),  # the client's area when it subscribed
    sa.Column("callback_url", sa.String(500)),  # where its notifications go
    sa.Column("status", sa.String(12), nullable=False),  # subscribe | unsubscribe
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp),
    sa.Column("seen_until", Timestamp, nullable=False),  # registry changes up to here have been notified
    sa.Index("ix_dci_subscriptions_client_id", "client_id"),
)

dci_deliveries = sa.Table(
    "dci_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Integer, sa.ForeignKey("dci_clients.id"), nullable=False),
    sa.Column("transaction_pk", sa.Integer, sa.ForeignKey("dci_transactions.id")),
    sa.Column("action", sa.String(20), nullable=False),  # on-search | on-subscribe | … | notify
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("part", sa.JSON, nullable=False),  # which answer: {"item": i, "page": n} for a search page
    sa.Column("state", sa.String(10), nullable=False),  # menunggu | terkirim | gagal
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_status", sa.Integer),  # HTTP status of the last attempt
    sa.Column("last_error", sa.String(300)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("delivered_at", Timestamp),
    sa.Index("ix_dci_deliveries_due", "state", "next_attempt_at"),
    sa.Index("ix_dci_deliveries_client_id", "client_id"),
)

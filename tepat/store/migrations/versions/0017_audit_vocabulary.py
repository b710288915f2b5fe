"""audit_log.action: the earlier, mixed names renamed to the closed ``subject.verb`` vocabulary

Until now actions were named in three styles (``family.read``, bare ``buat`` or ``approve`` told apart by the
entity, Indonesian ``duplikat.cari``) and some were built from states (``usul.diterima``). The names below are
frozen here as they were; ``tepat.domain.audit_actions`` holds the new ones. Details are not touched.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

RENAMED = {
    "audit.read": "audit_log.read",
    "audit.export": "audit_log.export",
    "login": "login.succeed",
    "login.failed": "login.fail",
    "login.password_ok": "login.accept_password",
    "login.challenged": "login.challenge",
    "login.code_failed": "login.reject_code",
    "fasilitas.daftar": "facility.register",
    "fasilitas.cabut": "facility.revoke",
    "dci.crvs.subscribed": "dci_crvs.subscribe",
    "dci.client.create": "dci_client.create",
    "dci.client.revoke": "dci_client.revoke",
    "dci.subscription.end": "dci_subscription.end",
    "dci.txn-status": "dci.txn_status",
    "generate": "cycle.generate",
    "submit": "cycle.submit",
    "approve": "cycle.approve",
    "return": "cycle.return",
    "cancel": "cycle.cancel",
    "close": "cycle.close",
    "dokumen.nominatif": "nominatif.print",
    "dokumen.bast": "bast.print",
    "dokumen.daftar_hadir": "attendance_sheet.print",
    "dokumen.download": "document.download",
    "duplikat.baca": "duplicate.read",
    "duplikat.cari": "duplicate.search",
    "duplikat.sama": "duplicate.decide",
    "duplikat.berbeda": "duplicate.decide",
    "duplikat.kunjungan": "duplicate.decide",
    "duplikat.gabung": "merge.apply",
    "duplikat.gabung_ajukan": "merge.request",
    "duplikat.gabung_batal": "merge.cancel",
    "ekspor_registri": "registry.export",
    "impor_registri": "registry.import",
    "perpindahan.minta": "move.request",
    "perpindahan.terima": "move.accept",
    "perpindahan.tolak": "move.refuse",
    "nasional.snapshot": "national_snapshot.write",
    "entitlements.block": "entitlement.block",
    "buat": "payment_batch.create",
    "ekspor": "payment_batch.export",
    "impor_hasil": "payment_batch.import_result",
    "tolak_hasil": "payment_batch.refuse_result",
    "baca_gagal": "payment_batch.read_failures",
    "baca_selisih": "reconciliation.read_mismatches",
    "update": "programme.update",
    "family.history": "family.read_history",
    "registri.tautkan": "linkage.run",
    "registri.tautkan_baca": "linkage_result.read",
    "registri.tautkan_unduh": "linkage_result.download",
    "bps.import": "bps_poverty.import",
    "pmt.save": "pmt_model.save",
    "pmt.rename": "pmt_model.rename",
    "pmt.delete": "pmt_model.delete",
    "pmt.evaluate": "pmt_model.evaluate",
    "pmt.rank": "pmt_model.rank",
    "pmt.import_ranks": "pmt_model.import_ranks",
    "pelatihan.daftar": "training_seat.enrol",
    "pelatihan.tolak": "training_seat.refuse",
    "pelatihan.hadir": "training_seat.attend",
    "pelatihan.selesai": "training_seat.complete",
    "pelatihan.tidak_lulus": "training_seat.fail",
    "verification.worklist": "verification.read_worklist",
    "request": "override.request",
    "reject": "override.reject",
}
"""Old name → new name, whatever the entity."""

BY_ENTITY = {
    ("create", "benefit_cycle"): "cycle.create",
    ("create", "programme"): "programme.create",
    ("batal", "payment_batch"): "payment_batch.cancel",
    ("batal", "entitlement"): "entitlement.cancel",
    ("read_list", "entitlements"): "entitlement.list",
    ("read_list", "programme_candidates"): "candidate.list",
    ("read_list", "training_seats"): "training_seat.list",
    ("read", "programme_explanation"): "explanation.read",
    ("approve", "enrolment_override"): "override.approve",
}
"""Bare verbs whose subject was the entity column."""

CASE_KINDS = {"usul": "proposal", "sanggah": "dispute", "pengaduan": "complaint"}
"""``<kind>.create`` and ``<kind>.<new state>`` of residents' cases."""


def upgrade() -> None:
    audit = sa.table("audit_log", sa.column("action", sa.String), sa.column("entity", sa.String))
    for (
        old,
        entity,
    ), new in BY_ENTITY.items():  # before the plain renames: ``approve`` depends on the entity
        op.execute(audit.update().where(audit.c.action == old, audit.c.entity == entity).values(action=new))
    for old, new in RENAMED.items():
        if old != new:
            op.execute(audit.update().where(audit.c.action == old).values(action=new))
    for kind, subject in CASE_KINDS.items():
        op.execute(
            audit.update()
            .where(audit.c.action == f"{kind}.create", audit.c.entity == "case")
            .values(action=f"{subject}.create")
        )
        op.execute(
            audit.update()
            .where(audit.c.action.like(f"{kind}.%"), audit.c.entity == "case")
            .values(action=f"{subject}.move")
        )


def downgrade() -> None:
    """Back to an earlier name for each new one; where several became one (a case's new state, a pair's decision)
    the first of them is used, so a downgrade keeps every entry but not every old nuance."""
    audit = sa.table("audit_log", sa.column("action", sa.String), sa.column("entity", sa.String))
    back: dict[str, str] = {}
    for old, new in RENAMED.items():
        back.setdefault(new, old)
    for kind, subject in CASE_KINDS.items():
        back[f"{subject}.create"], back[f"{subject}.move"] = f"{kind}.create", f"{kind}.diterima"
    for (old, _entity), new in BY_ENTITY.items():
        op.execute(audit.update().where(audit.c.action == new).values(action=old))
    for new, old in back.items():
        op.execute(audit.update().where(audit.c.action == new).values(action=old))

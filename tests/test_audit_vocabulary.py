"""The audit log speaks one closed vocabulary (``subject.verb``, ``tepat.domain.audit_actions``); migration 0017
renamed the names stored before it, and the audit page shows each in Bahasa Indonesia."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tepat.domain.audit_actions import NAME, AuditAction, action_label, audit_action_table
from tepat.domain.cases import CaseKind
from tepat.domain.dci import Action
from tepat.store import audit
from tepat.store.database import Database
from tepat.store.schema import audit_log
from tests.migration_support import migrate

ROOT = Path(__file__).resolve().parent.parent


def test_every_action_follows_the_one_convention_and_has_a_label() -> None:
    assert [a.value for a in AuditAction if not NAME.match(a.value)] == []
    assert all(a.label.strip() for a in AuditAction)
    assert {AuditAction.case_created(k) for k in CaseKind} == {
        AuditAction.PROPOSAL_CREATE,
        AuditAction.DISPUTE_CREATE,
        AuditAction.COMPLAINT_CREATE,
    }
    assert AuditAction.dci_request(Action.TXN_STATUS) is AuditAction.DCI_TXN_STATUS
    assert (
        action_label("family.read") == "Data keluarga dibaca"
        and action_label("tidak.dikenal") == "tidak.dikenal"
    )


def _action_arguments() -> list[tuple[str, ast.expr]]:
    found = []
    for path in (ROOT / "tepat").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = (
                    node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                )
                if name in ("record", "record_read") and len(node.args) >= 3:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[2]))
    return found


def test_no_audit_call_writes_an_action_name_by_hand() -> None:
    calls = _action_arguments()
    assert len(calls) >= 90
    by_hand = [
        where
        for where, arg in calls
        if any(
            isinstance(n, ast.JoinedStr) or (isinstance(n, ast.Constant) and isinstance(n.value, str))
            for n in ast.walk(arg)
        )
    ]
    assert by_hand == []


def test_an_action_outside_the_vocabulary_is_refused(db: Database, admin) -> None:
    with pytest.raises(ValueError), db.begin() as conn:
        audit.record(conn, admin, "buat", "payment_batch", 1)  # type: ignore[arg-type]
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one() == 0


def test_migration_0017_renames_the_names_stored_before_it(db: Database) -> None:
    migrate(db.engine, "downgrade", "0016")
    old = [
        ("buat", "payment_batch"),
        ("approve", "benefit_cycle"),
        ("approve", "enrolment_override"),
        ("create", "programme"),
        ("batal", "entitlement"),
        ("sanggah.ditolak", "case"),
        ("usul.create", "case"),
        ("duplikat.sama", "duplicate_pairs"),
        ("login", "login"),
        ("family.read", "family"),
        ("dci.txn-status", "dci_client"),
    ]
    with db.begin() as conn:
        conn.execute(
            audit_log.insert(),
            [
                {"at": datetime.now(UTC), "actor": "uji", "action": a, "entity": e, "entity_id": str(i)}
                for i, (a, e) in enumerate(old)
            ],
        )
    migrate(db.engine, "upgrade", "head")
    with db.read() as conn:
        renamed = [
            r
            for (r,) in conn.execute(
                sa.select(audit_log.c.action).order_by(audit_log.c.entity_id.cast(sa.Integer))
            )
        ]
    assert renamed == [
        "payment_batch.create",
        "cycle.approve",
        "override.approve",
        "programme.create",
        "entitlement.cancel",
        "dispute.move",
        "proposal.create",
        "duplicate.decide",
        "login.succeed",
        "family.read",
        "dci.txn_status",
    ]
    assert all(AuditAction(name) for name in renamed)


def test_the_documented_vocabulary_is_the_one_in_the_code() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    printed = text.split("<!-- audit-actions -->\n")[1].split("\n<!-- /audit-actions -->")[0]
    assert printed == audit_action_table()

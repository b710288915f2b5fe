"""A DCI transaction-status request by reference id finds the transaction however many came after it (it read only
a client's last 500 transactions), and migration 0016 indexes the transactions stored before it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from tepat.domain.access import Role
from tepat.services import dci_clients
from tepat.store import dci as store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.migrate import alembic_config
from tepat.store.schema import dci_transaction_references
from tests.conftest import actor


def _client(db: Database) -> int:
    dci_clients.add_client(
        db, actor(Role.ADMIN, "32.75"), "bank-uji", role="operator", area_code="32.75.01", callback_urls=[]
    )
    with db.read() as conn:
        found = store.client_by_name(conn, "bank-uji")
    assert found is not None
    return int(found["id"])


def _transaction(conn: sa.Connection, client_id: int, n: int, references: list[str]) -> int:
    return store.insert_transaction(
        conn,
        client_id=client_id,
        action="search",
        transaction_id=f"t-{n}",
        correlation_id=f"c-{client_id}-{n}",
        message_id=f"m-{n}",
        reference_ids=references,
        status="succ",
        created_at=now(),
    )


def test_a_reference_named_long_ago_is_still_found(db: Database) -> None:
    client_id = _client(db)
    with db.begin() as conn:
        first = _transaction(conn, client_id, 0, ["ref-lama", "ref-lama"])  # named twice in one request
        for n in range(1, 601):
            _transaction(conn, client_id, n, [f"ref-{n}"])
    with db.read() as conn:
        found = store.transactions_with_reference(conn, client_id, ["ref-lama"])
        both = store.transactions_with_reference(conn, client_id, ["ref-lama", "ref-600"])
        someone_else = store.transactions_with_reference(conn, client_id + 1, ["ref-lama"])
    assert [t["id"] for t in found] == [first]
    assert [t["transaction_id"] for t in both] == ["t-600", "t-0"]  # newest first
    assert someone_else == []


def test_migration_0016_indexes_the_transactions_already_stored(db: Database) -> None:
    client_id = _client(db)
    with db.begin() as conn:
        for n in range(3):
            _transaction(conn, client_id, n, [f"ref-{n}", "ref-bersama"])
    cfg = alembic_config(db.engine)
    for how, target in (("downgrade", "0015"), ("upgrade", "0016")):
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            getattr(command, how)(cfg, target)
    with db.read() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(dci_transaction_references)).scalar_one()
        shared = store.transactions_with_reference(conn, client_id, ["ref-bersama"])
    assert stored == 6 and [t["transaction_id"] for t in shared] == ["t-2", "t-1", "t-0"]

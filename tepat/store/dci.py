"""The DCI interface's tables: clients, transactions, subscriptions and the callbacks owed (deliveries).

Functions take a connection and never commit: the service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.dci import DeliveryState
from tepat.domain.households import LifeStatus, RegistryStatus
from tepat.store.areas import join_on
from tepat.store.schema import (
    dci_clients,
    dci_deliveries,
    dci_subscriptions,
    dci_transaction_references,
    dci_transactions,
    families,
    members,
    users,
)

_C, _T, _S, _D = dci_clients, dci_transactions, dci_subscriptions, dci_deliveries
_TR = dci_transaction_references

# ----------------------------------------------------------------------------------------------- clients


def insert_client(conn: sa.Connection, **values: Any) -> int:
    return int(conn.execute(sa.insert(_C).values(**values).returning(_C.c.id)).scalar_one())


def _client_query() -> sa.Select[Any]:
    return sa.select(
        _C,
        users.c.username,
        users.c.role,
        users.c.area_code,
        users.c.active,
    ).join(users, users.c.id == _C.c.user_id)


def client_by_user(conn: sa.Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(_client_query().where(_C.c.user_id == user_id)).mappings().first()
    return dict(row) if row else None


def client_by_id(conn: sa.Connection, client_id: int) -> dict[str, Any] | None:
    row = conn.execute(_client_query().where(_C.c.id == client_id)).mappings().first()
    return dict(row) if row else None


def client_by_name(conn: sa.Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(_client_query().where(_C.c.name == name)).mappings().first()
    return dict(row) if row else None


def clients(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(_client_query().order_by(_C.c.name)).mappings()]


def update_client(conn: sa.Connection, client_id: int, **values: Any) -> None:
    conn.execute(sa.update(_C).where(_C.c.id == client_id).values(**values))


# ------------------------------------------------------------------------------------------ transactions


def insert_transaction(conn: sa.Connection, **values: Any) -> int:
    """A transaction, and one ``dci_transaction_references`` row per reference id it names."""
    pk = int(conn.execute(sa.insert(_T).values(**values).returning(_T.c.id)).scalar_one())
    references = dict.fromkeys(str(r) for r in values.get("reference_ids") or [])
    if references:
        conn.execute(
            sa.insert(_TR),
            [{"transaction_pk": pk, "reference_id": r, "client_id": values["client_id"]} for r in references],
        )
    return pk


def transaction(conn: sa.Connection, pk: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(_T).where(_T.c.id == pk)).mappings().first()
    return dict(row) if row else None


def transactions_of(
    conn: sa.Connection,
    client_id: int,
    *,
    transaction_id: str | None = None,
    correlation_id: str | None = None,
) -> list[dict[str, Any]]:
    """A client's transactions with this transaction id or correlation id (never another client's)."""
    q = sa.select(_T).where(_T.c.client_id == client_id)
    if transaction_id is not None:
        q = q.where(_T.c.transaction_id == transaction_id)
    if correlation_id is not None:
        q = q.where(_T.c.correlation_id == correlation_id)
    return [dict(r) for r in conn.execute(q.order_by(_T.c.id).limit(50)).mappings()]


def transactions_with_reference(
    conn: sa.Connection, client_id: int, reference_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The client's transactions that named any of these reference ids, newest first, however old."""
    named = sa.select(_TR.c.transaction_pk).where(
        _TR.c.client_id == client_id, _TR.c.reference_id.in_(sorted(set(reference_ids)))
    )
    q = sa.select(_T).where(_T.c.client_id == client_id, _T.c.id.in_(named)).order_by(_T.c.id.desc())
    return [dict(r) for r in conn.execute(q).mappings()]


def finish_transaction(conn: sa.Connection, pk: int, status: str, at: datetime) -> None:
    conn.execute(sa.update(_T).where(_T.c.id == pk).values(status=status, completed_at=at, request=None))


def recent_transactions(conn: sa.Connection, client_id: int, limit: int = 20) -> list[dict[str, Any]]:
    q = sa.select(_T).where(_T.c.client_id == client_id).order_by(_T.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


# ----------------------------------------------------------------------------------------- subscriptions


def insert_subscription(conn: sa.Connection, **values: Any) -> int:
    return int(conn.execute(sa.insert(_S).values(**values).returning(_S.c.id)).scalar_one())


def live_subscription(
    conn: sa.Connection, client_id: int, event_type: str, filter_: Any
) -> dict[str, Any] | None:
    """The client's live subscription to the same event with the same filter, if any."""
    q = sa.select(_S).where(
        _S.c.client_id == client_id, _S.c.event_type == event_type, _S.c.status == "subscribe"
    )
    for row in conn.execute(q).mappings():
        if row["filter"] == filter_:
            return dict(row)
    return None


def subscriptions_by_code(
    conn: sa.Connection, client_id: int, codes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    q = sa.select(_S).where(_S.c.client_id == client_id, _S.c.code.in_(list(codes)))
    return {r["code"]: dict(r) for r in conn.execute(q).mappings()}


def end_subscription(conn: sa.Connection, subscription_id: int, at: datetime) -> int:
    return conn.execute(
        sa.update(_S)
        .where(_S.c.id == subscription_id, _S.c.status == "subscribe")
        .values(status="unsubscribe", ended_at=at)
    ).rowcount


def live_subscriptions(conn: sa.Connection) -> list[dict[str, Any]]:
    q = sa.select(_S).where(_S.c.status == "subscribe").order_by(_S.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]


def subscription_by_code(conn: sa.Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(_S).where(_S.c.code == code)).mappings().first()
    return dict(row) if row else None


def advance_subscription(conn: sa.Connection, subscription_id: int, was: datetime, to: datetime) -> bool:
    """Move a subscription's cursor from ``was`` to ``to``; ``False`` if another process moved it first."""
    return (
        conn.execute(
            sa.update(_S)
            .where(_S.c.id == subscription_id, _S.c.seen_until == was, _S.c.status == "subscribe")
            .values(seen_until=to)
        ).rowcount
        == 1
    )


def subscriptions_of(conn: sa.Connection, client_id: int) -> list[dict[str, Any]]:
    q = sa.select(_S).where(_S.c.client_id == client_id).order_by(_S.c.id.desc()).limit(200)
    return [dict(r) for r in conn.execute(q).mappings()]


# -------------------------------------------------------------------------------------------- deliveries


def insert_delivery(conn: sa.Connection, **values: Any) -> int:
    return int(conn.execute(sa.insert(_D).values(**values).returning(_D.c.id)).scalar_one())


def due_deliveries(conn: sa.Connection, at: datetime, limit: int) -> list[dict[str, Any]]:
    q = (
        sa.select(_D)
        .where(_D.c.state == DeliveryState.MENUNGGU.value, _D.c.next_attempt_at <= at)
        .order_by(_D.c.next_attempt_at, _D.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def claim_delivery(conn: sa.Connection, delivery_id: int, attempts: int, until: datetime) -> bool:
    """Take a due delivery for one attempt (guarded: a second sender finds it taken): its next attempt moves to
    ``until``, so a sender that dies mid-attempt leaves it to be tried again then."""
    return (
        conn.execute(
            sa.update(_D)
            .where(
                _D.c.id == delivery_id, _D.c.state == DeliveryState.MENUNGGU.value, _D.c.attempts == attempts
            )
            .values(attempts=attempts + 1, next_attempt_at=until)
        ).rowcount
        == 1
    )


def record_attempt(conn: sa.Connection, delivery_id: int, **values: Any) -> None:
    conn.execute(sa.update(_D).where(_D.c.id == delivery_id).values(**values))


def owed(conn: sa.Connection, transaction_pk: int) -> int:
    """Deliveries of this transaction not yet sent (waiting or being retried)."""
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(
                _D.c.transaction_pk == transaction_pk, _D.c.state == DeliveryState.MENUNGGU.value
            )
        ).scalar_one()
    )


def forget_before(conn: sa.Connection, cutoff: datetime, at: datetime) -> int:
    """Past the retention period: a transaction's stored request is cleared (an unanswered one is rejected), and
    the deliveries keep their log but not their content (one still waiting is failed). Returns the transactions
    touched."""
    touched = conn.execute(
        sa.update(_T)
        .where(_T.c.created_at < cutoff, sa.or_(_T.c.request.is_not(None), _T.c.status.in_(["rcvd", "pdng"])))
        .values(request=None, status=sa.case((_T.c.status.in_(["rcvd", "pdng"]), "rjct"), else_=_T.c.status),
                completed_at=sa.func.coalesce(_T.c.completed_at, at))
    ).rowcount  # fmt: skip
    conn.execute(
        sa.update(_D)
        .where(_D.c.created_at < cutoff, _D.c.state == DeliveryState.MENUNGGU.value)
        .values(state=DeliveryState.GAGAL.value, last_error="tidak terkirim dalam masa simpan")
    )
    conn.execute(sa.update(_D).where(_D.c.created_at < cutoff).values(part={}))
    return int(touched)


def deliveries_of(conn: sa.Connection, client_id: int, limit: int = 50) -> list[dict[str, Any]]:
    q = sa.select(_D).where(_D.c.client_id == client_id).order_by(_D.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def delivery(conn: sa.Connection, delivery_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(_D).where(_D.c.id == delivery_id)).mappings().first()
    return dict(row) if row else None


# ------------------------------------------------------------------------------------------------ search


def families_page(
    conn: sa.Connection,
    where: sa.ColumnElement[bool],
    scores: sa.FromClause | None,
    *,
    order: str,
    descending: bool,
    offset: int,
    limit: int,
    active_only: bool = True,
) -> tuple[int, list[dict[str, Any]]]:
    """The families satisfying ``where`` (active ones only unless told), counted, then one page with their desil,
    in a stable order."""
    source: sa.FromClause = families
    desil: sa.ColumnElement[Any] = sa.null()
    if scores is not None:
        source = families.outerjoin(scores, join_on(scores.c.family_id, families.c.id))
        desil = scores.c.desil
    condition = (
        sa.and_(families.c.registry_status == RegistryStatus.AKTIF.value, where) if active_only else where
    )
    total = conn.execute(sa.select(sa.func.count()).select_from(source).where(condition)).scalar_one()
    key: sa.ColumnElement[Any] = desil if order == "desil" and scores is not None else families.c.id
    ordering = [key.desc() if descending else key.asc(), families.c.id]
    rows = conn.execute(
        sa.select(families, desil.label("desil"))
        .select_from(source)
        .where(condition)
        .order_by(*ordering)
        .offset(offset)
        .limit(limit)
    ).mappings()
    return int(total), [dict(r) for r in rows]


def living_members(
    conn: sa.Connection, family_ids: Sequence[int], condition: sa.ColumnElement[bool] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """The living, active members of these families (head first), optionally only those meeting ``condition``."""
    if not family_ids:
        return {}
    q = sa.select(members).where(
        members.c.family_id.in_(list(family_ids)),
        members.c.status == RegistryStatus.AKTIF.value,
        members.c.life_status == LifeStatus.HIDUP.value,
    )
    if condition is not None:
        q = q.where(condition)
    q = q.order_by(
        members.c.family_id, sa.case((members.c.relationship == "kepala_keluarga", 0), else_=1), members.c.id
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(q).mappings():
        found.setdefault(row["family_id"], []).append(dict(row))
    return found

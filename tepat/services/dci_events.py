"""Registry events for DCI subscribers: what changed since a subscription last looked, found in the registry's own
history, and owed to the subscriber as ``notify`` callbacks (sent by ``tepat.services.dci_delivery``).

tepat keeps every version of every family and member (``families`` / ``family_versions``, ``members`` /
``member_versions``, each with ``valid_from``), so the events need no hook in the many paths that change the
registry (pages, API, imports, merges, the civil registry): they are read from the versions that began after the
subscription's cursor (``seen_until``):

* ``REGISTER``: a family's first version; ``UPDATE``: a later version of an active family; ``DELETE``: a later
  version that left it ``nonaktif``;
* ``LINK``: a person's first version in a family; ``UNLINK``: a later version that left them ``nonaktif``.

A version written by a short transaction is visible within seconds of its ``valid_from``; the cursor stops
``SETTLE`` before now so that such a transaction has committed before its changes are looked for. An import is
one long transaction whose rows all carry its start time, so its rows are found through the import instead,
once it is ``done`` (its ``finished_at`` inside the window). Only families inside the subscription's area that
meet its filter (the same query forms as a search) are notified; the records are built when each notification
is sent, from the families as they are then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tepat.domain.audit_actions import AuditAction
from tepat.domain.dci import (
    REGISTRY_TYPE,
    VERSION,
    Action,
    DeliveryState,
    EventType,
    IdQuery,
    Refused,
    Rejected,
    Status,
    search_query,
)
from tepat.domain.dci_records import group_record, timestamp
from tepat.domain.households import RegistryStatus
from tepat.services import dci_messages, dci_search
from tepat.services.dci_clients import DciClient, client_by_id
from tepat.services.targeting import resolve_model
from tepat.store import audit
from tepat.store import dci as store
from tepat.store import targeting as targeting_store
from tepat.store.areas import join_on
from tepat.store.database import Database
from tepat.store.engine import as_utc, now
from tepat.store.families import in_area
from tepat.store.schema import families, family_versions, imports, member_versions, members

SETTLE = timedelta(seconds=30)
"""How long after a change's ``valid_from`` its transaction is taken to have committed (short transactions)."""
BATCH = 100
"""Families per notification."""


def queue_due(db: Database, *, at: datetime | None = None) -> int:
    """Queue the notifications owed to every live subscription; returns how many deliveries were queued."""
    horizon = (at or now()) - SETTLE
    queued = 0
    with db.read() as conn:
        live = store.live_subscriptions(conn)
    for subscription in live:
        if as_utc(subscription["seen_until"]) >= horizon or not subscription["callback_url"]:
            continue
        try:
            client = client_by_id(db, subscription["client_id"])
        except Refused:  # revoked: its subscriptions ended with it
            continue
        with db.begin() as conn:
            # Moving the cursor first, guarded by where it was: two server processes never both take a window.
            if not store.advance_subscription(conn, subscription["id"], subscription["seen_until"], horizon):
                continue
            ids = _changed(conn, db, client, subscription, horizon)
            for start in range(0, len(ids), BATCH):
                store.insert_delivery(
                    conn,
                    client_id=subscription["client_id"],
                    transaction_pk=None,
                    action=Action.NOTIFY.value,
                    url=subscription["callback_url"],
                    part={"subscription": subscription["code"], "families": ids[start : start + BATCH]},
                    state=DeliveryState.MENUNGGU.value,
                    attempts=0,
                    next_attempt_at=now(),
                    created_at=now(),
                )
                queued += 1
    return queued


def _changed(
    conn: sa.Connection, db: Database, client: DciClient, subscription: dict[str, Any], horizon: datetime
) -> list[int]:
    """Families in the subscription's area meeting its filter that had its event in (seen_until, horizon]."""
    since = subscription["seen_until"]
    event = EventType(subscription["event_type"])
    finished = sa.select(imports.c.id).where(
        imports.c.status == "done", imports.c.finished_at > since, imports.c.finished_at <= horizon
    )

    def window(table: sa.Table) -> sa.ColumnElement[bool]:
        return sa.or_(
            sa.and_(table.c.import_id.is_(None), table.c.valid_from > since, table.c.valid_from <= horizon),
            table.c.import_id.in_(finished),
        )

    family_event = event in (EventType.REGISTER, EventType.UPDATE, EventType.DELETE)
    ids = _family_events(conn, event, window) if family_event else _member_events(conn, event, window)
    if not ids:
        return []
    where = sa.and_(
        families.c.id.in_(sorted(ids)), in_area(subscription["area_code"]), in_area(client.actor.area_code)
    )
    where = sa.and_(where, _filter(conn, db, subscription["filter"]))
    return [
        int(i) for i in conn.execute(sa.select(families.c.id).where(where).order_by(families.c.id)).scalars()
    ]


def _family_events(conn: sa.Connection, event: EventType, window: Any) -> set[int]:
    """Families with a version of this event in the window (current rows and superseded ones alike)."""
    ids: set[int] = set()
    for table in (families, family_versions):
        first, left = table.c.version == 1, table.c.registry_status == RegistryStatus.NONAKTIF.value
        kind = {
            EventType.REGISTER: first,
            EventType.UPDATE: sa.and_(~first, ~left),
            EventType.DELETE: sa.and_(~first, left),
        }[event]
        ids.update(int(i) for i in conn.execute(sa.select(table.c.id).where(window(table), kind)).scalars())
    return ids


def _member_events(conn: sa.Connection, event: EventType, window: Any) -> set[int]:
    """Families a person joined (LINK: their first version, or a version in another family than the one
    before) or left (UNLINK: the family before such a move, or a version that left them nonaktif)."""
    ids: set[int] = set()
    for table in (members, member_versions):
        before = member_versions.alias("sebelumnya")
        previous = sa.and_(before.c.id == table.c.id, before.c.version == table.c.version - 1)
        moved = sa.and_(previous, before.c.family_id != table.c.family_id)
        if event is EventType.LINK:
            joined = sa.or_(table.c.version == 1, sa.exists().where(moved))
            queries = [
                sa.select(table.c.family_id).where(
                    window(table), joined, table.c.status == RegistryStatus.AKTIF.value
                )
            ]
        else:
            queries = [
                sa.select(table.c.family_id).where(
                    window(table), table.c.version > 1, table.c.status == RegistryStatus.NONAKTIF.value
                ),
                sa.select(before.c.family_id).select_from(table.join(before, moved)).where(window(table)),
            ]
        for q in queries:
            ids.update(int(i) for i in conn.execute(q).scalars())
    return ids


def _filter(conn: sa.Connection, db: Database, filter_: Any) -> sa.ColumnElement[bool]:
    """The subscription's filter as a condition on ``families`` (checked when it subscribed)."""
    try:
        query = search_query(_filter_type(filter_), filter_, dci_search.place_lookup(db))
    except Rejected:
        return sa.false()
    if isinstance(query, IdQuery):
        return dci_search.by_identifier(conn, query)
    model = resolve_model(conn, None)
    scores = targeting_store.scores_source(model) if model is not None else None
    try:
        where, _ = dci_search.by_criteria(query, scores, False)
    except Rejected:
        return sa.false()
    if scores is not None:
        return families.c.id.in_(
            sa.select(families.c.id)
            .select_from(families.outerjoin(scores, join_on(scores.c.family_id, families.c.id)))
            .where(where)
        )
    return where


def _filter_type(filter_: Any) -> str:
    if isinstance(filter_, list):
        return "predicate"
    if isinstance(filter_, dict) and isinstance(filter_.get("value"), dict):
        return "expression"
    return "idtype-value"


def notify_message(db: Database, client: DciClient, part: dict[str, Any]) -> dict[str, Any]:
    """The body of one ``notify`` callback: one event per family, each with the family as it is now."""
    with db.read() as conn:
        subscription = store.subscription_by_code(conn, part["subscription"])
        model = resolve_model(conn, None)
        scores = targeting_store.scores_source(model) if model is not None else None
        _, rows = store.families_page(
            conn,
            sa.and_(families.c.id.in_(part["families"]), in_area(client.actor.area_code)),
            scores,
            order="id",
            descending=False,
            offset=0,
            limit=BATCH,
            active_only=False,
        )
        people = store.living_members(conn, [r["id"] for r in rows])
    if subscription is None:
        raise LookupError("the subscription of this notification is gone")
    events = []
    for family in rows:
        office = db.offices.for_area(family["kelurahan_code"])
        kelurahan, kecamatan = dci_search.place_names(db, family["kelurahan_code"])
        record = group_record(
            office.code,
            family,
            people.get(family["id"], []),
            desil=family["desil"],
            kelurahan=kelurahan,
            kecamatan=kecamatan,
            city=office.name,
        )
        events.append(
            {
                "reference_id": f"{subscription['code']}:{family['id']}"[:99],
                "timestamp": timestamp(now()),
                "data": {
                    "version": VERSION,
                    "reg_type": REGISTRY_TYPE,
                    "reg_event_type": subscription["event_type"],
                    "reg_record_type": subscription["notify_record_type"],
                    "reg_records": record,
                },
            }
        )
    audit.record_read(
        db,
        client.actor,
        AuditAction.DCI_NOTIFY,
        "family",
        None,
        area_code=client.actor.area_code,
        detail={"subscription": subscription["code"], "families": [r["id"] for r in rows]},
    )
    header = dci_messages.callback_header(
        db, {"sender_id": ""}, Action.NOTIFY, status=Status.SUCCESS, total=len(events), done=len(events)
    )
    message = {"transaction_id": subscription["transaction_id"], "notify_event": events}
    return {"signature": "", "header": header, "message": message}

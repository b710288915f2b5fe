"""DCI subscribe and unsubscribe: a client asks to be told of registry events inside its area, or stops."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from tepat.domain.dci import (
    REGISTRY_TYPE,
    VERSION,
    EventType,
    Reason,
    Rejected,
    Status,
    search_query,
)
from tepat.domain.dci_records import timestamp
from tepat.services.dci_clients import DciClient
from tepat.services.dci_messages import (
    Envelope,
    checked_item,
    given,
    items_of,
    notify_url,
    now_text,
    rejection,
)
from tepat.services.dci_search import place_lookup
from tepat.store import dci as store
from tepat.store.database import Database
from tepat.store.engine import now


def subscribe(db: Database, client: DciClient, envelope: Envelope, correlation_id: str) -> dict[str, Any]:
    """Each subscribe request recorded (or rejected with its reason): the ``SubscribeResponse``."""
    answers = []
    seen: set[str] = set()
    for item in items_of(envelope.message, "subscribe_request"):
        reference = item.get("reference_id") if isinstance(item, Mapping) else None
        answer: dict[str, Any] = {
            "reference_id": reference if given(reference) else "",
            "timestamp": now_text(),
        }
        try:
            checked_item(item)
            if reference in seen:
                raise Rejected(
                    Reason.REFERENCE_ID_DUPLICATE, "this reference_id appears earlier in the message"
                )
            seen.add(str(reference))
            info = _subscribe_one(db, client, envelope, item)
        except Rejected as exc:
            answer.update(rejection(exc))
        else:
            answer.update(status=Status.SUCCESS.value, subscriptions=[info])
        answers.append(answer)
    return {
        "transaction_id": envelope.message["transaction_id"],
        "correlation_id": correlation_id,
        "subscribe_response": answers,
    }


def _subscribe_one(
    db: Database, client: DciClient, envelope: Envelope, item: Mapping[str, Any]
) -> dict[str, Any]:
    criteria = item.get("subscribe_criteria")
    if not isinstance(criteria, Mapping):
        raise Rejected(Reason.NOTIFY_TYPES_INVALID, "subscribe_criteria is required")
    raw_event = str(criteria.get("reg_event_type", "")).rsplit(":", 1)[-1].upper()
    try:
        event = EventType(raw_event)
    except ValueError:
        raise Rejected(
            Reason.NOTIFY_TYPES_INVALID,
            f"reg_event_type must be one of {', '.join(e.value for e in EventType)}",
        ) from None
    record_type = criteria.get("notify_record_type")
    if not isinstance(record_type, str) or not record_type.strip():
        raise Rejected(Reason.NOTIFY_TYPES_INVALID, "notify_record_type is required")
    filter_ = criteria.get("filter")
    _check_filter(db, criteria.get("filter_type"), filter_)
    at = now()
    with db.begin() as conn:
        if store.live_subscription(conn, client.id, event.value, filter_) is not None:
            raise Rejected(
                Reason.EVENT_ALREADY_SUBSCRIBED, "you already subscribe to this event with this filter"
            )
        code = "sub-" + secrets.token_urlsafe(12)
        store.insert_subscription(
            conn,
            code=code,
            client_id=client.id,
            transaction_id=envelope.message["transaction_id"],
            reference_id=str(item["reference_id"]),
            event_type=event.value,
            filter=filter_,
            notify_record_type=record_type.strip()[:40],
            area_code=client.actor.area_code,
            callback_url=notify_url(client, envelope),
            status="subscribe",
            created_at=at,
            seen_until=at,
        )
    return {
        "version": VERSION,
        "code": code,
        "status": "subscribe",
        "timestamp": timestamp(at),
        "reg_type": REGISTRY_TYPE,
        "reg_event_type": event.value,
        "filter": filter_,
        "notify_record_type": record_type,
    }


def _check_filter(db: Database, filter_type: object, filter_: object) -> None:
    """A subscription's filter must be a query tepat can run (the same forms as a search)."""
    if filter_type is None:
        if isinstance(filter_, list):
            filter_type = "predicate"
        elif isinstance(filter_, Mapping) and isinstance(filter_.get("value"), Mapping):
            filter_type = "expression"
        else:
            filter_type = "idtype-value"
    try:
        search_query(filter_type, filter_, place_lookup(db))
    except Rejected as exc:
        raise Rejected(Reason.NOTIFY_TYPES_INVALID, f"filter: {exc.message}") from None


def unsubscribe(db: Database, client: DciClient, envelope: Envelope, correlation_id: str) -> dict[str, Any]:
    """End the client's subscriptions named: the ``UnSubscribeResponse``."""
    codes = [str(c) for c in envelope.message.get("subscription_codes") or []]
    at = now()
    with db.begin() as conn:
        found = store.subscriptions_by_code(conn, client.id, codes)
        ended, already = [], []
        for code in codes:
            row = found.get(code)
            if row is not None and store.end_subscription(conn, row["id"], at):
                ended.append(code)
            elif row is not None:
                already.append(code)
    unknown = [c for c in codes if c not in found]
    answer: dict[str, Any] = {
        "transaction_id": envelope.message["transaction_id"],
        "correlation_id": correlation_id,
        "timestamp": timestamp(at),
        "status": Status.SUCCESS.value,
        "subscription_status": [{"code": c, "status": "unsubscribe"} for c in ended + already],
    }
    if unknown or already:
        reason = Reason.SUBSCRIPTION_CODE_INVALID if unknown else Reason.EVENT_ALREADY_UNSUBSCRIBED
        answer.update(
            status=Status.REJECTED.value if not ended else Status.SUCCESS.value,
            status_reason_code=reason.value,
            status_reason_message=(
                f"unknown subscription codes: {', '.join(unknown)}" if unknown else "already unsubscribed"
            )[:999],
        )
    return answer

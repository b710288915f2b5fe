"""DCI messages: the envelope read and checked as a whole, acknowledgements and refusals, callback headers,
and the record of each transaction (``dci_transactions``) — what search, subscribe and status share."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Permission
from tepat.domain.dci import (
    MAX_REQUESTS,
    MAX_TEXT,
    VERSION,
    Action,
    ErrorCode,
    Reason,
    Refused,
    Rejected,
    Status,
)
from tepat.domain.dci_records import timestamp
from tepat.services import dci_signature
from tepat.services.dci_clients import DciClient, client_prefix_holds
from tepat.store import dci as store
from tepat.store.database import Database
from tepat.store.engine import now


@dataclass(frozen=True)
class Envelope:
    """A message as received: its signature, header and message."""

    signature: object
    header: dict[str, Any]
    message: dict[str, Any]

    @property
    def sender_id(self) -> str:
        return str(self.header.get("sender_id") or "")


def read_envelope(body: object, action: Action, *, callback: bool = False) -> Envelope:
    """The envelope of a call, checked as the spec's ``MsgHeader`` (``callback``: ``MsgCallbackHeader``, as a
    registry tepat subscribes to sends it); ``Refused`` otherwise."""
    if not isinstance(body, Mapping):
        raise Refused(ErrorCode.BAD_REQUEST, "the body must be a JSON object with header and message")
    header, message = body.get("header"), body.get("message")
    if not isinstance(header, Mapping):
        raise Refused(ErrorCode.BAD_REQUEST, "header is required and must be an object")
    if not isinstance(message, Mapping):
        raise Refused(ErrorCode.BAD_REQUEST, "message is required and must be an object")
    version = header.get("version", VERSION)
    if version != VERSION:
        raise Refused(ErrorCode.VERSION_NOT_SUPPORTED, f"version {version!r} is not supported; use {VERSION}")
    if header.get("action") != action.value:
        raise Refused(ErrorCode.BAD_REQUEST, f"header.action must be {action.value!r} for this endpoint")
    for name in ("message_id",) if callback else ("message_id", "sender_id"):
        if not given(header.get(name)):
            raise Refused(ErrorCode.BAD_REQUEST, f"header.{name} is required (a string of at most 99)")
    if moment_of(header.get("message_ts")) is None:
        raise Refused(ErrorCode.BAD_REQUEST, "header.message_ts must be an ISO 8601 timestamp with a zone")
    total = header.get("total_count", 0 if callback else None)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise Refused(ErrorCode.BAD_REQUEST, "header.total_count is required (a whole number)")
    if header.get("is_msg_encrypted") is True:
        raise Refused(ErrorCode.ENCRYPTION_INVALID, "encrypted messages are not accepted; use TLS")
    if not given(message.get("transaction_id")):
        raise Refused(ErrorCode.BAD_REQUEST, "message.transaction_id is required (a string of at most 99)")
    return Envelope(body.get("signature"), dict(header), dict(message))


def check_client(client: DciClient, envelope: Envelope) -> None:
    """A message this client may send: its role reads personal data (search answers and notifications carry it),
    and it signed the message if it registered a key (``tepat.services.dci_signature``)."""
    if not client.actor.may(Permission.READ_PERSONAL):
        raise Refused(ErrorCode.FORBIDDEN, "this client's role may not read personal data")
    check_signature(client, envelope)


def check_signature(client: DciClient, envelope: Envelope) -> None:
    """A client with a registered key must have signed this message (``tepat.services.dci_signature``)."""
    if client.public_key:
        dci_signature.verify(
            client.public_key, envelope.signature, envelope.header, envelope.message, now().timestamp()
        )


def given(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TEXT


def moment_of(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def items_of(message: Mapping[str, Any], key: str) -> list[Any]:
    items = message.get(key)
    if not isinstance(items, list) or not items:
        raise Refused(ErrorCode.BAD_REQUEST, f"message.{key} must be a non-empty list")
    if len(items) > MAX_REQUESTS:
        raise Refused(ErrorCode.BAD_REQUEST, f"at most {MAX_REQUESTS} requests in one message")
    return items


def ack(correlation_id: str) -> dict[str, Any]:
    """The spec's acknowledgement of an asynchronous call."""
    return {"message": {"ack_status": "ACK", "timestamp": now_text(), "correlation_id": correlation_id}}


def refusal(error: Refused, correlation_id: str = "") -> dict[str, Any]:
    """The spec's ``ack_status: ERR`` body of a refused message."""
    return {
        "message": {
            "ack_status": "ERR",
            "timestamp": now_text(),
            "error": {"code": error.code.value, "message": error.message[:999]},
            "correlation_id": correlation_id,
        }
    }


def now_text() -> str:
    return timestamp(now()) or ""


def new_correlation_id() -> str:
    return "tepat-" + secrets.token_urlsafe(18)


def callback_header(
    db: Database, envelope_header: Mapping[str, Any], action: Action, *, status: Status, total: int, done: int
) -> dict[str, Any]:
    """The header of an answer (synchronous or callback): ``MsgCallbackHeader``."""
    return {
        "version": VERSION,
        "message_id": new_correlation_id(),
        "message_ts": now_text(),
        "action": action.value,
        "status": status.value,
        "total_count": total,
        "completed_count": done,
        "sender_id": f"tepat.{db.offices.area or 'id'}",
        "receiver_id": str(envelope_header.get("sender_id") or ""),
        "is_msg_encrypted": False,
    }


def checked_item(item: object) -> Mapping[str, Any]:
    """A request item's ``reference_id`` and ``timestamp`` checked, as for every kind of request."""
    if not isinstance(item, Mapping) or not given(item.get("reference_id")):
        raise Rejected(Reason.REFERENCE_ID_INVALID, "reference_id is required (a string of at most 99)")
    if moment_of(item.get("timestamp")) is None:
        raise Rejected(Reason.TIMESTAMP_INVALID, "timestamp must be ISO 8601 with a zone")
    return item


def rejection(exc: Rejected) -> dict[str, Any]:
    """The fields of a request answered ``rjct``."""
    return {
        "status": Status.REJECTED.value,
        "status_reason_code": exc.reason.value,
        "status_reason_message": exc.message[:999],
    }


def _references(items: Sequence[object]) -> list[str]:
    return [
        str(i.get("reference_id")) for i in items if isinstance(i, Mapping) and given(i.get("reference_id"))
    ]


def record_transaction(
    db: Database,
    client: DciClient,
    envelope: Envelope,
    action: Action,
    correlation_id: str,
    items: Sequence[object],
    *,
    status: Status,
    request: dict[str, Any] | None = None,
    callback_url: str | None = None,
    conn: sa.Connection | None = None,
) -> int:
    values = {
        "client_id": client.id,
        "action": action.value,
        "transaction_id": envelope.message["transaction_id"],
        "correlation_id": correlation_id,
        "message_id": str(envelope.header["message_id"]),
        "reference_ids": _references(items),
        "status": status.value,
        "request": request,
        "callback_url": callback_url,
        "created_at": now(),
        "completed_at": now() if status in (Status.SUCCESS, Status.REJECTED) else None,
    }
    if conn is not None:
        return store.insert_transaction(conn, **values)
    with db.begin() as own:
        return store.insert_transaction(own, **values)


CALLBACK_PATHS: Mapping[Action, str] = {
    Action.ON_SEARCH: "/registry/on-search",
    Action.ON_SUBSCRIBE: "/registry/on-subscribe",
    Action.ON_UNSUBSCRIBE: "/registry/on-unsubscribe",
    Action.TXN_ON_STATUS: "/registry/txn/on-status",
    Action.NOTIFY: "/registry/notify",
}
"""Where a client's callbacks go when its message names no ``sender_uri``: its first prefix and this path."""


def callback_url(client: DciClient, envelope: Envelope, answer: Action) -> str:
    """Where the answer goes: the message's ``sender_uri`` if registered for this client, else its first prefix
    with the action's path; ``Refused`` for an address the client did not register (never an arbitrary host)."""
    named = envelope.header.get("sender_uri")
    if isinstance(named, str) and named.strip():
        if not client.may_call_back(named.strip()):
            raise Refused(
                ErrorCode.SENDER_URI_INVALID, "sender_uri is not a callback address registered for you"
            )
        return named.strip()
    if not client.callback_urls:
        raise Refused(
            ErrorCode.SENDER_URI_INVALID, "no sender_uri, and no callback address registered for you"
        )
    return client.callback_urls[0].rstrip("/") + CALLBACK_PATHS[answer]


def notify_url(client: DciClient, envelope: Envelope) -> str | None:
    """Where a subscription's notifications go: ``/registry/notify`` under the registered prefix its
    ``sender_uri`` lies under (else the first prefix)."""
    named = envelope.header.get("sender_uri")
    prefixes = [p for p in client.callback_urls if isinstance(named, str) and client_prefix_holds(p, named)]
    chosen = prefixes[0] if prefixes else (client.callback_urls[0] if client.callback_urls else None)
    return chosen.rstrip("/") + CALLBACK_PATHS[Action.NOTIFY] if chosen else None

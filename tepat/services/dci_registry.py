"""tepat as a DCI Social Registry: search (synchronous, or acknowledged and answered by callback), subscribe,
unsubscribe and transaction status, for one authenticated client (``tepat.services.dci_clients``).

Every answer is scoped by the client's account: only families inside its area are ever selected, a role without
personal data is refused a search, and every search is audited as a read of the families it returned. A message
is checked as a whole first (envelope, version, action, signature, callback address): what fails there is
refused (``Refused``: the spec's ``ack_status: ERR`` with its error code). Each request inside a message is then
answered on its own: one that cannot be carried out gets ``status: rjct`` with the spec's reason code, and the
others are still answered.

Asynchronous calls are acknowledged at once (``ACK`` with a new ``correlation_id``); their answers are owed
callbacks, stored as deliveries and sent by ``tepat.services.dci_delivery``. A search's answer is computed page
by page when each page is sent, so a whole kelurahan goes out as paged callbacks without being held in memory.

This module accepts the asynchronous calls; the parts live beside it: ``dci_messages`` (the envelope, acks,
refusals, callback headers and addresses, the transaction record), ``dci_search``, ``dci_subscribe`` and
``dci_txn_status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tepat.domain.audit_actions import AuditAction
from tepat.domain.dci import (
    ANSWER,
    MAX_REQUESTS,
    Action,
    DeliveryState,
    ErrorCode,
    Refused,
    Status,
)
from tepat.services.dci_clients import DciClient
from tepat.services.dci_messages import (
    Envelope,
    ack,
    callback_url,
    items_of,
    new_correlation_id,
    record_transaction,
)
from tepat.services.dci_subscribe import subscribe, unsubscribe
from tepat.services.dci_txn_status import txn_status
from tepat.store import audit
from tepat.store import dci as store
from tepat.store.database import Database
from tepat.store.engine import now


def accept(db: Database, client: DciClient, envelope: Envelope, action: Action) -> dict[str, Any]:
    """An asynchronous call: checked, recorded and acknowledged now; its answer is owed as a callback."""
    answer = ANSWER[action]
    url = callback_url(client, envelope, answer)
    correlation_id = new_correlation_id()
    if action is Action.SEARCH:
        items = items_of(envelope.message, "search_request")
        request: dict[str, Any] | None = {"header": envelope.header, "message": envelope.message}
        parts: list[dict[str, Any]] = [{"item": i, "page": None} for i in range(len(items))]
    else:
        items, reply = _answer_now(db, client, envelope, action, correlation_id)
        request, parts = None, [{"message": reply, "receiver_id": envelope.sender_id}]
    at = now()
    with db.begin() as conn:
        pk = record_transaction(
            db,
            client,
            envelope,
            action,
            correlation_id,
            items,
            status=Status.PENDING,
            request=request,
            callback_url=url,
            conn=conn,
        )
        for part in parts:
            store.insert_delivery(
                conn,
                client_id=client.id,
                transaction_pk=pk,
                action=answer.value,
                url=url,
                part=part,
                state=DeliveryState.MENUNGGU.value,
                attempts=0,
                next_attempt_at=at,
                created_at=at,
            )
        audit.record(
            conn,
            client.actor,
            AuditAction.dci_request(action),
            "dci_transaction",
            pk,
            area_code=client.actor.area_code,
            detail={"transaction_id": envelope.message["transaction_id"], "requests": len(items)},
        )
    return ack(correlation_id)


def _answer_now(
    db: Database, client: DciClient, envelope: Envelope, action: Action, correlation_id: str
) -> tuple[list[Any], dict[str, Any]]:
    """The answer of a subscribe, unsubscribe or status call (small, no personal data): made at acceptance."""
    if action is Action.SUBSCRIBE:
        items = items_of(envelope.message, "subscribe_request")
        return items, subscribe(db, client, envelope, correlation_id)
    if action is Action.UNSUBSCRIBE:
        codes = envelope.message.get("subscription_codes")
        if not isinstance(codes, list) or not codes or len(codes) > MAX_REQUESTS:
            raise Refused(
                ErrorCode.BAD_REQUEST, f"message.subscription_codes must list 1–{MAX_REQUESTS} codes"
            )
        return [], unsubscribe(db, client, envelope, correlation_id)
    request = envelope.message.get("txnstatus_request")
    if not isinstance(request, Mapping):
        raise Refused(ErrorCode.BAD_REQUEST, "message.txnstatus_request must be an object")
    return [request], txn_status(db, client, envelope, correlation_id)

"""DCI transaction status: what became of a client's earlier requests, by transaction id, correlation id or
reference ids (its own transactions only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tepat.domain.audit_actions import AuditAction
from tepat.domain.dci import (
    MAX_TEXT,
    Action,
    ErrorCode,
    Refused,
    Status,
)
from tepat.domain.dci_records import timestamp
from tepat.services.dci_clients import DciClient
from tepat.services.dci_messages import Envelope, callback_header, given, new_correlation_id
from tepat.store import audit
from tepat.store import dci as store
from tepat.store.database import Database


def txn_status(db: Database, client: DciClient, envelope: Envelope, correlation_id: str) -> dict[str, Any]:
    """What became of this client's earlier requests: the ``TxnStatusResponse`` (statuses only, no records)."""
    request = envelope.message.get("txnstatus_request")
    if not isinstance(request, Mapping):
        raise Refused(ErrorCode.BAD_REQUEST, "message.txnstatus_request must be an object")
    kind, attribute, value = (request.get(k) for k in ("txn_type", "attribute_type", "attribute_value"))
    if kind not in ("search", "subscribe", "receipt"):
        raise Refused(ErrorCode.BAD_REQUEST, "txn_type must be search, subscribe or receipt")
    with db.read() as conn:
        if attribute == "transaction_id" and given(value):
            found = store.transactions_of(conn, client.id, transaction_id=str(value))
        elif attribute == "correlation_id" and given(value):
            found = store.transactions_of(conn, client.id, correlation_id=str(value))
        elif attribute == "reference_id_list" and isinstance(value, list) and all(given(v) for v in value):
            found = store.transactions_with_reference(conn, client.id, [str(v) for v in value])
        else:
            raise Refused(
                ErrorCode.BAD_REQUEST,
                "attribute_type transaction_id or correlation_id takes a string, reference_id_list a list",
            )
    found = [t for t in found if t["action"] == kind]
    statuses = [
        {
            "reference_id": ref,
            "timestamp": timestamp(t["completed_at"] or t["created_at"]),
            "status": t["status"],
        }
        for t in found
        for ref in t["reference_ids"]
    ]
    first = found[0] if found else None
    return {
        "transaction_id": envelope.message["transaction_id"],
        "correlation_id": correlation_id,
        "txnstatus_response": {
            "txn_type": kind,
            "txn_status": {
                "transaction_id": first["transaction_id"] if first else str(value)[:MAX_TEXT],
                "correlation_id": first["correlation_id"] if first else correlation_id,
                "search_response": statuses,
            },
        },
    }


def sync_txn_status(db: Database, client: DciClient, envelope: Envelope) -> dict[str, Any]:
    """``/registry/sync/txn/status``: answered now (and audited, as every call is)."""
    correlation_id = new_correlation_id()
    message = txn_status(db, client, envelope, correlation_id)
    with db.begin() as conn:
        audit.record(
            conn,
            client.actor,
            AuditAction.DCI_TXN_STATUS,
            "dci_client",
            client.id,
            area_code=client.actor.area_code,
            detail={"transaction_id": envelope.message["transaction_id"]},
        )
    found = bool(message["txnstatus_response"]["txn_status"]["search_response"])
    header = callback_header(
        db,
        envelope.header,
        Action.TXN_ON_STATUS,
        status=Status.SUCCESS if found else Status.REJECTED,
        total=1,
        done=1,
    )
    if not found:
        header["status_reason_message"] = "no transaction of yours matches"
    return {"signature": "", "header": header, "message": message}

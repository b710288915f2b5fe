"""tepat as a DCI client of the civil registry (CRVS, Dukcapil): it subscribes to death and move events, and the
events the civil registry then notifies are applied through the same path as a civil-registry change file
(``tepat.services.civil_registry.apply_changes``): the person is deactivated with the old version kept, a family
left without an active member is deactivated, and their unpaid entitlements are blocked — so nobody has to carry
a file from Dukcapil to the office.

The civil registry calls tepat back at ``/dci/crvs/notify`` with the token of a DCI client registered for it
(``tepat dci client add dukcapil --role admin --area 32.75 …``): the events are applied as that client's account,
so its role must be allowed to change the registry and only people inside its area are touched.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from tepat.domain.access import Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.dci import VERSION, ErrorCode, Refused
from tepat.domain.dci_records import timestamp
from tepat.domain.nik import Nik, mask_nik
from tepat.domain.validation import parse_date
from tepat.errors import FieldError, ValidationError
from tepat.services import civil_registry
from tepat.services.dci_clients import DciClient
from tepat.store import audit
from tepat.store import families as family_store
from tepat.store.database import Database
from tepat.store.engine import now

EVENTS: Mapping[str, str] = {
    "DEATH": "meninggal",
    "MENINGGAL": "meninggal",
    "CHANGEOFRESIDENCE": "pindah_keluar",
    "RESIDENCE": "pindah_keluar",
    "MIGRATION": "pindah_keluar",
    "EMIGRATION": "pindah_keluar",
    "MOVEOUT": "pindah_keluar",
    "PINDAH_KELUAR": "pindah_keluar",
}
"""CRVS event types (the last segment of ``spdci-common:RegistryEventType:Death``, any case) and tepat's event."""
SUBSCRIBED = ("spdci-common:RegistryEventType:Death", "spdci-common:RegistryEventType:ChangeOfResidence")

Send = Callable[[str, dict[str, Any], str], int]
"""Post a JSON body to a URL with a bearer token; the HTTP status."""


def subscribe_message(db: Database, callback_base: str) -> dict[str, Any]:
    """The subscribe request tepat sends the civil registry: deaths and moves out of the office's area."""
    at = timestamp(now()) or ""
    area = db.offices.area  # the office, or the province holding a deployment's offices
    place = {"type": "expression", "value": {"expression": {"query": {"location": {"$eq": area}}}}}
    items = [
        {
            "reference_id": f"tepat-{i}-{secrets.token_urlsafe(6)}",
            "timestamp": at,
            "subscribe_criteria": {
                "version": VERSION,
                "reg_event_type": event,
                "filter_type": "expression",
                "filter": place,
                "notify_record_type": "Person",
            },
        }
        for i, event in enumerate(SUBSCRIBED, start=1)
    ]
    return {
        "signature": "",
        "header": {
            "version": VERSION,
            "message_id": "tepat-" + secrets.token_urlsafe(12),
            "message_ts": at,
            "action": "subscribe",
            "sender_id": f"tepat.{area or 'id'}",
            "sender_uri": callback_base.rstrip("/") + "/registry/on-subscribe",
            "total_count": len(items),
        },
        "message": {"transaction_id": "tepat-crvs-" + secrets.token_urlsafe(8), "subscribe_request": items},
    }


def subscribe(db: Database, crvs_url: str, token: str, callback_base: str, send: Send) -> int:
    """Ask the civil registry for death and move events; its HTTP status (it answers on-subscribe later)."""
    return send(crvs_url.rstrip("/") + "/registry/subscribe", subscribe_message(db, callback_base), token)


def record_subscription(db: Database, client: DciClient, message: Mapping[str, Any]) -> list[str]:
    """The civil registry's ``on-subscribe`` answer: the subscription codes it gave, in the audit log."""
    answers = message.get("subscribe_response")
    codes = [
        str(info.get("code"))
        for answer in (answers if isinstance(answers, list) else [])
        if isinstance(answer, Mapping)
        for info in (answer.get("subscriptions") or [])
        if isinstance(info, Mapping) and info.get("code")
    ]
    with db.begin() as conn:
        audit.record(
            conn,
            client.actor,
            AuditAction.DCI_CRVS_SUBSCRIBE,
            "dci_client",
            client.id,
            area_code=client.actor.area_code,
            detail={"codes": codes},
        )
    return codes


def changes_of(message: Mapping[str, Any]) -> tuple[list[civil_registry.ChangeRow], list[FieldError]]:
    """A CRVS ``notify`` message's events as civil-registry changes, and the events that cannot be used."""
    rows: list[civil_registry.ChangeRow] = []
    problems: list[FieldError] = []
    events = message.get("notify_event")
    if not isinstance(events, list):
        raise Refused(ErrorCode.BAD_REQUEST, "message.notify_event must be a list")
    for number, event in enumerate(events, start=1):
        data = event.get("data") if isinstance(event, Mapping) else None
        person = data.get("reg_records") if isinstance(data, Mapping) else None
        if isinstance(person, list):
            person = person[0] if person else None
        kind = EVENTS.get(str((data or {}).get("reg_event_type", "")).rsplit(":", 1)[-1].upper())
        nik = _nik_of(person)
        if kind is None:
            problems.append(
                FieldError("reg_event_type", "Peristiwa bukan kematian atau pindah", None, number)
            )
            continue
        if nik is None:
            problems.append(FieldError("nik", "NIK tidak sah atau tidak ada", None, number))
            continue
        on = _date_of(person, kind, event)
        if on is None:
            problems.append(FieldError("tanggal", "Tanggal peristiwa tidak dikenali", mask_nik(nik), number))
            continue
        rows.append(civil_registry.ChangeRow(number, nik, kind, on))
    return rows, problems


def _nik_of(person: object) -> str | None:
    if not isinstance(person, Mapping):
        return None
    identifiers = person.get("identifier") or person.get("identifiers") or []
    if isinstance(identifiers, Mapping):
        identifiers = [identifiers]
    for item in identifiers if isinstance(identifiers, list) else []:
        if isinstance(item, Mapping) and str(item.get("identifier_type", "")).upper() in (
            "UIN",
            "NIN",
            "NIK",
        ):
            try:
                return str(Nik.parse(str(item.get("identifier_value", ""))))
            except ValidationError:
                return None
    return None


def _date_of(person: Any, kind: str, event: Mapping[str, Any]) -> date | None:
    raw = person.get("death_date") if kind == "meninggal" else person.get("move_date")
    raw = raw or event.get("timestamp")
    try:
        return parse_date(str(raw)[:10]) if raw else None
    except ValueError:
        return None


def apply_notification(
    db: Database, client: DciClient, message: Mapping[str, Any]
) -> civil_registry.ChangeReport:
    """Apply a CRVS notification as the client's account (its role must change the registry; its area bounds
    whom it touches); the report of the civil-registry path, with the events that could not be used."""
    if not client.actor.may(Permission.EDIT_REGISTRY):
        raise Refused(ErrorCode.FORBIDDEN, "this client's role may not change the registry")
    rows, problems = changes_of(message)
    outside = [r for r in rows if not _in_area(db, client, r.nik)]
    report = civil_registry.apply_changes(
        db,
        client.actor,
        [r for r in rows if r not in outside],
        source=f"DCI {client.name} {str(message.get('transaction_id', ''))[:40]}",
    )
    report.not_found.extend((r.row, mask_nik(r.nik)) for r in outside)  # not in this client's area
    report.invalid.extend(problems)
    report.rows_read += len(problems) + len(outside)
    return report


def _in_area(db: Database, client: DciClient, nik: str) -> bool:
    """Only people registered inside the client's area are touched; others are reported as not found."""
    with db.read() as conn:
        member = family_store.active_member_by_nik(conn, nik)
        family = family_store.get(conn, member["family_id"]) if member else None
    return family is None or client.actor.in_area(family["kelurahan_code"])

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
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.access import Permission
from tepat.domain.dci import (
    ANSWER,
    DEFAULT_PAGE_SIZE,
    MAX_REQUESTS,
    MAX_TEXT,
    REGISTRY_TYPE,
    VERSION,
    Action,
    Criteria,
    DeliveryState,
    ErrorCode,
    EventType,
    IdQuery,
    Page,
    Reason,
    Refused,
    Rejected,
    Status,
    page_of,
    search_query,
    sort_of,
)
from tepat.domain.dci_records import group_record, member_record, timestamp
from tepat.domain.regions import Level, RegionCode
from tepat.domain.rule_ast import Quantifier, Rule
from tepat.errors import ValidationError
from tepat.services import dci_signature
from tepat.services.dci_clients import DciClient, client_prefix_holds
from tepat.services.targeting import resolve_model
from tepat.store import audit
from tepat.store import dci as store
from tepat.store import targeting as targeting_store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.families import active_family_by_kk, active_member_by_nik, in_area
from tepat.store.rule_sql import compile_member_condition, compile_rule
from tepat.store.schema import families

CALLBACK_PATHS: Mapping[Action, str] = {
    Action.ON_SEARCH: "/registry/on-search",
    Action.ON_SUBSCRIBE: "/registry/on-subscribe",
    Action.ON_UNSUBSCRIBE: "/registry/on-unsubscribe",
    Action.TXN_ON_STATUS: "/registry/txn/on-status",
    Action.NOTIFY: "/registry/notify",
}
"""Where a client's callbacks go when its message names no ``sender_uri``: its first prefix and this path."""


@dataclass(frozen=True)
class Envelope:
    """A message as received: its signature, header and message."""

    signature: object
    header: dict[str, Any]
    message: dict[str, Any]

    @property
    def sender_id(self) -> str:
        return str(self.header.get("sender_id") or "")


# ------------------------------------------------------------------------------------------- envelope


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
        if not _text(header.get(name)):
            raise Refused(ErrorCode.BAD_REQUEST, f"header.{name} is required (a string of at most 99)")
    if _moment(header.get("message_ts")) is None:
        raise Refused(ErrorCode.BAD_REQUEST, "header.message_ts must be an ISO 8601 timestamp with a zone")
    total = header.get("total_count", 0 if callback else None)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise Refused(ErrorCode.BAD_REQUEST, "header.total_count is required (a whole number)")
    if header.get("is_msg_encrypted") is True:
        raise Refused(ErrorCode.ENCRYPTION_INVALID, "encrypted messages are not accepted; use TLS")
    if not _text(message.get("transaction_id")):
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


def _text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TEXT


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _items(message: Mapping[str, Any], key: str) -> list[Any]:
    items = message.get(key)
    if not isinstance(items, list) or not items:
        raise Refused(ErrorCode.BAD_REQUEST, f"message.{key} must be a non-empty list")
    if len(items) > MAX_REQUESTS:
        raise Refused(ErrorCode.BAD_REQUEST, f"at most {MAX_REQUESTS} requests in one message")
    return items


def ack(correlation_id: str) -> dict[str, Any]:
    """The spec's acknowledgement of an asynchronous call."""
    return {"message": {"ack_status": "ACK", "timestamp": _now_text(), "correlation_id": correlation_id}}


def refusal(error: Refused, correlation_id: str = "") -> dict[str, Any]:
    """The spec's ``ack_status: ERR`` body of a refused message."""
    return {
        "message": {
            "ack_status": "ERR",
            "timestamp": _now_text(),
            "error": {"code": error.code.value, "message": error.message[:999]},
            "correlation_id": correlation_id,
        }
    }


def _now_text() -> str:
    return timestamp(now()) or ""


def _correlation_id() -> str:
    return "tepat-" + secrets.token_urlsafe(18)


def callback_header(
    db: Database, envelope_header: Mapping[str, Any], action: Action, *, status: Status, total: int, done: int
) -> dict[str, Any]:
    """The header of an answer (synchronous or callback): ``MsgCallbackHeader``."""
    return {
        "version": VERSION,
        "message_id": _correlation_id(),
        "message_ts": _now_text(),
        "action": action.value,
        "status": status.value,
        "total_count": total,
        "completed_count": done,
        "sender_id": f"tepat.{db.office.code}",
        "receiver_id": str(envelope_header.get("sender_id") or ""),
        "is_msg_encrypted": False,
    }


# --------------------------------------------------------------------------------------------- search


def _checked_item(item: object) -> Mapping[str, Any]:
    """A request item's ``reference_id`` and ``timestamp`` checked, as for every kind of request."""
    if not isinstance(item, Mapping) or not _text(item.get("reference_id")):
        raise Rejected(Reason.REFERENCE_ID_INVALID, "reference_id is required (a string of at most 99)")
    if _moment(item.get("timestamp")) is None:
        raise Rejected(Reason.TIMESTAMP_INVALID, "timestamp must be ISO 8601 with a zone")
    return item


def _rejection(exc: Rejected) -> dict[str, Any]:
    """The fields of a request answered ``rjct``."""
    return {
        "status": Status.REJECTED.value,
        "status_reason_code": exc.reason.value,
        "status_reason_message": exc.message[:999],
    }


def search_item(db: Database, client: DciClient, item: object, page: Page | None = None) -> dict[str, Any]:
    """One ``search_request`` item answered as one ``search_response`` item (``rjct`` with its reason if it
    cannot be carried out). ``page`` overrides the item's own page (a later page of an asynchronous answer)."""
    reference = item.get("reference_id") if isinstance(item, Mapping) else None
    answer: dict[str, Any] = {"reference_id": reference if _text(reference) else "", "timestamp": _now_text()}
    try:
        criteria = _checked_item(item).get("search_criteria")
        if not isinstance(criteria, Mapping) or "query" not in criteria:
            raise Rejected(
                Reason.SEARCH_CRITERIA_INVALID, "search_criteria with query_type and query is required"
            )
        chosen = page or page_of(criteria)
        data, total, note = _search(db, client, criteria, chosen)
    except Rejected as exc:
        return {**answer, **_rejection(exc)}
    answer.update(
        status=Status.SUCCESS.value,
        data=data,
        pagination={"page_size": chosen.size, "page_number": chosen.number, "total_count": total},
    )
    if note:
        answer["status_reason_message"] = note[:999]
    return answer


def _search(
    db: Database, client: DciClient, criteria: Mapping[str, Any], page: Page
) -> tuple[dict[str, Any], int, str | None]:
    """The page of records, the total count, and a note when an identifier can match nobody."""
    actor = client.actor
    entity = criteria.get("response_entity", "Group")
    if entity not in ("Group", "Member"):
        raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "response_entity must be Group or Member")
    query = search_query(criteria.get("query_type"), criteria.get("query"), place_lookup(db))
    order, descending = sort_of(criteria)
    office = db.office
    with db.read() as conn:
        model = resolve_model(conn, None)
        scores = targeting_store.scores_source(model) if model is not None else None
        member_condition: sa.ColumnElement[bool] | None = None
        if isinstance(query, IdQuery):
            where = by_identifier(conn, query)
        else:
            where, member_condition = by_criteria(query, scores, entity == "Member")
        total, rows = store.families_page(
            conn,
            sa.and_(where, in_area(actor.area_code)),
            scores,
            order=order,
            descending=descending,
            offset=(page.number - 1) * page.size,
            limit=page.size,
        )
        people = store.living_members(conn, [r["id"] for r in rows], member_condition)
    records: list[dict[str, Any]] = []
    for family in rows:
        names = place_names(db, family["kelurahan_code"])
        if entity == "Group":
            records.append(
                group_record(
                    office.code,
                    family,
                    people.get(family["id"], []),
                    desil=family["desil"],
                    kelurahan=names[0],
                    kecamatan=names[1],
                    city=office.name,
                )
            )
        else:
            address = {"@type": "Address", "region": family["kelurahan_code"], "city": office.name}
            records += [member_record(office.code, m, address) for m in people.get(family["id"], [])]
    audit.record_read(
        db,
        actor,
        "dci.search",
        "family",
        None,
        area_code=actor.area_code,
        detail={"families": [r["id"] for r in rows], "total": total, "page": page.number},
    )
    data = {"version": VERSION, "reg_type": REGISTRY_TYPE, "reg_record_type": entity, "reg_records": records}
    return data, total, query.problem if isinstance(query, IdQuery) else None


def by_identifier(conn: sa.Connection, query: IdQuery) -> sa.ColumnElement[bool]:
    if query.problem is not None:
        return sa.false()
    if query.kind == "nik":
        found = active_member_by_nik(conn, query.value)
        family_id = found["family_id"] if found else None
    else:
        family = active_family_by_kk(conn, query.value)
        family_id = family["id"] if family else None
    return families.c.id == family_id if family_id is not None else sa.false()


def by_criteria(
    query: Criteria, scores: sa.FromClause | None, members_wanted: bool
) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool] | None]:
    day = now().date()
    try:
        where = compile_rule(query.rule, reference_date=day, scores=scores)
    except ValidationError:
        raise Rejected(
            Reason.SEARCH_CRITERIA_INVALID, "poverty_score needs a welfare ranking, and none has been run yet"
        ) from None
    member = None
    if members_wanted and query.member_filter is not None:
        wrapped = Rule("dci", Quantifier("any", "anggota", query.member_filter, 0))
        member = compile_member_condition(wrapped, reference_date=day)
    return where, member


def place_lookup(db: Database) -> Any:
    office = db.office
    regions = db.regions

    def lookup(raw: str) -> tuple[str, str] | None:
        code: str | None
        try:
            code = str(RegionCode.parse(raw))
        except (ValidationError, ValueError):
            wanted = raw.strip().lower()
            code = next(
                (r.code for r in regions if r.name.lower() == wanted and office.contains(r.code)), None
            )
        if code is None or code not in regions or not office.contains(code):
            return None
        level = regions.get(code).level  # type: ignore[union-attr]
        if level is Level.KELURAHAN:
            return "kelurahan", code
        if level is Level.KECAMATAN:
            return "kecamatan", code
        return ("office", code) if code == office.code else None

    return lookup


def place_names(db: Database, kelurahan_code: str) -> tuple[str, str]:
    parent = RegionCode.parse(kelurahan_code).parent
    return db.regions.name(kelurahan_code), db.regions.name(str(parent) if parent else "")


def sync_search(db: Database, client: DciClient, envelope: Envelope) -> dict[str, Any]:
    """``/registry/sync/search``: every request answered now, in the response envelope."""
    items = _items(envelope.message, "search_request")
    answers = _answer_items(db, client, items)
    correlation_id = _correlation_id()
    _record(db, client, envelope, Action.SEARCH, correlation_id, items, status=Status.SUCCESS)
    message = {
        "transaction_id": envelope.message["transaction_id"],
        "correlation_id": correlation_id,
        "search_response": answers,
    }
    header = callback_header(
        db, envelope.header, Action.ON_SEARCH, status=Status.SUCCESS, total=len(items), done=len(items)
    )
    return {"signature": "", "header": header, "message": message}


def _answer_items(db: Database, client: DciClient, items: Sequence[object]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    answers = []
    for item in items:
        reference = item.get("reference_id") if isinstance(item, Mapping) else None
        if isinstance(reference, str) and reference in seen:
            answers.append(_duplicate(reference))
            continue
        if isinstance(reference, str):
            seen.add(reference)
        answers.append(search_item(db, client, item))
    return answers


def _duplicate(reference: str) -> dict[str, Any]:
    duplicate = Rejected(Reason.REFERENCE_ID_DUPLICATE, "this reference_id appears earlier in the message")
    return {"reference_id": reference, "timestamp": _now_text(), **_rejection(duplicate)}


def _references(items: Sequence[object]) -> list[str]:
    return [
        str(i.get("reference_id")) for i in items if isinstance(i, Mapping) and _text(i.get("reference_id"))
    ]


def _record(
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


# ------------------------------------------------------------------------------- asynchronous calls


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


def accept(db: Database, client: DciClient, envelope: Envelope, action: Action) -> dict[str, Any]:
    """An asynchronous call: checked, recorded and acknowledged now; its answer is owed as a callback."""
    answer = ANSWER[action]
    url = callback_url(client, envelope, answer)
    correlation_id = _correlation_id()
    if action is Action.SEARCH:
        items = _items(envelope.message, "search_request")
        request: dict[str, Any] | None = {"header": envelope.header, "message": envelope.message}
        parts: list[dict[str, Any]] = [{"item": i, "page": None} for i in range(len(items))]
    else:
        items, reply = _answer_now(db, client, envelope, action, correlation_id)
        request, parts = None, [{"message": reply, "receiver_id": envelope.sender_id}]
    at = now()
    with db.begin() as conn:
        pk = _record(
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
            f"dci.{action.value}",
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
        items = _items(envelope.message, "subscribe_request")
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


def search_page_message(
    db: Database,
    client: DciClient,
    request: Mapping[str, Any],
    correlation_id: str,
    item: int,
    page: int | None,
) -> tuple[dict[str, Any], int | None]:
    """One callback of an asynchronous search: the answer to request ``item`` (its own page when it asked for
    one, else page ``page`` of ``DEFAULT_PAGE_SIZE``), and the next page still to send, if any."""
    header, message = request["header"], request["message"]
    items = message["search_request"]
    raw = items[item]
    reference = raw.get("reference_id") if isinstance(raw, Mapping) else None
    criteria = raw.get("search_criteria") if isinstance(raw, Mapping) else None
    own_paging = isinstance(criteria, Mapping) and criteria.get("pagination") is not None
    number = page or 1
    if isinstance(reference, str) and any(
        isinstance(r, Mapping) and r.get("reference_id") == reference for r in items[:item]
    ):
        answer = _duplicate(reference)
    else:
        answer = search_item(db, client, raw, None if own_paging else Page(DEFAULT_PAGE_SIZE, number))
    following = None
    if answer["status"] == Status.SUCCESS.value and not own_paging:
        paging = answer["pagination"]
        if number * paging["page_size"] < paging["total_count"]:
            following = number + 1
    done = item + 1 if following is None else item
    body = {
        "signature": "",
        "header": callback_header(
            db, header, Action.ON_SEARCH, status=Status.SUCCESS, total=len(items), done=done
        ),
        "message": {
            "transaction_id": message["transaction_id"],
            "correlation_id": correlation_id,
            "search_response": [answer],
        },
    }
    return body, following


# ---------------------------------------------------------------------------- subscribe, unsubscribe


def subscribe(db: Database, client: DciClient, envelope: Envelope, correlation_id: str) -> dict[str, Any]:
    """Each subscribe request recorded (or rejected with its reason): the ``SubscribeResponse``."""
    answers = []
    seen: set[str] = set()
    for item in _items(envelope.message, "subscribe_request"):
        reference = item.get("reference_id") if isinstance(item, Mapping) else None
        answer: dict[str, Any] = {
            "reference_id": reference if _text(reference) else "",
            "timestamp": _now_text(),
        }
        try:
            _checked_item(item)
            if reference in seen:
                raise Rejected(
                    Reason.REFERENCE_ID_DUPLICATE, "this reference_id appears earlier in the message"
                )
            seen.add(str(reference))
            info = _subscribe_one(db, client, envelope, item)
        except Rejected as exc:
            answer.update(_rejection(exc))
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


# ------------------------------------------------------------------------------------ transaction status


def txn_status(db: Database, client: DciClient, envelope: Envelope, correlation_id: str) -> dict[str, Any]:
    """What became of this client's earlier requests: the ``TxnStatusResponse`` (statuses only, no records)."""
    request = envelope.message.get("txnstatus_request")
    if not isinstance(request, Mapping):
        raise Refused(ErrorCode.BAD_REQUEST, "message.txnstatus_request must be an object")
    kind, attribute, value = (request.get(k) for k in ("txn_type", "attribute_type", "attribute_value"))
    if kind not in ("search", "subscribe", "receipt"):
        raise Refused(ErrorCode.BAD_REQUEST, "txn_type must be search, subscribe or receipt")
    with db.read() as conn:
        if attribute == "transaction_id" and _text(value):
            found = store.transactions_of(conn, client.id, transaction_id=str(value))
        elif attribute == "correlation_id" and _text(value):
            found = store.transactions_of(conn, client.id, correlation_id=str(value))
        elif attribute == "reference_id_list" and isinstance(value, list) and all(_text(v) for v in value):
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
    correlation_id = _correlation_id()
    message = txn_status(db, client, envelope, correlation_id)
    with db.begin() as conn:
        audit.record(
            conn,
            client.actor,
            "dci.txn-status",
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

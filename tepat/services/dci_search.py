"""DCI search: one request of a message answered (by identifier or by criteria, inside the client's area, paged),
synchronously or page by page for a callback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from tepat.domain.audit_actions import AuditAction
from tepat.domain.dci import (
    DEFAULT_PAGE_SIZE,
    REGISTRY_TYPE,
    VERSION,
    Action,
    Criteria,
    IdQuery,
    Page,
    Reason,
    Rejected,
    Status,
    page_of,
    search_query,
    sort_of,
)
from tepat.domain.dci_records import group_record, member_record
from tepat.domain.regions import Level, RegionCode
from tepat.domain.rule_ast import Quantifier, Rule
from tepat.errors import ValidationError
from tepat.services.dci_clients import DciClient
from tepat.services.dci_messages import (
    Envelope,
    callback_header,
    checked_item,
    given,
    items_of,
    new_correlation_id,
    now_text,
    record_transaction,
    rejection,
)
from tepat.services.targeting import resolve_model
from tepat.store import audit
from tepat.store import dci as store
from tepat.store import targeting as targeting_store
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.families import active_family_by_kk, active_member_by_nik, in_area
from tepat.store.rule_sql import compile_member_condition, compile_rule
from tepat.store.schema import families


def search_item(db: Database, client: DciClient, item: object, page: Page | None = None) -> dict[str, Any]:
    """One ``search_request`` item answered as one ``search_response`` item (``rjct`` with its reason if it
    cannot be carried out). ``page`` overrides the item's own page (a later page of an asynchronous answer)."""
    reference = item.get("reference_id") if isinstance(item, Mapping) else None
    answer: dict[str, Any] = {"reference_id": reference if given(reference) else "", "timestamp": now_text()}
    try:
        criteria = checked_item(item).get("search_criteria")
        if not isinstance(criteria, Mapping) or "query" not in criteria:
            raise Rejected(
                Reason.SEARCH_CRITERIA_INVALID, "search_criteria with query_type and query is required"
            )
        chosen = page or page_of(criteria)
        data, total, note = _search(db, client, criteria, chosen)
    except Rejected as exc:
        return {**answer, **rejection(exc)}
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
    offices = db.offices
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
        office = offices.for_area(family["kelurahan_code"])
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
        AuditAction.DCI_SEARCH,
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
    offices = db.offices
    regions = db.regions

    def lookup(raw: str) -> tuple[str, str] | None:
        code: str | None
        try:
            code = str(RegionCode.parse(raw))
        except (ValidationError, ValueError):
            wanted = raw.strip().lower()
            code = next(
                (r.code for r in regions if r.name.lower() == wanted and offices.of(r.code) is not None), None
            )
        if code is None or code not in regions or offices.of(code) is None:
            return None
        level = regions.get(code).level  # type: ignore[union-attr]
        if level is Level.KELURAHAN:
            return "kelurahan", code
        if level is Level.KECAMATAN:
            return "kecamatan", code
        return ("office", code) if code in offices.codes else None

    return lookup


def place_names(db: Database, kelurahan_code: str) -> tuple[str, str]:
    parent = RegionCode.parse(kelurahan_code).parent
    return db.regions.name(kelurahan_code), db.regions.name(str(parent) if parent else "")


def sync_search(db: Database, client: DciClient, envelope: Envelope) -> dict[str, Any]:
    """``/registry/sync/search``: every request answered now, in the response envelope."""
    items = items_of(envelope.message, "search_request")
    answers = _answer_items(db, client, items)
    correlation_id = new_correlation_id()
    record_transaction(db, client, envelope, Action.SEARCH, correlation_id, items, status=Status.SUCCESS)
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
    return {"reference_id": reference, "timestamp": now_text(), **rejection(duplicate)}


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

"""The DCI Social Registry standard (SPDCI ``social_api_v1.0.0``) as tepat speaks it: its vocabulary (error and
reason codes, statuses, identifier and event types, limits) and how a search query becomes a tepat rule.

A DCI search comes in one of three query forms; each is translated here into the syntax tree of tepat's own rule
language (``tepat.domain.rule_ast``), so that a DCI search selects families with the same compiled SQL as a
programme's eligibility rule, and nothing else can be reached:

* ``idtype-value``: ``{"type": "UIN", "value": "3275…"}``, a NIK (UIN, NIN, NIK, NationalID) or a nomor KK
  (HOUSEHOLD_ID, KK);
* ``expression``: ``{"type": "…:expression", "value": {"expression": {"collection": "Group", "query": {"$and":
  [{"poverty_score": {"$lt": 5}}, …]}}}}`` with ``$and``/``$or``/``$not`` and ``$eq $ne $lt $lte $gt $gte $in
  $nin``;
* ``predicate``: a list of ``{"expression1": {attribute_name, operator, attribute_value}, "condition": "and" |
  "or" | "not", "expression2": …}``, all of which must hold (``not`` reads "expression1 and not expression2").

The attributes a query may use, and what they mean in tepat: ``age`` (of a living, active member, in completed
years), ``gender``/``sex`` (of such a member), ``poverty_score``/``desil`` (the family's welfare decile 1–10 of
the current ranking: lower is poorer), ``location`` (a kelurahan or kecamatan, by code or by name), ``kelurahan``,
``district``/``kecamatan``, and ``group_size`` (the family's living, active members).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tepat.domain.nik import Kk, Nik
from tepat.domain.rule_ast import FIELDS, And, Compare, InList, Node, Not, Or, Quantifier, Rule
from tepat.errors import TepatError, ValidationError

VERSION = "1.0.0"
REGISTRY_TYPE = "ns:org:RegistryType:Social"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
"""A page larger than this is refused (``rjct.pagination.invalid``): ask for the next page instead."""
MAX_REQUESTS = 20
"""Search or subscribe requests in one message; more is refused (``rjct.total_count.limit_exceeded``)."""
MAX_TEXT = 99
"""The spec's bound on transaction, reference and correlation ids."""


class ErrorCode(StrEnum):
    """The spec's ``Error.code``: why a message was refused before any work (answered as ``ack_status: ERR``)."""

    BAD_REQUEST = "err.request.bad"
    UNAUTHORIZED = "err.request.unauthorized"
    FORBIDDEN = "err.request.forbidden"
    NOT_FOUND = "err.request.not_found"
    TOO_MANY_REQUESTS = "err.request.too_many_requests"
    VERSION_NOT_SUPPORTED = "err.version.not_supported"
    SENDER_URI_INVALID = "err.sender_uri.invalid"
    SIGNATURE_MISSING = "err.signature.missing"
    SIGNATURE_INVALID = "err.signature.invalid"
    ENCRYPTION_INVALID = "err.encryption.invalid"
    SERVICE_UNAVAILABLE = "err.service.unavailable"


HTTP_STATUS: Mapping[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.TOO_MANY_REQUESTS: 429,
    ErrorCode.VERSION_NOT_SUPPORTED: 400,
    ErrorCode.SENDER_URI_INVALID: 400,
    ErrorCode.SIGNATURE_MISSING: 401,
    ErrorCode.SIGNATURE_INVALID: 401,
    ErrorCode.ENCRYPTION_INVALID: 400,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
}


class Refused(TepatError):
    """A message refused as a whole: its error code, and an English message for the calling system."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def status_code(self) -> int:  # type: ignore[override]
        return HTTP_STATUS[self.code]


class Status(StrEnum):
    """A request's status (``rcvd`` received, ``pdng`` pending, ``succ`` done, ``rjct`` rejected)."""

    RECEIVED = "rcvd"
    PENDING = "pdng"
    SUCCESS = "succ"
    REJECTED = "rjct"


class Reason(StrEnum):
    """Why one request of a message was rejected (the spec's ``…StatusReasonCode``)."""

    REFERENCE_ID_INVALID = "rjct.reference_id.invalid"
    REFERENCE_ID_DUPLICATE = "rjct.reference_id.duplicate"
    TIMESTAMP_INVALID = "rjct.timestamp.invalid"
    SEARCH_CRITERIA_INVALID = "rjct.search_criteria.invalid"
    FILTER_INVALID = "rjct.filter.invalid"
    SORT_INVALID = "rjct.sort.invalid"
    PAGINATION_INVALID = "rjct.pagination.invalid"
    TOO_MANY_RECORDS = "rjct.search.too_many_records_found"
    NOTIFY_TYPES_INVALID = "rjct.notify_types.invalid"
    EVENT_ALREADY_SUBSCRIBED = "rjct.event.already_subscribed"
    SUBSCRIPTION_CODE_INVALID = "rjct.subscription_code.invalid"
    EVENT_ALREADY_UNSUBSCRIBED = "rjct.event.already_unsubscribed"


class Rejected(ValidationError):
    """One request of a message that cannot be carried out: answered in its place with ``status: rjct``."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Action(StrEnum):
    """The ``header.action`` of each call and of the callback that answers it."""

    SEARCH = "search"
    ON_SEARCH = "on-search"
    SUBSCRIBE = "subscribe"
    ON_SUBSCRIBE = "on-subscribe"
    UNSUBSCRIBE = "unsubscribe"
    ON_UNSUBSCRIBE = "on-unsubscribe"
    TXN_STATUS = "txn-status"
    TXN_ON_STATUS = "txn-on-status"
    NOTIFY = "notify"


ANSWER: Mapping[Action, Action] = {
    Action.SEARCH: Action.ON_SEARCH,
    Action.SUBSCRIBE: Action.ON_SUBSCRIBE,
    Action.UNSUBSCRIBE: Action.ON_UNSUBSCRIBE,
    Action.TXN_STATUS: Action.TXN_ON_STATUS,
}
"""The callback action that carries the answer to each asynchronous call."""


class DeliveryState(StrEnum):
    """A callback or notification on its way to a client (``dci_deliveries.state``)."""

    MENUNGGU = "menunggu"  # due, or waiting for its next attempt
    TERKIRIM = "terkirim"  # the client answered 2xx
    GAGAL = "gagal"  # given up: attempts used, or kept past the retention period


class EventType(StrEnum):
    """Registry events a subscriber may ask to be told of."""

    REGISTER = "REGISTER"  # a family registered
    UPDATE = "UPDATE"  # a family's data changed
    DELETE = "DELETE"  # a family left the registry (deactivated)
    LINK = "LINK"  # a person joined a family
    UNLINK = "UNLINK"  # a person left a family


ID_TYPES: Mapping[str, str] = {
    "UIN": "nik",
    "NIN": "nik",
    "NIK": "nik",
    "NATIONALID": "nik",
    "NATIONAL_ID": "nik",
    "HOUSEHOLD_ID": "kk",
    "KK": "kk",
    "NO_KK": "kk",
    "FAMILY_CARD": "kk",
}
"""Identifier types of ``idtype-value`` queries (upper case, the ``ns:…:`` prefix dropped): NIK or nomor KK."""


@dataclass(frozen=True)
class IdQuery:
    """A search for one person (by NIK) or one family (by nomor KK). A value that is no valid NIK or KK matches
    nobody: ``problem`` says why, and the answer is an empty result, not a rejection (the compliance suite
    searches ``UIN`` ``TEST-001`` and expects records, none; docs/dci.md)."""

    kind: str  # "nik" | "kk"
    value: str
    problem: str | None = None


@dataclass(frozen=True)
class Criteria:
    """A search translated: the family rule to select with, and the member condition that picks the members
    to list when members are asked for (``None``: every living, active member of a selected family)."""

    rule: Rule
    member_filter: Node | None


Query = IdQuery | Criteria


@dataclass(frozen=True)
class Page:
    """Which page of an answer: ``size`` records from record ``(number - 1) * size``."""

    size: int
    number: int


def page_of(criteria: Mapping[str, Any]) -> Page:
    """A search's ``pagination`` (default: the first page of ``DEFAULT_PAGE_SIZE``)."""
    raw = criteria.get("pagination")
    if raw is None:
        return Page(DEFAULT_PAGE_SIZE, 1)
    if not isinstance(raw, Mapping):
        raise Rejected(Reason.PAGINATION_INVALID, "pagination must be {page_size, page_number}")
    size = _whole(raw.get("page_size"), "page_size", Reason.PAGINATION_INVALID)
    number = _whole(raw.get("page_number", 1), "page_number", Reason.PAGINATION_INVALID)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise Rejected(Reason.PAGINATION_INVALID, f"page_size must be 1–{MAX_PAGE_SIZE}")
    if number < 1:
        raise Rejected(Reason.PAGINATION_INVALID, "page_number starts at 1")
    return Page(size, number)


def sort_of(criteria: Mapping[str, Any]) -> tuple[str, bool]:
    """A search's ``sort``: ``("desil" | "id", descending)``."""
    raw = criteria.get("sort")
    if raw in (None, []):
        return "id", False
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], Mapping):
        raise Rejected(Reason.SORT_INVALID, "sort takes one {attribute_name, sort_order}")
    name = str(raw[0].get("attribute_name", "")).rsplit(":", 1)[-1].lower()
    order = raw[0].get("sort_order", "asc")
    if name not in ("poverty_score", "desil", "id") or order not in ("asc", "desc"):
        raise Rejected(Reason.SORT_INVALID, "sort by poverty_score (desil) or id, asc or desc")
    return ("desil" if name in ("poverty_score", "desil") else "id"), order == "desc"


PlaceLookup = Callable[[str], tuple[str, str] | None]
"""A place as written (code or name) → ``("kelurahan" | "kecamatan" | "office", code)``, or ``None`` if unknown."""


def id_type(raw: object) -> str | None:
    """``nik`` or ``kk`` for an identifier type as written (``UIN``, ``ns:org:IdType:NIN``, ``household_id``)."""
    if not isinstance(raw, str):
        return None
    return ID_TYPES.get(raw.rsplit(":", 1)[-1].strip().upper().replace("-", "_"))


def id_query(type_: object, value: object) -> IdQuery:
    """The ``idtype-value`` query, its identifier checked as tepat checks every NIK and KK."""
    kind = id_type(type_)
    if kind is None:
        raise Rejected(
            Reason.SEARCH_CRITERIA_INVALID,
            f"unknown identifier type {type_!r}: use UIN/NIN/NIK for a NIK, HOUSEHOLD_ID/KK for a nomor KK",
        )
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "the identifier value must be a string of 16 digits")
    try:
        number = str(Nik.parse(str(value)) if kind == "nik" else Kk.parse(str(value)))
    except ValidationError as exc:
        return IdQuery(
            kind, "", f"{str(value)[:20]!r} is not a valid {kind.upper()} ({exc.message}): nothing matches"
        )
    return IdQuery(kind, number)


def search_query(query_type: object, query: object, place: PlaceLookup) -> Query:
    """A search request's ``query_type`` and ``query`` as a tepat query; ``Rejected`` with the reason if not."""
    if query_type == "idtype-value":
        if not isinstance(query, Mapping):
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "an idtype-value query is {type, value}")
        return id_query(query.get("type"), query.get("value"))
    if query_type == "expression":
        expression = _expression_of(query)
        collection = expression.get("collection", "Group")
        if collection not in ("Group", "Member"):
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "expression collection must be Group or Member")
        return _criteria(_Translator(place).expression(expression.get("query", {})))
    if query_type == "predicate":
        if not isinstance(query, Sequence) or isinstance(query, str) or not query:
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "a predicate query is a non-empty list")
        return _criteria(_Translator(place).predicates(query))
    raise Rejected(
        Reason.SEARCH_CRITERIA_INVALID,
        f"unknown query_type {query_type!r}: use idtype-value, expression or predicate",
    )


def _expression_of(query: object) -> Mapping[str, Any]:
    value = query.get("value") if isinstance(query, Mapping) else None
    expression = value.get("expression") if isinstance(value, Mapping) else None
    if isinstance(expression, str):
        raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "expression queries are JSON objects, not text")
    if not isinstance(expression, Mapping):
        raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "an expression query is {type, value: {expression}}")
    return expression


@dataclass(frozen=True)
class _Part:
    """A translated part of a query: its condition on a family (a member condition wrapped in
    ``any(anggota, …)``), and the bare member condition when the part is one, or an AND of ones."""

    node: Node
    member: Node | None


def _criteria(part: _Part) -> Criteria:
    return Criteria(Rule("dci", part.node), part.member)


_EXPRESSION_OPS = {"$eq": "==", "$ne": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_PREDICATE_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
MAX_CONDITIONS = 40


class _Translator:
    def __init__(self, place: PlaceLookup) -> None:
        self.place = place
        self.count = 0

    # -- the two forms

    def expression(self, query: object, depth: int = 0) -> _Part:
        if depth > 8:
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "expression nested too deep")
        if not isinstance(query, Mapping) or not query:
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "an expression is a non-empty JSON object")
        parts: list[_Part] = []
        for key, value in query.items():
            if key in ("$and", "$or"):
                if not isinstance(value, Sequence) or isinstance(value, str) or not value:
                    raise Rejected(Reason.SEARCH_CRITERIA_INVALID, f"{key} takes a non-empty list")
                children = [self.expression(v, depth + 1) for v in value]
                parts.append(_and(children) if key == "$and" else _or(children))
            elif key == "$not":
                parts.append(_not(self.expression(value, depth + 1)))
            elif isinstance(value, Mapping):
                for op, operand in value.items():
                    parts.append(self.condition(str(key), str(op), operand, _EXPRESSION_OPS, ("$in", "$nin")))
            else:
                parts.append(self.condition(str(key), "$eq", value, _EXPRESSION_OPS, ("$in", "$nin")))
        return _and(parts)

    def predicates(self, items: Sequence[object]) -> _Part:
        parts: list[_Part] = []
        ordered = sorted(
            (i for i in items if isinstance(i, Mapping)), key=lambda i: _number_or(i.get("seq_num"), 0)
        )
        if len(ordered) != len(items):
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "each predicate is a JSON object")
        for item in ordered:
            first = self.predicate(item.get("expression1"))
            condition, second = item.get("condition"), item.get("expression2")
            if second is None:
                if condition not in (None, "and", "or"):
                    raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "condition without expression2")
                parts.append(first)
            elif condition in (None, "and"):
                parts.append(_and([first, self.predicate(second)]))
            elif condition == "or":
                parts.append(_or([first, self.predicate(second)]))
            elif condition == "not":
                parts.append(_and([first, _not(self.predicate(second))]))
            else:
                raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "condition must be and, or or not")
        return _and(parts)

    def predicate(self, expression: object) -> _Part:
        if not isinstance(expression, Mapping):
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "expression1/expression2 must be JSON objects")
        name, op, value = (expression.get(k) for k in ("attribute_name", "operator", "attribute_value"))
        if not isinstance(name, str) or not isinstance(op, str) or value is None:
            raise Rejected(
                Reason.SEARCH_CRITERIA_INVALID, "a predicate has attribute_name, operator and attribute_value"
            )
        return self.condition(name, op, value, _PREDICATE_OPS, ("in",))

    # -- one condition

    def condition(
        self, name: str, op: str, value: object, ops: Mapping[str, str], in_ops: Sequence[str]
    ) -> _Part:
        self.count += 1
        if self.count > MAX_CONDITIONS:
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, f"more than {MAX_CONDITIONS} conditions")
        attribute = name.rsplit(":", 1)[-1].strip().lower()
        if op not in ops and op not in in_ops:
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, f"unknown operator {op!r} for {name!r}")
        negated = op in in_ops and op.endswith("nin")
        values = _listed(value) if op in in_ops else [value]
        symbol = "==" if op in in_ops else ops[op]
        if attribute in ("location", "kelurahan", "district", "kecamatan"):
            return self.place_condition(attribute, symbol, values, negated)
        if attribute in ("poverty_score", "desil"):
            return self.family_condition("desil", symbol, [_number(v, name) for v in values], negated)
        if attribute == "group_size":
            return self.family_condition("jumlah_anggota", symbol, [_whole(v, name) for v in values], negated)
        if attribute == "age":
            ages = [_whole(v, name) for v in values]
            if any(not 0 <= a <= 150 for a in ages):
                raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "age must be 0–150")
            return self.member_condition("umur", symbol, ages, negated)
        if attribute in ("gender", "sex"):
            return self.member_condition("jenis_kelamin", symbol, [_sex(v) for v in values], negated)
        raise Rejected(
            Reason.SEARCH_CRITERIA_INVALID,
            f"attribute {name!r} cannot be searched; use age, gender, poverty_score, location, "
            "kelurahan, district or group_size",
        )

    def family_condition(self, field: str, op: str, values: list[Any], negated: bool) -> _Part:
        return _Part(_compare(field, op, values, negated), None)

    def member_condition(self, field: str, op: str, values: list[Any], negated: bool) -> _Part:
        bare = _compare(field, op, values, negated)
        return _Part(Quantifier("any", "anggota", bare, 0), bare)

    def place_condition(self, attribute: str, op: str, values: list[Any], negated: bool) -> _Part:
        if op not in ("==", "!="):
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, f"{attribute} compares with eq, ne or in only")
        levels = {"location": ("kelurahan", "kecamatan"), "kelurahan": ("kelurahan",)}.get(
            attribute, ("kecamatan",)
        )
        codes: list[tuple[str, str]] = []
        anywhere = False
        for raw in values:
            found = self.place(str(raw).strip())  # an unknown place matches nothing
            if found is not None and found[0] == "office":
                anywhere = True
            elif found is not None and found[0] in levels:
                codes.append(found)
        node: Node
        if anywhere:
            node = Compare(FIELDS["jumlah_anggota"], ">=", 0, 0)  # the whole office: always true
        else:
            node = Or(
                tuple(
                    InList(FIELDS[level], tuple(c for lv, c in codes if lv == level), False, 0)
                    for level in ("kelurahan", "kecamatan")
                )
            )
        if op == "!=" or negated:
            node = Not(node, 0)
        return _Part(node, None)


def _compare(field: str, op: str, values: list[Any], negated: bool) -> Node:
    if len(values) == 1 and not negated:
        return Compare(FIELDS[field], op, values[0], 0)
    return InList(FIELDS[field], tuple(values), negated, 0)


def _and(parts: Sequence[_Part]) -> _Part:
    if len(parts) == 1:
        return parts[0]
    members = [p.member for p in parts if p.member is not None]
    pure = all(p.member is not None or not _has_members(p.node) for p in parts)
    member: Node | None = None
    if pure and members:
        member = members[0] if len(members) == 1 else And(tuple(members))
    return _Part(And(tuple(p.node for p in parts)), member)


def _or(parts: Sequence[_Part]) -> _Part:
    if len(parts) == 1:
        return _and(parts)
    return _Part(Or(tuple(p.node for p in parts)), None)


def _not(part: _Part) -> _Part:
    return _Part(Not(part.node, 0), None)


def _has_members(node: Node) -> bool:
    return Rule("dci", node).uses_members()


def _listed(value: object) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value or len(value) > 100:
            raise Rejected(Reason.SEARCH_CRITERIA_INVALID, "an in list holds 1–100 values")
        return list(value)
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _number(value: object, name: str, reason: Reason = Reason.SEARCH_CRITERIA_INVALID) -> float | int:
    if isinstance(value, bool):
        raise Rejected(reason, f"{name} takes a number")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise Rejected(reason, f"{name} takes a number, not {value!r}") from None
    if not -1e9 < number < 1e9:
        raise Rejected(reason, f"{name} out of range")
    return int(number) if number.is_integer() else number


def _whole(value: object, name: str, reason: Reason = Reason.SEARCH_CRITERIA_INVALID) -> int:
    number = _number(value, name, reason)
    if not isinstance(number, int):
        raise Rejected(reason, f"{name} takes a whole number, not {value!r}")
    return number


def _number_or(value: object, default: float) -> float:
    try:
        return float(str(value))
    except ValueError:
        return default


_SEXES = {
    "male": "L",
    "m": "L",
    "l": "L",
    "laki-laki": "L",
    "female": "P",
    "f": "P",
    "p": "P",
    "perempuan": "P",
}


def _sex(value: object) -> str:
    found = _SEXES.get(str(value).rsplit(":", 1)[-1].strip().lower())
    if found is None:
        raise Rejected(Reason.SEARCH_CRITERIA_INVALID, f"gender is male or female, not {value!r}")
    return found

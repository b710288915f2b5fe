"""tepat as a DCI Social Registry (issue 16): search, subscribe, status, callbacks, scope, refusals, signatures."""

from __future__ import annotations

import base64
import json
import time
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import dci_clients, dci_delivery, dci_search, dci_signature
from tepat.store import audit
from tepat.store.database import Database
from tepat.store.engine import now
from tepat.store.schema import audit_log, dci_deliveries, dci_transactions
from tests import dci_support as dci
from tests.factories import KELURAHAN, OTHER_KELURAHAN, make_family, member_values
from tests.test_web_support import add_user, make_app

KECAMATAN = KELURAHAN[:8]  # Bekasi Timur


@pytest.fixture
def app(db: Database, tmp_path):
    return make_app(db, tmp_path)


def _client(
    db: Database,
    admin,
    name: str = "bank",
    *,
    role: str = "operator",
    area: str = KECAMATAN,
    urls: list[str] | None = None,
    key: str | None = None,
) -> str:
    made = dci_clients.add_client(
        db, admin, name, role=role, area_code=area, callback_urls=urls or [], public_key=key
    )
    return made.token


def _post(http: TestClient, path: str, body: Any, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(f"/dci/registry/{path}", json=body, headers=headers)


def _head_nik(db: Database, family_id: int) -> str:
    with db.read() as conn:
        return conn.execute(
            sa.text("SELECT nik FROM members WHERE family_id = :f AND relationship = 'kepala_keluarga'"),
            {"f": family_id},
        ).scalar_one()


def _kk(db: Database, family_id: int) -> str:
    with db.read() as conn:
        return conn.execute(
            sa.text("SELECT kk_number FROM families WHERE id = :f"), {"f": family_id}
        ).scalar_one()


# ---------------------------------------------------------------------------------------------- search


def test_sync_search_by_nik_answers_the_family_inside_the_clients_area_only(app, db, admin) -> None:
    ours = make_family(db, admin, KELURAHAN)
    theirs = make_family(db, admin, OTHER_KELURAHAN)  # another kecamatan
    token = _client(db, admin)
    http = TestClient(app)
    request = dci.search(dci.by_nik(_head_nik(db, ours)), dci.by_nik(_head_nik(db, theirs)))
    response = _post(http, "sync/search", request, token)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["header"]["action"] == "on-search" and body["header"]["status"] == "succ"
    assert body["header"]["receiver_id"] == "spmis.test" and body["header"]["total_count"] == 2
    message = body["message"]
    assert message["transaction_id"] == request["message"]["transaction_id"] and message["correlation_id"]
    found, hidden = message["search_response"]
    assert found["status"] == "succ" and found["pagination"]["total_count"] == 1
    [group] = found["data"]["reg_records"]
    assert found["data"]["reg_record_type"] == "Group"
    assert group["group_identifier"][0]["identifier_value"] == _kk(db, ours)
    assert group["group_size"] == 3 and group["group_head_info"]["relationship_head"] == "head"
    assert {m["demographic_info"]["sex"] for m in group["member_list"]} == {"male", "female"}
    assert group["member_list"][0]["demographic_info"]["birth_date"].endswith("T00:00:00Z")
    assert "Bekasijaya" in group["place"]["address"]
    assert (
        hidden["status"] == "succ" and hidden["data"]["reg_records"] == []
    )  # not revealed: outside the area
    assert hidden["pagination"]["total_count"] == 0


def test_search_by_kk_and_members_as_the_answer(app, db, admin) -> None:
    family = make_family(db, admin, KELURAHAN)
    token = _client(db, admin)
    item = dci.search_item(
        "idtype-value", {"type": "HOUSEHOLD_ID", "value": _kk(db, family)}, response_entity="Member"
    )
    body = _post(TestClient(app), "sync/search", dci.search(item), token).json()
    [answer] = body["message"]["search_response"]
    assert answer["data"]["reg_record_type"] == "Member"
    assert len(answer["data"]["reg_records"]) == 3
    assert {r["member_identifier"][0]["identifier_type"] for r in answer["data"]["reg_records"]} == {"NIK"}


def test_expression_and_predicate_queries_select_as_tepat_rules_do(app, db, admin) -> None:
    with_child = make_family(db, admin, KELURAHAN)  # head, spouse, a child born 2012
    couple = make_family(
        db,
        admin,
        KELURAHAN,
        members=[
            member_values("Ahmad Yani", "L", date(1970, 1, 1)),
            member_values("Sri Wahyuni", "P", date(1972, 5, 5), "istri_suami"),
        ],
    )
    token = _client(db, admin)
    http = TestClient(app)

    def ids(item: dict[str, Any]) -> set[str]:
        [answer] = _post(http, "sync/search", dci.search(item), token).json()["message"]["search_response"]
        assert answer["status"] == "succ", answer
        return {r["@id"].rsplit(":", 1)[1] for r in answer["data"]["reg_records"]}

    young = [
        {
            "seq_num": 1,
            "expression1": {"attribute_name": "age", "operator": "lt", "attribute_value": "18"},
            "condition": "and",
            "expression2": {"attribute_name": "gender", "operator": "eq", "attribute_value": "male"},
        }
    ]
    assert ids(dci.search_item("predicate", young)) == {str(with_child)}
    small = {
        "type": "expression",
        "value": {
            "expression": {
                "collection": "Group",
                "query": {"$and": [{"group_size": {"$lt": 3}}, {"location": {"$eq": "Bekasijaya"}}]},
            }
        },
    }
    assert ids(dci.search_item("expression", small)) == {str(couple)}
    by_code = {"type": "expression", "value": {"expression": {"query": {"district": {"$in": [KECAMATAN]}}}}}
    assert ids(dci.search_item("expression", by_code)) == {str(with_child), str(couple)}
    nowhere = {
        "type": "expression",
        "value": {"expression": {"query": {"location": {"$eq": "central_region"}}}},
    }
    assert ids(dci.search_item("expression", nowhere)) == set()
    either = {
        "type": "expression",
        "value": {"expression": {"query": {"$or": [{"group_size": {"$gte": 3}}, {"age": {"$gt": 50}}]}}},
    }
    assert ids(dci.search_item("expression", either)) == {str(with_child), str(couple)}


def test_each_request_that_cannot_be_carried_out_is_rejected_with_its_reason(app, db, admin) -> None:
    token = _client(db, admin)
    poor = {"type": "expression", "value": {"expression": {"query": {"poverty_score": {"$lt": 5}}}}}
    items = [
        dci.by_nik("TEST-001"),
        dci.by_nik("3275011705800001", pagination={"page_size": 5000}),
        dci.search_item(
            "predicate",
            [
                {
                    "expression1": {
                        "attribute_name": "postal_code",
                        "operator": "eq",
                        "attribute_value": "17111",
                    }
                }
            ],
        ),
        dci.search_item("expression", poor),  # no welfare ranking has been run
        dci.by_nik("3275011705800001", reference="twice"),
        dci.by_nik("3275011705800001", reference="twice"),
        {**dci.by_nik("3275011705800001"), "timestamp": "yesterday"},
        dci.by_nik("3275011705800001", sort=[{"attribute_name": "name", "sort_order": "asc"}]),
    ]
    answers = _post(TestClient(app), "sync/search", dci.search(*items), token).json()["message"][
        "search_response"
    ]
    assert [(a["status"], a.get("status_reason_code")) for a in answers] == [
        ("succ", None),  # not a NIK: nobody has it (as the compliance suite expects), and it is said
        ("rjct", "rjct.pagination.invalid"),
        ("rjct", "rjct.search_criteria.invalid"),
        ("rjct", "rjct.search_criteria.invalid"),
        ("succ", None),
        ("rjct", "rjct.reference_id.duplicate"),
        ("rjct", "rjct.timestamp.invalid"),
        ("rjct", "rjct.sort.invalid"),
    ]
    assert (
        answers[0]["data"]["reg_records"] == [] and "not a valid NIK" in answers[0]["status_reason_message"]
    )
    assert "postal_code" in answers[2]["status_reason_message"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (lambda b, t: (b, None), 401, "err.request.unauthorized"),
        (lambda b, t: (b, "tpt_bukan-token"), 401, "err.request.unauthorized"),
        (lambda b, t: ({k: v for k, v in b.items() if k != "message"}, t), 400, "err.request.bad"),
        (
            lambda b, t: ({**b, "header": {**b["header"], "version": "2.0.0"}}, t),
            400,
            "err.version.not_supported",
        ),
        (lambda b, t: ({**b, "header": {**b["header"], "action": "subscribe"}}, t), 400, "err.request.bad"),
        (lambda b, t: ({**b, "header": {**b["header"], "message_ts": "kemarin"}}, t), 400, "err.request.bad"),
        (lambda b, t: ([1, 2, 3], t), 400, "err.request.bad"),
        (
            lambda b, t: ({**b, "header": {**b["header"], "is_msg_encrypted": True}}, t),
            400,
            "err.encryption.invalid",
        ),
    ],
)
def test_a_message_refused_as_a_whole_gets_the_specs_error_never_a_5xx(
    app, db, admin, change, status, code
) -> None:
    token = _client(db, admin)
    body, used = change(dci.search(dci.by_nik("3275011705800001")), token)
    response = _post(TestClient(app), "sync/search", body, used)
    assert response.status_code == status
    refused = response.json()["message"]
    assert refused["ack_status"] == "ERR" and refused["error"]["code"] == code and refused["timestamp"]


def test_tokens_that_are_not_an_active_clients_are_refused(app, db, admin) -> None:
    add_user(db, "ani", Role.OPERATOR, KECAMATAN)
    ordinary = dci_clients.auth.issue_token(db, admin, "ani").token  # an API token, but no DCI client
    analyst = _client(db, admin, "statistik", role="analis", area="32.75")
    revoked = _client(db, admin, "lama")
    dci_clients.revoke_client(db, admin, "lama")
    http = TestClient(app)
    body = dci.search(dci.by_nik("3275011705800001"))
    assert (
        _post(http, "sync/search", body, ordinary).json()["message"]["error"]["code"]
        == "err.request.forbidden"
    )
    refused = _post(http, "sync/search", body, analyst)  # a role without personal data
    assert (
        refused.status_code == 403 and refused.json()["message"]["error"]["code"] == "err.request.forbidden"
    )
    assert _post(http, "sync/search", body, revoked).status_code == 401  # its account and tokens ended
    not_json = http.post(
        "/dci/registry/sync/search",
        content=b"{nope",
        headers={"Authorization": f"Bearer {_client(db, admin, 'x')}"},
    )
    assert not_json.status_code == 400 and not_json.json()["message"]["error"]["code"] == "err.request.bad"


def test_every_search_is_audited_as_a_read_of_the_families_returned(app, db, admin) -> None:
    family = make_family(db, admin, KELURAHAN)
    token = _client(db, admin)
    _post(TestClient(app), "sync/search", dci.search(dci.by_nik(_head_nik(db, family))), token)
    audit.flush_reads(db)
    with db.read() as conn:
        rows = conn.execute(sa.select(audit_log).where(audit_log.c.action == "dci.search")).mappings().all()
    assert [(r["actor"], r["detail"]["families"]) for r in rows] == [("dci-bank", [family])]


# ------------------------------------------------------------------------------- asynchronous and callbacks


def _deliver_all(db: Database, rounds: int = 20) -> None:
    for _ in range(rounds):
        outcome = dci_delivery.deliver_due(db)
        if outcome.sent + outcome.retrying + outcome.failed == 0:
            return


def test_async_search_is_acknowledged_then_answered_page_by_page(app, db, admin, monkeypatch) -> None:
    families = [make_family(db, admin, KELURAHAN) for _ in range(5)]
    monkeypatch.setattr(dci_search, "DEFAULT_PAGE_SIZE", 2)  # five families: three callbacks
    with dci.callback_receiver() as receiver:
        token = _client(db, admin, urls=[receiver.base + "/spmis"])
        everyone = {
            "type": "expression",
            "value": {"expression": {"query": {"location": {"$eq": KELURAHAN}}}},
        }
        request = dci.search(
            dci.search_item("expression", everyone), sender_uri=receiver.base + "/spmis/registry/on-search"
        )
        ack = _post(TestClient(app), "search", request, token)
        assert ack.status_code == 202
        correlation = ack.json()["message"]["correlation_id"]
        assert ack.json()["message"]["ack_status"] == "ACK" and correlation
        _deliver_all(db)
    assert [path for path, _ in receiver.received] == ["/spmis/registry/on-search"] * 3
    pages = [body["message"]["search_response"][0] for _, body in receiver.received]
    assert [p["pagination"]["page_number"] for p in pages] == [1, 2, 3]
    assert {p["pagination"]["total_count"] for p in pages} == {5}
    returned = [r["@id"].rsplit(":", 1)[1] for p in pages for r in p["data"]["reg_records"]]
    assert sorted(map(int, returned)) == sorted(families)
    for _, body in receiver.received:
        assert body["header"]["action"] == "on-search"
        assert body["message"]["transaction_id"] == request["message"]["transaction_id"]
        assert body["message"]["correlation_id"] == correlation
    with db.read() as conn:
        txn = conn.execute(sa.select(dci_transactions)).mappings().one()
    assert txn["status"] == "succ" and txn["request"] is None  # answered: the request is not kept


def test_a_callback_address_not_registered_is_refused_and_nothing_is_queued(app, db, admin) -> None:
    token = _client(db, admin, urls=["http://127.0.0.1:9/spmis"])
    for uri in (
        "http://evil.example/registry/on-search",
        "http://127.0.0.1:9/other/on-search",
        "http://127.0.0.1:10/spmis/on-search",
        "http://user@127.0.0.1:9/spmis/on-search",
    ):
        response = _post(
            TestClient(app), "search", dci.search(dci.by_nik("3275011705800001"), sender_uri=uri), token
        )
        assert response.status_code == 400, uri
        assert response.json()["message"]["error"]["code"] == "err.sender_uri.invalid"
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(dci_deliveries)).scalar_one() == 0


def test_a_receiver_that_is_down_is_retried_with_backoff_then_marked_failed(app, db, admin) -> None:
    token = _client(db, admin, urls=["http://127.0.0.1:9/spmis"])
    _post(TestClient(app), "search", dci.search(dci.by_nik("3275011705800001")), token)

    def down(url: str, body: dict[str, Any]) -> int:
        raise ConnectionRefusedError("connection refused")

    moment, waits = now(), []
    for _ in range(dci_delivery.MAX_ATTEMPTS):
        outcome = dci_delivery.deliver_due(db, down, at=moment)
        assert outcome.sent == 0 and outcome.retrying + outcome.failed == 1
        with db.read() as conn:
            row = conn.execute(sa.select(dci_deliveries)).mappings().one()
        waits.append(row["next_attempt_at"])
        assert dci_delivery.deliver_due(db, down, at=moment).retrying == 0  # not due again yet
        moment = row["next_attempt_at"] + timedelta(seconds=1)
    assert row["state"] == "gagal" and row["attempts"] == dci_delivery.MAX_ATTEMPTS
    assert (
        "ConnectionRefusedError" in row["last_error"]
        and row["url"] == "http://127.0.0.1:9/spmis/registry/on-search"
    )
    gaps = [b - a for a, b in pairwise(waits[:-1])]  # (the last is the failure's)
    assert gaps and all(later > earlier for earlier, later in pairwise(gaps))  # backing off
    with db.read() as conn:
        assert conn.execute(sa.select(dci_transactions.c.status)).scalar_one() == "pdng"  # kept, not lost


def test_subscribe_then_unsubscribe_by_callback(app, db, admin) -> None:
    with dci.callback_receiver() as receiver:
        token = _client(db, admin, urls=[receiver.base])
        http = TestClient(app)
        item = {
            "reference_id": "ref-1",
            "timestamp": dci.now_text(),
            "subscribe_criteria": {
                "reg_event_type": "UPDATE",
                "notify_record_type": "Group",
                "filter": {
                    "type": "ns:org:QueryType:expression",
                    "value": {"expression": {"query": {"location": {"$eq": KELURAHAN}}}},
                },
            },
        }
        message = {"transaction_id": "t-sub", "subscribe_request": [item, {**item, "reference_id": "ref-2"}]}
        assert _post(http, "subscribe", dci.envelope("subscribe", message), token).status_code == 202
        _deliver_all(db)
        path, body = receiver.received[-1]
        assert path == "/registry/on-subscribe" and body["header"]["action"] == "on-subscribe"
        first, second = body["message"]["subscribe_response"]
        assert first["status"] == "succ" and first["subscriptions"][0]["status"] == "subscribe"
        assert second["status_reason_code"] == "rjct.event.already_subscribed"
        code = first["subscriptions"][0]["code"]
        message = {
            "transaction_id": "t-unsub",
            "timestamp": dci.now_text(),
            "subscription_codes": [code, "sub-x"],
        }
        assert _post(http, "unsubscribe", dci.envelope("unsubscribe", message), token).status_code == 202
        _deliver_all(db)
        path, body = receiver.received[-1]
        assert path == "/registry/on-unsubscribe"
        assert body["message"]["subscription_status"] == [{"code": code, "status": "unsubscribe"}]
        assert body["message"]["status_reason_code"] == "rjct.subscription_code.invalid"


def test_transaction_status_tells_a_client_about_its_own_transactions_only(app, db, admin) -> None:
    token, other = _client(db, admin), _client(db, admin, "lain")
    http = TestClient(app)
    request = dci.search(dci.by_nik("3275011705800001", reference="r-1"), transaction_id="t-42")
    _post(http, "sync/search", request, token)

    def status_of(who: str, value: Any, attribute: str = "transaction_id") -> Any:
        message = {
            "transaction_id": "t-status",
            "txnstatus_request": {
                "reference_id": "s-1",
                "txn_type": "search",
                "attribute_type": attribute,
                "attribute_value": value,
            },
        }
        return _post(http, "sync/txn/status", dci.envelope("txn-status", message), who).json()

    mine = status_of(token, "t-42")
    assert mine["header"]["action"] == "txn-on-status" and mine["header"]["status"] == "succ"
    assert mine["message"]["txnstatus_response"]["txn_status"]["search_response"][0]["reference_id"] == "r-1"
    assert status_of(token, ["r-1"], "reference_id_list")["header"]["status"] == "succ"
    assert status_of(other, "t-42")["header"]["status"] == "rjct"  # another client's: unknown to it
    assert status_of(other, "t-42")["message"]["txnstatus_response"]["txn_status"]["search_response"] == []
    with db.read() as conn:
        asked = conn.execute(
            sa.select(audit_log.c.actor).where(audit_log.c.action == "dci.txn_status")
        ).scalars()
        assert sorted(asked) == ["dci-bank", "dci-bank", "dci-lain", "dci-lain"]


def test_a_client_with_a_key_must_sign_every_message(app, db, admin) -> None:
    private = Ed25519PrivateKey.generate()
    public = base64.b64encode(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    token = _client(db, admin, key=public)
    http = TestClient(app)
    body = dci.search(dci.by_nik("3275011705800001"))
    assert (
        _post(http, "sync/search", body, token).json()["message"]["error"]["code"] == "err.signature.missing"
    )
    for bad in ("invalid-signature", "unsigned-stub"):
        refused = _post(http, "sync/search", {**body, "signature": bad}, token)
        assert (
            refused.status_code == 401
            and refused.json()["message"]["error"]["code"] == "err.signature.invalid"
        )
    raw = private.private_bytes_raw()
    signed = {**body, "signature": dci_signature.sign(raw, body["header"], body["message"])}
    assert _post(http, "sync/search", signed, token).status_code == 200
    tampered = json.loads(json.dumps(signed))
    tampered["message"]["search_request"][0]["search_criteria"]["query"]["value"] = "3275011705800002"
    assert (
        _post(http, "sync/search", tampered, token).json()["message"]["error"]["code"]
        == "err.signature.invalid"
    )
    stale = {
        **body,
        "signature": dci_signature.sign(
            raw, body["header"], body["message"], created=int(time.time()) - 3600
        ),
    }
    assert _post(http, "sync/search", stale, token).status_code == 401


def test_the_web_app_sends_callbacks_by_itself(db, admin, tmp_path) -> None:
    family = make_family(db, admin, KELURAHAN)
    with dci.callback_receiver() as receiver:
        token = _client(db, admin, urls=[receiver.base])
        with TestClient(make_app(db, tmp_path)) as http:  # the lifespan starts the delivery worker
            ack = _post(http, "search", dci.search(dci.by_nik(_head_nik(db, family))), token)
            assert ack.status_code == 202
            deadline = time.monotonic() + 20
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
    [(path, body)] = receiver.received
    assert path == "/registry/on-search"
    assert body["message"]["search_response"][0]["data"]["reg_records"][0]["@id"].endswith(f":{family}")


def test_cli_makes_a_client_and_prints_its_token_once(db, app) -> None:
    from typer.testing import CliRunner

    from tepat.cli import app as cli

    result = CliRunner().invoke(
        cli,
        [
            "dci",
            "client",
            "add",
            "dinkes",
            "--role",
            "operator",
            "--area",
            KECAMATAN,
            "--callback-url",
            "https://dinkes.example/dci",
            "--db",
            db.url,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert made["client"] == "dinkes" and made["token"]
    answer = _post(TestClient(app), "sync/search", dci.search(dci.by_nik("3275011705800001")), made["token"])
    assert answer.status_code == 200
    listed = CliRunner().invoke(cli, ["dci", "client", "list", "--db", db.url, "--json"])
    assert json.loads(listed.output)[0]["callback_urls"] == ["https://dinkes.example/dci"]


def test_admins_manage_clients_on_their_page(app, db, admin) -> None:
    from tests.test_web_support import form_data, login

    add_user(db, "kepala", Role.ADMIN, "32.75")
    add_user(db, "ani", Role.OPERATOR, KECAMATAN)
    http = TestClient(app)
    csrf = login(http, "kepala")
    page = http.get("/klien-dci")
    assert page.status_code == 200 and 'href="/klien-dci"' in page.text  # in the admin's menu
    fields = {
        **form_data(page.text, "/klien-dci"),
        "nama": "bansos-pusat",
        "peran": "verifikator",
        "wilayah": "32.75",
        "callback": "https://mis.example/dci\nhttp://127.0.0.1:9/x",
        "csrf_token": csrf,
    }
    made = http.post("/klien-dci", data=fields)
    assert made.status_code == 200 and 'id="token-baru"' in made.text
    token = made.text.split('<code id="token-dci">')[1].split("<")[0]
    assert _post(http, "sync/search", dci.search(dci.by_nik("3275011705800001")), token).status_code == 200
    assert token not in http.get("/klien-dci").text  # shown once
    bad = http.post("/klien-dci", data={**fields, "nama": "lain", "callback": "ftp://x"})
    assert bad.status_code == 422 and "callback" in bad.text and 'id="token-baru"' not in bad.text
    item = {
        "reference_id": "r",
        "timestamp": dci.now_text(),
        "subscribe_criteria": {
            "reg_event_type": "UPDATE",
            "notify_record_type": "Group",
            "filter": {"type": "UIN", "value": "3275011705800001"},
        },
    }
    message = {"transaction_id": "t-sub", "subscribe_request": [item]}
    _post(
        http,
        "subscribe",
        dci.envelope("subscribe", message, sender_uri="https://mis.example/dci/on-subscribe"),
        token,
    )
    code = dci_clients.client(db, admin, "bansos-pusat")["subscriptions"][0]["code"]
    ended = http.post(
        f"/klien-dci/bansos-pusat/langganan/{code}/akhiri", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert ended.status_code == 303
    assert dci_clients.client(db, admin, "bansos-pusat")["subscriptions"][0]["status"] == "unsubscribe"
    detail = http.get("/klien-dci/bansos-pusat")
    assert (
        detail.status_code == 200
        and "https://mis.example/dci" in detail.text
        and "sync/search" not in detail.text
    )
    assert (
        http.post(
            "/klien-dci/bansos-pusat/cabut", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    assert _post(http, "sync/search", dci.search(dci.by_nik("3275011705800001")), token).status_code == 401
    operator = TestClient(app)
    login(operator, "ani")
    assert operator.get("/klien-dci").status_code == 403


def test_subscribers_are_told_of_registry_changes_in_their_area_that_meet_their_filter(
    app, db, admin, tmp_path, monkeypatch
) -> None:
    from tepat.domain.access import system_actor
    from tepat.services import dci_events, registry, registry_reads
    from tepat.services.imports import import_file
    from tests import registry_files

    def subscribe(http: TestClient, token: str, event: str, query: dict[str, Any]) -> None:
        item = {
            "reference_id": f"ref-{event}",
            "timestamp": dci.now_text(),
            "subscribe_criteria": {
                "reg_event_type": event,
                "notify_record_type": "Group",
                "filter": {"type": "expression", "value": {"expression": {"query": query}}},
            },
        }
        message = {"transaction_id": f"t-{event}", "subscribe_request": [item]}
        assert _post(http, "subscribe", dci.envelope("subscribe", message), token).status_code == 202

    monkeypatch.setattr(
        dci_events, "SETTLE", timedelta(0)
    )  # (a real server waits 30 s for commits to settle)

    def notified() -> dict[str, list[str]]:  # event → family ids told, since the last call
        time.sleep(0.01)
        receiver.received.clear()
        dci_events.queue_due(db)
        _deliver_all(db)
        told: dict[str, list[str]] = {}
        for path, body in receiver.received:
            if path == "/registry/notify":
                for event in body["message"]["notify_event"]:
                    told.setdefault(event["data"]["reg_event_type"], []).append(
                        event["data"]["reg_records"]["@id"].rsplit(":", 1)[1]
                    )
        return told

    with dci.callback_receiver() as receiver:
        token = _client(db, admin, urls=[receiver.base])
        http = TestClient(app)
        for event in ("REGISTER", "UPDATE", "DELETE"):
            subscribe(http, token, event, {"district": {"$eq": KECAMATAN}})
        subscribe(http, token, "LINK", {"location": {"$eq": KELURAHAN}})
        _deliver_all(db)  # the on-subscribe answers
        ours = make_family(db, admin, KELURAHAN)
        make_family(db, admin, OTHER_KELURAHAN)  # outside the client's area: never told
        told = notified()
        assert told == {"REGISTER": [str(ours)], "LINK": [str(ours)]}
        assert notified() == {}  # nothing new: told once
        version = registry_reads.get_family(db, admin, ours).family["version"]
        registry.deactivate_family(
            db, admin, ours, "pindah", expected_version=version, note="pindah ke luar kota"
        )
        told = notified()
        assert told == {"DELETE": [str(ours)]}
        csv = registry_files.write_csv(tmp_path / "impor.csv", registry_files.family(kelurahan=KELURAHAN))
        import_file(db, system_actor("32.75"), csv)
        told = notified()
        assert (
            set(told) == {"REGISTER", "LINK"} and len(told["REGISTER"]) == 1
        )  # an import's family, once done
    notifications = [b for p, b in receiver.received if p == "/registry/notify"]
    assert all(b["header"]["action"] == "notify" for b in notifications)


def test_deaths_and_moves_from_the_civil_registry_arrive_by_subscription_and_block_payments(
    app, db, admin
) -> None:
    """Issue 16 point 2, against a small CRVS stand-in: tepat subscribes; the civil registry then notifies a
    death and a move, applied as a change file is (the entitlement of the dead person is blocked)."""
    from tepat.services import crvs, dci_delivery
    from tepat.store.schema import entitlements, members
    from tests.programme_data import approved_cycle, insert_programme

    dead = member_values("Mbah Karto", "L", date(1940, 1, 1))
    mover = member_values("Ayu Lestari", "P", date(1985, 5, 5))
    elsewhere = member_values("Dedi Kurnia", "L", date(1975, 7, 7))
    families = [
        make_family(db, admin, KELURAHAN, members=[dead]),
        make_family(db, admin, KELURAHAN, members=[mover]),
        make_family(db, admin, OTHER_KELURAHAN, members=[elsewhere]),
    ]
    programme = insert_programme(db, "LKM-NIK", unit="orang", benefit_type="layanan", amount=0)
    cycle = approved_cycle(db, programme, families, per_person=True, state="pembayaran")
    with dci.callback_receiver() as civil_registry:  # the CRVS stand-in: it records what tepat asks of it
        status = crvs.subscribe(
            db,
            civil_registry.base,
            "token-dari-dukcapil",
            "https://tepat.example/dci/crvs",
            dci_delivery.post_json,
        )
    assert status == 200
    [(path, asked)] = civil_registry.received
    assert path == "/registry/subscribe" and asked["header"]["action"] == "subscribe"
    assert [
        i["subscribe_criteria"]["reg_event_type"].rsplit(":", 1)[1]
        for i in asked["message"]["subscribe_request"]
    ] == ["Death", "ChangeOfResidence"]
    assert asked["header"]["sender_uri"] == "https://tepat.example/dci/crvs/registry/on-subscribe"

    token = _client(
        db, admin, "dukcapil", role="operator", area=KECAMATAN
    )  # it may change the registry there
    http = TestClient(app)

    def person(nik: str, **extra: Any) -> dict[str, Any]:
        return {
            "@type": "Person",
            "identifier": [{"identifier_type": "UIN", "identifier_value": nik}],
            **extra,
        }

    events = [
        {
            "reference_id": "e1",
            "timestamp": dci.now_text(),
            "data": {
                "reg_event_type": "spdci-common:RegistryEventType:Death",
                "reg_records": person(dead["nik"], death_date="2026-11-30"),
            },
        },
        {
            "reference_id": "e2",
            "timestamp": "2026-12-01T08:00:00+07:00",
            "data": {
                "reg_event_type": "spdci-common:RegistryEventType:ChangeOfResidence",
                "reg_records": person(mover["nik"]),
            },
        },
        {
            "reference_id": "e3",
            "timestamp": dci.now_text(),
            "data": {
                "reg_event_type": "Death",
                "reg_records": person(elsewhere["nik"], death_date="2026-11-30"),
            },
        },
        {
            "reference_id": "e4",
            "timestamp": dci.now_text(),
            "data": {"reg_event_type": "LiveBirth", "reg_records": person(dead["nik"])},
        },
    ]
    notify = dci.envelope("notify", {"transaction_id": "crvs-1", "notify_event": events})
    notify["header"] = {k: v for k, v in notify["header"].items() if k != "total_count"} | {"status": "succ"}
    answer = http.post("/dci/crvs/registry/notify", json=notify, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["message"]["ack_status"] == "ACK"
    with db.read() as conn:
        people = {r.name: r for r in conn.execute(sa.select(members)).all()}
        states = dict(
            conn.execute(
                sa.select(entitlements.c.recipient_name, entitlements.c.state).where(
                    entitlements.c.cycle_id == cycle
                )
            ).all()
        )
    assert people["Mbah Karto"].life_status == "meninggal" and people["Mbah Karto"].death_date == date(
        2026, 11, 30
    )
    assert people["Ayu Lestari"].status == "nonaktif" and people["Ayu Lestari"].inactive_reason == "pindah"
    assert people["Dedi Kurnia"].status == "aktif"  # outside the client's area: not touched
    assert states == {"Mbah Karto": "diblokir", "Ayu Lestari": "diblokir", "Dedi Kurnia": "terjadwal"}
    anonymous = http.post("/dci/crvs/registry/notify", json=notify)
    assert anonymous.status_code == 401
    reader = _client(db, admin, "pembaca", role="verifikator", area=KECAMATAN)  # may read, not change
    refused = http.post(
        "/dci/crvs/registry/notify", json=notify, headers={"Authorization": f"Bearer {reader}"}
    )
    assert (
        refused.status_code == 403 and refused.json()["message"]["error"]["code"] == "err.request.forbidden"
    )


def test_the_specs_own_example_ids_of_twenty_digits_are_accepted(app, db, admin) -> None:
    """DCI ids are text (the spec's example reference_id has 20 digits): the guard against integer overflow
    must not refuse them; a NUL is still refused, in the standard's shape."""
    token = _client(db, admin)
    http = TestClient(app)
    body = dci.search(dci.by_nik("3275011705800001", reference="12345678901234567890"),
                      transaction_id="01234567890123456789")  # fmt: skip
    answer = _post(http, "sync/search", body, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"]["search_response"][0]["reference_id"] == "12345678901234567890"
    nul = dci.search(dci.by_nik("3275011705800001", reference="a\u0000b"))
    refused = _post(http, "sync/search", nul, token)
    assert refused.status_code == 422 and refused.json()["message"]["ack_status"] == "ERR"


def test_what_a_dci_call_kept_is_forgotten_after_the_retention_period(app, db, admin) -> None:
    """A search whose callbacks never got through keeps its request (it may hold a NIK) only for
    ``TEPAT_RETENTION_DAYS``; the delivery log stays, without the answers' content."""
    token = _client(db, admin, urls=["http://127.0.0.1:9/spmis"])
    http = TestClient(app)
    _post(http, "search", dci.search(dci.by_nik("3275011705800001")), token)
    message = {"transaction_id": "t-sub", "subscribe_request": [{"reference_id": "r", "timestamp": dci.now_text(),
               "subscribe_criteria": {"reg_event_type": "UPDATE", "notify_record_type": "Group",
                                      "filter": {"type": "UIN", "value": "3275011705800001"}}}]}  # fmt: skip
    _post(http, "subscribe", dci.envelope("subscribe", message), token)
    assert dci_delivery.forget_old(db, 30) == 0  # nothing old yet
    with db.begin() as conn:
        conn.execute(sa.update(dci_transactions).values(created_at=now() - timedelta(days=31)))
        conn.execute(sa.update(dci_deliveries).values(created_at=now() - timedelta(days=31)))
    assert dci_delivery.forget_old(db, 30) == 2
    with db.read() as conn:
        txns = conn.execute(sa.select(dci_transactions.c.request, dci_transactions.c.status)).all()
        parts = conn.execute(sa.select(dci_deliveries.c.part, dci_deliveries.c.state)).all()
    assert all(t.request is None for t in txns) and {t.status for t in txns} == {"rjct"}
    assert all(p.part == {} and p.state == "gagal" for p in parts)  # no NIK left, the log stays


def test_a_person_leaving_a_family_is_an_unlink_and_an_edit_an_update(app, db, admin, monkeypatch) -> None:
    from tepat.services import dci_events, registry, registry_reads

    monkeypatch.setattr(dci_events, "SETTLE", timedelta(0))
    family = make_family(db, admin, KELURAHAN)
    with dci.callback_receiver() as receiver:
        token = _client(db, admin, urls=[receiver.base])
        http = TestClient(app)
        for event in ("UNLINK", "UPDATE", "LINK"):
            item = {"reference_id": f"r-{event}", "timestamp": dci.now_text(), "subscribe_criteria": {
                "reg_event_type": event, "notify_record_type": "Group",
                "filter": {"type": "HOUSEHOLD_ID", "value": _kk(db, family)}}}  # fmt: skip
            message = {"transaction_id": f"t-{event}", "subscribe_request": [item]}
            _post(http, "subscribe", dci.envelope("subscribe", message), token)
        time.sleep(0.01)
        dci_events.queue_due(db)  # (the family was registered before: nothing owed)
        _deliver_all(db)
        receiver.received.clear()
        view = registry_reads.get_family(db, admin, family)
        child = next(m for m in view.members if m["relationship"] == "anak")
        registry.deactivate_member(
            db, admin, child["id"], "pindah", expected_version=child["version"], note="pindah"
        )
        registry.update_family(
            db, admin, family, {"rt": 7}, expected_version=view.family["version"], reason="RT baru"
        )
        time.sleep(0.01)
        dci_events.queue_due(db)
        _deliver_all(db)
    told = sorted(
        (event["data"]["reg_event_type"], event["data"]["reg_records"]["@id"].rsplit(":", 1)[1])
        for path, body in receiver.received
        if path == "/registry/notify"
        for event in body["message"]["notify_event"]
    )
    assert told == [("UNLINK", str(family)), ("UPDATE", str(family))]

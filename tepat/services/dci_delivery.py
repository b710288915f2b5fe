"""The callbacks tepat owes its DCI clients (asynchronous answers, and later event notifications): sent, retried
with backoff while the receiver is down, then marked failed — nothing is dropped, every attempt is in the
delivery log (``dci_deliveries``) that the admin page shows.

``deliver_due`` sends what is due, one delivery at a time: it claims the delivery with a guarded update (so two
senders, in two processes, never send the same one), builds its body (a search page is computed only now), posts
it, and records the outcome. A search answer longer than one page queues its next page once the previous one
was accepted. The web app runs it in a background thread (``tepat.dci.app``); ``tepat dci kirim`` runs it once.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tepat.domain.dci import Action, DeliveryState, Status
from tepat.services import dci_events, dci_messages, dci_search
from tepat.services.dci_clients import client_by_id
from tepat.store import dci as store
from tepat.store.database import Database
from tepat.store.engine import now

log = logging.getLogger("tepat.dci.delivery")

MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 600.0
ATTEMPT_TIMEOUT_SECONDS = 10.0
SENDING_GRACE = timedelta(minutes=2)  # a claimed delivery whose sender died is tried again after this

Send = Callable[[str, dict[str, Any]], int]
"""Post a JSON body to a URL; the HTTP status (raises ``OSError`` when the receiver cannot be reached)."""


@dataclass(frozen=True)
class Outcome:
    sent: int
    retrying: int
    failed: int


def retry_delay(attempts: int) -> timedelta:
    """Seconds until the next try after ``attempts`` failed ones: 5, 10, 20, … at most 10 minutes."""
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


def post_json(url: str, body: dict[str, Any], token: str | None = None) -> int:
    """The default ``Send``: an HTTP POST with a JSON body (and a bearer token) and a timeout; redirects are not
    followed."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=ATTEMPT_TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a callback is never sent elsewhere
        return None


def deliver_due(
    db: Database, send: Send = post_json, *, limit: int = 50, at: datetime | None = None
) -> Outcome:
    """Send every delivery due now (at most ``limit``); what failed is retried later, or marked failed."""
    moment = at or now()
    sent = retrying = failed = 0
    with db.read() as conn:
        due = store.due_deliveries(conn, moment, limit)
    for row in due:
        with db.begin() as conn:
            if not store.claim_delivery(conn, row["id"], row["attempts"], moment + SENDING_GRACE):
                continue  # another sender has it
        attempts = row["attempts"] + 1
        try:
            body, following = _body(db, row)
            status = send(row["url"], body)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except OSError as exc:
            status, error, following = None, f"{type(exc).__name__}: {exc}"[:300], None
        except Exception as exc:  # a body that cannot be built is a failed attempt, logged
            log.exception("DCI delivery %s: the answer could not be built", row["id"])
            status, error, following = None, f"{type(exc).__name__}"[:300], None
        with db.begin() as conn:
            if error is None:
                sent += 1
                store.record_attempt(
                    conn,
                    row["id"],
                    state=DeliveryState.TERKIRIM.value,
                    last_status=status,
                    last_error=None,
                    delivered_at=now(),
                )
                _after_success(conn, row, following)
            elif attempts >= MAX_ATTEMPTS:
                failed += 1
                store.record_attempt(
                    conn, row["id"], state=DeliveryState.GAGAL.value, last_status=status, last_error=error
                )
                log.warning(
                    "DCI delivery %s to %s failed %d times: %s", row["id"], row["url"], attempts, error
                )
            else:
                retrying += 1
                store.record_attempt(
                    conn,
                    row["id"],
                    last_status=status,
                    last_error=error,
                    next_attempt_at=moment + retry_delay(attempts),
                )
    return Outcome(sent, retrying, failed)


def forget_old(db: Database, retention_days: int) -> int:
    """Forget what DCI calls kept longer than ``retention_days`` (a search's request may hold a NIK; an answer's
    content names people): see ``tepat.store.dci.forget_before``. Returns the transactions touched."""
    at = now()
    with db.begin() as conn:
        return store.forget_before(conn, at - timedelta(days=retention_days), at)


def _body(db: Database, row: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    part = row["part"]
    if "message" in part:  # made at acceptance (subscribe, unsubscribe, status): no personal data
        header = dci_messages.callback_header(
            db,
            {"sender_id": part.get("receiver_id", "")},
            Action(row["action"]),
            status=Status.SUCCESS,
            total=1,
            done=1,
        )
        return {"signature": "", "header": header, "message": part["message"]}, None
    if "subscription" in part:  # a notification: the families as they are now
        return dci_events.notify_message(db, client_by_id(db, row["client_id"]), part), None
    with db.read() as conn:
        txn = store.transaction(conn, row["transaction_pk"])
    if txn is None or txn["request"] is None:
        raise LookupError("the search this delivery answers is gone")
    client = client_by_id(db, row["client_id"])
    return dci_search.search_page_message(
        db, client, txn["request"], txn["correlation_id"], int(part["item"]), part.get("page")
    )


def _after_success(conn: Any, row: dict[str, Any], following: int | None) -> None:
    """Queue a search's next page, or close its transaction once nothing more is owed."""
    if following is not None:
        store.insert_delivery(
            conn,
            client_id=row["client_id"],
            transaction_pk=row["transaction_pk"],
            action=row["action"],
            url=row["url"],
            part={**row["part"], "page": following},
            state=DeliveryState.MENUNGGU.value,
            attempts=0,
            next_attempt_at=now(),
            created_at=now(),
        )
        return
    if row["transaction_pk"] is not None and not store.owed(conn, row["transaction_pk"]):
        store.finish_transaction(conn, row["transaction_pk"], Status.SUCCESS.value, now())

"""The DCI Social Registry application, mounted under ``/dci`` by the web app (``POST /dci/registry/...``).

Each call: the bearer token names the client (``tepat.services.dci_clients``), the JSON body is read as the
standard's envelope (``tepat.services.dci_messages.read_envelope``), the signature is checked when the client
registered a key, then the call is answered now (``sync/…``) or acknowledged and answered by callback. Failures
are answered in the standard's ``ack_status: ERR`` form (``tepat.dci.errors``). Blocking work (database reads,
Argon2-free token lookups) runs in the thread pool, never on the event loop.

The callbacks owed are sent by a ``DeliveryWorker`` thread that the web app starts and stops with itself.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from tepat.config import Settings
from tepat.dci import errors
from tepat.domain.dci import Action, ErrorCode, Refused
from tepat.services import (
    crvs,
    dci_clients,
    dci_delivery,
    dci_events,
    dci_messages,
    dci_registry,
    dci_search,
    dci_txn_status,
)
from tepat.services.dci_clients import DciClient
from tepat.store.database import Database

log = logging.getLogger("tepat.dci")
POLL_SECONDS = 1.0
EVENTS_EVERY_SECONDS = 10.0
"""How often the delivery thread looks for registry changes owed to subscribers."""
FORGET_EVERY_SECONDS = 3600.0
"""How often it forgets what calls kept past ``TEPAT_RETENTION_DAYS``."""


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Refused(ErrorCode.UNAUTHORIZED, "send the client's token: 'Authorization: Bearer <token>'")
    return value.strip()


async def _call(
    request: Request, action: Action, *, subscriber: bool = False
) -> tuple[Database, DciClient, dci_messages.Envelope]:
    """The client, and its message checked (``subscriber``: a callback to tepat, whose header has no
    ``total_count`` to require, and whose sender's key, if registered, must still have signed it)."""
    db: Database = request.app.state.db
    token = _token(request)
    client = await run_in_threadpool(dci_clients.client_for_token, db, token)
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused(ErrorCode.BAD_REQUEST, "the body is not JSON") from None
    envelope = dci_messages.read_envelope(body, action, callback=subscriber)
    dci_messages.check_client(client, envelope)
    return db, client, envelope


def _answer(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _accepted(request: Request, body: dict[str, Any]) -> JSONResponse:
    worker = getattr(request.app.state, "delivery_worker", None)
    if worker is not None:
        worker.wake()
    return JSONResponse(body, status_code=202, headers={"Cache-Control": "no-store"})


ASYNCHRONOUS = {
    "/registry/search": Action.SEARCH,
    "/registry/subscribe": Action.SUBSCRIBE,
    "/registry/unsubscribe": Action.UNSUBSCRIBE,
    "/registry/txn/status": Action.TXN_STATUS,
}
"""The calls acknowledged now and answered by callback."""


def _acknowledging(action: Action) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        db, client, envelope = await _call(request, action)
        ack = await run_in_threadpool(dci_registry.accept, db, client, envelope, action)
        return _accepted(request, ack)

    return endpoint


def create_dci_app(settings: Settings, db: Database) -> FastAPI:
    """The ``/dci`` application over one database (its ``delivery_worker`` is started by the caller)."""
    app = FastAPI(title="tepat DCI Social Registry", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.db = db
    app.state.delivery_worker = None
    errors.install(app)

    @app.post("/registry/sync/search")
    async def sync_search(request: Request) -> JSONResponse:
        db, client, envelope = await _call(request, Action.SEARCH)
        return _answer(await run_in_threadpool(dci_search.sync_search, db, client, envelope))

    for path, action in ASYNCHRONOUS.items():
        app.add_api_route(path, _acknowledging(action), methods=["POST"], name=f"dci-{action.value}")

    @app.post("/registry/sync/txn/status")
    async def sync_txn_status(request: Request) -> JSONResponse:
        db, client, envelope = await _call(request, Action.TXN_STATUS)
        return _answer(await run_in_threadpool(dci_txn_status.sync_txn_status, db, client, envelope))

    @app.post("/crvs/registry/notify")
    async def crvs_notify(request: Request) -> JSONResponse:
        """Deaths and moves notified by the civil registry (tepat is its subscriber): applied now."""
        db, client, envelope = await _call(request, Action.NOTIFY, subscriber=True)
        report = await run_in_threadpool(crvs.apply_notification, db, client, envelope.message)
        log.info("CRVS %s: %s", client.name, report.as_dict())
        return _answer(dci_messages.ack(envelope.message["transaction_id"]))

    @app.post("/crvs/registry/on-subscribe")
    async def crvs_on_subscribe(request: Request) -> JSONResponse:
        """The civil registry's answer to tepat's subscription (its codes are kept in the audit log)."""
        db, client, envelope = await _call(request, Action.ON_SUBSCRIBE, subscriber=True)
        await run_in_threadpool(crvs.record_subscription, db, client, envelope.message)
        return _answer(dci_messages.ack(envelope.message["transaction_id"]))

    return app


class DeliveryWorker:
    """The thread that sends the callbacks owed (``tepat.services.dci_delivery.deliver_due``): woken when a call
    is acknowledged, and every ``POLL_SECONDS`` for retries that have come due."""

    def __init__(
        self, db: Database, send: dci_delivery.Send = dci_delivery.post_json, *, retention_days: int = 30
    ) -> None:
        self.db = db
        self.retention_days = retention_days
        self.send = send
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._events_looked = self._forgot = float("-inf")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=_run, args=(weakref.ref(self),), name="tepat-dci-delivery", daemon=True
            )
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=dci_delivery.ATTEMPT_TIMEOUT_SECONDS + 5)
            self._thread = None

    def run_once(self) -> dci_delivery.Outcome:
        """Queue the notifications owed to subscribers (every ``EVENTS_EVERY_SECONDS``), then send what is due."""
        if time.monotonic() - self._events_looked >= EVENTS_EVERY_SECONDS:
            self._events_looked = time.monotonic()
            dci_events.queue_due(self.db)
        if time.monotonic() - self._forgot >= FORGET_EVERY_SECONDS:
            self._forgot = time.monotonic()
            dci_delivery.forget_old(self.db, self.retention_days)
        return dci_delivery.deliver_due(self.db, self.send)


def _run(ref: weakref.ref[DeliveryWorker]) -> None:
    while (worker := ref()) is not None and not worker._stop.is_set():
        try:
            outcome = worker.run_once()
        except Exception:  # keep sending: the database may be back at the next round
            log.exception("DCI deliveries: a round failed")
            outcome = dci_delivery.Outcome(0, 0, 0)
        wake = worker._wake
        busy = outcome.sent + outcome.retrying + outcome.failed > 0
        del worker
        if not busy:
            wake.wait(POLL_SECONDS)
            wake.clear()

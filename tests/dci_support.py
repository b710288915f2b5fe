"""Helpers for the DCI tests: envelopes as a calling system builds them, and a callback receiver."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def envelope(action: str, message: dict[str, Any], **header: Any) -> dict[str, Any]:
    """A DCI request envelope (``header`` entries override the defaults)."""
    head = {
        "version": "1.0.0",
        "message_id": f"msg-{uuid.uuid4().hex[:12]}",
        "message_ts": now_text(),
        "action": action,
        "sender_id": "spmis.test",
        "receiver_id": "tepat",
        "total_count": 1,
        **header,
    }
    return {"signature": "", "header": head, "message": message}


def search_item(query_type: str, query: Any, reference: str | None = None, **criteria: Any) -> dict[str, Any]:
    return {
        "reference_id": reference or f"ref-{uuid.uuid4().hex[:10]}",
        "timestamp": now_text(),
        "search_criteria": {"query_type": query_type, "query": query, **criteria},
    }


def search(*items: dict[str, Any], transaction_id: str | None = None, **header: Any) -> dict[str, Any]:
    message = {
        "transaction_id": transaction_id or f"txn-{uuid.uuid4().hex[:10]}",
        "search_request": list(items),
    }
    return envelope("search", message, total_count=len(items), **header)


def by_nik(nik: str, **criteria: Any) -> dict[str, Any]:
    return search_item("idtype-value", {"type": "UIN", "value": nik}, **criteria)


@dataclass
class Receiver:
    """A callback receiver on 127.0.0.1: every JSON body posted to it, with its path."""

    port: int
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    keep: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: body  # what to keep of each body

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def callback_receiver() -> Iterator[Receiver]:
    receiver = Receiver(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            receiver.received.append((self.path, receiver.keep(body)))
            self.send_response(receiver.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"message": {"ack_status": "ACK"}}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()

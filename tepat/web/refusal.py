"""The plain answer a middleware gives when it refuses a request before any route runs: JSON under ``/api/``
(the API's error shape), the DCI standard's ``ack_status: ERR`` under ``/dci/``, a minimal page in Bahasa
Indonesia elsewhere. Messages are ours, never the request's."""

from __future__ import annotations

import json

from starlette.types import Scope, Send

from tepat.dci.errors import dci_refusal


async def refuse(
    scope: Scope, send: Send, *, status: int, title: str, message: str, close: bool = False
) -> None:
    """Send the whole response: ``status`` with ``message`` (``close``: the connection ends, e.g. after a body
    that was not read to its end)."""
    path = scope.get("path", "")
    if path.startswith("/api/"):
        body = json.dumps({"ok": False, "error": message, "errors": []}, ensure_ascii=False).encode()
        kind = b"application/json"
    elif path.startswith("/dci/"):
        body = json.dumps(dci_refusal(status, message), ensure_ascii=False).encode()
        kind = b"application/json"
    else:
        body = (
            f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><main><h1>{title}</h1><p role="alert">{message}</p></main></body></html>'
        ).encode()
        kind = b"text/html; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""The access log: method, route template, status and time — never the query string or a path's values.

Uvicorn's own access log writes each request's full path and query string, so a
NIK in ``/cari?q=…`` or ``/api/v1/nik/{nik}`` would land in the log; ``tepat
serve`` switches it off and this middleware logs ``GET /api/v1/nik/{nik} 200
3.1 ms`` instead (issue 13 point 10).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("tepat.access")


class AccessLog:
    """ASGI middleware writing one line per request to the ``tepat.access`` logger."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                "/static/…" if scope.get("path", "").startswith("/static/") else "(tanpa rute)"
            )
            prefix = scope.get("root_path", "")
            log.info(
                "%s %s%s %d %.1f ms",
                scope.get("method", "?"),
                prefix,
                template,
                status,
                (time.perf_counter() - started) * 1000,
            )

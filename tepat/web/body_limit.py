"""How many bytes a request body may have, enforced while it streams in (issue 13 point 6).

The limit is read from the table below by path, and the large allowances (a
registry file to import, a bank's result file) apply only to a logged-in
session: everyone else gets ``PUBLIC_BYTES``, so nobody can make the server
spool 200 MB to disk before their login is checked. A declared
``Content-Length`` above the limit is refused before anything is read; a
chunked body (no length) is counted as it arrives and refused as soon as it
passes the limit. The refusal is a 413 with a plain message; the route never
runs. This middleware sits inside the session middleware (it reads the
session) and outside everything that reads a body.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tepat.files.uploads import MAX_BYTES as PHOTO_BYTES
from tepat.portal.routes import MAX_REQUEST_BYTES as PORTAL_BYTES  # a resident's form with up to two photos
from tepat.web.refusal import refuse

MB = 1024 * 1024
PUBLIC_BYTES = 64 * 1024  # a login, a status check, a form without files
STAFF_BYTES = PHOTO_BYTES + 64 * 1024  # a logged-in form with one photo (usul, visit, case evidence)
API_BYTES = 1 * MB  # JSON (the API and the DCI interface)
LARGE: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^/impor$"), 200 * MB + 64 * 1024),  # a registry file
    (re.compile(r"^/pembayaran/\d+/hasil$"), 100 * MB + 64 * 1024),  # a bank's or PT Pos's result file
    (re.compile(r"^/statistik/impor-bps$"), 2 * MB + 64 * 1024),
    (re.compile(r"^/sasaran/simulasi$"), 20 * MB + 64 * 1024),  # an optional survey file
)
"""Paths taking large files, and their limit (the file plus the form around it); logged-in sessions only."""
PUBLIC_FORMS = re.compile(r"^/layanan/")

_TOO_LARGE = "Berkas atau isian terlalu besar (paling besar {size}). Kirim berkas yang lebih kecil."


class BodyTooLarge(Exception):
    """The body passed its limit while streaming: the request is answered 413 and the route stops."""


def _human(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size // 1024} KB"


def limit_for(path: str, logged_in: Callable[[], bool]) -> int:
    """The most bytes a body sent to ``path`` may have (``logged_in`` is asked only when it matters)."""
    if path.startswith(("/api/", "/dci/")):
        return API_BYTES
    if PUBLIC_FORMS.match(path):
        return PORTAL_BYTES
    for pattern, size in LARGE:
        if pattern.match(path):
            return size if logged_in() else PUBLIC_BYTES
    return STAFF_BYTES if logged_in() else PUBLIC_BYTES


class BodyLimit:
    """ASGI middleware enforcing ``limit_for`` on every request body."""

    def __init__(self, app: ASGIApp, *, logged_in: Callable[[Scope], bool]) -> None:
        self.app = app
        self.logged_in = logged_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"], lambda: self.logged_in(scope))
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, limit)
            return
        seen = 0
        refused = started = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if not started:
                        await _refuse(scope, send, limit)
                    refused = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; whatever the route made of the broken body is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not refused:
                raise


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    await refuse(
        scope,
        send,
        status=413,
        title="Terlalu besar",
        message=_TOO_LARGE.format(size=_human(limit)),
        close=True,
    )

"""Refusing, before any route sees them, inputs no field of tepat can take (issue 13 points 10 and 14).

* A NUL (``%00``) can be stored in no PostgreSQL text value: it used to reach the
  database and fail there, as a 500 whose logged error carried the statement's
  parameters (a NIK).
* A run of 19 or more digits (an id or a page number above 2^63) overflows every
  integer column: it used to be a 500 from the driver. NIK and KK numbers have 16.

Either in the path, the query string or a form or JSON body is answered 422 with a
plain message, and nothing of it is logged. Multipart uploads are left to their own
checks (files are read as bytes). The DCI interface (``/dci/``) takes its ids as text (the
standard's own example reference id has 20 digits) and stores none as an integer: its
bodies are checked for NUL only.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tepat.web.refusal import refuse

MESSAGE = "Isian mengandung karakter yang tidak sah (NUL). Periksa kembali isian Anda."
TOO_LONG = "Isian memuat angka yang terlalu besar (lebih dari 18 angka). Periksa kembali isian Anda."
_HUGE_NUMBER = re.compile(rb"(?<![0-9])[0-9]{19,}")
_CHECKED_BODIES = (b"application/x-www-form-urlencoded", b"application/json")
_NUL_FORMS = (b"\x00", b"%00", b"\\u0000")
TEXT_ID_PATHS = ("/dci/",)
"""Paths whose JSON bodies carry long digit runs as text (never integers): checked for NUL only."""


def has_huge_number(raw: bytes) -> bool:
    """A run of 19 or more digits: more than any integer column holds. (So tokens that travel in requests are
    base64url, ``tepat.files.uploads.new_token``, never hex: a hex token holds such a run now and then.)"""
    return _HUGE_NUMBER.search(raw) is not None


def _has_nul(raw: bytes) -> bool:
    return any(form in raw for form in _NUL_FORMS)


class RejectNul:
    """ASGI middleware: 422 for a NUL in the query string, or in an urlencoded or JSON body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope.get("query_string", b"")) or "\x00" in scope.get("path", ""):
            await self._refuse(scope, send)
            return
        if has_huge_number(scope.get("query_string", b"")) or has_huge_number(scope.get("path", "").encode()):
            await self._refuse(scope, send, TOO_LONG)
            return
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type not in _CHECKED_BODIES:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _has_nul(body):
            await self._refuse(scope, send)
            return
        if has_huge_number(body) and not scope.get("path", "").startswith(TEXT_ID_PATHS):
            await self._refuse(scope, send, TOO_LONG)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, message: str = MESSAGE) -> None:
        await refuse(scope, send, status=422, title="Isian tidak sah", message=message)

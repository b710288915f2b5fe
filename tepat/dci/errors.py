"""Every refusal of the DCI interface in the standard's shape: ``{"message": {"ack_status": "ERR", "timestamp",
"error": {"code", "message"}, "correlation_id"}}``, with the HTTP status that goes with its code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tepat.domain.dci import HTTP_STATUS, ErrorCode, Refused
from tepat.errors import TepatError
from tepat.services.dci_messages import refusal

_CODES = {401: ErrorCode.UNAUTHORIZED, 403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND,
          429: ErrorCode.TOO_MANY_REQUESTS, 503: ErrorCode.SERVICE_UNAVAILABLE}  # fmt: skip


def code_for(status: int) -> ErrorCode:
    """The DCI error code of an HTTP status (anything else a client did wrong is a bad request)."""
    return _CODES.get(status, ErrorCode.BAD_REQUEST)


def dci_refusal(status: int, message: str) -> dict[str, Any]:
    """The body of a refusal made before the DCI routes run (a middleware's)."""
    return refusal(Refused(code_for(status), message))


def response(error: Refused) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.code is ErrorCode.UNAUTHORIZED else None
    return JSONResponse(refusal(error), status_code=HTTP_STATUS[error.code], headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that give every failure the standard's shape; never a 5xx for a client's mistake."""

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        return response(exc)

    @app.exception_handler(TepatError)
    async def _tepat(request: Request, exc: TepatError) -> JSONResponse:
        return response(Refused(code_for(exc.status_code), exc.message))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return response(Refused(code_for(exc.status_code), str(exc.detail)))

"""The one error shape of the JSON API: ``{"ok": false, "error": "…", "errors": [{"field", "message"}]}``.

The HTTP status comes from the exception class (``TepatError.status_code`` in
``tepat/errors.py``); this module is the one place that turns errors into responses.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tepat.errors import FieldError, TepatError, ValidationError

log = logging.getLogger("tepat.api")

_HTTP_MESSAGES = {
    401: "Token API diperlukan.",
    404: "Alamat API tidak ada.",
    405: "Metode HTTP ini tidak didukung untuk alamat ini.",
}


def error_body(message: str, errors: list[FieldError] | None = None) -> dict[str, Any]:
    """The JSON body of every failed API call."""
    return {
        "ok": False,
        "error": message,
        "errors": [{"field": e.field, "message": e.message} for e in errors or []],
    }


def status_for(exc: TepatError) -> int:
    """The HTTP status of a tepat error (declared on its class)."""
    return exc.status_code


def _response(status: int, message: str, errors: list[FieldError] | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(message, errors), status_code=status, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers that give every failure the one JSON shape."""

    @app.exception_handler(TepatError)
    async def _tepat(request: Request, exc: TepatError) -> JSONResponse:
        errors = exc.errors if isinstance(exc, ValidationError) else None
        return _response(status_for(exc), exc.message, errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(_field_of(e.get("loc", ())), _pydantic_message(e)) for e in exc.errors()]
        return _response(422, "Isian tidak valid.", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _response(
            exc.status_code, _HTTP_MESSAGES.get(exc.status_code, "Permintaan tidak dapat diproses.")
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected API error on %s %s", request.method, request.url.path)
        return _response(500, "Terjadi kesalahan pada sistem. Coba lagi nanti.")


_PYDANTIC_MESSAGES = {
    "missing": "Wajib diisi.",
    "int_parsing": "Harus berupa bilangan bulat.",
    "int_type": "Harus berupa bilangan bulat.",
    "bool_parsing": "Harus true atau false.",
    "bool_type": "Harus true atau false.",
    "date_from_datetime_parsing": "Tanggal harus berformat TTTT-BB-HH.",
    "date_parsing": "Tanggal harus berformat TTTT-BB-HH.",
    "date_type": "Tanggal harus berformat TTTT-BB-HH.",
    "datetime_parsing": "Waktu harus berformat ISO 8601.",
    "datetime_from_date_parsing": "Waktu harus berformat ISO 8601.",
    "enum": "Pilihan tidak dikenal.",
    "literal_error": "Pilihan tidak dikenal.",
    "string_too_long": "Terlalu panjang.",
    "string_too_short": "Terlalu pendek.",
    "string_type": "Harus berupa teks.",
    "extra_forbidden": "Kolom ini tidak dikenal.",
    "greater_than_equal": "Nilainya terlalu kecil.",
    "less_than_equal": "Nilainya terlalu besar.",
    "json_invalid": "Badan permintaan bukan JSON yang sah.",
    "model_attributes_type": "Badan permintaan harus objek JSON.",
    "dict_type": "Badan permintaan harus objek JSON.",
    "list_type": "Harus berupa daftar.",
}


def _pydantic_message(error: dict[str, Any]) -> str:
    return _PYDANTIC_MESSAGES.get(str(error.get("type")), "Isian tidak valid.")

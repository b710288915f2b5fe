"""Health coverage check for facilities: ``POST /api/v1/cakupan-kesehatan`` with header ``X-API-Key``.

The NIK travels in the JSON body, not in the path or query string: URLs end up
in access logs, proxy logs and browser histories, and a NIK there would be
personal data stored outside tepat's control. There is deliberately no GET form.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from tepat.api.errors import error_body
from tepat.api.schemas import ErrorBody
from tepat.errors import Busy, Throttled
from tepat.services.coverage import CoverageChecker
from tepat.store import rate_limits

api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Kunci API fasilitas dari Dinas Sosial (`tepat fasilitas add`)",
)


class CoverageRequest(BaseModel):
    """The patient's NIK (16 digits)."""

    model_config = ConfigDict(extra="forbid")
    nik: str = Field(
        min_length=16, max_length=20, description="NIK pasien, 16 angka", examples=["3275011705800001"]
    )


class CoverageAnswerPublic(BaseModel):
    """Covered or not; programme, valid until and class only when covered; at most a masked name."""

    tercakup: bool
    program: str | None = None
    berlaku_sampai: date | None = Field(
        None,
        description=(
            "Hari terakhir tercakup: awal periode siklus ditambah lama jaminan program (bulan), dikurangi satu "
            "hari (1 Januari 2025, 12 bulan: 31 Desember 2025); bila beberapa siklus mencakup hari ini, yang "
            "berakhir paling akhir"
        ),
    )
    kelas: str | None = None
    nama: str | None = Field(None, description="Nama tersamar, mis. B**I S*****O")


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        401: "Kunci API tidak ada, tidak dikenal, atau sudah dicabut",
        422: "NIK tidak sah",
        429: "Terlalu banyak permintaan dengan kunci ini",
    }.items()
}

router = APIRouter(tags=["cakupan kesehatan"], responses=_ERRORS)


def checker(request: Request) -> CoverageChecker:
    """The application's checker (one per app, so the per-key rate limit is shared by its requests)."""
    state = request.app.state
    found = getattr(state, "coverage_checker", None)
    if found is None:
        # one allowance for all workers (and every machine, with Redis)
        shared = rate_limits.open_shared(
            state.settings.upload_dir, state.settings.redis_url, state.settings.redis_prefix
        )
        found = state.coverage_checker = CoverageChecker(state.db, state.settings.secret_key, limiter=shared)
    return found


@router.post(
    "/cakupan-kesehatan", response_model=CoverageAnswerPublic, summary="Cek cakupan kesehatan per NIK"
)
def check_coverage(
    body: CoverageRequest,
    coverage: Annotated[CoverageChecker, Depends(checker)],
    key: Annotated[str | None, Depends(api_key)],
) -> Any:
    """Whether the person is covered today by a city health programme (class III care), and until when."""
    try:
        return coverage.check(key, body.nik).as_dict()
    except (Throttled, Busy) as exc:  # the one error shape, plus when to come back (Busy: Redis down)
        return JSONResponse(
            error_body(exc.message),
            status_code=exc.status_code,
            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))},
        )

"""The audit page for admins: who read or changed whose data, filterable, exportable as CSV."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tepat.domain.audit_actions import action_label
from tepat.domain.formatting import moment
from tepat.errors import ValidationError
from tepat.files.writers import table_csv
from tepat.services import audit_trail
from tepat.web import forms
from tepat.web.deps import DB, Staff
from tepat.web.templating import templates

router = APIRouter()

CSV_COLUMNS = ("waktu", "pengguna", "aksi", "data", "id", "wilayah", "rincian")
_PAGES = {"family": "/keluarga/{}", "case": "/kasus/{}", "benefit_cycle": "/siklus/{}"}


def _wanted(request: Request) -> tuple[audit_trail.AuditFilter, dict[str, str]]:
    q = request.query_params
    typed = {k: q.get(k, "").strip() for k in ("pengguna", "aksi", "id", "dari", "sampai")}
    errors = {}
    days = {}
    for key in ("dari", "sampai"):
        try:
            days[key] = forms.parse_optional_date(typed[key], key)
        except ValidationError as exc:
            errors[key] = exc.errors[0].message if exc.errors else exc.message
            days[key] = None
    return audit_trail.AuditFilter(
        typed["pengguna"], typed["aksi"], typed["id"], days["dari"], days["sampai"]
    ), errors


def _detail(value: Any) -> str:
    return "" if not value else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@router.get("/audit")
def audit_page(request: Request, db: DB, actor: Staff, hal: int = 1) -> Response:
    """Entries of the admin's area, newest first, 100 a page."""
    wanted, errors = _wanted(request)
    rows, total = audit_trail.entries(db, actor, wanted, page=hal)
    for r in rows:
        page = _PAGES.get(r["entity"])
        r["link"] = page.format(r["entity_id"]) if page and r["entity_id"] else ""
        r["detail_text"] = _detail(r["detail"])
        r["action_label"] = action_label(r["action"])
    query = "&".join(f"{k}={v}" for k, v in request.query_params.items() if k != "hal" and v)
    return templates.page(
        request,
        "audit.html",
        {
            "title": "Log audit",
            "rows": rows,
            "total": total,
            "page": max(hal, 1),
            "per_page": audit_trail.PER_PAGE,
            "typed": {
                k: request.query_params.get(k, "") for k in ("pengguna", "aksi", "id", "dari", "sampai")
            },
            "errors": errors,
            "query": query,
        },
        status_code=422 if errors else 200,
    )


@router.get("/audit.csv")
def audit_csv(request: Request, db: DB, actor: Staff) -> Response:
    """Every matching entry (at most 100,000) as CSV."""
    wanted, _ = _wanted(request)
    rows = [
        {
            "waktu": moment(r["at"]),
            "pengguna": r["actor"],
            "aksi": r["action"],
            "data": r["entity"],
            "id": r["entity_id"] or "",
            "wilayah": r["area_code"] or "",
            "rincian": _detail(r["detail"]),
        }
        for r in audit_trail.export(db, actor, wanted)
    ]
    return Response(
        table_csv(CSV_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="log-audit.csv"', "cache-control": "no-store"},
    )

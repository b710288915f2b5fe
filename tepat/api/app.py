"""The JSON API application, mounted under ``/api/v1`` by the web app.

The OpenAPI document is at ``/api/v1/openapi.json``; ``/api/v1/docs`` is a plain
HTML listing of the endpoints served from our own template (no CDN).
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from tepat.api import coverage, errors
from tepat.api.routes import router
from tepat.config import Settings
from tepat.store.database import Database

DESCRIPTION = """API JSON registri kesejahteraan sosial **tepat**.

Setiap permintaan memakai token: `Authorization: Bearer <token>` (buat dengan `tepat user token USERNAME`).
Anda hanya melihat dan mengubah keluarga di wilayah akun Anda; data di luar wilayah dijawab 404.
Setiap galat berbentuk `{"ok": false, "error": "…", "errors": [{"field": "…", "message": "…"}]}`.
"""


def create_api(settings: Settings, db: Database | None) -> FastAPI:
    """The ``/api/v1`` application over one database (``None``: only its OpenAPI document, as the generated
    reference reads it; no request can be served)."""
    api = FastAPI(
        title="tepat API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        servers=[{"url": "/api/v1"}],
    )
    api.state.settings = settings
    api.state.db = db
    api.include_router(router)
    api.include_router(coverage.router)
    errors.install(api)

    @api.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> str:
        return _docs_page(api)

    return api


def _docs_page(api: FastAPI) -> str:
    spec = api.openapi()
    rows = []
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td><td><code>/api/v1{escape(path)}</code></td>"
                f"<td>{escape(op.get('summary', ''))}</td><td>{escape(op.get('description', ''))}</td></tr>"
            )
    return (
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>tepat API v1</title><link rel='stylesheet' href='/static/tepat.css'></head><body><main class='wadah'>"
        "<h1>tepat API v1</h1><p>Dokumen OpenAPI lengkap: <a href='/api/v1/openapi.json'>/api/v1/openapi.json</a>. "
        "Kirim token dengan header <code>Authorization: Bearer &lt;token&gt;</code>.</p>"
        "<div class='tabel-gulir'><table><thead><tr><th>Metode</th><th>Alamat</th><th>Ringkasan</th><th>Keterangan</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></main></body></html>"
    )

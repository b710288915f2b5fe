"""Printing from a page: a document is laid out as a background job in the ``dokumen`` lane, and the user is sent
to its page (``/dokumen/{job}``), which shows the pages laid out so far and then the download. A Daftar Nominatif
of thousands of rows, or a report with maps, neither ties up a request nor the event loop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor
from tepat.files import uploads
from tepat.services import documents, jobs
from tepat.web.deps import job_runner, upload_dir


def print_in_background(
    request: Request, actor: Actor, label: str, make: Callable[[documents.OnPage], documents.Document]
) -> Response:
    """Lay out ``make(on_page)`` in the background and redirect to the document's page."""
    folder = upload_dir(request) / "dokumen"
    folder.mkdir(exist_ok=True)

    def work(progress: jobs.Progress) -> dict[str, Any]:
        doc = make(lambda page: progress(page, None))
        path = folder / f"{uploads.new_token()}{Path(doc.filename).suffix}"
        path.write_bytes(doc.content)
        return {
            "file": path.name,
            "name": doc.filename,
            "media_type": doc.media_type,
            "rows": doc.rows,
            "total": doc.total,
        }

    job_id = job_runner(request).submit(actor, "dokumen", label, work, lane="dokumen")
    return RedirectResponse(f"/dokumen/{job_id}", status_code=303)

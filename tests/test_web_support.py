"""Helpers shared by the web, API and browser tests (no tests here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from tepat.config import Settings
from tepat.domain.access import Actor, Role
from tepat.services import auth
from tepat.store.database import Database
from tepat.web.app import create_app

PASSWORD = "rahasia-sekali-123"
SYSTEM_ADMIN = Actor(username="sistem", role=Role.ADMIN, area_code="32.75", full_name="Sistem")


def make_app(db: Database, tmp_path: Path) -> FastAPI:
    settings = Settings(database_url=db.url, upload_dir=tmp_path / "unggahan", secret_key="uji-" + "x" * 40)
    return create_app(settings, db)


def add_user(db: Database, username: str, role: Role, area: str, full_name: str = "") -> int:
    return auth.create_user(
        db,
        SYSTEM_ADMIN,
        username=username,
        password=PASSWORD,
        role=role,
        area_code=area,
        full_name=full_name or username.title(),
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/masuk")
    response = client.post(
        "/masuk",
        data={"username": username, "password": password, "next": "/", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


def finished_job(client: TestClient, response: Any) -> Any:
    """The page of the background job a POST started (``response``, not followed), once the job has finished."""
    assert response.status_code == 303, response.text
    client.app.state.jobs.wait_idle()
    return client.get(response.headers["location"])


def page_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) of the operator pages, including included routers."""
    yield from _walk(app.routes, "")


def _walk(routes: list[BaseRoute], prefix: str) -> Iterator[tuple[str, str]]:
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # FastAPI's included router
            context = getattr(route, "include_context", None)
            yield from _walk(original.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, Mount):
            continue
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, prefix + route.path


def fill_path(path: str, **ids: Any) -> str:
    """``path`` with its ``{parameters}`` filled from ``ids`` (1 for any not given)."""
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(ids.get(m.group(1), 1)), path)


def form_data(html: str, action: str | None = None) -> dict[str, str]:
    """The values a browser would submit from the form (the first, or the one posting to ``action``)."""
    from html.parser import HTMLParser

    class _Form(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside, self.done, self.select = False, False, None
            self.values: dict[str, str] = {}

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            if (
                tag == "form"
                and not self.done
                and a.get("method") == "post"
                and (action is None or a.get("action") == action)
            ):
                self.inside = True
            elif self.inside and tag == "input" and a.get("name") and a.get("type") not in ("submit", "file"):
                if a.get("type") == "radio" and "checked" not in a:
                    return
                self.values[a["name"]] = a.get("value", "")
            elif self.inside and tag == "select":
                self.select = a.get("name")
                self.values.setdefault(self.select or "", "")
            elif self.inside and tag == "option" and self.select and "selected" in a:
                self.values[self.select] = a.get("value", "")

        def handle_endtag(self, tag: str) -> None:
            if tag == "select":
                self.select = None
            elif tag == "form" and self.inside:
                self.inside, self.done = False, True

    parser = _Form()
    parser.feed(html)
    return parser.values

"""Helpers for the portal and case-page tests (no tests here): an app with the citizen-service routers."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI

from tepat.portal import routes as portal_routes
from tepat.store.database import Database
from tepat.web.routes import cases as case_routes
from tests.test_web_support import make_app

_WORDS = {
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}


def citizen_app(db: Database, tmp_path: Path) -> FastAPI:
    """The whole web app, with the portal and case routers added when ``create_app`` does not mount them yet."""
    app = make_app(db, tmp_path)
    paths = {getattr(r, "path", "") for r in app.routes}
    if "/cek" not in paths:
        app.include_router(portal_routes.router)
    if "/kasus" not in paths:
        app.include_router(case_routes.router)
    return app


def solve(question: str) -> str:
    """Answer 'Berapa tujuh ditambah 5?'."""
    found = re.search(r"Berapa (\w+) ditambah (\d+)\?", question)
    assert found, question
    return str(_WORDS[found.group(1)] + int(found.group(2)))


def form_challenge(html: str) -> dict[str, str]:
    """The token and the right answer of the challenge on a page."""
    question = re.search(r"Soal pengaman: ([^<]+)</label>", html)
    token = re.search(r'name="token" value="([^"]+)"', html)
    assert question and token, "no challenge on the page"
    return {"token": token.group(1), "jawaban": solve(question.group(1).replace("&#43;", "+"))}


def tag_skeleton(html: str) -> list[str]:
    """The sequence of tags (names and attribute names, no text, no attribute values) of a page."""
    return [re.sub(r'="[^"]*"', "", t) for t in re.findall(r"<[^>]+>", html) if 'name="token"' not in t]

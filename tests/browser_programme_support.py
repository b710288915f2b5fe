"""Helpers for the browser tests of the programme, cycle, payment and document pages (no tests here)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tepat.domain.access import Actor
from tepat.store.database import Database
from tests.browser_support import log_in
from tests.factories import KELURAHAN, OTHER_KELURAHAN, letters, make_family, member_values

HERE = 8  # families in KELURAHAN (Bekasijaya, kecamatan 32.75.01)
THERE = 4  # families in OTHER_KELURAHAN (kecamatan 32.75.02)


def small_registry(
    db: Database, admin: Actor, here: int = HERE, there: int = THERE
) -> tuple[list[int], list[int]]:
    """A dozen one-person families in two kecamatan; returns (ids here, ids there)."""
    first = [
        make_family(db, admin, KELURAHAN, members=[member_values(f"Warga Bekasijaya {letters(i)}")])
        for i in range(here)
    ]
    second = [
        make_family(db, admin, OTHER_KELURAHAN, members=[member_values(f"Warga Lain {letters(i)}")])
        for i in range(there)
    ]
    return first, second


def ranked_registry(db: Database, admin: Actor, folder: Path) -> tuple[list[int], list[int]]:
    """The small registry ranked with a model fitted on the test survey, so desil rules can be used."""
    from tepat.services import registry_ranking
    from tests.targeting_data import DAY, saved_model

    here, there = small_registry(db, admin)
    registry_ranking.rank_registry(db, admin, saved_model(db, admin, folder), reference_date=DAY)
    return here, there


@contextmanager
def logged_in(browser: Any, base: str, username: str) -> Iterator[Any]:
    """A fresh browser context (its own cookies) logged in through the login form; yields its page."""
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, base, username)
        yield page
    finally:
        context.close()


def download_bytes(page: Any, click: Any) -> tuple[str, bytes]:
    """Run ``click`` (which starts a download) and return the suggested file name and the content."""
    with page.expect_download() as info:
        click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def csv_rows(content: bytes) -> tuple[list[list[str]], str]:
    """The data rows of a payment file (without header and trailer) and its last line (the control trailer)."""
    lines = content.decode("utf-8").splitlines()
    return list(csv.reader(io.StringIO("\n".join(lines[1:-1])))), lines[-1]

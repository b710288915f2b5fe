"""Serving an app with uvicorn in a thread, and Debian's chromium through Playwright, for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: object) -> Iterator[str]:
    """Run ``app`` on a free loopback port for the duration of the block; yields its base URL."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's chromium, headless; skips the test when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One chromium for a whole test module (import this fixture into the module that uses it)."""
    with chromium() as b:
        yield b


def log_in(page: object, base: str, username: str) -> None:
    """Log in through the login form as a person would, and wait for the home page."""
    from tests.test_web_support import PASSWORD

    page.goto(f"{base}/")  # type: ignore[attr-defined]
    assert "/masuk" in page.url  # type: ignore[attr-defined]
    page.get_by_label("Nama pengguna").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("Kata sandi").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Masuk").click()  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/")  # type: ignore[attr-defined]

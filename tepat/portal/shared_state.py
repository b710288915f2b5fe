"""What the public pages and the login page share in one app: rate-limit buckets and used challenge nonces (one
file for every worker process of this host), and the client address they count against."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from starlette.requests import Request

from tepat.portal.client_address import client_address
from tepat.store import rate_limits as rate_limit_store
from tepat.store.rate_limits import RateLimitFile

T = TypeVar("T")

# in the upload directory: shared by the worker processes of this host
RATE_LIMIT_FILE = rate_limit_store.FILE_NAME


def app_state(request: Request, name: str, factory: Callable[[], T]) -> T:
    """``request.app.state.<name>``, made by ``factory`` on first use."""
    value: T | None = getattr(request.app.state, name, None)
    if value is None:
        value = factory()
        setattr(request.app.state, name, value)
    return value


def rate_limits(request: Request) -> RateLimitFile:
    """Rate-limit buckets and used challenge nonces, shared by every worker process of this host."""
    return app_state(
        request,
        "rate_limits",
        lambda: RateLimitFile(Path(request.app.state.settings.upload_dir) / RATE_LIMIT_FILE),
    )


def client(request: Request) -> str:
    """The address rate limits count against (``TEPAT_TRUSTED_PROXIES`` decides whom to believe)."""
    return client_address(request, request.app.state.settings.trusted_proxies)

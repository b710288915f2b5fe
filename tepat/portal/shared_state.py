"""What the public pages and the login page share in one app: rate-limit buckets and used challenge nonces (one
file for every worker process of this host, or Redis for several machines), and the client address they count
against."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.requests import Request

from tepat.portal.client_address import client_address
from tepat.store.rate_limits import RateLimitFile, open_shared
from tepat.store.redis_limits import RedisLimiter

T = TypeVar("T")


def app_state(request: Request, name: str, factory: Callable[[], T]) -> T:
    """``request.app.state.<name>``, made by ``factory`` on first use."""
    value: T | None = getattr(request.app.state, name, None)
    if value is None:
        value = factory()
        setattr(request.app.state, name, value)
    return value


def rate_limits(request: Request) -> RateLimitFile | RedisLimiter:
    """Rate-limit buckets and used challenge nonces, shared by every worker process of this host, or by every
    machine when ``TEPAT_REDIS_URL`` is set."""
    settings = request.app.state.settings
    return app_state(
        request,
        "rate_limits",
        lambda: open_shared(settings.upload_dir, settings.redis_url, settings.redis_prefix),
    )


def client(request: Request) -> str:
    """The address rate limits count against (``TEPAT_TRUSTED_PROXIES`` decides whom to believe)."""
    return client_address(request, request.app.state.settings.trusted_proxies)

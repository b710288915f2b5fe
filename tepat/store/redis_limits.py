"""Rate-limit buckets and used challenge nonces in Redis, shared by every ``tepat serve`` machine behind one address.

``tepat.store.rate_limits`` keeps them in a file, shared by the worker
processes of one host. Behind a load balancer each machine would count on its
own and a script would get N machines' allowance; with ``TEPAT_REDIS_URL`` set
they are kept here instead, in the one Redis every machine reaches.

A bucket is one string key, ``"<tokens> <at>"``, that Redis forgets by
itself once the bucket is full again (``PXAT``): a new bucket is full, so the
two are the same and nothing needs pruning. A nonce is a key set with ``NX``
until the challenge expires. One attempt against several buckets is an
optimistic transaction: ``WATCH`` the keys, read them with one ``MGET``, spend
with the token-bucket arithmetic of ``tepat.domain.throttle`` (the one place
of that rule), write in ``MULTI … EXEC``; when another machine wrote one of
the keys in between, Redis refuses the ``EXEC`` and the attempt is read
again. Three round trips per attempt, none of them holding a lock.

When Redis does not answer (down, unreachable, too slow) nothing is allowed:
``LimiterUnavailable`` tells the resident the service cannot check right now,
and the log says why. Serving without limits would open the NIK enumeration
the limits exist to stop.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tepat.domain.throttle import Decision, Limit, Spent, attempt, full_again_at, give_back, refill
from tepat.errors import LimiterUnavailable

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.5  # connecting or answering: a resident waits no longer for a Redis that has gone away
DOWN_SECONDS = 1.0  # after a failure, refused without asking for this long (then Redis is tried again)
RETRIES = 50  # optimistic transactions retried before giving up (each retry means another machine went ahead)


def redacted(url: str) -> str:
    """``url`` without its password, for the log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RedisLimiter:
    """A ``Limiter`` (and a challenge replay guard) whose state lives in Redis at ``url``, under ``prefix``."""

    over_network = True  # round trips, and up to TIMEOUT_SECONDS when Redis has gone away

    def __init__(self, url: str, *, prefix: str = "tepat") -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self._errors: tuple[type[Exception], ...] = (
            redis.exceptions.ConnectionError,
            redis.exceptions.TimeoutError,
        )
        self._watch_error = redis.exceptions.WatchError
        self._lock = threading.Lock()
        self._down_until = float("-inf")
        self._redis: Any = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS, decode_responses=True
        )

    def _bucket(self, key: str) -> str:
        return f"{self.prefix}:bucket:{key}"

    def _nonce(self, nonce: str) -> str:
        return f"{self.prefix}:nonce:{nonce}"

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """One call to Redis at a time from this process, refused at once while Redis was just found down.

        In turn: the threads of one server would otherwise overtake each other's optimistic transactions on the
        service's one bucket (measured: 173 checks/s instead of 659, each retried many times); in turn they queue
        for a fraction of a millisecond, and only other machines can overtake. Refused at once for
        ``DOWN_SECONDS`` after a failure: every waiting request would otherwise wait out the timeout in turn."""
        if time.monotonic() < self._down_until:
            raise LimiterUnavailable()
        with self._lock:
            try:
                yield
            except self._errors as exc:
                raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> LimiterUnavailable:
        self._down_until = time.monotonic() + DOWN_SECONDS
        log.error(
            "rate limits: Redis at %s does not answer (%s); public checks and logins are refused until it does",
            redacted(self.url),
            exc,
        )
        return LimiterUnavailable()

    def ping(self) -> bool:
        """Whether Redis answers (for ``/readyz``)."""
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False

    def take_all(
        self,
        wanted: Sequence[tuple[Limit, str]],
        at: float,
        once: tuple[str, float] | None = None,
        then: Sequence[tuple[Limit, str]] = (),
    ) -> Decision | None:
        """Spend one attempt in every (limit, key) bucket, for every machine at once (see ``Limiter``)."""
        buckets = [*wanted, *then]
        keys = [self._bucket(key) for _, key in buckets]
        watched = [*keys, self._nonce(once[0])] if once is not None else keys
        with self._turn(), self._redis.pipeline() as pipe:
            for _ in range(RETRIES):
                try:
                    pipe.watch(*watched)
                    found = pipe.mget(watched)
                    if once is not None and found[-1] is not None:
                        return None  # this challenge was answered before, on some machine
                    stored = {
                        k: _parse(v) for (_, k), v in zip(buckets, found, strict=False) if v is not None
                    }
                    decision, spent = attempt(wanted, then, stored, at)
                    pipe.multi()
                    if once is not None:
                        pipe.set(self._nonce(once[0]), "1", exat=max(math.ceil(once[1]), math.ceil(at) + 1))
                    for bucket in spent:
                        key, value, forget_at_ms = self._write(bucket)
                        pipe.set(key, value, pxat=forget_at_ms)
                    pipe.execute()
                    return decision
                except self._watch_error:
                    continue
            raise self._unavailable(RuntimeError(f"{RETRIES} attempts overtaken by other machines"))

    def _write(self, bucket: Spent) -> tuple[str, str, int]:
        """A bucket as its key, its value ``"<tokens> <at>"`` and when Redis forgets it (ms; full again by then)."""
        return (
            self._bucket(bucket.key),
            f"{bucket.tokens!r} {bucket.at!r}",
            math.ceil(bucket.full_at * 1000) + 1,
        )

    def give_back(self, limit: Limit, key: str, at: float) -> None:
        """Return one token to a bucket, for every machine (see ``Limiter.give_back``)."""
        name = self._bucket(key)
        with self._turn(), self._redis.pipeline() as pipe:
            for _ in range(RETRIES):
                try:
                    pipe.watch(name)
                    stored = pipe.get(name)
                    if stored is None:
                        return  # a full bucket is not stored: nothing to give back
                    tokens, last = _parse(stored)
                    left = give_back(limit, refill(limit, tokens, last, at))
                    stamp = max(at, last)
                    pipe.multi()
                    _, value, forget_at_ms = self._write(
                        Spent(key, left, stamp, full_again_at(limit, left, stamp))
                    )
                    pipe.set(name, value, pxat=forget_at_ms)
                    pipe.execute()
                    return
                except self._watch_error:
                    continue

    def use(self, nonce: str, expires: int, at: float) -> bool:
        """Mark a challenge nonce used; ``False`` when any machine already did (the ``ReplayGuard`` contract)."""
        with self._turn():
            stored: Any = self._redis.set(
                self._nonce(nonce), "1", nx=True, exat=max(int(expires), math.ceil(at) + 1)
            )
        return bool(stored)

    def close(self) -> None:
        self._redis.close()


def _parse(stored: str) -> tuple[float, float]:
    """A stored bucket's tokens and time."""
    tokens, last = stored.split()
    return float(tokens), float(last)

"""Rate-limit buckets and used challenge nonces in Redis, shared by every ``tepat serve`` machine behind one address.

``tepat.store.rate_limits`` keeps them in a file, shared by the worker
processes of one host. Behind a load balancer each machine would count on its
own and a script would get N machines' allowance; with ``TEPAT_REDIS_URL`` set
they are kept here instead, in the one Redis every machine reaches.

A bucket is one string key, ``"<tokens> <at>"``, that Redis forgets by
itself once the bucket is full again (``PXAT``): a new bucket is full, so the
two are the same and nothing needs pruning. A nonce is a key set with ``NX``
until the challenge expires. One attempt against several buckets is optimistic:
read the keys with one ``MGET``, spend with the token-bucket arithmetic of
``tepat.domain.throttle`` (the one place of that rule), then write with
``SWAP``, a compare-and-set script that knows nothing of buckets: it writes
the new values only if every key still holds what was read (a nonce: is still
absent), atomically, as Redis runs a script. When another machine wrote one
of the keys in between, the swap answers 0 and the attempt is read again. Two
round trips per attempt, none of them holding a lock (``WATCH`` … ``EXEC``
took three, and a quarter more CPU per check).

The web app's status check spends its attempt with ``take_all_async`` (redis-py's asyncio client) on the event
loop itself: waiting for Redis costs the loop nothing, so the check needs no thread (a thread hop per check cost
a quarter of a server's throughput), and a Redis that has gone away still never stalls other requests.

When Redis does not answer (down, unreachable, too slow) nothing is allowed:
``LimiterUnavailable`` tells the resident the service cannot check right now,
and the log says why. Serving without limits would open the NIK enumeration
the limits exist to stop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tepat.domain.throttle import (
    Buckets,
    Decision,
    Limit,
    Once,
    Spent,
    attempt,
    full_again_at,
    give_back,
    refill,
)
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
        self._redis: Any = redis.Redis.from_url(url, **_OPTIONS)
        self._swap: Any = self._redis.register_script(SWAP)
        # Per event loop (an asyncio client belongs to the loop that made it): the loop, client, swap, turn.
        self._on_loops: dict[int, tuple[asyncio.AbstractEventLoop, Any, Any, asyncio.Lock]] = {}

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

    @asynccontextmanager
    async def _async_turn(self) -> AsyncIterator[Any]:
        """``_turn`` for the event loop: this loop's asyncio client, one call at a time, refused at once while Redis
        was just found down."""
        if time.monotonic() < self._down_until:
            raise LimiterUnavailable()
        loop = asyncio.get_running_loop()
        found = self._on_loops.get(id(loop))
        if found is None or found[0] is not loop:  # a new loop (a closed one's id may come back)
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(self.url, **_OPTIONS)
            found = self._on_loops[id(loop)] = (loop, client, client.register_script(SWAP), asyncio.Lock())
        _, client, swap, turn = found
        async with turn:
            try:
                yield client, swap
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
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None:
        """Spend one attempt in every (limit, key) bucket, for every machine at once (see ``Limiter``)."""
        buckets, keys = self._keys(wanted, then, once)
        with self._turn():
            for _ in range(RETRIES):
                found = self._redis.mget(keys)
                if once is not None and found[-1] is not None:
                    return None  # this challenge was answered before, on some machine
                decision, writes = self._spend(wanted, then, buckets, found, at, once)
                if self._swap(keys=keys, args=writes):
                    return decision
            raise self._unavailable(RuntimeError(f"{RETRIES} attempts overtaken by other machines"))

    async def take_all_async(
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None:
        """``take_all`` on the event loop: the same two round trips through redis-py's asyncio client."""
        buckets, keys = self._keys(wanted, then, once)
        async with self._async_turn() as (client, swap):
            for _ in range(RETRIES):
                found = await client.mget(keys)
                if once is not None and found[-1] is not None:
                    return None
                decision, writes = self._spend(wanted, then, buckets, found, at, once)
                if await swap(keys=keys, args=writes):
                    return decision
            raise self._unavailable(RuntimeError(f"{RETRIES} attempts overtaken by other machines"))

    def _keys(
        self,
        wanted: Buckets,
        then: Buckets,
        once: Once | None,
    ) -> tuple[list[tuple[Limit, str]], list[str]]:
        """The buckets of an attempt, and the keys it reads and swaps (the nonce's last)."""
        buckets = [*wanted, *then]
        keys = [self._bucket(key) for _, key in buckets]
        return buckets, [*keys, self._nonce(once[0])] if once is not None else keys

    def _spend(
        self,
        wanted: Buckets,
        then: Buckets,
        buckets: Buckets,
        found: Sequence[str | None],
        at: float,
        once: Once | None,
    ) -> tuple[Decision, list[str]]:
        """Decide the attempt from the stored buckets (``tepat.domain.throttle.attempt``, the one place of the rule)
        and the swap's arguments: for each key the value read, the value to write (``""``: none) and when Redis
        forgets it (ms)."""
        stored = {k: _parse(v) for (_, k), v in zip(buckets, found, strict=False) if v is not None}
        decision, spent = attempt(wanted, then, stored, at)
        new = {bucket.key: bucket for bucket in spent}
        args: list[str] = []
        for (_, key), seen in zip(buckets, found, strict=False):
            bucket = new.get(key)
            _, value, forget_at_ms = self._write(bucket) if bucket is not None else ("", "", 0)
            args += [seen or "", value, str(forget_at_ms)]
        if once is not None:
            args += ["", "1", str(max(math.ceil(once[1]), math.ceil(at) + 1) * 1000)]
        return decision, args

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

    async def aclose(self) -> None:
        """Close this loop's asyncio client (each loop's belongs to it; a server has one) and the blocking one: a
        stopping server leaves no connection open on Redis."""
        found = self._on_loops.pop(id(asyncio.get_running_loop()), None)
        if found is not None:
            await found[1].aclose()
        self.close()


SWAP = """
for i = 1, #KEYS do
  local seen = redis.call('GET', KEYS[i])
  if (seen or '') ~= ARGV[3 * i - 2] then return 0 end
end
for i = 1, #KEYS do
  if ARGV[3 * i - 1] ~= '' then redis.call('SET', KEYS[i], ARGV[3 * i - 1], 'PXAT', ARGV[3 * i]) end
end
return 1
"""
"""Compare and set: KEYS[i] becomes ARGV[3i-1] (forgotten at ARGV[3i] ms) if it still holds ARGV[3i-2] (``""``:
absent), for all keys or none; 1 when written. No rule of tepat's is in it: the buckets are decided in Python."""

_OPTIONS: dict[str, Any] = {
    "socket_timeout": TIMEOUT_SECONDS,
    "socket_connect_timeout": TIMEOUT_SECONDS,
    "decode_responses": True,
}


def _parse(stored: str) -> tuple[float, float]:
    """A stored bucket's tokens and time."""
    tokens, last = stored.split()
    return float(tokens), float(last)

"""Rate limiting as a token bucket per key, over a clock the caller passes in (pure: no I/O, no global time).

A key (a hashed client address, a hashed NIK) starts with ``capacity`` tokens;
each attempt takes one; tokens come back at ``refill_per_second``. The bucket
arithmetic (``refill``, ``spend``) is shared by the in-process ``Throttle``
here and by the store that keeps buckets in a file shared by several worker
processes (``tepat.store.rate_limits``); both answer the ``Limiter`` protocol.
Memory is bounded: when more than ``max_keys`` keys are tracked, the fullest
buckets (those idle longest) are forgotten first, which only ever errs towards
letting a request through once more.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limit:
    """``capacity`` attempts at once, then one more every ``1 / refill_per_second`` seconds."""

    capacity: float
    refill_per_second: float

    @classmethod
    def per(cls, attempts: int, seconds: float) -> Limit:
        """``attempts`` in a burst, refilled evenly over ``seconds``."""
        return cls(capacity=float(attempts), refill_per_second=attempts / seconds)


Buckets = Sequence[tuple[Limit, str]]
"""The buckets one attempt spends in: (limit, key) pairs."""

Once = tuple[str, float]
"""A challenge's nonce and its expiry (epoch seconds): it may be answered once, by one attempt."""


@dataclass(frozen=True)
class Decision:
    """Whether an attempt may go ahead, and when the next one would; ``refused`` holds the positions (in the
    buckets asked for) of those that refused it, so a caller can tell a busy service from one client's excess."""

    allowed: bool
    retry_after: float
    refused: tuple[int, ...] = ()


def refill(limit: Limit, tokens: float, last: float, at: float) -> float:
    """The tokens of a bucket that held ``tokens`` at ``last``, at time ``at`` (a clock going back adds none)."""
    return min(limit.capacity, tokens + max(0.0, at - last) * limit.refill_per_second)


def spend(limit: Limit, tokens: float) -> tuple[Decision, float]:
    """Take one token if there is one: the decision and the tokens left (a refused attempt takes nothing)."""
    if tokens >= 1.0:
        return Decision(True, 0.0), tokens - 1.0
    return Decision(False, (1.0 - tokens) / limit.refill_per_second), tokens


def give_back(limit: Limit, tokens: float) -> float:
    """A bucket holding ``tokens`` after a token taken for an attempt that, in the end, does not count."""
    return min(limit.capacity, tokens + 1.0)


def full_again_at(limit: Limit, tokens: float, at: float) -> float:
    """When a bucket holding ``tokens`` at ``at`` is full again (then it can be forgotten: a new one is the same)."""
    return at + (limit.capacity - tokens) / limit.refill_per_second


def combine(decisions: Sequence[Decision]) -> Decision:
    """Allowed only when every bucket allowed; otherwise wait for the slowest refusing bucket."""
    refused = [i for i, d in enumerate(decisions) if not d.allowed]
    if not refused:
        return Decision(True, 0.0)
    return Decision(False, max(decisions[i].retry_after for i in refused), tuple(refused))


@dataclass(frozen=True)
class Spent:
    """A bucket after an attempt: its tokens at ``at``, and when it is full again (then a store may forget it)."""

    key: str
    tokens: float
    at: float
    full_at: float


def attempt(
    wanted: Buckets,
    then: Buckets,
    stored: Mapping[str, tuple[float, float]],
    at: float,
) -> tuple[Decision, list[Spent]]:
    """One attempt against buckets a shared store holds (``stored``: key → tokens, when; a missing bucket is full):
    every ``wanted`` bucket spends, the ``then`` buckets only when all of those allowed it (see ``Limiter``). Returns
    the decision and the buckets to write back; a bucket's time never goes back (another process may have written a
    moment "later" while this one waited)."""
    decisions: list[Decision] = []
    spent: list[Spent] = []

    def spend_in(buckets: Buckets) -> None:
        for limit, key in buckets:
            tokens, last = stored.get(key, (limit.capacity, at))
            decision, left = spend(limit, refill(limit, tokens, last, at))
            stamp = max(at, last)
            spent.append(Spent(key, left, stamp, full_again_at(limit, left, stamp)))
            decisions.append(decision)

    spend_in(wanted)
    if then and all(d.allowed for d in decisions):
        spend_in(then)
    return combine(decisions), spent


class Limiter(Protocol):
    """Spends one attempt against several (limit, key) buckets at once; in one process or shared between several.

    ``once`` is a (key, expiry) that must never have been seen before (a
    challenge's nonce): when it has, nothing is spent and the answer is
    ``None``; otherwise it is remembered until its expiry, in the same step.
    ``then`` buckets (a whole service's) are spent only when every ``wanted``
    bucket allowed the attempt, so one client refused by its own bucket never
    uses up what everyone shares; their positions in ``Decision.refused``
    follow those of ``wanted``.
    """

    over_network: bool
    """Whether a call waits on another machine (Redis): then ``take_all`` never runs on an event loop, and
    ``take_all_async`` is what a loop awaits."""

    def take_all(
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None: ...

    async def take_all_async(
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None:
        """``take_all`` for an event loop: awaits the network instead of blocking (a local limiter just answers)."""
        ...

    def give_back(self, limit: Limit, key: str, at: float) -> None:
        """Return the token an attempt took from one bucket, when the attempt turned out not to count (a public
        form refused for its content counts against the failures' limit, not the submissions')."""


class Throttle:
    """Token buckets for many keys under one limit; safe to share between threads."""

    def __init__(self, limit: Limit, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, key: str, at: float) -> float:
        tokens, last = self._buckets.get(key, (self.limit.capacity, at))
        return refill(self.limit, tokens, last, at)

    def peek(self, key: str, at: float) -> Decision:
        """Would an attempt at ``at`` be allowed (without taking a token)?"""
        with self._lock:
            return spend(self.limit, self._tokens(key, at))[0]

    def take(self, key: str, at: float) -> Decision:
        """Spend one token for ``key`` at time ``at`` (seconds); refused when the bucket is empty."""
        with self._lock:
            decision, left = spend(self.limit, self._tokens(key, at))
            self._buckets[key] = (left, at)
            if len(self._buckets) > self.max_keys:
                self._forget(at)
            return decision

    def give_back(self, key: str, at: float) -> None:
        """Return one token to ``key``'s bucket (see ``Limiter.give_back``)."""
        with self._lock:
            self._buckets[key] = (give_back(self.limit, self._tokens(key, at)), at)

    def _forget(self, at: float) -> None:
        by_fullness = sorted(self._buckets, key=lambda k: self._tokens(k, at), reverse=True)
        for key in by_fullness[: len(self._buckets) - self.max_keys // 2]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def take_all(throttles: Sequence[tuple[Throttle, str]], at: float) -> Decision:
    """One attempt against every (throttle, key) pair: allowed only when all of them allow it.

    A refused attempt still takes a token from every bucket that has one, so
    a script cannot spread its guesses to keep one bucket full.
    """
    return combine([t.take(k, at) for t, k in throttles])


class AnswersAtOnce:
    """For a limiter on this host (memory, a local file): ``take_all_async`` is ``take_all``, answered at once."""

    def take_all(
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None:
        raise NotImplementedError

    async def take_all_async(
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None:
        """See ``Limiter.take_all_async``."""
        return self.take_all(wanted, at, once, then)


class LocalLimiter(AnswersAtOnce):
    """A ``Limiter`` in this process's memory: one ``Throttle`` per limit (for one process, and for tests)."""

    over_network = False

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._throttles: dict[Limit, Throttle] = {}
        self._seen: dict[str, float] = {}  # ``once`` keys -> expiry
        self._lock = threading.Lock()

    def _throttle(self, limit: Limit) -> Throttle:
        with self._lock:
            found = self._throttles.get(limit)
            if found is None:
                found = self._throttles[limit] = Throttle(limit, max_keys=self.max_keys)
            return found

    def give_back(self, limit: Limit, key: str, at: float) -> None:
        """See ``Limiter.give_back``."""
        self._throttle(limit).give_back(key, at)

    def take_all(
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None:
        """Spend one attempt in every (limit, key) bucket (keys carry their purpose: ``"nik:…"``); see ``Limiter``."""
        if once is not None:
            with self._lock:
                if len(self._seen) >= self.max_keys:
                    self._seen = {k: e for k, e in self._seen.items() if e >= at}
                if once[0] in self._seen:
                    return None
                self._seen[once[0]] = once[1]
        first = [self._throttle(limit).take(key, at) for limit, key in wanted]
        if then and all(d.allowed for d in first):
            first += [self._throttle(limit).take(key, at) for limit, key in then]
        return combine(first)

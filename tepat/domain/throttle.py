"""Rate limiting as a token bucket per key, over a clock the caller passes in (pure: no I/O, no global time).

A key (a hashed client address, a hashed NIK) starts with ``capacity`` tokens;
each attempt takes one; tokens come back at ``refill_per_second``. Memory is
bounded: when more than ``max_keys`` keys are tracked, the fullest buckets
(those idle longest) are forgotten first, which only ever errs towards letting
a request through once more.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """``capacity`` attempts at once, then one more every ``1 / refill_per_second`` seconds."""

    capacity: float
    refill_per_second: float

    @classmethod
    def per(cls, attempts: int, seconds: float) -> Limit:
        """``attempts`` in a burst, refilled evenly over ``seconds``."""
        return cls(capacity=float(attempts), refill_per_second=attempts / seconds)


@dataclass(frozen=True)
class Decision:
    """Whether an attempt may go ahead, and when the next one would."""

    allowed: bool
    retry_after: float


class Throttle:
    """Token buckets for many keys under one limit; safe to share between threads."""

    def __init__(self, limit: Limit, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, key: str, at: float) -> float:
        tokens, last = self._buckets.get(key, (self.limit.capacity, at))
        return min(self.limit.capacity, tokens + max(0.0, at - last) * self.limit.refill_per_second)

    def peek(self, key: str, at: float) -> Decision:
        """Would an attempt at ``at`` be allowed (without taking a token)?"""
        with self._lock:
            return self._decide(self._tokens(key, at))

    def _decide(self, tokens: float) -> Decision:
        if tokens >= 1.0:
            return Decision(True, 0.0)
        return Decision(False, (1.0 - tokens) / self.limit.refill_per_second)

    def take(self, key: str, at: float) -> Decision:
        """Spend one token for ``key`` at time ``at`` (seconds); refused when the bucket is empty."""
        with self._lock:
            tokens = self._tokens(key, at)
            decision = self._decide(tokens)
            self._buckets[key] = (tokens - 1.0 if decision.allowed else tokens, at)
            if len(self._buckets) > self.max_keys:
                self._forget(at)
            return decision

    def _forget(self, at: float) -> None:
        by_fullness = sorted(self._buckets, key=lambda k: self._tokens(k, at), reverse=True)
        for key in by_fullness[: len(self._buckets) - self.max_keys // 2]:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def take_all(throttles: list[tuple[Throttle, str]], at: float) -> Decision:
    """Spend a token in every (throttle, key) pair only when all of them allow it."""
    refused = [t.peek(k, at) for t, k in throttles]
    blocked = [d for d in refused if not d.allowed]
    if blocked:
        for t, k in throttles:  # a refused attempt still counts against every key
            t.take(k, at)
        return Decision(False, max(d.retry_after for d in blocked))
    for t, k in throttles:
        t.take(k, at)
    return Decision(True, 0.0)

"""Rate-limit buckets and used challenge nonces in one small SQLite file shared by every worker process.

With ``tepat serve --workers N`` each worker is its own process: buckets kept
in memory would give a script N times the allowance (and a solved challenge
could be replayed once per worker). This file holds them for every worker on
the host.

Why a separate SQLite file (next to the uploads) and not a table in the
registry database: the state is small, short-lived and written on every
public check; in the registry database each check would take the writer lock
(SQLite) or add WAL and replication traffic (PostgreSQL) for data nobody needs
after an hour, and it would need a migration. Losing the file (or its last
writes at a power cut: it is written without fsync) only lets a few more
attempts through, like a restart did before. It is shared by the processes of
one host; several hosts behind one address need the limit at the proxy too.

Writers take an exclusive ``flock`` on a lock file beside it before each
short transaction, so they queue in the kernel for microseconds instead of
meeting SQLite's busy handler (which sleeps a whole millisecond or more).
Rows are forgotten once a bucket is full again or a nonce has expired, a
bounded batch at a time so that no worker waits long for the lock.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tepat.domain.throttle import (
    AnswersAtOnce,
    Buckets,
    Decision,
    Limit,
    Once,
    attempt,
    full_again_at,
    give_back,
    refill,
)

if TYPE_CHECKING:
    from tepat.store.redis_limits import RedisLimiter

PAGE_SIZE = 1024  # each attempt rewrites a few pages: small ones keep the bytes written per check low
PRUNE_EVERY_SECONDS = 1.0
PRUNE_ROWS = 2000  # per table and pass (a millisecond or two): more than a busy public check adds in a second

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL, "
        "full_at REAL NOT NULL) WITHOUT ROWID"
    ),
    "CREATE INDEX IF NOT EXISTS ix_buckets_full_at ON buckets (full_at)",
    "CREATE TABLE IF NOT EXISTS used_nonces (nonce TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS ix_used_nonces_expires ON used_nonces (expires)",
)


FILE_NAME = "rate-limits.sqlite"
"""Its name in the upload directory, shared by the worker processes of one host."""


def open_shared(
    upload_dir: Path, redis_url: str = "", redis_prefix: str = "tepat"
) -> RateLimitFile | RedisLimiter:
    """The rate limits every process serving this office shares: in Redis when ``redis_url`` is set (several
    machines, keys under ``redis_prefix``: ``tepat.store.redis_limits``), otherwise in the file of this host's
    upload directory."""
    if redis_url:
        from tepat.store.redis_limits import RedisLimiter

        return RedisLimiter(redis_url, prefix=redis_prefix)
    return RateLimitFile(Path(upload_dir) / FILE_NAME)


class RateLimitFile(AnswersAtOnce):
    """A ``Limiter`` (and a challenge replay guard) whose state lives in ``path``, shared between processes."""

    over_network = False  # a local file: microseconds

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._thread_lock = threading.Lock()  # flock does not exclude threads sharing the descriptor
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._pruned_at = float("-inf")
        with self._locked():
            self._conn.execute(
                f"PRAGMA page_size={PAGE_SIZE}"
            )  # before the first table: small rows, small pages
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=OFF")
            for statement in _SCHEMA:
                self._conn.execute(statement)

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        import fcntl  # POSIX file locks; imported here so that the package imports on every platform

        with self._thread_lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield self._conn
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextmanager
    def _transaction(self, at: float) -> Iterator[sqlite3.Connection]:
        with self._locked() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                if (
                    at - self._pruned_at >= PRUNE_EVERY_SECONDS
                ):  # a bounded batch: every worker waits for this lock
                    conn.execute(
                        "DELETE FROM buckets WHERE key IN "
                        "(SELECT key FROM buckets WHERE full_at < ? ORDER BY full_at LIMIT ?)",
                        (at, PRUNE_ROWS),
                    )
                    conn.execute(
                        "DELETE FROM used_nonces WHERE nonce IN "
                        "(SELECT nonce FROM used_nonces WHERE expires < ? ORDER BY expires LIMIT ?)",
                        (at, PRUNE_ROWS),
                    )
                    self._pruned_at = at
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def take_all(
        self, wanted: Buckets, at: float, once: Once | None = None, then: Buckets = ()
    ) -> Decision | None:
        """Spend one attempt in every (limit, key) bucket, for all processes at once (``at``: wall-clock seconds).

        ``once`` (a challenge's nonce and expiry) is checked and remembered in
        the same transaction: one lock and one commit per public check.
        """
        keys = [key for _, key in (*wanted, *then)]
        marks = ", ".join("?" * len(keys))
        with self._transaction(at) as conn:
            if once is not None and not self._remember(conn, *once):
                return None
            found = conn.execute(f"SELECT key, tokens, at FROM buckets WHERE key IN ({marks})", keys)
            decision, spent = attempt(wanted, then, {key: (tokens, last) for key, tokens, last in found}, at)
            conn.execute(
                f"INSERT OR REPLACE INTO buckets (key, tokens, at, full_at) VALUES "
                f"{', '.join(['(?, ?, ?, ?)'] * len(spent))}",
                [value for b in spent for value in (b.key, b.tokens, b.at, b.full_at)],
            )
        return decision

    def give_back(self, limit: Limit, key: str, at: float) -> None:
        """Return one token to a bucket, for every process (see ``Limiter.give_back``)."""
        with self._transaction(at) as conn:
            found = conn.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,)).fetchone()
            if found is None:
                return  # a full bucket is not stored: nothing to give back
            left = give_back(limit, refill(limit, found[0], found[1], at))
            stamp = max(at, found[1])
            conn.execute(
                "INSERT OR REPLACE INTO buckets (key, tokens, at, full_at) VALUES (?, ?, ?, ?)",
                (key, left, stamp, full_again_at(limit, left, stamp)),
            )

    @staticmethod
    def _remember(conn: sqlite3.Connection, nonce: str, expires: float) -> bool:
        inserted = conn.execute(
            "INSERT OR IGNORE INTO used_nonces (nonce, expires) VALUES (?, ?)", (nonce, expires)
        )
        return inserted.rowcount == 1

    def use(self, nonce: str, expires: int, at: float) -> bool:
        """Mark a challenge nonce used; ``False`` when any process already did (the ``ReplayGuard`` contract)."""
        with self._locked() as conn:  # one statement: its own transaction
            return self._remember(conn, nonce, expires)

    def ping(self) -> bool:
        """Always ``True``: the file is on this host (``RedisLimiter.ping`` asks Redis)."""
        return True

    def close(self) -> None:
        self._conn.close()
        os.close(self._lock_fd)

    async def aclose(self) -> None:
        """``close``, as the web server's shutdown awaits it (the Redis limiter's closes asyncio clients)."""
        self.close()

"""The one buffered writer (tepat.store.buffered): rows written in batches, in order, never lost by a failed
write, by the caller or the background thread as the policy says; Database owns the writers and writes them out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tepat.services.status_check import StatusChecker
from tepat.store.buffered import BufferedWriter, WhenFull
from tepat.store.database import Database
from tepat.store.schema import status_checks

_rows = sa.Table("rows", sa.MetaData(), sa.Column("n", sa.Integer))


def _write(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(_rows.insert(), rows)


@pytest.fixture
def engine(tmp_path: Path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rows.sqlite'}", connect_args={"timeout": 0.2})
    _rows.create(engine)
    yield engine
    engine.dispose()


def _stored(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return [r.n for r in conn.execute(sa.select(_rows.c.n).order_by(sa.text("rowid")))]


def _eventually(condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_full_batch_is_written_by_the_caller(engine) -> None:
    writer = BufferedWriter(engine, _write, name="t", batch=3, max_delay=3600, when_full=WhenFull.WRITE)
    writer.add({"n": 1})
    writer.add({"n": 2})
    assert _stored(engine) == [] and writer.pending == 2
    writer.add({"n": 3})
    assert _stored(engine) == [1, 2, 3] and writer.pending == 0


def test_the_thread_writes_what_waits_too_long(engine) -> None:
    writer = BufferedWriter(engine, _write, name="t", batch=100, max_delay=0.05, when_full=WhenFull.LEAVE)
    writer.add({"n": 1})
    writer.add({"n": 2})
    assert _eventually(lambda: _stored(engine) == [1, 2])
    assert writer.pending == 0


def test_a_full_batch_left_to_the_thread_is_never_written_by_the_caller(engine) -> None:
    writer = BufferedWriter(engine, _write, name="t", batch=2, max_delay=3600, when_full=WhenFull.LEAVE)
    with engine.begin() as other:  # another writer holds SQLite's lock: a caller writing would have to wait
        other.execute(_rows.insert(), [{"n": 0}])
        started = time.monotonic()
        writer.add({"n": 1})
        writer.add({"n": 2})  # full: the thread's, not ours
        assert time.monotonic() - started < 0.2 and writer.pending in (0, 2)
    assert _eventually(lambda: _stored(engine) == [0, 1, 2])


def test_write_if_free_keeps_the_rows_in_order_when_the_lock_is_taken(engine) -> None:
    writer = BufferedWriter(
        engine, _write, name="t", batch=2, max_delay=3600, when_full=WhenFull.WRITE_IF_FREE
    )
    with engine.begin() as other:
        other.execute(_rows.insert(), [{"n": 0}])
        writer.add({"n": 1})
        writer.add({"n": 2})  # full, lock taken: left for the thread, nothing lost
        writer.add({"n": 3})
    assert _eventually(lambda: _stored(engine)[:3] == [0, 1, 2])
    writer.flush()
    assert _stored(engine) == [0, 1, 2, 3]
    writer.add({"n": 4})
    writer.add({"n": 5})  # full, lock free: written by the caller at once
    assert _stored(engine) == [0, 1, 2, 3, 4, 5]


def test_a_failed_write_is_tried_again_with_its_rows_first(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'later.sqlite'}")  # no table yet: writes fail
    writer = BufferedWriter(engine, _write, name="t", batch=2, max_delay=0.05, when_full=WhenFull.LEAVE)
    writer.add({"n": 1})
    writer.add({"n": 2})
    time.sleep(0.2)  # the thread tried and failed: the rows wait
    writer.add({"n": 3})
    assert writer.pending == 3
    _rows.create(engine)
    assert _eventually(lambda: _stored(engine) == [1, 2, 3])
    engine.dispose()


def test_disposing_the_database_writes_the_status_check_log(db: Database, tmp_path: Path) -> None:
    """Before one writer, only the read audit was written out when the web app stopped: the status check's
    buffered log rows of the last moments were lost."""
    checker = StatusChecker(
        db, "rahasia-uji", log_batch=50, log_max_delay=3600, log_in_background=True
    )  # as the web app runs it, but never due by time
    checker.check("3275011705800001", "3275011507209999", client="a")
    assert checker.log_writer.pending == 1
    db.dispose()
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(status_checks)).scalar_one() == 1

"""Queries over the ``jobs`` table (background imports and exports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tepat.domain.jobs import UNFINISHED, JobState
from tepat.store.schema import jobs


def insert(
    conn: sa.Connection, *, kind: str, created_by: str, area_code: str, file_name: str, at: datetime
) -> int:
    result = conn.execute(
        jobs.insert()
        .values(
            kind=kind,
            created_by=created_by,
            area_code=area_code,
            file_name=file_name[:255],
            state=JobState.MENUNGGU.value,
            done=0,
            created_at=at,
        )
        .returning(jobs.c.id)
    )
    return int(result.scalar_one())


def start(conn: sa.Connection, job_id: int, at: datetime) -> None:
    conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(state=JobState.BERJALAN.value, started_at=at, heartbeat_at=at)
    )


def progress(conn: sa.Connection, job_id: int, done: int, total: int | None, at: datetime) -> None:
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(done=done, total=total, heartbeat_at=at))


def heartbeat(conn: sa.Connection, job_id: int, at: datetime) -> None:
    conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.state == JobState.BERJALAN.value)
        .values(heartbeat_at=at)
    )


def finish(
    conn: sa.Connection,
    job_id: int,
    *,
    state: str,
    result: dict[str, Any] | None,
    message: str | None,
    at: datetime,
) -> None:
    conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(
            state=state,
            result=result,
            message=(message or None) and message[:1000],
            finished_at=at,
            heartbeat_at=at,
        )
    )


def stop_unfinished(conn: sa.Connection, message: str, at: datetime, created_before: datetime) -> int:
    """Mark every job created before ``created_before`` and still waiting or running as failed with ``message``
    (their process is gone)."""
    result = conn.execute(
        jobs.update()
        .where(jobs.c.state.in_(UNFINISHED), jobs.c.created_at < created_before)
        .values(state=JobState.GAGAL.value, message=message, finished_at=at)
    )
    return int(result.rowcount or 0)


def get(conn: sa.Connection, job_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    return dict(row._mapping) if row else None


def recent_of(conn: sa.Connection, username: str, kind: str, limit: int = 10) -> list[dict[str, Any]]:
    """One user's latest jobs of one kind, newest first."""
    q = (
        sa.select(jobs)
        .where(jobs.c.created_by == username, jobs.c.kind == kind)
        .order_by(jobs.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def forget_results_before(conn: sa.Connection, cutoff: datetime) -> int:
    """Drop the results (they may list rows with personal data) of jobs finished before ``cutoff``."""
    result = conn.execute(
        jobs.update().where(jobs.c.finished_at < cutoff, jobs.c.result.is_not(None)).values(result=None)
    )
    return int(result.rowcount or 0)

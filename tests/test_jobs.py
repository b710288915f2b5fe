"""Background jobs (issue 13 point 5): an import runs after the page has answered, its page shows progress, a job
whose process died is shown as stopped, and old results and files are forgotten."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.services import jobs
from tepat.services.jobs import JobRunner
from tepat.store import jobs as job_store
from tepat.store.database import Database
from tepat.store.engine import now
from tests.conftest import actor
from tests.test_web_support import add_user, login, make_app


def test_the_import_page_shows_progress_while_the_job_runs(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tepat.services import imports

    released = threading.Event()

    def slow_import(*_args, progress=None, **_kwargs):
        progress(5, 10)
        released.wait(10)
        raise imports.ValidationError("dihentikan (uji)")

    monkeypatch.setattr(imports, "import_file", slow_import)
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    with TestClient(make_app(db, tmp_path)) as client:
        csrf = login(client, "ani")
        sent = client.post(
            "/impor",
            data={"csrf_token": csrf, "mode": "valid-only"},
            files={"file": ("a.csv", b"nik,nama\n1,a\n", "text/csv")},
            follow_redirects=False,
        )
        assert sent.status_code == 303  # answered before the import ran
        page = sent.headers["location"]
        deadline = time.monotonic() + 10
        while (
            "5 dari 10 baris (50%)" not in (running := client.get(page).text) and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert "5 dari 10 baris (50%)" in running and 'http-equiv="refresh"' in running
        assert page.rsplit("/", 1)[1] in client.get("/impor").text  # listed among my imports
        released.set()
        client.app.state.jobs.wait_idle()
        done = client.get(page)
    assert (
        done.status_code == 422
        and "dihentikan (uji)" in done.text
        and 'http-equiv="refresh"' not in done.text
    )


def test_a_job_left_running_by_a_dead_process_is_shown_as_stopped(db: Database, is_postgres: bool) -> None:
    owner = actor(Role.OPERATOR, "32.75.01.1001", username="ani")
    long_ago = now() - timedelta(minutes=30)
    with db.begin() as conn:
        job_id = job_store.insert(
            conn, kind="impor", created_by="ani", area_code="32.75.01.1001", file_name="a.csv", at=long_ago
        )
        job_store.start(conn, job_id, long_ago)
    runner = JobRunner(db)  # a new process
    runner.wait_idle()
    view = jobs.show(db, owner, job_id, runner)
    assert view.state in ("terhenti", "gagal") and "tidak ada yang tersimpan" in view.message
    assert not view.running
    runner.shutdown()


def test_a_new_process_never_stops_its_own_jobs_in_the_other_lane(db: Database) -> None:
    """A document job queued while the new process looks for dead processes' jobs is its own: it finishes."""
    owner = actor(Role.OPERATOR, "32.75.01.1001", username="ani")
    runner = JobRunner(db)
    runner.wait_idle()
    release = threading.Event()
    job_id = runner.submit(
        owner, "dokumen", "BAST", lambda progress: release.wait(10) and {"ok": 1}, lane="dokumen"
    )
    runner._mark_abandoned()  # what a new process does first, racing the job above
    release.set()
    runner.wait_idle()
    view = jobs.show(db, owner, job_id, runner)
    assert view.state == "selesai" and view.result == {"ok": 1}
    runner.shutdown()


def test_jobs_are_only_shown_to_their_owner_and_admins_of_the_area(db: Database) -> None:
    with db.begin() as conn:
        job_id = job_store.insert(
            conn, kind="impor", created_by="ani", area_code="32.75.01.1001", file_name="a.csv", at=now()
        )
    assert jobs.show(db, actor(Role.OPERATOR, "32.75.01.1001", username="ani"), job_id).file_name == "a.csv"
    assert jobs.show(db, actor(Role.ADMIN, "32.75.01"), job_id).file_name == "a.csv"
    for other in (actor(Role.OPERATOR, "32.75.01.1001", username="budi"), actor(Role.ADMIN, "32.75.02")):
        with pytest.raises(jobs.NotFound):
            jobs.show(db, other, job_id)


def test_old_results_and_files_are_forgotten_after_the_retention_period(db: Database, tmp_path: Path) -> None:
    old, fresh = tmp_path / "lama-galat.csv", tmp_path / "baru-galat.csv"
    (tmp_path / "ekspor").mkdir()
    old_export = tmp_path / "ekspor" / "lama.xlsx"
    for path in (old, fresh, old_export):
        path.write_text("baris,kolom,nilai,masalah\n")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(old_export, (month_ago, month_ago))
    with db.begin() as conn:
        job_id = job_store.insert(
            conn, kind="impor", created_by="ani", area_code="32.75", file_name="a.csv", at=now()
        )
        job_store.finish(
            conn,
            job_id,
            state="selesai",
            result={"rows": [{"field": "nik", "message": "x"}]},
            message=None,
            at=now() - timedelta(days=31),
        )
    assert jobs.forget_old(db, 30, tmp_path) == 3
    assert fresh.exists() and not old.exists() and not old_export.exists()
    with db.read() as conn:
        assert job_store.get(conn, job_id)["result"] is None

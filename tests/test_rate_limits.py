"""Rate limits and used challenges shared by worker processes (``tepat.store.rate_limits``), and ``serve --workers``."""

from __future__ import annotations

import gc
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from tepat.domain.throttle import Limit
from tepat.services.status_check import StatusChecker, TooManyAttempts
from tepat.store import rate_limits
from tepat.store.database import Database
from tepat.store.rate_limits import RateLimitFile
from tepat.store.schema import status_checks
from tests.test_portal_support import solve

SECRET = "uji-" + "k" * 40


def test_two_handles_on_one_file_share_the_buckets(tmp_path: Path) -> None:
    limit = Limit.per(3, 60.0)
    a, b = RateLimitFile(tmp_path / "rl.sqlite"), RateLimitFile(tmp_path / "rl.sqlite")
    assert a.take_all([(limit, "klien:x")], 0.0).allowed
    assert b.take_all([(limit, "klien:x")], 0.0).allowed
    assert a.take_all([(limit, "klien:x")], 0.0).allowed
    refused = b.take_all([(limit, "klien:x")], 1.0)
    assert not refused.allowed and 0 < refused.retry_after <= 20
    assert a.take_all([(limit, "klien:y")], 1.0).allowed  # other keys are independent
    assert b.take_all([(limit, "klien:x")], 21.0).allowed  # one token back after 20 s, for both
    assert not a.take_all([(limit, "klien:x")], 21.5).allowed


def test_a_refused_attempt_still_counts_against_every_key(tmp_path: Path) -> None:
    clients, niks = Limit.per(10, 60.0), Limit.per(2, 3600.0)
    limits = RateLimitFile(tmp_path / "rl.sqlite")
    assert limits.take_all([(clients, "klien:1"), (niks, "nik:n")], 0.0).allowed
    assert limits.take_all([(clients, "klien:2"), (niks, "nik:n")], 0.0).allowed
    third = limits.take_all([(clients, "klien:3"), (niks, "nik:n")], 0.0)  # a third client, same NIK
    assert not third.allowed and third.retry_after > 60
    for _ in range(9):  # klien:3 spent a token on the refused attempt: nine more, then refused
        limits.take_all([(clients, "klien:3")], 0.0)
    assert not limits.take_all([(clients, "klien:3")], 0.0).allowed


def test_a_challenge_nonce_is_used_once_across_handles(tmp_path: Path) -> None:
    a, b = RateLimitFile(tmp_path / "rl.sqlite"), RateLimitFile(tmp_path / "rl.sqlite")
    assert a.use("abc", 900, 0.0)
    assert not b.use("abc", 900, 1.0) and not a.use("abc", 900, 2.0)
    assert b.use("def", 900, 2.0)


def test_full_buckets_and_expired_nonces_are_forgotten(tmp_path: Path) -> None:
    limits = RateLimitFile(tmp_path / "rl.sqlite")
    limit = Limit.per(2, 60.0)
    limits.take_all([(limit, "klien:a"), (limit, "klien:b")], 0.0)
    limits.use("n1", 100, 0.0)

    def count(table: str) -> int:
        with sqlite3.connect(tmp_path / "rl.sqlite") as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    assert count("buckets") == 2 and count("used_nonces") == 1
    limits.take_all([(limit, "klien:c")], rate_limits.PRUNE_EVERY_SECONDS + 200.0)  # a and b are full again
    assert count("buckets") == 1 and count("used_nonces") == 0


def _spend(path: str, attempts: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limits = RateLimitFile(Path(path))
    limit = Limit.per(100, 3600.0)
    results.put(sum(limits.take_all([(limit, "klien:sama")], time.time()).allowed for _ in range(attempts)))


def test_processes_together_get_exactly_the_allowance(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_spend, args=(str(tmp_path / "rl.sqlite"), 80, results)) for _ in range(3)
    ]
    for w in workers:
        w.start()
    allowed = [results.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=30)
    assert sum(allowed) == 100  # not 3 × 80, not 3 × 100


def test_two_status_checkers_on_one_database_share_the_allowance(db: Database, tmp_path: Path) -> None:
    """Two worker processes each build their own checker; the limits hold for both together."""
    shared = tmp_path / "rate-limits.sqlite"
    one = StatusChecker(
        db, SECRET, client_limit=Limit.per(3, 60), nik_limit=Limit.per(2, 3600), limiter=RateLimitFile(shared)
    )
    two = StatusChecker(
        db, SECRET, client_limit=Limit.per(3, 60), nik_limit=Limit.per(2, 3600), limiter=RateLimitFile(shared)
    )
    one.check("3275011705800001", "3275011507209999", client="198.51.100.1")
    two.check("3275011705800002", "3275011507209999", client="198.51.100.1")
    one.check("3275011705800003", "3275011507209999", client="198.51.100.1")
    with pytest.raises(TooManyAttempts):
        two.check(
            "3275011705800004", "3275011507209999", client="198.51.100.1"
        )  # the client's fourth, on the other worker
    two.check("3275011705800050", "3275011507209999", client="198.51.100.2")
    one.check("3275011705800050", "3275011507209999", client="198.51.100.3")
    with pytest.raises(TooManyAttempts):
        two.check("3275011705800050", "3275011507209999", client="198.51.100.4")  # the NIK's third guess
    with db.read() as conn:
        outcomes = [
            r.outcome for r in conn.execute(sa.select(status_checks.c.outcome).order_by(status_checks.c.id))
        ]
    assert outcomes.count("dibatasi") == 2 and len(outcomes) == 7
    with sqlite3.connect(shared) as conn:
        stored = " ".join(k for (k,) in conn.execute("SELECT key FROM buckets"))
    assert "198.51.100" not in stored and "3275011705800050" not in stored  # keyed hashes only


# ----------------------------------------------------------------- tepat serve --workers


def test_serve_with_workers_hands_uvicorn_an_import_string(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from tepat.cli import app as cli_app
    from tepat.cli import asgi_app

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    monkeypatch.setenv("TEPAT_DATABASE_URL", "sqlite:///elsewhere.sqlite")
    result = CliRunner().invoke(cli_app, ["serve", "--workers", "2", "--port", "8124", "--db", db.url])
    assert result.exit_code == 0, result.output
    assert started["app"] == asgi_app.IMPORT_STRING and started["factory"] is True and started["workers"] == 2
    assert os.environ["TEPAT_DATABASE_URL"] == db.url  # what each worker reads
    built = asgi_app.create()
    assert built.state.db.url == db.url
    built.state.db.dispose()
    gc.unfreeze()  # create() froze this test process's objects, as a worker does at start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ask(base: str) -> dict[str, str]:
    soal = httpx.get(f"{base}/cek/api/soal").json()  # a new connection each time: any worker may answer
    return {"token": soal["token"], "jawaban": solve(soal["soal"])}


@pytest.mark.slow
def test_two_worker_processes_share_limits_and_challenges_and_both_write_the_log(
    db: Database, tmp_path: Path
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "TEPAT_DATABASE_URL": db.url,
        "TEPAT_UPLOAD_DIR": str(tmp_path / "unggahan"),
        "TEPAT_SECRET_KEY": SECRET,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tepat.cli import main; main()",
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/cek").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "tepat serve did not start"
            time.sleep(0.2)
        workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(workers) >= 2
        codes = []
        for _ in range(7):  # one NIK, seven guesses: five an hour, whichever worker answers (and ages slowly)
            body = {"nik": "3275011705800050", "nomor_kk": "3275011507209999", **_ask(base)}
            codes.append(httpx.post(f"{base}/cek/api", json=body).status_code)
        assert codes == [200] * 5 + [429] * 2
        body = {"nik": "3275011705800001", "nomor_kk": "3275011507209999", **_ask(base)}
        first = httpx.post(f"{base}/cek/api", json=body)
        again = [httpx.post(f"{base}/cek/api", json=body) for _ in range(4)]
        assert first.status_code == 200 and {r.status_code for r in again} == {400}  # one use, on any worker
    finally:
        server.terminate()
        server.wait(timeout=30)
    with db.read() as conn:  # each worker wrote its batch of log rows when it stopped
        logged = conn.execute(sa.select(sa.func.count()).select_from(status_checks)).scalar_one()
    assert logged == 8


# ----------------------------------------------------------------- the log, written without waiting


def test_a_log_batch_is_written_now_only_when_the_writer_lock_is_free(db: Database, tmp_path: Path) -> None:
    if db.dialect != "sqlite":
        pytest.skip("only SQLite has one writer lock; on PostgreSQL checks and log batches run in threads")
    checker = StatusChecker(
        db,
        SECRET,
        limiter=RateLimitFile(tmp_path / "rl.sqlite"),
        log_batch=2,
        log_max_delay=3600,
        log_in_background=True,
    )

    def logged() -> int:
        with db.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(status_checks)).scalar_one()

    with db.begin() as writer:  # another writer holds the lock: the check does not wait for it
        writer.exec_driver_sql("UPDATE regions SET name = name WHERE code = '32.75'")
        checker.check("3275011705800001", "3275011507209999", client="a")
        checker.check("3275011705800002", "3275011507209999", client="a")  # a full batch, left for the thread
        assert logged() == 0
    checker.flush()  # (the flusher thread writes them once the lock is free)
    assert logged() == 2
    checker.check("3275011705800003", "3275011507209999", client="a")
    checker.check("3275011705800004", "3275011507209999", client="a")
    assert logged() == 4  # lock free: written by the caller at once


def test_a_challenge_is_used_up_with_the_limits_in_one_step(tmp_path: Path) -> None:
    from tepat.domain.throttle import LocalLimiter

    limit = Limit.per(10, 60.0)
    for one, two in (
        (RateLimitFile(tmp_path / "rl.sqlite"), RateLimitFile(tmp_path / "rl.sqlite")),
        (LocalLimiter(),) * 2,
    ):
        assert one.take_all([(limit, "klien:z")], 0.0, ("nonce-1", 900.0)).allowed
        assert two.take_all([(limit, "klien:z")], 1.0, ("nonce-1", 900.0)) is None  # replayed: nothing spent
        for _ in range(9):
            assert two.take_all([(limit, "klien:z")], 1.0).allowed  # so nine more are still allowed
        assert not one.take_all([(limit, "klien:z")], 1.0, ("nonce-2", 900.0)).allowed


def test_two_status_checkers_refuse_a_reused_challenge(db: Database, tmp_path: Path) -> None:
    from tepat.services.status_check import ChallengeReused

    shared = tmp_path / "rate-limits.sqlite"
    one, two = (StatusChecker(db, SECRET, limiter=RateLimitFile(shared)) for _ in range(2))
    one.check("3275011705800001", "3275011507209999", client="a", once=("n1", time.time() + 900))
    with pytest.raises(ChallengeReused):
        two.check("3275011705800001", "3275011507209999", client="a", once=("n1", time.time() + 900))


class _OverTheNetwork(RateLimitFile):
    """The host's file, posing as limits on another machine (Redis): records whether a call ran on an event loop."""

    over_network = True

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.on_loop: list[bool] = []

    def _seen(self) -> None:
        import asyncio

        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)

    def use(self, nonce: str, expires: int, at: float) -> bool:
        self._seen()
        return super().use(nonce, expires, at)

    def take_all(self, wanted, at, once=None, then=()):  # type: ignore[no-untyped-def]
        self._seen()
        return super().take_all(wanted, at, once, then)


def test_limits_over_the_network_are_never_waited_for_on_the_event_loop(db: Database, tmp_path: Path) -> None:
    """A wrong answer spends its question in the shared limits; with Redis gone that call waits for its timeout, and
    on the event loop it would stall every request of the worker: a script sending wrong answers would stop it."""
    from fastapi.testclient import TestClient

    from tests.test_portal_support import citizen_app, form_challenge

    app = citizen_app(db, tmp_path)
    limits = app.state.rate_limits = _OverTheNetwork(tmp_path / "jaringan.sqlite")
    with TestClient(app) as http:
        question = http.get("/cek/api/soal").json()
        wrong = str(int(solve(question["soal"])) + 1)
        body = {"nik": "3275011705800001", "nomor_kk": "3275011507209999", "token": question["token"]}
        assert http.post("/cek/api", json={**body, "jawaban": wrong}).status_code == 400
        page = http.get("/layanan/pengaduan").text
        http.post("/layanan/pengaduan", data={"isi": "", **form_challenge(page)})
    assert limits.on_loop and not any(limits.on_loop)

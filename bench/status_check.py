"""The public status check under load, against a trivial endpoint of the same server in the same run.

    python bench/status_check.py --people 1000000 --seconds 10 --concurrency 64 --workers 2 --rate 1000

Steps: build a SQLite registry of ``--people`` people (about three per family)
with plain ``executemany`` into a freshly migrated database (plus a frozen BLT-APBD cycle for one
family in three, so found answers carry a programme status); start the real
web app (with the portal router) under uvicorn with ``--workers`` processes on
127.0.0.1; drive it from this process with a small load generator (asyncio
protocols on uvloop when installed, one keep-alive connection each,
pre-built requests each with its own solved challenge, responses parsed only
as far as status and length) for a fixed number of seconds: first
``GET /bench/trivial`` (a route that returns a constant JSON body, behind the
same middleware), then ``POST /cek/api`` as fast as it answers (90 % known
people with the right nomor KK, 10 % unknown NIKs), then the check paced at
``--rate`` requests per second (latency counted from each request's planned
start, so a slow server cannot hide its queue). Rate limits are lifted for
those phases only (very large buckets, still kept in the shared file every
worker uses). Finally the enumeration experiment (issue 13 point 4) with the real
limits against fresh servers with the same number of workers: thousands of guessed
NIK + KK pairs from one client that puts a new address in ``X-Forwarded-For`` on
every request, once with no trusted proxy (the header is ignored: the per-client
limit holds) and once with 127.0.0.1 as a trusted proxy (every guess looks like
another client: only the service's global limit per minute holds), counting
answers, refusals, "sedang ramai" and whether any answer found anyone. Also
counted: the status-check log rows written by all workers against the checks
sent, and the CPU used by the server processes and by the load generator
itself. Traffic stays on loopback; every phase is bounded in time and count.
Prints JSON and a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-" + "s" * 40
_WORDS = {
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}

SERVER = r"""
import os, sys
sys.path.insert(0, {root!r})
import uvicorn


def make():
    from pathlib import Path
    from fastapi.responses import JSONResponse
    from tepat.cli.asgi_app import ready_to_serve
    from tepat.config import Settings
    from tepat.domain.throttle import Limit
    from tepat.portal import routes as portal
    from tepat.services.status_check import StatusChecker
    from tepat.store.database import Database
    from tepat.store.rate_limits import open_shared
    from tepat.web.app import create_app

    settings = Settings(database_url={url!r}, secret_key={secret!r}, upload_dir=Path({upload!r}),
                        trusted_proxies={trusted!r}, status_checks_per_minute={per_minute!r},
                        redis_url={redis_url!r}, redis_prefix={redis_prefix!r})
    db = Database(settings.database_url)
    app = create_app(settings, db)
    if "/cek" not in {{getattr(r, "path", "") for r in app.routes}}:
        app.include_router(portal.router)
    if {unlimited!r}:  # very large buckets, still in the shared store: its cost stays in the measurement
        limits = open_shared(settings.upload_dir, settings.redis_url, settings.redis_prefix)
        app.state.rate_limits = limits
        app.state.status_checker = StatusChecker(db, settings.secret_key, client_limit=Limit.per(10**9, 1.0),
                                                 nik_limit=Limit.per(10**9, 1.0), per_minute=10**9, limiter=limits,
                                                 log_batch=portal.LOG_BATCH, log_in_background=True)

    @app.get("/bench/trivial")
    def trivial():
        return JSONResponse({{"ok": True}})

    db.regions
    return ready_to_serve(app)  # as tepat serve does


if __name__ == "__main__":
    uvicorn.run("{module}:make", factory=True, app_dir=os.path.dirname(os.path.abspath(__file__)),
                host="127.0.0.1", port={port}, workers={workers}, log_level="warning", access_log=False,
                proxy_headers=False)  # as tepat serve: client addresses come from TEPAT_TRUSTED_PROXIES only
"""


def build_registry(path: Path, people: int) -> list[tuple[str, str]]:
    """A migrated SQLite database holding ``people`` people; returns a sample of (NIK, nomor KK)."""
    from tepat.domain.regions import Level
    from tepat.services.setup import init_database
    from tepat.store.database import Database
    from tepat.synth.geography import SYNTH_CITY

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    init_database(
        db, office=SYNTH_CITY
    )  # the office served: the residents' pages name it and the checker needs it
    kelurahan = [r.code for r in db.regions.descendants(SYNTH_CITY, Level.KELURAHAN)]
    db.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    stamp = "2026-01-01 00:00:00.000000"
    base = date(1940, 1, 1)
    families, members, sample = [], [], []
    family_id = 0
    for i in range(people):
        if i % 3 == 0:
            family_id += 1
            kel = kelurahan[family_id % len(kelurahan)]
            families.append(
                (
                    family_id,
                    f"3275{family_id:012d}"[:16],
                    kel,
                    kel[:8],
                    1 + family_id % 20,
                    1 + family_id % 15,
                    "aktif",
                    "belum",
                    1,
                    stamp,
                    "bench",
                    "bench",
                    kel[:5],
                )
            )
        birth = base + timedelta(days=(i * 7919) % 25000)
        sex = "L" if i % 2 else "P"
        day = birth.day + (0 if sex == "L" else 40)
        nik = f"3275{1 + i % 12:02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}{i % 9999 + 1:04d}"
        relationship = "kepala_keluarga" if i % 3 == 0 else "anak"
        members.append(
            (
                i + 1,
                family_id,
                nik,
                f"WARGA NOMOR {i}",
                sex,
                birth.isoformat(),
                relationship,
                "hidup",
                "aktif",
                1,
                stamp,
                "bench",
                "bench",
                kelurahan[family_id % len(kelurahan)][:5],
            )
        )
        if i % 97 == 0:
            sample.append((nik, f"3275{family_id:012d}"[:16]))
    with conn:
        conn.executemany(
            "INSERT INTO families (id, kk_number, kelurahan_code, kecamatan_code, rw, rt, registry_status, "
            "verification_status, version, valid_from, changed_by, change_reason, office_code) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            families,
        )
        conn.executemany(
            "INSERT INTO members (id, family_id, nik, name, sex, birth_date, relationship, life_status, status, "
            "version, valid_from, changed_by, change_reason, office_code) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            members,
        )
        # A frozen BLT-APBD cycle for one family in three, so that found answers carry a programme status.
        conn.execute(
            "INSERT INTO programmes (id, code, name, unit, benefit_type, funding_source, frequency, amount, "
            "budget_year, rule, exclusions, active, version, created_by, created_at, updated_by, updated_at, "
            "office_code) VALUES (1, 'BLT-APBD', 'BLT-APBD Kota Bekasi', 'keluarga', 'tunai', 'APBD', 'sekali', "
            "250000, 2025, 'status == \"aktif\"', '[]', 1, 1, 'bench', ?, 'bench', ?, ?)",
            (stamp, stamp, SYNTH_CITY),
        )
        conn.execute(
            "INSERT INTO benefit_cycles (id, programme_id, name, period_start, period_end, reference_date, state, "
            "programme_snapshot, entitlements, total_amount, blocked, version, created_by, created_at) VALUES "
            "(1, 1, 'BLT-APBD Juli 2025', '2025-07-01', '2025-07-31', '2025-07-01', 'disetujui', '{}', 0, 0, 0, 1, "
            "'bench', ?)",
            (stamp,),
        )
        conn.execute(
            "INSERT INTO entitlements (cycle_id, unit_key, family_id, member_id, kk_number, recipient_nik, "
            "recipient_name, kelurahan_code, kecamatan_code, rw, rt, amount, source, state, office_code) "
            "SELECT 1, f.id, f.id, m.id, f.kk_number, m.nik, m.name, f.kelurahan_code, f.kecamatan_code, f.rw, "
            "f.rt, 250000, 'aturan', 'terjadwal', f.office_code FROM families f JOIN members m ON m.family_id = f.id "
            "AND m.relationship = 'kepala_keluarga' WHERE f.id % 3 = 0"
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sample


def start_server(
    url: str,
    port: int,
    workdir: Path,
    *,
    unlimited: bool,
    workers: int,
    trusted: tuple[str, ...] = (),
    per_minute: int = 600,
    redis_url: str = "",
    redis_prefix: str = "tepat",
) -> subprocess.Popen[bytes]:
    """The app under uvicorn in a child process (a supervisor and ``workers`` processes when more than one).

    Refuses a port something already answers on: the bench would otherwise measure that other server. With
    ``redis_url`` the rate limits live in Redis (under ``redis_prefix``), as several machines share them."""
    if _answers(port):
        raise SystemExit(f"port {port} is already in use: stop what listens there or choose another --port")
    code = SERVER.format(
        root=str(ROOT),
        url=url,
        secret=SECRET,
        upload=str(workdir / "unggahan"),
        port=port,
        unlimited=unlimited,
        workers=workers,
        trusted=trusted,
        per_minute=per_minute,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        module=f"bench_server_{port}",
    )
    script = workdir / f"bench_server_{port}.py"  # one per port: several servers may run at once
    script.write_text(code)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=workdir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:  # it exited: whatever answers on the port now is not the bench's server
            raise SystemExit(f"the server exited (code {proc.returncode}) before it listened on port {port}")
        if _answers(port):
            return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def _answers(port: int) -> bool:
    """Whether something accepts connections on ``port`` of this machine."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Graceful stop (SIGTERM): every worker writes its last batch of log rows before it exits."""
    proc.terminate()
    proc.wait(timeout=30)


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process and its children (the workers), from Linux ``/proc``."""
    return sum(_cpu_of(p) for p in _tree(pid))


def own_cpu_seconds() -> float:
    return time.process_time()


def measured(
    pid: int | Sequence[int], run: dict[str, object], before: tuple[float, float]
) -> dict[str, object]:
    """Add the server's (every process of ``pid``, summed) and the load generator's CPU milliseconds per request to
    a phase's result."""
    n = max(1, int(run["requests"]))  # type: ignore[call-overload]
    run["server_cpu_ms_per_request"] = round((cpu_now(pid)[0] - before[0]) * 1000 / n, 3)
    run["loadgen_cpu_ms_per_request"] = round((own_cpu_seconds() - before[1]) * 1000 / n, 3)
    return run


def cpu_now(pid: int | Sequence[int]) -> tuple[float, float]:
    """CPU seconds so far of the server (its processes summed, when several) and of this load generator."""
    pids = [pid] if isinstance(pid, int) else list(pid)
    return sum(cpu_seconds(p) for p in pids), own_cpu_seconds()


def solved_body(nik: str, kk_number: str) -> bytes:
    from tepat.portal.challenge import new_challenge

    found = new_challenge(SECRET, time.time())
    words = re.search(r"Berapa (\w+) ditambah (\d+)\?", found.question)
    assert words
    answer = _WORDS[words.group(1)] + int(words.group(2))
    return json.dumps(
        {"nik": nik, "nomor_kk": kk_number, "token": found.token, "jawaban": str(answer)}
    ).encode()


def request_bytes(method: str, path: str, body: bytes = b"", forwarded_for: str = "") -> bytes:
    extra = f"X-Forwarded-For: {forwarded_for}\r\n" if forwarded_for else ""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class Run:
    """One phase: the requests, the clock, and what came back (shared by the connections)."""

    def __init__(self, requests: list[bytes], seconds: float, rate: float | None, keep_bodies: bool) -> None:
        self.requests, self.rate, self.keep_bodies = requests, rate, keep_bodies
        self.begun = time.perf_counter()
        self.stop = self.begun + seconds
        self.sent = 0
        self.latencies: list[float] = []
        self.statuses: collections.Counter[int] = collections.Counter()
        self.bodies: collections.Counter[bytes] = collections.Counter()
        self.waiting: collections.deque[float] = collections.deque()  # planned starts not yet sent (paced)
        self.idle: collections.deque[Connection] = collections.deque()
        self.done = asyncio.get_running_loop().create_future()
        self.open = 0
        self.scheduled_all = False  # paced: every planned start is in ``waiting`` or sent

    def next_request(self) -> tuple[bytes, float] | None:
        """The next request and the time it counts from, or ``None`` when the phase is over for this connection."""
        now = time.perf_counter()
        if now >= self.stop or self.sent >= len(self.requests):
            return None
        if self.rate is not None:
            if not self.waiting:
                return None
            started = self.waiting.popleft()
        else:
            started = now
        req = self.requests[self.sent]
        self.sent += 1
        return req, started

    def closed(self) -> None:
        self.open -= 1
        if self.open == 0 and not self.done.done():
            self.done.set_result(None)


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection sending one request at a time; reads only status and length."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.buffer = bytearray()
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.run.open += 1

    def send_next(self) -> None:
        found = self.run.next_request()
        if found is None:
            if (
                self.run.rate is not None
                and not self.run.scheduled_all
                and time.perf_counter() < self.run.stop
            ):
                self.run.idle.append(self)  # paced: wait for the next slot
                return
            assert self.transport is not None
            self.transport.close()
            return
        req, self.started = found
        assert self.transport is not None
        self.transport.write(req)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return
        length = _LENGTH.search(buf, 0, end + 2)
        total = end + 4 + (int(length.group(1)) if length else 0)
        if len(buf) < total:
            return
        run = self.run
        run.latencies.append(time.perf_counter() - self.started)
        run.statuses[int(buf[9:12])] += 1
        if run.keep_bodies:
            run.bodies[bytes(buf[end + 4 : total])] += 1
        del buf[:total]
        self.send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        self.run.closed()


async def _drive(
    port: int | Sequence[int],
    requests: list[bytes],
    seconds: float,
    concurrency: int,
    rate: float | None,
    keep_bodies: bool,
) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    run = Run(requests, seconds, rate, keep_bodies)
    ports = [port] if isinstance(port, int) else list(port)  # several: connections spread as a balancer would
    connections = [
        (await loop.create_connection(lambda: Connection(run), "127.0.0.1", ports[i % len(ports)]))[1]
        for i in range(concurrency)
    ]
    run.begun = time.perf_counter()
    run.stop = run.begun + seconds + (5.0 if rate else 0.0)  # paced: time to answer what was already due
    if rate is None:
        for c in connections:
            c.send_next()
    else:
        run.idle.extend(connections)
        for i in range(min(len(requests), int(seconds * rate))):
            slot = run.begun + i / rate
            delay = slot - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            run.waiting.append(slot)
            if run.idle:
                run.idle.popleft().send_next()
        run.scheduled_all = True
        while run.idle:
            run.idle.popleft().send_next()  # sends what is still waiting, else closes
    await asyncio.wait_for(run.done, timeout=seconds + 30)
    elapsed = time.perf_counter() - run.begun
    latencies = sorted(run.latencies)

    def pct(p: float) -> float:
        return (
            round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else 0.0
        )

    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": pct(1.0),
        "statuses": dict(run.statuses),
        "distinct_bodies": len(run.bodies),
        "_bodies": run.bodies,
    }


def drive(
    port: int | Sequence[int],
    requests: list[bytes],
    seconds: float,
    concurrency: int,
    rate: float | None = None,
    keep_bodies: bool = False,
) -> dict[str, object]:
    """Send the requests over ``concurrency`` keep-alive connections for at most ``seconds``: as fast as the server
    answers, or paced at ``rate`` requests per second (latency then counts from each request's planned start).
    Given several ports, the connections go to each in turn (a load balancer's round robin)."""
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        return uvloop.run(_drive(port, requests, seconds, concurrency, rate, keep_bodies))
    return asyncio.run(_drive(port, requests, seconds, concurrency, rate, keep_bodies))


def logged_checks(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM status_checks").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=256,
        help="Connections (64 would cap the check at 64 / 20 ms = 3,200/s by its minimum time alone).",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes (tepat serve --workers)."
    )
    parser.add_argument("--guesses", type=int, default=3000)
    parser.add_argument(
        "--per-minute", type=int, default=600, help="The service's global limit in the enumeration runs."
    )
    parser.add_argument("--rate", type=float, default=1000.0, help="Offered load of the paced phase (req/s).")
    parser.add_argument("--reuse", action="store_true", help="Keep the registry built by an earlier run.")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench-status"))
    parser.add_argument("--port", type=int, default=18731)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "registry.sqlite"
    url = f"sqlite:///{path}"

    t0 = time.perf_counter()
    if args.reuse and path.exists():
        with sqlite3.connect(path) as conn:
            sample = conn.execute(
                "SELECT m.nik, f.kk_number FROM members m JOIN families f ON f.id = m.family_id "
                "WHERE m.id % 97 = 1"
            ).fetchall()
            people = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        if people != args.people:
            raise SystemExit(f"--reuse: the registry holds {people} people, not {args.people}")
    else:
        sample = build_registry(path, args.people)
    build_seconds = time.perf_counter() - t0
    shutil.rmtree(args.workdir / "unggahan", ignore_errors=True)  # a fresh rate-limit file
    logged_before = logged_checks(path)

    cap = int(args.seconds * 20_000)  # a bounded count whatever the speed
    rng = random.Random(7)

    def make_checks(n: int) -> list[bytes]:
        out = []
        for i in range(n):
            if i % 10 == 9:  # an unknown NIK
                out.append(
                    request_bytes(
                        "POST",
                        "/cek/api",
                        solved_body(f"3275990101{i % 9999 + 1:06d}"[:16], "3275000000000001"),
                    )
                )
            else:
                nik, kk_number = rng.choice(sample)
                out.append(request_bytes("POST", "/cek/api", solved_body(nik, kk_number)))
        return out

    checks = make_checks(min(cap, 60_000))
    paced_checks = make_checks(min(int(args.rate * args.seconds) + 10, 60_000))
    trivial = [request_bytes("GET", "/bench/trivial")] * cap
    rate_name = f"status_check_at_{int(args.rate)}_per_s"

    server = start_server(url, args.port, args.workdir, unlimited=True, workers=args.workers)
    try:
        drive(args.port, trivial[:2000], 3, 8)  # warm-up: every worker up and its routes compiled
        warm = drive(args.port, make_checks(500), 3, 8)
        t = cpu_now(server.pid)
        base = measured(server.pid, drive(args.port, trivial, args.seconds, args.concurrency), t)
        t = cpu_now(server.pid)
        check = measured(
            server.pid, drive(args.port, checks, args.seconds, args.concurrency, keep_bodies=True), t
        )
        t = cpu_now(server.pid)
        paced = measured(
            server.pid, drive(args.port, paced_checks, args.seconds, args.concurrency, args.rate), t
        )
    finally:
        stop_server(server)

    # Guessed pairs, each from "another" address in X-Forwarded-For: real NIKs with guessed KK numbers.
    guesses = [
        request_bytes(
            "POST",
            "/cek/api",
            solved_body(sample[n % len(sample)][0], f"3275{n:012d}"),
            forwarded_for=f"198.51.{n // 250 % 256}.{n % 250 + 1}",
        )
        for n in range(args.guesses)
    ]
    enums = {}
    for name, trusted in (("no_trusted_proxy", ()), ("behind_trusted_proxy", ("127.0.0.1",))):
        shutil.rmtree(args.workdir / "unggahan", ignore_errors=True)
        server = start_server(
            url,
            args.port,
            args.workdir,
            unlimited=False,
            workers=args.workers,
            trusted=trusted,
            per_minute=args.per_minute,
        )
        try:
            started = time.perf_counter()
            run = drive(args.port, guesses, 30, 4, keep_bodies=True)
            run["seconds"] = round(time.perf_counter() - started, 1)
        finally:
            stop_server(server)
        bodies = run.pop("_bodies")
        answered = [json.loads(b) for b in bodies if b.startswith(b'{"ok":true')]
        run.update(
            answered=int(run["statuses"].get(200, 0)),
            distinct_answer_bodies=len(answered),  # type: ignore[union-attr]
            any_found=any(a.get("ditemukan") for a in answered),
            # at most the bucket's burst plus its refill over the run
            global_allowance=int(args.per_minute + args.per_minute * float(run["seconds"]) / 60),
        )
        enums[name] = run
    enum = {"requests": sum(int(e["requests"]) for e in enums.values())}  # type: ignore[call-overload]
    logged = logged_checks(path) - logged_before
    sent_checks = (
        int(warm["requests"]) + int(check["requests"]) + int(paced["requests"]) + int(enum["requests"])
    )  # type: ignore[call-overload]
    for phase in (base, check, paced):
        phase.pop("_bodies")
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_after": load,
            "uvloop": importlib.util.find_spec("uvloop") is not None,
            "httptools": importlib.util.find_spec("httptools") is not None,
        },
        "people": args.people,
        "build_seconds": round(build_seconds, 1),
        "concurrency": args.concurrency,
        "workers": args.workers,
        "trivial": base,
        "status_check": check,
        rate_name: paced,
        "ratio_to_trivial": round(float(check["rps"]) / float(base["rps"]), 3) if base["rps"] else None,  # type: ignore[arg-type]
        "enumeration": enums,
        "log_rows": {"checks_sent": sent_checks, "rows_written": logged},
    }
    print(json.dumps(report, indent=2, default=str))
    print()
    print(
        "| endpoint | requests | req/s | p50 ms | p99 ms | server CPU ms/request | load generator CPU ms/request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ("trivial", "status_check", rate_name):
        r = report[name]
        print(
            f"| {name} | {r['requests']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | "
            f"{r['server_cpu_ms_per_request']} | {r['loadgen_cpu_ms_per_request']} |"
        )
    for name, e in enums.items():
        print(
            f"\nEnumeration ({name}): {e['requests']} guesses with rotating X-Forwarded-For, statuses {e['statuses']}, "
            f"{e['answered']} answered (global allowance {e['global_allowance']}), {e['distinct_answer_bodies']} distinct "
            f"answer bodies, any found: {e['any_found']}"
        )
    print(f"Log: {logged} rows written for {sent_checks} checks sent")


if __name__ == "__main__":
    main()

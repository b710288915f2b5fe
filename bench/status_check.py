"""The public status check under load, against a trivial endpoint of the same server in the same run.

    python bench/status_check.py --people 1000000 --seconds 10 --concurrency 64

Steps: build a SQLite registry of ``--people`` people (about three per family)
with plain ``executemany`` into a freshly migrated database; start the real
web app (with the portal router) under uvicorn in a child process on
127.0.0.1; drive it from this process with a small asyncio HTTP/1.1 client
(keep-alive connections, pre-built requests, each with its own solved
challenge) for a fixed number of seconds: first ``GET /bench/trivial`` (a
route that returns a constant JSON body), then ``POST /cek/api`` (90 % known
people with the right birth date, 10 % unknown NIKs). Rate limits are lifted
for the throughput phases only. Finally an enumeration attempt with the real
limits: thousands of guessed NIKs from one client, counting how many got an
answer, how many were refused, and whether any answer differed. Traffic stays
on loopback and every phase is bounded in time and count. Prints JSON and a
Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-" + "s" * 40
_WORDS = {"satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9}

SERVER = r"""
import sys, uvicorn
sys.path.insert(0, {root!r})
from fastapi.responses import JSONResponse
from tepat.config import Settings
from tepat.domain.throttle import Limit
from tepat.portal import routes as portal
from tepat.services.status_check import StatusChecker
from tepat.store.database import Database
from tepat.web.app import create_app

settings = Settings(database_url={url!r}, secret_key={secret!r}, upload_dir={upload!r})
db = Database(settings.database_url)
app = create_app(settings, db)
if "/cek" not in {{getattr(r, "path", "") for r in app.routes}}:
    app.include_router(portal.router)
unlimited = {unlimited!r}
if unlimited:
    app.state.status_checker = StatusChecker(db, settings.secret_key, client_limit=Limit.per(10**9, 1.0),
                                             nik_limit=Limit.per(10**9, 1.0), log_batch=100)

@app.get("/bench/trivial")
def trivial():
    return JSONResponse({{"ok": True}})

db.regions
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""


def build_registry(path: Path, people: int) -> list[tuple[str, str]]:
    """A migrated SQLite database holding ``people`` people; returns a sample of (NIK, birth date)."""
    from tepat.domain.regions import Level
    from tepat.services.setup import init_database
    from tepat.store.database import Database

    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    init_database(db)
    kelurahan = [r.code for r in db.regions.descendants("32.75", Level.KELURAHAN)]
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
            families.append((family_id, f"3275{family_id:012d}"[:16], kel, kel[:8], 1 + family_id % 20, 1 + family_id % 15,
                             "aktif", "belum", 1, stamp, "bench", "bench"))
        birth = base + timedelta(days=(i * 7919) % 25000)
        sex = "L" if i % 2 else "P"
        day = birth.day + (0 if sex == "L" else 40)
        nik = f"3275{1 + i % 12:02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}{i % 9999 + 1:04d}"
        relationship = "kepala_keluarga" if i % 3 == 0 else "anak"
        members.append((i + 1, family_id, nik, f"WARGA NOMOR {i}", sex, birth.isoformat(), relationship, "hidup",
                        "aktif", 1, stamp, "bench", "bench"))
        if i % 97 == 0:
            sample.append((nik, birth.isoformat()))
    with conn:
        conn.executemany("INSERT INTO families (id, kk_number, kelurahan_code, kecamatan_code, rw, rt, registry_status, "
                         "verification_status, version, valid_from, changed_by, change_reason) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", families)
        conn.executemany("INSERT INTO members (id, family_id, nik, name, sex, birth_date, relationship, life_status, status, "
                         "version, valid_from, changed_by, change_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", members)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sample


def start_server(url: str, port: int, workdir: Path, *, unlimited: bool) -> subprocess.Popen[bytes]:
    code = SERVER.format(root=str(ROOT), url=url, secret=SECRET, upload=str(workdir / "unggahan"), port=port,
                         unlimited=unlimited)
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with __import__("socket").create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid: int, run: dict[str, object], before: float) -> dict[str, object]:
    """Add the server's CPU milliseconds per request to a phase's result."""
    used = cpu_seconds(pid) - before
    run["server_cpu_ms_per_request"] = round(used * 1000 / max(1, int(run["requests"])), 3)  # type: ignore[call-overload]
    return run


def solved_body(nik: str, birth: str) -> bytes:
    from tepat.portal.challenge import new_challenge

    found = new_challenge(SECRET, time.time())
    words = re.search(r"Berapa (\w+) ditambah (\d+)\?", found.question)
    assert words
    answer = _WORDS[words.group(1)] + int(words.group(2))
    return json.dumps({"nik": nik, "tanggal_lahir": birth, "token": found.token, "jawaban": str(answer)}).encode()


def request_bytes(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return int(status_line.split()[1]), body


async def drive(port: int, requests: list[bytes], seconds: float, concurrency: int,
                rate: float | None = None) -> dict[str, object]:
    """Send the requests over ``concurrency`` keep-alive connections for at most ``seconds``, as fast as the server
    answers, or paced at ``rate`` requests per second (then latency is measured from each request's slot)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    bodies: dict[bytes, int] = {}
    index = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop and index < len(requests):
                req = requests[index]
                slot = begun + index / rate if rate else None
                index += 1
                if slot is not None and slot > time.perf_counter():
                    await asyncio.sleep(slot - time.perf_counter())
                started = slot if slot is not None else time.perf_counter()
                writer.write(req)
                await writer.drain()
                status, body = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                if len(bodies) < 50 or body in bodies:
                    bodies[body] = bodies.get(body, 0) + 1
        finally:
            writer.close()

    started = begun = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2) if latencies else 0.0

    return {"requests": len(latencies), "seconds": round(elapsed, 2), "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0), "statuses": statuses,
            "distinct_bodies": len(bodies), "_bodies": bodies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--guesses", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=500.0, help="Offered load of the paced phase (req/s).")
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
            sample = conn.execute("SELECT nik, birth_date FROM members WHERE id % 97 = 1").fetchall()
            people = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        if people != args.people:
            raise SystemExit(f"--reuse: the registry holds {people} people, not {args.people}")
    else:
        sample = build_registry(path, args.people)
    build_seconds = time.perf_counter() - t0

    cap = int(args.seconds * 5000)  # a bounded count whatever the speed
    rng = random.Random(7)

    def make_checks(n: int) -> list[bytes]:
        out = []
        for i in range(n):
            if i % 10 == 9:  # an unknown NIK
                out.append(request_bytes("POST", "/cek/api", solved_body(f"3275990101{i % 9999 + 1:06d}"[:16], "1970-01-01")))
            else:
                nik, birth = rng.choice(sample)
                out.append(request_bytes("POST", "/cek/api", solved_body(nik, birth)))
        return out

    checks = make_checks(min(cap, 60_000))
    paced_checks = make_checks(min(int(args.rate * args.seconds) + 10, 60_000))
    trivial = [request_bytes("GET", "/bench/trivial")] * cap

    server = start_server(url, args.port, args.workdir, unlimited=True)
    try:
        asyncio.run(drive(args.port, trivial[:500], 5, 8))  # warm-up
        t = cpu_seconds(server.pid)
        base = measured(server.pid, asyncio.run(drive(args.port, trivial, args.seconds, args.concurrency)), t)
        t = cpu_seconds(server.pid)
        check = measured(server.pid, asyncio.run(drive(args.port, checks, args.seconds, args.concurrency)), t)
        t = cpu_seconds(server.pid)
        paced = measured(server.pid, asyncio.run(drive(args.port, paced_checks, args.seconds, args.concurrency,
                                                       args.rate)), t)
    finally:
        server.terminate()
        server.wait(timeout=10)

    guesses = [request_bytes("POST", "/cek/api", solved_body(f"3275011705{n:06d}", "1980-05-17"))
               for n in range(args.guesses)]
    server = start_server(url, args.port, args.workdir, unlimited=False)
    try:
        enum = asyncio.run(drive(args.port, guesses, 30, 4))
    finally:
        server.terminate()
        server.wait(timeout=10)
    answered = [json.loads(b) for b in enum.pop("_bodies") if b.startswith(b'{"ok":true')]
    for phase in (base, check, paced):
        phase.pop("_bodies")
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "people": args.people, "build_seconds": round(build_seconds, 1), "concurrency": args.concurrency,
        "trivial": base, "status_check": check, f"status_check_at_{int(args.rate)}_per_s": paced,
        "ratio_to_trivial": round(float(check["rps"]) / float(base["rps"]), 3) if base["rps"] else None,
        "enumeration": {**enum, "distinct_successful_answers": len(answered),
                        "any_found": any(a.get("ditemukan") for a in answered)},
    }
    print(json.dumps(report, indent=2, default=str))
    print()
    print("| endpoint | requests | req/s | p50 ms | p99 ms | server CPU ms/request |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("trivial", "status_check", f"status_check_at_{int(args.rate)}_per_s"):
        r = report[name]
        print(f"| {name} | {r['requests']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['server_cpu_ms_per_request']} |")
    e = report["enumeration"]
    print(f"\nEnumeration: {e['requests']} guesses from one client, statuses {e['statuses']}, "
          f"{e['distinct_successful_answers']} distinct answer bodies, any found: {e['any_found']}")


if __name__ == "__main__":
    main()

"""Two ``tepat serve`` machines sharing their rate limits in Redis, against one, in the same run (issue 17 point 5).

    python bench/web_tier.py --people 300000 --seconds 8 --rate 300

Steps: build (or ``--reuse``) the SQLite registry of ``bench/status_check.py``;
then, each a fresh server process (one uvicorn worker each, the app as ``tepat
serve`` builds it) on 127.0.0.1, driven by that bench's load generator:

* **one server, file**: the rate limits in the host's file (today's default), as
  fast as it answers, then paced at ``--rate``;
* **one server, Redis**: the same with ``TEPAT_REDIS_URL`` set;
* **two servers, Redis**: two processes on two ports, the connections spread
  over both (a load balancer's round robin), as fast as they answer, then paced
  at twice ``--rate``.

Limits are lifted for those phases (very large buckets, still kept in Redis or
the file, so the store's cost is measured). Then the **limits across machines**,
with the real limits, two servers behind a trusted proxy (every guess names a
new client in ``X-Forwarded-For``): ``--guesses`` guessed NIK + KK pairs spread
over both must get no more answers than the service's global allowance
(``--per-minute``, plus its refill over the run), and twenty guesses at one NIK
from twenty addresses no more than the NIK's five an hour.

The ratio asked (two servers ≥ 1.7× one) is of the saturated throughput; the
paced runs give the latency (p99) at an offered load. On this 2-core machine
the load generator, Redis and SQLite share the two cores with the servers: its
CPU per request is reported. Prints JSON and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import status_check as sc  # the registry, the server and the load generator of the status-check bench

REDIS_URL = "redis://127.0.0.1:6379/0"


def _phase(
    ports: list[int], pids: list[int], requests: list[bytes], args: argparse.Namespace, rate: float | None
):  # type: ignore[no-untyped-def]
    before = sc.cpu_now(pids)
    run = sc.measured(pids, sc.drive(ports, requests, args.seconds, args.concurrency, rate), before)
    run.pop("_bodies", None)
    return run


def _servers(url: str, args: argparse.Namespace, count: int, **options):  # type: ignore[no-untyped-def]
    shutil.rmtree(args.workdir / "unggahan", ignore_errors=True)  # a fresh rate-limit file
    return [sc.start_server(url, args.port + i, args.workdir, workers=1, **options) for i in range(count)]


def _forget(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--rate", type=float, default=300.0, help="Paced load per server (req/s).")
    parser.add_argument("--guesses", type=int, default=2000)
    parser.add_argument("--per-minute", type=int, default=300, help="The service's global limit, last phase.")
    parser.add_argument("--reuse", action="store_true", help="Keep the registry built by an earlier run.")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench-webtier"))
    parser.add_argument("--port", type=int, default=18741)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "registry.sqlite"
    url = f"sqlite:///{path}"
    if args.reuse and path.exists():
        import sqlite3

        with sqlite3.connect(path) as conn:
            sample = conn.execute(
                "SELECT m.nik, f.kk_number FROM members m JOIN families f ON f.id = m.family_id WHERE m.id % 97 = 1"
            ).fetchall()
    else:
        sample = sc.build_registry(path, args.people)

    def checks(n: int) -> list[bytes]:
        return [
            sc.request_bytes("POST", "/cek/api", sc.solved_body(*sample[(i * 7919) % len(sample)]))
            for i in range(n)
        ]

    cap = min(int(args.seconds * 6000), 60_000)
    prefix = f"tepat-bench-{uuid.uuid4().hex[:8]}"
    results: dict[str, dict[str, object]] = {}
    plans = (
        ("one_server_file", 1, ""),
        ("one_server_redis", 1, REDIS_URL),
        ("two_servers_redis", 2, REDIS_URL),
    )
    try:
        for name, count, redis_url in plans:
            servers = _servers(url, args, count, unlimited=True, redis_url=redis_url, redis_prefix=prefix)
            ports, pids = [args.port + i for i in range(count)], [s.pid for s in servers]
            try:
                sc.drive(ports, checks(400 * count), 3, 8 * count)  # warm-up
                results[name] = _phase(ports, pids, checks(cap), args, None)
                results[f"{name}_paced"] = _phase(
                    ports, pids, checks(int(args.rate * count * args.seconds) + 10), args, args.rate * count
                )
            finally:
                for s in servers:
                    sc.stop_server(s)
            _forget(prefix)

        # The real limits, across two machines behind a trusted proxy.
        servers = _servers(
            url,
            args,
            2,
            unlimited=False,
            redis_url=REDIS_URL,
            redis_prefix=prefix,
            trusted=("127.0.0.1",),
            per_minute=args.per_minute,
        )
        ports = [args.port, args.port + 1]
        try:
            guesses = [
                sc.request_bytes(
                    "POST",
                    "/cek/api",
                    sc.solved_body(sample[n % len(sample)][0], f"3275{n:012d}"),
                    forwarded_for=f"198.51.{n // 250 % 256}.{n % 250 + 1}",
                )
                for n in range(args.guesses)
            ]
            started = time.perf_counter()
            spread = sc.drive(ports, guesses, 30, 4)
            spread_seconds = time.perf_counter() - started
            _forget(prefix)  # a fresh service allowance for the NIK experiment
            one_nik = [
                sc.request_bytes(
                    "POST",
                    "/cek/api",
                    sc.solved_body(sample[1][0], f"3275{n:012d}"),
                    forwarded_for=f"203.0.113.{n + 1}",
                )
                for n in range(20)
            ]
            nik_run = sc.drive(ports, one_nik, 10, 2)
        finally:
            for s in servers:
                sc.stop_server(s)
            _forget(prefix)
    finally:
        _forget(prefix)

    allowance = int(args.per_minute + args.per_minute * spread_seconds / 60)
    answered = int(spread["statuses"].get(200, 0))  # type: ignore[attr-defined]
    nik_answered = int(nik_run["statuses"].get(200, 0))  # type: ignore[attr-defined]
    one, two = results["one_server_redis"], results["two_servers_redis"]
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_after": load},
        "people": args.people if not args.reuse else len(sample) * 97,
        "concurrency": args.concurrency,
        **results,
        "two_over_one": round(float(two["rps"]) / float(one["rps"]), 2),  # type: ignore[arg-type]
        "redis_over_file": round(float(one["rps"]) / float(results["one_server_file"]["rps"]), 2),  # type: ignore[arg-type]
        "limits_across_machines": {
            "guesses": len(guesses),
            "statuses": spread["statuses"],
            "answered": answered,
            "global_allowance": allowance,
            "within": answered <= allowance,
            "one_nik_guesses": 20,
            "one_nik_statuses": nik_run["statuses"],
            "one_nik_answered": nik_answered,
            "one_nik_within": nik_answered <= 5,
        },
    }
    print(json.dumps(report, indent=2, default=str))
    print()
    print(
        "| phase | requests | req/s | p50 ms | p99 ms | server CPU ms/request | load generator CPU ms/request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _, _ in plans:
        for key in (name, f"{name}_paced"):
            r = results[key]
            print(
                f"| {key} | {r['requests']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | "
                f"{r['server_cpu_ms_per_request']} | {r['loadgen_cpu_ms_per_request']} |"
            )
    print(
        f"\nTwo servers / one (Redis, saturated): {report['two_over_one']}×; Redis / file: {report['redis_over_file']}×"
    )
    print(
        f"Across machines: {answered} of {len(guesses)} guesses answered (allowance {allowance}); "
        f"one NIK: {nik_answered} of 20 answered (limit 5)"
    )


if __name__ == "__main__":
    main()

"""DCI sync search by NIK against tepat's own API lookup, side by side; and an asynchronous search of a whole
kelurahan delivered as paged callbacks, with its memory.

    python bench/dci_search.py                      # SQLite, a 20,000-family city in --workdir
    python bench/dci_search.py --families 250000    # kelurahan of about 15,000 people
    python bench/dci_search.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench_dci

Both lookups go through the whole web application in this process (Starlette's TestClient: middleware, bearer
token, audit), for random active NIKs after a warm-up, best of ``--rounds`` passes each:

* ``api_v1``: ``GET /api/v1/families?q=NIK`` (tepat's own search: the family's summary);
* ``api_v1_family``: ``GET /api/v1/families/{id}`` (the family with its members, the same content a DCI answer
  carries);
* ``dci``: ``POST /dci/registry/sync/search`` with an ``idtype-value`` query (envelope checked, the NIK parsed,
  the family and its members read and written as a DCI ``Group``).

Target (issue 16): ``dci`` within 3× ``api_v1``.

Then the largest kelurahan is searched asynchronously (``/dci/registry/search``, no page named: every page of
100 in turn) and every callback is delivered to a receiver on 127.0.0.1; the time, the number of pages and
records, and the peak of Python's allocations while delivering (``tracemalloc``; the receiver keeps only a count
of each page) against the peak while delivering one page (the answer must not be held whole).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_support import fresh_database, machine


def _registry(url: str, families: int, workdir: Path) -> None:
    from tepat.domain.access import system_actor
    from tepat.services.imports import import_file
    from tepat.store.database import Database
    from tepat.synth.registry import generate_registry, write_registry

    csv_path = workdir / f"registri-{families}.csv"
    if not csv_path.exists():
        write_registry(generate_registry(families, 2024), csv_path)
    fresh_database(url)
    db = Database(url)
    import_file(db, system_actor(), csv_path)
    db.dispose()


def _best(fn, picks: list, rounds: int) -> float:  # type: ignore[no-untyped-def,type-arg]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for pick in picks:
            fn(pick)
        best = min(best, (time.perf_counter() - start) / len(picks))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench"))
    parser.add_argument("--db", default=None)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    url = opts.db or f"sqlite:///{opts.workdir / 'dci-search.sqlite'}"
    if not opts.reuse:
        _registry(url, opts.families, opts.workdir)

    import dci_support as dci
    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from tepat.config import Settings
    from tepat.domain.access import system_actor
    from tepat.services import auth, dci_clients, dci_delivery
    from tepat.store.database import Database
    from tepat.store.schema import families, members
    from tepat.web.app import create_app

    db = Database(url)
    office = system_actor(db.office.code)
    suffix = str(int(time.time()))
    with dci.callback_receiver() as receiver:
        token = dci_clients.add_client(
            db, office, f"bench-{suffix}", role="verifikator", area_code=db.office.code,
            callback_urls=[receiver.base],
        ).token  # fmt: skip
        auth.create_user(
            db,
            office,
            username=f"api-{suffix}",
            password="x" * 20,
            role="verifikator",
            area_code=db.office.code,
        )
        api_token = auth.issue_token(db, office, f"api-{suffix}").token
        settings = Settings(database_url=url, upload_dir=opts.workdir / "unggahan", secret_key="b" * 40)
        http = TestClient(create_app(settings, db))
        with db.read() as conn:
            rows = conn.execute(
                sa.select(members.c.nik, members.c.family_id)
                .join(families, families.c.id == members.c.family_id)
                .where(members.c.status == "aktif", families.c.registry_status == "aktif")
            ).all()
            biggest = conn.execute(
                sa.select(families.c.kelurahan_code, sa.func.count())
                .where(families.c.registry_status == "aktif")
                .group_by(families.c.kelurahan_code)
                .order_by(sa.func.count().desc())
                .limit(1)
            ).one()
            people = conn.execute(
                sa.select(sa.func.count())
                .select_from(members.join(families, families.c.id == members.c.family_id))
                .where(families.c.kelurahan_code == biggest[0], members.c.status == "aktif",
                       members.c.life_status == "hidup")
            ).scalar_one()  # fmt: skip
        picks = random.Random(7).sample(rows, min(opts.lookups, len(rows)))
        api_headers = {"Authorization": f"Bearer {api_token}"}
        dci_headers = {"Authorization": f"Bearer {token}"}

        def api_v1(row) -> None:  # type: ignore[no-untyped-def]
            r = http.get("/api/v1/families", params={"q": row[0]}, headers=api_headers)
            assert r.status_code == 200 and r.json(), r.text

        def api_v1_family(row) -> None:  # type: ignore[no-untyped-def]
            r = http.get(f"/api/v1/families/{row[1]}", headers=api_headers)
            assert r.status_code == 200, r.text

        def dci_search(row) -> None:  # type: ignore[no-untyped-def]
            r = http.post(
                "/dci/registry/sync/search", json=dci.search(dci.by_nik(row[0])), headers=dci_headers
            )
            assert r.json()["message"]["search_response"][0]["data"]["reg_records"], r.text

        runs = {"api_v1": api_v1, "api_v1_family": api_v1_family, "dci": dci_search}
        for fn in runs.values():
            for row in picks[:20]:
                fn(row)
        timings = {name: float("inf") for name in runs}
        for _ in range(opts.rounds):
            for name, fn in runs.items():
                timings[name] = min(timings[name], _best(fn, picks, 1))

        def deliver(item: dict) -> tuple[float, int, int]:  # type: ignore[type-arg]
            receiver.received.clear()
            ack = http.post(
                "/dci/registry/search", json=dci.search(item, sender_uri=receiver.base + "/on-search"),
                headers=dci_headers,
            )  # fmt: skip
            assert ack.status_code == 202, ack.text
            tracemalloc.start()
            start = time.perf_counter()
            while dci_delivery.deliver_due(db).sent:
                pass
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return seconds, peak, len(receiver.received)

        receiver.keep = lambda body: {
            "records": len(body["message"]["search_response"][0]["data"]["reg_records"])
        }
        everyone = {
            "type": "expression",
            "value": {"expression": {"query": {"location": {"$eq": biggest[0]}}}},
        }
        one_page = dci.search_item("expression", everyone, pagination={"page_size": 100, "page_number": 1})
        for _ in range(2):  # the second time counts: the first warms caches (compiled statements, regions)
            _, one_peak, _ = deliver(one_page)
            seconds, peak, pages = deliver(dci.search_item("expression", everyone))
        records = sum(b["records"] for _, b in receiver.received)
    db.dispose()
    report = {
        "machine": machine(),
        "database": url.split(":", 1)[0],
        "families": opts.families if not opts.reuse else "reused",
        **{f"{k}_ms": round(v * 1000, 3) for k, v in timings.items()},
        "ratio_dci_to_api_v1": round(timings["dci"] / timings["api_v1"], 2),
        "ratio_dci_to_api_v1_family": round(timings["dci"] / timings["api_v1_family"], 2),
        "async_kelurahan": biggest[0],
        "async_families": int(biggest[1]),
        "async_people": int(people),
        "async_records": records,
        "async_pages": pages,
        "async_seconds": round(seconds, 2),
        "async_peak_mb": round(peak / 2**20, 1),
        "one_page_peak_mb": round(one_peak / 2**20, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

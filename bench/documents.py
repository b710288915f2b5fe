"""Cycle documents, the facility coverage check and the status-check programme lookup, each against a raw baseline.

    python bench/documents.py                                  # SQLite in a temporary folder
    python bench/documents.py --db postgresql+psycopg://postgres@127.0.0.1:5432/tepat_docs
    python bench/documents.py --families 50000 --kelurahan-rows 3000

Builds a registry of ``--families`` one-person families straight into the tables
(Core bulk inserts), a frozen BLT cycle over every family and a frozen Kartu Sehat
cycle over every person, then measures in one process:

* **coverage check**: ``CoverageChecker.check`` (key hash lookup, rate limit, the
  covering-cycle query, the log row with an HMAC of the NIK) against the same
  covering SELECT and log INSERT run raw on the driver (``sqlite3``/``psycopg``);
* **programme status**: ``programmes_for_person`` (window over the family's and the
  person's entitlements) against the same SQL run raw, and a bare
  ``SELECT * FROM entitlements WHERE family_id = ?`` (the floor);
* **Daftar Nominatif PDF** of one kelurahan of ``--kelurahan-rows`` recipients:
  ``documents.nominatif`` (query, audit, ReportLab layout with letterhead, wrapping
  cells and signatures) against the cheapest list ReportLab can print: the same rows
  fetched raw, as plain tables of the header and 30 rows (a page), default style.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KELURAHAN = "32.75.01.1001"


def _raw(url: str):  # type: ignore[no-untyped-def]
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1])
        conn.execute("PRAGMA synchronous=NORMAL")  # as tepat's engine sets it (WAL)
        return conn, "?"
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")), "%s"


def _best(fn, picks: list, rounds: int) -> float:  # type: ignore[no-untyped-def]
    """Best of ``rounds`` passes, seconds per call (the machine is shared and noisy)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for p in picks:
            fn(p)
        best = min(best, (time.perf_counter() - start) / len(picks))
    return best


def build(db, families: int, kelurahan_rows: int) -> tuple[list[str], list[int], int]:  # type: ignore[no-untyped-def]
    """The registry, two frozen cycles and their entitlements; returns (NIKs, family ids, the BLT cycle)."""
    import sqlalchemy as sa

    from tepat.store.engine import now
    from tepat.store.schema import benefit_cycles, entitlements, members, programmes, regions
    from tepat.store.schema import families as fam

    at, today = now(), date.today()
    with db.read() as conn:
        kelurahan = [
            r[0]
            for r in conn.execute(
                sa.select(regions.c.code).where(
                    regions.c.level == "kelurahan", regions.c.code.like("32.75.%")
                )
            )
        ]
    others = [k for k in kelurahan if k != KELURAHAN]
    common = {
        "registry_status": "aktif",
        "verification_status": "terverifikasi",
        "version": 1,
        "valid_from": at,
        "changed_by": "bench",
        "change_reason": "bench",
    }
    fam_rows, mem_rows, niks = [], [], []
    for i in range(1, families + 1):
        kel = KELURAHAN if i <= kelurahan_rows else others[i % len(others)]
        fam_rows.append(
            dict(
                id=i,
                kk_number=f"3275011507{i:06d}",
                kelurahan_code=kel,
                kecamatan_code=kel[:8],
                office_code=kel[:5],
                rw=1 + i % 12,
                rt=1 + i % 9,
                address=f"Jl. Bench No. {i}",
                **common,
            )
        )
        nik = f"3275011705{i:06d}"
        niks.append(nik)
        mem_rows.append(
            dict(
                id=i,
                family_id=i,
                nik=nik,
                name=f"Warga Bench {i}",
                sex="L",
                birth_date=date(1980, 5, 17),
                relationship="kepala_keluarga",
                life_status="hidup",
                status="aktif",
                office_code=kel[:5],
                **common,
            )
        )
    prog = {
        "office_code": KELURAHAN[:5],  # the office whose catalogue holds them
        "funding_source": "APBD",
        "frequency": "sekali",
        "budget_year": today.year,
        "rule": "true",
        "exclusions": [],
        "active": True,
        "version": 1,
        "created_by": "bench",
        "created_at": at,
        "updated_by": "bench",
        "updated_at": at,
    }
    with db.begin() as conn:
        for start in range(0, families, 5000):
            conn.execute(sa.insert(fam), fam_rows[start : start + 5000])
            conn.execute(sa.insert(members), mem_rows[start : start + 5000])
        blt = conn.execute(
            sa.insert(programmes)
            .values(
                code="BLT", name="BLT-APBD", unit="keluarga", benefit_type="tunai", amount=250_000, **prog
            )
            .returning(programmes.c.id)
        ).scalar_one()
        lkm = conn.execute(
            sa.insert(programmes)
            .values(code="LKM", name="Kartu Sehat", unit="orang", benefit_type="layanan", amount=0, **prog)
            .returning(programmes.c.id)
        ).scalar_one()
        cycles = {}
        for pid, name in ((blt, "BLT bench"), (lkm, "LKM bench")):
            cycles[pid] = conn.execute(
                sa.insert(benefit_cycles)
                .values(
                    programme_id=pid,
                    name=name,
                    period_start=today - timedelta(days=10),
                    period_end=today + timedelta(days=80),
                    reference_date=today,
                    state="disetujui",
                    programme_snapshot={"coverage_months": 3},
                    version=1,
                    created_by="a",
                    created_at=at,
                    approved_by="b",
                    approved_at=at,
                )
                .returning(benefit_cycles.c.id)
            ).scalar_one()
        for pid, unit in ((blt, "keluarga"), (lkm, "orang")):
            rows = [
                {
                    "cycle_id": cycles[pid],
                    "unit_key": f["id"],
                    "family_id": f["id"],
                    "member_id": f["id"],
                    "kk_number": f["kk_number"],
                    "recipient_nik": m["nik"],
                    "recipient_name": m["name"],
                    "kelurahan_code": f["kelurahan_code"],
                    "kecamatan_code": f["kecamatan_code"],
                    "rw": f["rw"],
                    "rt": f["rt"],
                    "address": f["address"],
                    "desil": 1,
                    "amount": 250_000 if unit == "keluarga" else 0,
                    "source": "aturan",
                    "state": "terjadwal",
                    "office_code": f["office_code"],
                }
                for f, m in zip(fam_rows, mem_rows)
            ]
            for start in range(0, families, 5000):
                conn.execute(sa.insert(entitlements), rows[start : start + 5000])
    if db.dialect == "postgresql":
        with db.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return niks, [f["id"] for f in fam_rows], cycles[blt]


def measure(url: str, families: int, kelurahan_rows: int, samples: int, rounds: int) -> dict[str, object]:
    from tepat.domain.access import system_actor
    from tepat.domain.throttle import Limit
    from tepat.services import coverage, documents
    from tepat.services.setup import init_database
    from tepat.services.status_check import keyed_hash
    from tepat.store.database import Database
    from tepat.store.programme_status import programmes_for_person
    from tepat.synth.geography import SYNTH_CITY

    db = Database(url)
    init_database(db, office=SYNTH_CITY)  # the office of the kelurahan measured (documents name it)
    started = time.perf_counter()
    niks, family_ids, blt_cycle = build(db, families, kelurahan_rows)
    built = time.perf_counter() - started
    admin = system_actor("32.75")
    key = coverage.register_facility(db, admin, code="BENCH", name="RSUD Bench", kind="rsud").key
    checker = coverage.CoverageChecker(db, "k" * 40, limit=Limit.per(10**9, 1.0))
    rng = random.Random(7)
    picks = [rng.choice(niks) for _ in range(samples)]
    fam_picks = [rng.choice(family_ids) for _ in range(samples)]
    results: dict[str, object] = {
        "db": db.dialect,
        "families": families,
        "entitlements": 2 * families,
        "build_seconds": round(built, 1),
    }

    for nik in picks[:50]:
        assert checker.check(key, nik).covered
    service = _best(lambda nik: checker.check(key, nik), picks, rounds)
    conn, p = _raw(url)
    cur = conn.cursor()
    months = (
        "json_extract(c.programme_snapshot, '$.coverage_months')"
        if db.dialect == "sqlite"
        else "(c.programme_snapshot ->> 'coverage_months')::int"
    )
    covering = (  # the service's query: every begun frozen service cycle; which covers today is decided in Python
        f"SELECT p.name, c.id, c.period_start, c.period_end, {months}, e.state, m.name FROM members m "
        "JOIN entitlements e ON e.member_id = m.id "
        "JOIN benefit_cycles c ON c.id = e.cycle_id JOIN programmes p ON p.id = c.programme_id "
        f"WHERE m.nik = {p} AND p.benefit_type = 'layanan' AND c.state IN ('disetujui', 'pembayaran', 'ditutup') "
        f"AND c.period_start <= {p} AND e.state NOT IN ('diblokir', 'dibatalkan') AND m.life_status = 'hidup' "
        "ORDER BY c.id"
    )
    log = f"INSERT INTO coverage_checks (at, facility_id, nik_hash, covered) VALUES ({p}, 1, {p}, {p})"
    today = date.today()

    def raw_check(nik: str) -> None:
        cur.execute(covering, (nik, today))
        found = cur.fetchall()
        cur.execute(log, (datetime.now(UTC), keyed_hash("k" * 40, "nik", nik), bool(found)))
        conn.commit()

    raw = _best(raw_check, picks, rounds)
    results["coverage_check_ms"] = {
        "service": round(service * 1e3, 3),
        "raw": round(raw * 1e3, 3),
        "ratio": round(service / raw, 2),
    }

    # Inside the connection the status check already holds (it is wired into that check's one read).
    with db.read() as held:
        service = _best(lambda fid: programmes_for_person(held, fid, fid, today), fam_picks, rounds)
    from tepat.store.programme_status import _STATEMENT

    same_sql = str(
        _STATEMENT.params(family_id=-1, member_id=-2).compile(
            db.engine, compile_kwargs={"literal_binds": True}
        )
    )
    same_sql = same_sql.replace("= -1", f"= {p}").replace("= -2", f"= {p}")
    same = _best(lambda fid: (cur.execute(same_sql, (fid, fid, fid, fid)), cur.fetchall()), fam_picks, rounds)
    bare = _best(
        lambda fid: (
            cur.execute(f"SELECT * FROM entitlements WHERE family_id = {p}", (fid,)),
            cur.fetchall(),
        ),
        fam_picks,
        rounds,
    )
    results["programme_status_ms"] = {
        "service": round(service * 1e3, 3),
        "raw_same_sql": round(same * 1e3, 3),
        "raw_one_table": round(bare * 1e3, 3),
        "ratio_same_sql": round(service / same, 2),
    }

    import io

    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import SimpleDocTemplate, Table

    def bare_pdf(_: object) -> None:
        cur.execute(
            f"SELECT recipient_name, recipient_nik, kk_number, address, rt, rw, desil, amount, state "
            f"FROM entitlements WHERE cycle_id = {p} AND kelurahan_code = {p} ORDER BY rw, rt, recipient_name",
            (blt_cycle, KELURAHAN),
        )
        rows = [[str(v) for v in r] for r in cur.fetchall()]
        head = ["Nama", "NIK", "No. KK", "Alamat", "RT", "RW", "Desil", "Jumlah", "Status"]
        # The cheapest list ReportLab can print: a plain Table of the header and 30 rows per page (about what a
        # landscape page holds), default style and font, nothing measured or wrapped.
        pages = [Table([head, *rows[i : i + 30]]) for i in range(0, len(rows), 30)]
        SimpleDocTemplate(io.BytesIO(), pagesize=landscape(A4)).build(pages)

    service = _best(lambda _: documents.nominatif(db, admin, blt_cycle, KELURAHAN), [0], rounds)
    raw = _best(bare_pdf, [0], rounds)
    results["nominatif_pdf_s"] = {
        "rows": kelurahan_rows,
        "service": round(service, 2),
        "raw": round(raw, 2),
        "ratio": round(service / raw, 2),
    }
    conn.close()
    db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="Database URL (default: a fresh SQLite file in a temporary folder).")
    parser.add_argument("--families", type=int, default=20_000)
    parser.add_argument("--kelurahan-rows", type=int, default=2_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/bench.sqlite"
        print(
            json.dumps(measure(url, args.families, args.kelurahan_rows, args.samples, args.rounds), indent=2)
        )


if __name__ == "__main__":
    main()

"""Registry import at city scale, against a raw baseline measured in the same run.

    python bench/registry_import.py --families 750000            # SQLite (a file in --workdir)
    python bench/registry_import.py --families 20000 --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Steps: generate a synthetic Kota Bekasi registry (``tepat.synth``) as a canonical
CSV; run ``tepat import FILE`` in a child process (wall time, peak RSS); re-run
it (nothing must change), and once more as an area-scoped account (``--as``: the cost of matching inside the
area, as a ratio to the system's re-import); ``tepat export`` the result (wall time, peak RSS); then, on a fresh database with the same schema and
indexes, load the same rows the raw way (polars ``read_csv`` + one
``sqlite3.executemany`` per table, or ``COPY`` on PostgreSQL) in a child
process. Finally NIK lookups: ``registry_reads.find_by_nik`` against the equivalent
raw indexed SELECTs (``bench/nik_lookup.py``). Prints a JSON report and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_support import fresh_database, machine


def _high_water_mark(pid: int) -> int:
    """The process's peak resident set (``VmHWM``) in bytes, 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run_measured(args: list[str]) -> tuple[float, int, str]:
    """Run a child process: (seconds, peak RSS in bytes, stdout).

    The peak is read from /proc while the child runs (``ru_maxrss`` would also count the
    parent's memory at fork time on Linux).
    """
    start = time.perf_counter()
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}-{time.time_ns()}.out"
    peak = 0
    with out_path.open("w") as out_file:
        proc = subprocess.Popen(args, stdout=out_file, stderr=subprocess.PIPE)
        while proc.poll() is None:
            peak = max(peak, _high_water_mark(proc.pid))
            time.sleep(0.1)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    out = out_path.read_text()
    out_path.unlink()
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {' '.join(args)}\n{err}")
    return elapsed, peak, out


# ---------------------------------------------------------------------- the raw baseline (child process)

BASELINE_CODE = r"""
import sys, time
import polars as pl
from tepat.domain.households import FAMILY_FIELDS, MEMBER_FIELDS, ASSETS
url, path = sys.argv[1], sys.argv[2]
start = time.perf_counter()
rows = pl.read_csv(path, infer_schema=False)
fam_cols = [f.column for f in FAMILY_FIELDS]
fams = rows.select(fam_cols).unique("nomor_kk", keep="first", maintain_order=True).with_row_index("id", offset=1)
mems = rows.select(["nomor_kk"] + [f.column for f in MEMBER_FIELDS]).join(fams.select("id", "nomor_kk", pl.col("kode_kelurahan").str.slice(0, 5).alias("office_code")), on="nomor_kk", maintain_order="left")
bools = {c for _, c, _ in ASSETS} | {"hamil"}
now = "2026-01-01 00:00:00.000000"
f_out = fams.select(
    "id", *[pl.col(f.column).cast(pl.Int8) if f.column in bools else pl.col(f.column).alias(f.name) for f in FAMILY_FIELDS],
    pl.col("kode_kelurahan").str.slice(0, 8).alias("kecamatan_code"), pl.col("kode_kelurahan").str.slice(0, 5).alias("office_code"),
    pl.lit(1).alias("version"), pl.lit(now).alias("valid_from"), pl.lit("bench").alias("changed_by"), pl.lit("bench").alias("change_reason"),
)
f_names = ["id"] + [f.name for f in FAMILY_FIELDS] + ["kecamatan_code", "office_code", "version", "valid_from", "changed_by", "change_reason"]
m_out = mems.select(
    pl.col("id").alias("family_id"), *[pl.col(f.column).cast(pl.Int8) if f.column in bools else pl.col(f.column) for f in MEMBER_FIELDS],
    pl.lit("aktif").alias("status"), "office_code",
    pl.lit(1).alias("version"), pl.lit(now).alias("valid_from"), pl.lit("bench").alias("changed_by"), pl.lit("bench").alias("change_reason"),
)
m_names = ["family_id"] + [f.name for f in MEMBER_FIELDS] + ["status", "office_code", "version", "valid_from", "changed_by", "change_reason"]
if url.startswith("sqlite"):
    import sqlite3
    conn = sqlite3.connect(url.split("///", 1)[1])
    conn.execute("PRAGMA journal_mode=WAL"); conn.execute("PRAGMA synchronous=NORMAL"); conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-262144"); conn.execute("PRAGMA temp_store=MEMORY")
    for table, frame, names in (("families", f_out, f_names), ("members", m_out, m_names)):
        for off in range(0, frame.height, 100_000):
            chunk = frame.slice(off, 100_000)
            conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", chunk.rows())
    conn.commit()
else:
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for table, frame, names in (("families", f_out, f_names), ("members", m_out, m_names)):
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv)") as copy:
                for off in range(0, frame.height, 100_000):
                    copy.write(frame.slice(off, 100_000).cast({c: pl.Boolean for c in frame.columns if frame.schema[c] == pl.Int8}).write_csv(include_header=False))
print(time.perf_counter() - start)
"""


def _lookups(url: str, samples: int) -> dict[str, float]:
    """NIK lookups through the service against the raw SELECTs (``bench/nik_lookup.py``)."""
    from nik_lookup import measure  # type: ignore[import-not-found]

    return measure(url, samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--families", type=int, default=750_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tepat-bench"))
    parser.add_argument("--db", default=None, help="database URL (default: SQLite file in --workdir)")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--keep-file", action="store_true", help="reuse the CSV in --workdir if it exists")
    opts = parser.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    url = opts.db or f"sqlite:///{opts.workdir / 'bench.sqlite'}"
    csv_path = opts.workdir / f"registri-{opts.families}.csv"
    report: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "python": platform.python_version(),
        "database": url.split(":", 1)[0],
        "families": opts.families,
    }
    if not (opts.keep_file and csv_path.exists()):
        # In a child process, so that this one stays small.
        code = (
            "import sys; from pathlib import Path; from tepat.synth.registry import generate_registry, write_registry; "
            "write_registry(generate_registry(int(sys.argv[1]), int(sys.argv[2])), Path(sys.argv[3]))"
        )
        seconds, _, _ = _run_measured(
            [sys.executable, "-c", code, str(opts.families), str(opts.seed), str(csv_path)]
        )
        report["generate_s"] = round(seconds, 1)
    import polars as pl

    rows = pl.scan_csv(csv_path, infer_schema=False).select(pl.len()).collect().item()
    report["rows"] = rows
    report["file_mb"] = round(csv_path.stat().st_size / 1e6, 1)
    tepat = shutil.which("tepat", path=str(Path(sys.executable).parent)) or "tepat"

    fresh_database(url)
    elapsed, rss, out = _run_measured([tepat, "import", str(csv_path), "--json", "--db", url])
    summary = json.loads(out)
    summary.pop("errors", None)
    report["import"] = {
        "seconds": round(elapsed, 1),
        "rows_per_s": round(rows / elapsed),
        "peak_rss_mb": round(rss / 2**20),
        **summary,
    }
    elapsed2, rss2, out2 = _run_measured([tepat, "import", str(csv_path), "--json", "--db", url])
    again = json.loads(out2)
    report["reimport"] = {
        "seconds": round(elapsed2, 1),
        "peak_rss_mb": round(rss2 / 2**20),
        "changed": again["families_created"]
        + again["families_updated"]
        + again["members_created"]
        + again["members_updated"],
    }
    # The same re-import as an area-scoped account (the city's admin): every row is then matched inside the area
    # and probed for records of other areas (issue 13 point 1); the ratio to the system's re-import is its cost.
    _run_measured(
        [
            tepat,
            "user",
            "add",
            "bench.admin",
            "--role",
            "admin",
            "--area",
            "32.75",
            "--password",
            "bench-password-123",
            "--db",
            url,
        ]
    )
    elapsed_s, _, out_s = _run_measured(
        [tepat, "import", str(csv_path), "--json", "--as", "bench.admin", "--db", url]
    )
    scoped = json.loads(out_s)
    report["reimport_scoped"] = {
        "seconds": round(elapsed_s, 1),
        "rejected": scoped["rows_rejected"],
        "changed": scoped["families_created"]
        + scoped["families_updated"]
        + scoped["members_created"]
        + scoped["members_updated"],
        "ratio_to_reimport": round(elapsed_s / elapsed2, 2),
    }
    export_path = opts.workdir / "ekspor.csv"
    elapsed3, rss3, _ = _run_measured([tepat, "export", str(export_path), "--db", url])
    report["export"] = {
        "seconds": round(elapsed3, 1),
        "rows_per_s": round(rows / elapsed3),
        "peak_rss_mb": round(rss3 / 2**20),
    }
    export_path.unlink()
    report["lookup"] = _lookups(url, opts.lookups)

    fresh_database(url)
    base_elapsed, base_rss, base_out = _run_measured(
        [sys.executable, "-c", BASELINE_CODE, url, str(csv_path)]
    )
    report["baseline"] = {
        "method": "sqlite3.executemany" if url.startswith("sqlite") else "COPY",
        "seconds": round(base_elapsed, 1),
        "load_seconds": round(float(base_out.strip()), 1),
        "rows_per_s": round(rows / base_elapsed),
        "peak_rss_mb": round(base_rss / 2**20),
    }
    report["throughput_ratio"] = round(base_elapsed / elapsed, 2)
    print(json.dumps(report, indent=2))
    imp, base, look, exp = report["import"], report["baseline"], report["lookup"], report["export"]
    print(
        f"\n| {report['date']} | {report['database']} | {opts.families:,} | {rows:,} | {imp['seconds']} s ({imp['rows_per_s']:,}/s) "  # type: ignore[index]
        f"| {base['seconds']} s ({base['rows_per_s']:,}/s) | {report['throughput_ratio']} | {imp['peak_rss_mb']} MB "  # type: ignore[index]
        f"| {report['reimport']['seconds']} s, {report['reimport']['changed']} changes "  # type: ignore[index]
        f"| {look['service_ms']} / {look['raw_family_ms']} ms ({look['ratio_service_to_raw_family']}×) "  # type: ignore[index]
        f"| {exp['seconds']} s, {exp['peak_rss_mb']} MB |"  # type: ignore[index]
    )


if __name__ == "__main__":
    main()

"""``tepat program …`` and ``tepat siklus …``: named actors, maker-checker, plain Indonesian errors, ``--json``."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tepat.domain.access import Role
from tepat.store.schema import families
from tests.programme_support import ranked_registry
from tests.test_web_support import add_user


def _cli():
    from tepat.cli import app

    return app


def run(db, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(_cli(), [*args, "--db", db.url])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def ready(db, admin, tmp_path):
    ids, _ = ranked_registry(db, admin, tmp_path)
    with db.begin() as conn:
        conn.execute(families.update().values(verification_status="terverifikasi"))
    add_user(db, "pembuat", Role.ADMIN, "32.75")
    add_user(db, "penyetuju", Role.ADMIN, "32.75")
    add_user(db, "operator", Role.OPERATOR, "32.75.01.1001")
    return ids


def test_catalogue_commands(db, ready) -> None:
    assert run(db, "program", "list") == "Katalog program masih kosong. Jalankan: tepat program seed\n"
    assert (
        run(db, "program", "seed")
        == "6 program ditambahkan: BLT-APBD, BPNT, LKM-NIK, BANTUAN-PENDIDIKAN, BLK, UMKM.\n"
    )
    assert json.loads(run(db, "program", "seed", "--json")) == {"ditambahkan": []}
    listed = json.loads(run(db, "program", "list", "--json"))
    assert [p["code"] for p in listed][:2] == ["BLT-APBD", "BPNT"]
    assert "Besaran: SD Rp450.000, SMP Rp750.000, SMA Rp1.800.000" in run(
        db, "program", "show", "BANTUAN-PENDIDIKAN"
    )
    out = run(
        db,
        "program",
        "set",
        "BLT-APBD",
        "--amount",
        "300000",
        "--rule",
        "desil <== 4",
        "--as",
        "pembuat",
        code=1,
    )
    assert out.startswith("Galat: Data program belum benar.") and "rule: posisi" in out
    assert (
        run(db, "program", "set", "BLT-APBD", "--amount", "300000", code=1)
        == "Galat: Sebutkan akun yang bertindak dengan --as USERNAME.\n"
    )
    assert run(db, "program", "set", "BLT-APBD", "--amount", "300000", "--as", "operator", code=1).startswith(
        "Galat: Hanya Admin Dinsos"
    )
    assert (
        run(
            db,
            "program",
            "set",
            "BLT-APBD",
            "--amount",
            "300000",
            "--rule",
            'desil <= 6 and status == "aktif"',
            "--as",
            "pembuat",
        )
        == "Program BLT-APBD disimpan (versi 2).\n"
    )
    assert json.loads(run(db, "program", "show", "BLT-APBD", "--json"))["amount"] == 300_000
    assert run(db, "program", "show", "XYZ", code=1) == "Galat: Program tidak ditemukan\n"


def test_candidates_explain_and_overrides(db, ready) -> None:
    run(db, "program", "seed")
    data = json.loads(
        run(db, "program", "candidates", "BANTUAN-PENDIDIKAN", "--date", "2026-07-01", "--json")
    )
    assert data["kandidat"] == len(data["halaman"]) > 0 and sum(data["per_desil"]) == data["kandidat"]
    family = data["halaman"][0]["family_id"]
    text = run(
        db, "program", "explain", "BANTUAN-PENDIDIKAN", "--family", str(family), "--date", "2026-07-01"
    )
    assert (
        text.startswith(f"Keluarga {family} — BANTUAN-PENDIDIKAN: MASUK") and "Hasil: memenuhi syarat" in text
    )
    with db.read() as conn:
        local = (
            conn.execute(sa.select(families.c.id).where(families.c.kelurahan_code == "32.75.01.1001"))
            .scalars()
            .first()
        )
    made = json.loads(
        run(
            db,
            "program",
            "override",
            "request",
            "BLT-APBD",
            "--family",
            str(local),
            "--action",
            "hapus",
            "--reason",
            "Sudah pindah domisili",
            "--evidence",
            "BA 3/2026",
            "--as",
            "operator",
            "--json",
        )
    )
    pending = run(db, "program", "override", "list", "BLT-APBD")
    assert (
        pending.startswith(f"#{made['id']}  hapus  keluarga {local}  diajukan")
        and "Sudah pindah domisili" in pending
    )
    assert run(db, "program", "override", "approve", str(made["id"]), "--as", "operator", code=1).startswith(
        "Galat: Hanya Admin Dinsos"
    )
    assert (
        run(db, "program", "override", "reject", str(made["id"]), "--as", "penyetuju", code=1)
        == "Galat: Tulis alasan penolakan.\n  - note: Alasan penolakan wajib diisi\n"
    )
    assert (
        run(db, "program", "override", "approve", str(made["id"]), "--as", "penyetuju")
        == f"Pengajuan {made['id']} disetujui.\n"
    )
    assert (
        run(db, "program", "override", "list", "BLT-APBD") == "Tidak ada pengajuan yang menunggu keputusan.\n"
    )


def test_cycle_commands_enforce_maker_checker(db, ready) -> None:
    run(db, "program", "seed")
    created = json.loads(
        run(
            db,
            "siklus",
            "create",
            "BLT-APBD",
            "--name",
            "BLT-APBD Juli 2026",
            "--start",
            "2026-07-01",
            "--end",
            "2026-07-31",
            "--as",
            "pembuat",
            "--json",
        )
    )
    cid = str(created["id"])
    assert (
        created["status"] == "draf" and created["pagu"] is None
    )  # the catalogue's budget is 2025's, not 2026's
    assert (
        run(
            db,
            "siklus",
            "create",
            "BLT-APBD",
            "--name",
            "x",
            "--start",
            "1 Juli",
            "--end",
            "2026-07-31",
            "--as",
            "pembuat",
            code=1,
        )
        == "Galat: --start harus berformat TTTT-BB-HH atau HH-BB-TTTT, bukan '1 Juli'.\n"
    )
    assert run(db, "siklus", "generate", cid, "--as", "pembuat").startswith(f"Siklus {cid}: ")
    assert run(db, "siklus", "approve", cid, "--as", "penyetuju", code=1).startswith(
        "Galat: Siklus berstatus draf"
    )
    run(db, "siklus", "submit", cid, "--as", "pembuat")
    assert run(db, "siklus", "approve", cid, "--as", "pembuat", code=1) == (
        "Galat: Penyetuju harus orang lain, bukan pembuat atau pengaju siklus (maker-checker).\n"
    )
    assert (
        run(db, "siklus", "approve", cid, "--as", "tidak.ada", code=1)
        == "Galat: Pengguna 'tidak.ada' tidak ditemukan atau tidak aktif.\n"
    )
    approved = json.loads(run(db, "siklus", "approve", cid, "--as", "penyetuju", "--json"))
    assert (
        approved["status"] == "disetujui"
        and len(approved["sha256"]) == 64
        and approved["disetujui_oleh"] == "penyetuju"
    )
    assert run(db, "siklus", "cancel", cid, "--reason", "salah", "--as", "pembuat", code=1).startswith(
        "Galat: Siklus berstatus"
    )
    shown = run(db, "siklus", "show", cid)
    assert "Disetujui (dibekukan)" in shown and "SHA-256" in shown
    listed = json.loads(run(db, "siklus", "list", "--json"))
    assert listed[0]["id"] == created["id"] and listed[0]["penerima"] == approved["penerima"] > 0


def test_program_add_and_the_budget_year_from_the_cli(db, ready) -> None:
    out = run(
        db,
        "program",
        "add",
        "BLT-DD",
        "--name",
        "BLT Dana Kelurahan",
        "--amount",
        "Rp300.000",
        "--budget-year",
        "2026",
        "--budget",
        "Rp 3.000.000",
        "--as",
        "pembuat",
    )
    assert out == "Program BLT-DD ditambahkan: BLT Dana Kelurahan.\n"
    shown = json.loads(
        run(db, "program", "set", "BLT-DD", "--budget-year", "2027", "--as", "pembuat", "--json")
    )
    assert (shown["budget_year"], shown["annual_budget"]) == (2027, 3_000_000)
    refused = run(db, "program", "add", "X", "--name", "x", "--as", "pembuat", code=1)
    assert "Kode program" in refused

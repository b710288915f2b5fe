"""``tepat cases overdue|list``."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from tepat.services import case_submissions
from tests.factories import make_family, member_values


def _photo() -> case_submissions.Evidence:
    return case_submissions.Evidence(io.BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 64), "bukti")


def _cli():
    from tepat.cli import app
    from tepat.cli import cases as case_cli

    if not any(g.name == "cases" for g in app.registered_groups):
        case_cli.register(app)
    return app


def test_overdue_lists_late_sanggah_only(db, admin, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(_cli(), ["cases", "overdue", "--db", db.url])
    assert result.exit_code == 0 and result.output == "Tidak ada sanggah yang melewati batas 14 hari.\n"
    disputer = member_values("Dewi", "P", date(1990, 6, 12))
    make_family(db, admin, members=[disputer])
    opened = datetime.now(UTC) - timedelta(days=15)
    late = case_submissions.submit_sanggah(
        db,
        tmp_path / "u",
        "k" * 40,
        disputer_nik=disputer["nik"],
        disputer_proof="Dewi",
        factor="nama",
        target_description="X",
        reason="Y",
        evidence=[_photo()],
        clock=lambda: opened,
    )
    case_submissions.submit_sanggah(
        db,
        tmp_path / "u",
        "k" * 40,
        disputer_nik=disputer["nik"],
        disputer_proof="Dewi",
        factor="nama",
        target_description="Z",
        reason="Y",
        evidence=[_photo()],
    )
    result = runner.invoke(_cli(), ["cases", "overdue", "--db", db.url])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "1 sanggah melewati batas 14 hari:" and late in lines[1] and "Bekasijaya" in lines[1]
    listed = json.loads(
        runner.invoke(_cli(), ["cases", "list", "--kind", "sanggah", "--json", "--db", db.url]).output
    )
    assert sorted(r["terlambat"] for r in listed) == [False, True]

"""``tepat demo``: a synthetic city, demo accounts that work, and a database ready to serve."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tepat.cli import app
from tepat.domain.access import Role, system_actor
from tepat.services import auth, registry_reads, targeting
from tepat.services.demo import DEMO_ACCOUNTS, build_demo
from tepat.store.database import Database
from tepat.store.schema import families, family_scores


def test_build_demo_fills_the_registry_and_creates_working_accounts(db):
    built = build_demo(db, families=300, seed=7)
    assert built.imported.rows_rejected == 0
    assert built.families == 300 and built.members == built.imported.rows_read
    assert {a.username for a in built.accounts} == {a[0] for a in DEMO_ACCOUNTS}
    operator = next(a for a in built.accounts if a.role is Role.OPERATOR and a.area_code.count(".") == 3)
    actor = auth.authenticate(db, operator.username, operator.password)
    assert actor.role is Role.OPERATOR and actor.area_code == "32.75.01.1001"
    city = registry_reads.browse_area(
        db, auth.authenticate(db, "admin", built.accounts[0].password), "32.75", min_cell_size=10
    )
    with db.read() as conn:
        active = conn.execute(
            sa.select(sa.func.count()).select_from(families).where(families.c.registry_status == "aktif")
        ).scalar_one()
    assert 250 < active <= 300  # the synthetic city has some families already made inactive
    assert sum(r["families"] for r in city.rows) == active
    deciles = targeting.decile_distribution(db, system_actor(), built.model_id)
    assert deciles  # every active family ranked into desil 1-10 by the demo's PMT
    with db.read() as conn:
        ranked = conn.execute(
            sa.select(sa.func.count())
            .select_from(family_scores)
            .where(family_scores.c.model_id == built.model_id)
        ).scalar_one()
    assert ranked == active


def test_demo_cli_builds_once_and_reuses(tmp_path):
    path = tmp_path / "demo.sqlite"
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--families", "200", "--db-file", str(path), "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Kota Bekasi sintetis siap: 200 keluarga" in first.output
    assert "Akun demo (kata sandi hanya ditampilkan sekali ini)" in first.output
    second = runner.invoke(app, ["demo", "--families", "200", "--db-file", str(path), "--no-serve"])
    assert second.exit_code == 0
    assert second.output.startswith("Memakai data demo yang sudah ada")
    assert "Kata sandi" not in second.output
    db = Database(f"sqlite:///{path}")
    try:
        assert len(auth.list_users(db, system_actor())) == len(DEMO_ACCOUNTS)
    finally:
        db.dispose()


def test_demo_leaves_a_submitted_blt_cycle_for_the_second_admin(db):
    from tepat.errors import PermissionDenied
    from tepat.services import cycles

    built = build_demo(db, families=300, seed=7)
    password = {a.username: a.password for a in built.accounts}
    maker = auth.authenticate(db, "admin", password["admin"])
    checker = auth.authenticate(db, "kabid", password["kabid"])
    view = cycles.show(db, maker, built.cycle_id)
    assert view.cycle.state == "ditinjau" and view.cycle.entitlements > 0
    with pytest.raises(PermissionDenied):
        cycles.approve(db, maker, built.cycle_id)  # maker-checker: not the one who made it
    cycles.approve(db, checker, built.cycle_id)
    assert cycles.show(db, checker, built.cycle_id).cycle.state == "disetujui"

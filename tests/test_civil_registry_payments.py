"""Deaths and moves from Dukcapil block the unpaid entitlements of the people concerned."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from tepat.domain.access import system_actor
from tepat.services import civil_registry, cycles
from tepat.store.schema import audit_log, entitlements
from tests.document_data import pay
from tests.factories import make_family, member_values
from tests.programme_data import approved_cycle, insert_programme


def _states(db, cycle_id: int) -> dict[str, tuple[str, str | None]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(entitlements.c.recipient_name, entitlements.c.state, entitlements.c.block_reason).where(
                entitlements.c.cycle_id == cycle_id
            )
        ).all()
    return {r.recipient_name: (r.state, r.block_reason) for r in rows}


def test_deceased_and_moved_recipients_are_blocked_once(db, admin, tmp_path: Path) -> None:
    dead = member_values("Mbah Karto", "L", date(1940, 1, 1))
    mover = member_values("Ayu Lestari", "P", date(1985, 5, 5))
    paid = member_values("Bambang Sutrisno", "L", date(1970, 3, 3))
    failed = member_values("Citra Dewi", "P", date(1975, 3, 3))
    stays = member_values("Tono Wijaya", "L", date(1980, 4, 4))
    families = [make_family(db, admin, members=[p]) for p in (dead, mover, paid, failed, stays)]
    programme = insert_programme(db, "LKM-NIK", unit="orang", benefit_type="layanan", amount=0)
    open_cycle = approved_cycle(db, programme, families, per_person=True, state="pembayaran")
    draft = approved_cycle(db, programme, families[:1], per_person=True, state="draf", name="draf")
    closed = approved_cycle(db, programme, families[:1], per_person=True, state="ditutup", name="tutup")
    pay(db, open_cycle, [families[2]])
    pay(
        db, open_cycle, [families[3]], state="dikembalikan"
    )  # entitlement back to gagal: may be retried, so blockable
    text = "nik,peristiwa,tanggal\n" + "".join(
        f"{p['nik']},{e},2026-02-01\n"
        for p, e in (
            (dead, "meninggal"),
            (mover, "pindah_keluar"),
            (paid, "meninggal"),
            (failed, "meninggal"),
        )
    )
    path = tmp_path / "dukcapil.csv"
    path.write_text(text, encoding="utf-8")

    report = civil_registry.import_change_file(db, system_actor(), path)

    assert report.payments_blocked == 3
    assert report.as_dict()["pembayaran_diblokir"] == 3
    assert _states(db, open_cycle) == {
        "Mbah Karto": ("diblokir", "meninggal"),
        "Ayu Lestari": ("diblokir", "pindah"),
        "Bambang Sutrisno": ("dibayar", None),  # already paid: left to reconciliation
        "Citra Dewi": ("diblokir", "meninggal"),
        "Tono Wijaya": ("terjadwal", None),
    }
    assert _states(db, draft) == {"Mbah Karto": ("terjadwal", None)}  # a draft is re-checked at approval
    assert _states(db, closed) == {"Mbah Karto": ("terjadwal", None)}
    shown = {c: cycles.show(db, admin, c).cycle.blocked for c in (open_cycle, draft)}
    assert shown[open_cycle] == 3 and shown[draft] == 0  # the cycle's blocked figure follows
    again = civil_registry.import_change_file(
        db, system_actor(), path
    )  # idempotent: those people are inactive now
    assert again.payments_blocked == 0 and len(again.already_inactive) == 4
    with db.read() as conn:
        logged = conn.execute(
            sa.select(audit_log.c.detail).where(audit_log.c.action == "entitlement.block")
        ).all()
    assert (
        sum(r.detail["blocked"] for r in logged) == 3
    )  # each death blocked in its own transaction; no-ops leave nothing

"""Result files from the bank or PT Pos: other encodings refused with a clear message and recorded, the control
trailer mandatory (a truncated file is refused), and a trailer naming another batch or channel refused (issue 18
points 8, 9 and 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tepat.domain.payments import ControlTotals, checksum, format_trailer
from tepat.errors import ValidationError
from tepat.services import payments
from tepat.store.payment_states import line_state
from tepat.store.schema import audit_log, payment_result_imports
from tepat.store.schema import payments as payment_lines
from tests.payment_support import FINANCE, all_paid, exported_batch, paying_cycle, result_file


def _paid(db) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(payment_lines)
                .where(line_state(payment_lines.c) == "dibayar")
            ).scalar_one()
        )


def _rejections(db) -> list[str]:
    with db.read() as conn:
        return list(
            conn.execute(
                sa.select(payment_result_imports.c.message).where(
                    payment_result_imports.c.status == "ditolak"
                )
            ).scalars()
        )


@pytest.fixture
def batch(db, admin, tmp_path: Path):
    return exported_batch(db, tmp_path, paying_cycle(db, admin, here=4, there=0))


def test_a_utf16_file_is_refused_with_an_encoding_message_and_recorded(db, batch, tmp_path: Path) -> None:
    batch_id, lines = batch
    good = result_file(tmp_path, all_paid(lines)).read_bytes().decode("utf-8")
    path = tmp_path / "utf16.csv"
    path.write_bytes(good.encode("utf-16"))
    with pytest.raises(ValidationError, match="UTF-8"):
        payments.import_results(db, FINANCE, batch_id, path)
    assert _paid(db) == 0
    [message] = _rejections(db)
    assert "\x00" not in message and "UTF-8" in message
    with db.read() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "payment_batch.refuse_result")
            ).scalar_one()
            == 1
        )


def test_a_file_without_its_control_line_is_refused(db, batch, tmp_path: Path) -> None:
    batch_id, lines = batch
    cut_at_a_row = result_file(tmp_path, all_paid(lines)[:2], name="potong.csv", with_trailer=False)
    with pytest.raises(ValidationError, match="KONTROL"):
        payments.import_results(db, FINANCE, batch_id, cut_at_a_row)
    full = result_file(tmp_path, all_paid(lines), name="lengkap.csv").read_bytes()
    cut_in_the_last_field = tmp_path / "ekor.csv"  # "2025-07-15" cut to "2025-0": every field still readable?
    cut_in_the_last_field.write_bytes(full[: full.rindex(b"\n#KONTROL") - 4] + b"\n")
    with pytest.raises(ValidationError, match="KONTROL|tidak terbaca"):
        payments.import_results(db, FINANCE, batch_id, cut_in_the_last_field)
    cut_inside = tmp_path / "tengah.csv"
    cut_inside.write_bytes(
        full[: full.rindex(b"\n#KONTROL") - 7]
    )  # the last row loses its end, the trailer is gone
    with pytest.raises(
        ValidationError, match="KONTROL|tidak terbaca"
    ):  # a broken last row, else the missing trailer
        payments.import_results(db, FINANCE, batch_id, cut_inside)
    assert _paid(db) == 0
    summary = payments.import_results(db, FINANCE, batch_id, tmp_path / "lengkap.csv")
    assert not summary.already_imported and _paid(db) == 4


def _with_trailer(tmp_path: Path, lines: list[list[str]], *, batch: str | None, channel: str | None) -> Path:
    body = result_file(tmp_path, all_paid(lines), name="tmp.csv", with_trailer=False).read_bytes()
    total = sum(int(r[-1]) for r in lines)
    trailer = format_trailer(
        ControlTotals(rows=len(lines), total=total, sha256=checksum(body), batch=batch, channel=channel)
    )
    path = tmp_path / f"hasil-{batch}-{channel}.csv"
    path.write_bytes(body + (trailer + "\n").encode())
    return path


def test_a_trailer_naming_another_batch_or_channel_is_refused(db, batch, tmp_path: Path) -> None:
    batch_id, lines = batch
    number = payments.list_batches(db, FINANCE)[0].number
    with pytest.raises(ValidationError, match="batch"):
        payments.import_results(
            db, FINANCE, batch_id, _with_trailer(tmp_path, lines, batch="BYR-09999-001", channel="bank")
        )
    with pytest.raises(ValidationError, match="kanal"):
        payments.import_results(
            db, FINANCE, batch_id, _with_trailer(tmp_path, lines, batch=number, channel="pos")
        )
    assert _paid(db) == 0
    payments.import_results(
        db, FINANCE, batch_id, _with_trailer(tmp_path, lines, batch=number, channel="bank")
    )
    assert _paid(db) == 4


def test_a_second_bank_reference_for_a_paid_line_is_flagged_not_answered_sudah(
    db, batch, tmp_path: Path
) -> None:
    from tepat.services import reconciliation

    batch_id, lines = batch
    payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, all_paid(lines), name="pertama.csv"))
    again = [
        (r[0], r[1], r[2], r[3], r[4], "TRX-LAIN" if i == 0 else r[5], r[6])
        for i, r in enumerate(all_paid(lines))
    ]
    summary = payments.import_results(db, FINANCE, batch_id, result_file(tmp_path, again, name="kedua.csv"))
    assert summary.by_outcome == {"tidak_cocok": 1, "sudah": 3}
    report = reconciliation.reconcile(db, FINANCE, batch_id=batch_id)
    flagged = [m for m in report.mismatches if m["outcome"] == "tidak_cocok"]
    assert (
        len(flagged) == 1
        and "dibayar dua kali" in flagged[0]["detail"]
        and "TRX-LAIN" in flagged[0]["detail"]
    )
    assert _paid(db) == 4  # nothing paid or changed twice


def test_a_payment_reported_paid_after_the_recipient_died_is_listed_in_reconciliation(
    db, admin, batch, tmp_path
) -> None:
    from datetime import date

    from tepat.services import reconciliation, registry
    from tepat.store.schema import entitlements, members

    batch_id, lines = batch
    with db.read() as conn:  # the recipient of the first line
        member_id = conn.execute(
            sa.select(entitlements.c.member_id)
            .join(payment_lines, payment_lines.c.entitlement_id == entitlements.c.id)
            .where(payment_lines.c.reference == lines[0][0])
        ).scalar_one()
        version = conn.execute(sa.select(members.c.version).where(members.c.id == member_id)).scalar_one()
    registry.deactivate_member(
        db, admin, member_id, "meninggal", expected_version=version, note="wafat", death_date=date(2025, 7, 1)
    )  # after the batch was made, before the bank paid
    payments.import_results(
        db, FINANCE, batch_id, result_file(tmp_path, all_paid(lines))
    )  # settled 2025-07-15
    report = reconciliation.reconcile(db, FINANCE, batch_id=batch_id)
    assert [g["reference"] for g in report.paid_when_gone] == [lines[0][0]]
    assert not report.balanced
    assert reconciliation.reconcile(db, actor_of("analis"), batch_id=batch_id).paid_when_gone == []


def actor_of(name: str):
    from tepat.domain.access import Role
    from tests.conftest import actor

    return actor(Role.ANALYST, "32.75", name)

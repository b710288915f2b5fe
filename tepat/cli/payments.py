"""CLI commands for payments: ``tepat bayar batch|export|import|cancel|reconcile|list``.

Commands that move money state act as a named account (``--as USERNAME``), so
that the audit log and the maker/role rules see a real Keuangan or Admin Dinsos
user, never an anonymous system actor. Read-only commands default to the whole
city as the system actor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tepat.cli import common
from tepat.cli.common import (
    AsOption,
    DatabaseOption,
    JsonOption,
    fail,
    open_database,
    print_json,
)
from tepat.domain.formatting import number, rupiah
from tepat.domain.households import LifeStatus
from tepat.domain.payments import Outcome
from tepat.services import payments, reconciliation

bayar_app = typer.Typer(help="Payment batches, files, results and reconciliation.", no_args_is_help=True)


@bayar_app.command("batch")
def batch_command(
    cycle_id: Annotated[int, typer.Argument(help="Id of an approved cycle.")],
    user: AsOption,
    channel: Annotated[str, typer.Option("--channel", help="bank, pos or voucher.")] = "bank",
    kelurahan: Annotated[str | None, typer.Option("--kelurahan", help="Only this kelurahan (code).")] = None,
    retry: Annotated[
        bool, typer.Option("--retry", help="Also take failed entitlements again (attempt + 1).")
    ] = False,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a payment batch from the cycle's scheduled (and, with --retry, failed) entitlements."""
    db = open_database(db_url)
    b = payments.create_batch(
        db, common.acting(db, user), cycle_id, channel, kelurahan_code=kelurahan, retry=retry
    )
    common.tell(
        as_json,
        b,
        f"Batch {b.number} (id {b.id}) dibuat: {number(b.control_count)} baris, {rupiah(b.control_total)}.",
    )


@bayar_app.command("export")
def export_command(
    batch_id: Annotated[int, typer.Argument(help="Batch id.")],
    user: AsOption,
    out: Annotated[Path, typer.Option("--out", help="Payment file to write (CSV).")],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the batch's payment file with its control totals and checksum."""
    db = open_database(db_url)
    if not out.parent.is_dir():
        fail(f"Folder tidak ditemukan: {out.parent}")
    written = payments.export_batch(db, common.acting(db, user), batch_id, out)
    common.tell(
        as_json,
        {"berkas": str(out), "baris": written.rows, "total": written.total, "sha256": written.file_sha256},
        f"{out}: {number(written.rows)} baris, {rupiah(written.total)}, SHA-256 {written.file_sha256}",
    )


@bayar_app.command("import")
def import_command(
    batch_id: Annotated[int, typer.Argument(help="Batch id.")],
    file: Annotated[Path, typer.Argument(help="The bank's or PT Pos's result file (CSV or XLSX).")],
    user: AsOption,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply a result file to the batch, exactly once."""
    if not file.is_file():
        fail(f"Berkas tidak ditemukan: {file}")
    db = open_database(db_url)
    summary = payments.import_results(db, common.acting(db, user), batch_id, file)
    if as_json:
        print_json(summary.as_dict())
        return
    if summary.already_imported:
        typer.echo(
            f"Berkas ini sudah diimpor untuk batch {batch_id} (impor {summary.import_id}); tidak ada yang diubah."
        )
        return
    typer.echo(f"{number(summary.rows)} baris dibaca; status batch: {summary.batch_state}.")
    for outcome in Outcome:
        if summary.by_outcome.get(outcome.value):
            typer.echo(f"  {outcome.label}: {number(summary.by_outcome[outcome.value])}")


@bayar_app.command("cancel")
def cancel_command(
    user: AsOption,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    batch_id: Annotated[int | None, typer.Argument(help="Batch id to cancel.")] = None,
    entitlement: Annotated[
        int | None, typer.Option("--entitlement", help="Cancel one entitlement instead.")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a batch (its lines still on their way; their entitlements may be retried) or one entitlement."""
    if (batch_id is None) == (entitlement is None):
        fail("Sebutkan satu batch atau satu --entitlement.")
    db = open_database(db_url)
    who = common.acting(db, user)
    if entitlement is not None:
        payments.cancel_entitlement(db, who, entitlement, reason)
        result: dict[str, Any] = {"hak": entitlement, "status": "dibatalkan"}
        message = f"Hak {entitlement} dibatalkan."
    else:
        result = payments.cancel_batch(db, who, batch_id or 0, reason)
        message = (
            f"Batch {batch_id} dibatalkan: {number(result['baris_dibatalkan'])} baris dibatalkan, "
            f"{number(result['hak_dapat_diulang'])} hak dapat dibayar ulang (--retry)."
        )
    common.tell(as_json, result, message)


@bayar_app.command("reconcile")
def reconcile_command(
    batch_id: Annotated[int | None, typer.Argument(help="Batch id.")] = None,
    cycle_id: Annotated[int | None, typer.Option("--cycle", help="A whole cycle (all its batches).")] = None,
    user: Annotated[
        str | None, typer.Option("--as", help="Account to read as (default: the whole city).")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Planned vs paid vs failed vs returned per kelurahan, and every mismatch with the bank's file."""
    if (batch_id is None) == (cycle_id is None):
        fail("Sebutkan satu batch atau satu --cycle.")
    db = open_database(db_url)
    report = reconciliation.reconcile(db, common.reader(db, user), batch_id=batch_id, cycle_id=cycle_id)
    if as_json:
        print_json(report.as_dict())
        return
    typer.echo(f"{report.title}: {'seimbang' if report.balanced else 'BELUM SEIMBANG'}")
    typer.echo(f"{'Kelurahan':<22}{'Rencana':>16}{'Dibayar':>16}{'Gagal':>16}{'Retur':>16}{'Belum':>8}")
    for r in [*report.rows, {"kelurahan_name": "Jumlah", **report.total}]:
        typer.echo(
            f"{str(r.get('kelurahan_name') or r.get('kelurahan_code'))[:21]:<22}{rupiah(r['planned_sum']):>16}"
            f"{rupiah(r['dibayar_sum']):>16}{rupiah(r['gagal_sum']):>16}{rupiah(r['dikembalikan_sum']):>16}"
            f"{number(r['dikirim_count']):>8}"
        )
    for kind, count in report.mismatch_counts.items():
        if count:
            typer.echo(f"Selisih {Outcome(kind).label}: {number(count)}")
    for m in report.mismatches[:50]:
        typer.echo(
            f"  baris {m['row_number']} {m['reference']}: {Outcome(m['outcome']).label}"
            + (f" ({m['detail']})" if m["detail"] else "")
        )
    if report.paid_when_gone:
        typer.echo(
            f"Dibayar padahal penerima sudah meninggal atau nonaktif: {number(len(report.paid_when_gone))}"
        )
        for g in report.paid_when_gone[:50]:
            why = (
                f"meninggal {g['death_date']}"
                if g["life_status"] == LifeStatus.MENINGGAL
                else f"nonaktif sejak {g['inactive_since']}"
            )
            typer.echo(
                f"  {g['reference']} {g['recipient_name']} {rupiah(g['amount'])} disalurkan {g['settled_on']}: {why}"
            )


@bayar_app.command("list")
def list_command(
    cycle_id: Annotated[int | None, typer.Option("--cycle", help="Only this cycle's batches.")] = None,
    user: Annotated[
        str | None, typer.Option("--as", help="Account to read as (default: the whole city).")
    ] = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Payment batches, newest first."""
    db = open_database(db_url)
    rows = payments.list_batches(db, common.reader(db, user), cycle_id)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("Belum ada batch pembayaran.")
    for b in rows:
        typer.echo(
            f"{b.id:>5}  {b.number}  {b.channel:<8}{b.state:<12}{number(b.control_count):>10} baris"
            f"  {rupiah(b.control_total)}"
        )


def register(app: typer.Typer) -> None:
    """Add this module's command groups to the ``tepat`` command."""
    app.add_typer(bayar_app, name="bayar")

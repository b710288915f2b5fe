"""CLI commands: ``tepat siklus …`` (benefit cycles: create, generate, submit, approve, return, cancel, close).

Commands that change something act as a named account (``--as USERNAME``), so that maker-checker holds on the
command line as on the pages: the approver of a cycle must be another user than its maker. Reading commands run as
the system (city-wide admin) unless ``--as`` is given.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tepat.cli import common
from tepat.cli.common import (
    AsOption,
    AsReader,
    DatabaseOption,
    JsonOption,
    office_actor,
    open_as_office,
    open_database,
    print_json,
)
from tepat.domain.formatting import number, rupiah
from tepat.services import cycles
from tepat.store.database import Database

cycle_app = typer.Typer(
    help="Benefit cycles: create, generate, submit, approve, return, cancel, close.", no_args_is_help=True
)


@cycle_app.command("create")
def cycle_create(
    program: str,
    name: Annotated[str, typer.Option("--name", help='e.g. "BLT-APBD Juli 2025".')],
    start: Annotated[str, typer.Option("--start", help="First day of the period (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--end", help="Last day of the period (YYYY-MM-DD).")],
    budget: Annotated[
        int | None, typer.Option("--budget", help="Budget cap in rupiah (default: what the year has left).")
    ] = None,
    quota: Annotated[
        int | None, typer.Option("--quota", help="Units in this cycle (default: the programme's).")
    ] = None,
    area: Annotated[
        str | None,
        typer.Option("--area", help="Region the cycle covers (default: the account's whole area)."),
    ] = None,
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a cycle in draf."""
    db = open_database(db_url)
    cycle_id = cycles.create_cycle(
        db,
        common.acting(db, acting),
        program,
        name=name,
        period_start=common.parse_day(start, "--start"),
        period_end=common.parse_day(end, "--end"),
        budget_cap=budget,
        quota=quota,
        area_code=area,
    )
    _report(db, cycle_id, as_json, f"Siklus {cycle_id} dibuat (draf).")


def _report(db: Database, cycle_id: int, as_json: bool, message: str) -> None:
    view = cycles.show(db, office_actor(db), cycle_id)
    common.tell(as_json, view.as_dict(), message)


@cycle_app.command("generate")
def cycle_generate(
    cycle_id: int, acting: AsOption = "", db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Build (or rebuild, in draf) the list of entitlements."""
    db = open_database(db_url)
    result = cycles.generate(db, common.acting(db, acting), cycle_id)
    _report(
        db,
        cycle_id,
        as_json,
        f"Siklus {cycle_id}: {number(result['entitlements'])} penerima, {rupiah(result['total_amount'])}.",
    )


@cycle_app.command("submit")
def cycle_submit(
    cycle_id: int, acting: AsOption = "", db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Send the draft for review."""
    db = open_database(db_url)
    cycles.submit(db, common.acting(db, acting), cycle_id)
    _report(db, cycle_id, as_json, f"Siklus {cycle_id} diajukan untuk ditinjau.")


@cycle_app.command("approve")
def cycle_approve(
    cycle_id: int, acting: AsOption = "", db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Approve and freeze (an admin other than the maker and the submitter)."""
    db = open_database(db_url)
    result = cycles.approve(db, common.acting(db, acting), cycle_id)
    _report(
        db,
        cycle_id,
        as_json,
        f"Siklus {cycle_id} disetujui dan dibekukan; {number(result['blocked'])} diblokir; "
        f"SHA-256 {result['snapshot_sha256']}.",
    )


@cycle_app.command("return")
def cycle_return(
    cycle_id: int,
    note: Annotated[str, typer.Option("--note")] = "",
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a submitted cycle back to draf."""
    db = open_database(db_url)
    cycles.return_to_draft(db, common.acting(db, acting), cycle_id, note)
    _report(db, cycle_id, as_json, f"Siklus {cycle_id} dikembalikan ke draf.")


@cycle_app.command("cancel")
def cycle_cancel(
    cycle_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")] = "",
    acting: AsOption = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a cycle in draf or under review."""
    db = open_database(db_url)
    cycles.cancel(db, common.acting(db, acting), cycle_id, reason)
    _report(db, cycle_id, as_json, f"Siklus {cycle_id} dibatalkan.")


@cycle_app.command("close")
def cycle_close(
    cycle_id: int, acting: AsOption = "", db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Close a cycle whose every entitlement is final (paid, completed, cancelled or blocked); a service cycle once
    its coverage has ended."""
    db = open_database(db_url)
    cycles.close(db, common.acting(db, acting), cycle_id)
    _report(db, cycle_id, as_json, f"Siklus {cycle_id} ditutup.")


@cycle_app.command("close-ended")
def cycle_close_ended(
    acting: AsOption = "", db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Close every service (health coverage) cycle whose coverage has ended; run it daily, e.g. from cron."""
    db = open_database(db_url)
    closed = cycles.close_ended_coverage(db, common.acting(db, acting))
    common.tell(
        as_json,
        {"ditutup": closed},
        f"{number(len(closed))} siklus layanan yang jaminannya berakhir ditutup"
        + (f": {', '.join(map(str, closed))}." if closed else "."),
    )


@cycle_app.command("show")
def cycle_show(
    cycle_id: int, acting: AsReader = "", db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """A cycle: state, totals and per-kelurahan table."""
    db = open_database(db_url)
    view = cycles.show(db, common.reader(db, acting), cycle_id)
    if as_json:
        print_json(view.as_dict())
        return
    c = view.cycle
    typer.echo(f"Siklus {c.id}: {c.name} ({c.programme_code}) — {c.state.label}")
    typer.echo(
        f"  {number(c.entitlements)} penerima, {rupiah(c.total_amount)}, {number(c.blocked)} diblokir; "
        f"pagu {rupiah(c.budget_cap)}"
    )
    if c.snapshot_sha256:
        typer.echo(f"  SHA-256 daftar beku: {c.snapshot_sha256}")
    for r in view.by_kelurahan:
        typer.echo(
            f"  {r['kelurahan_name']:<24} {number(r['count']):>8} {rupiah(r['total']):>18}  diblokir {number(r['blocked'])}"
        )


@cycle_app.command("list")
def cycle_list(
    program: Annotated[str, typer.Option("--program")] = "",
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cycles, newest first."""
    rows = cycles.list_cycles(*open_as_office(db_url), program or None)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("Belum ada siklus.")
    for r in rows:
        typer.echo(
            f"{r.id:>5}  {r.programme_code:<20} {r.state.label:<24} "
            f"{number(r.entitlements):>9} {rupiah(r.total_amount):>20}  {r.name}"
        )


def register(app: typer.Typer) -> None:
    """Add ``tepat siklus`` to ``app``."""
    app.add_typer(cycle_app, name="siklus")

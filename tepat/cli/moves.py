"""CLI commands: ``tepat perpindahan list|terima|tolak`` (move requests between areas)."""

from __future__ import annotations

from typing import Annotated

import typer

from tepat.cli import common
from tepat.cli.common import AsOption, DatabaseOption, JsonOption, open_database, print_json
from tepat.services import moves

moves_app = typer.Typer(
    help="Move requests: records another area asked to register, and this area's own requests.",
    no_args_is_help=True,
)
NoteOption = Annotated[str, typer.Option("--catatan", help="Reason for the decision (at least 5 letters).")]


@moves_app.command("list")
def list_(user: AsOption, db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Requests waiting for the account's area to decide, then the area's own requests with their answers."""
    db = open_database(db_url)
    actor = common.acting(db, user)
    waiting, asked = moves.incoming(db, actor), moves.outgoing(db, actor)
    if as_json:
        keys = (
            "id",
            "created_at",
            "requested_by",
            "kk_number",
            "nik",
            "from_kelurahan_code",
            "to_kelurahan_code",
            "state",
            "decided_by",
            "decision_note",
        )
        print_json(
            {
                "masuk": [{k: r[k] for k in keys} for r in waiting],
                "keluar": [{k: r[k] for k in keys} for r in asked],
            }
        )
        return
    typer.echo(f"{len(waiting)} permintaan menunggu keputusan wilayah Anda:")
    for r in waiting:
        typer.echo(
            f"  #{r['id']}  KK {r['kk_number']}  {('NIK ' + r['nik']) if r['nik'] else 'seluruh keluarga'}"
            f"  {r['from_kelurahan_code']} → {r['to_kelurahan_code']}  oleh {r['requested_by']}"
        )
    typer.echo(f"{len(asked)} permintaan dari wilayah Anda:")
    for r in asked:
        typer.echo(
            f"  #{r['id']}  KK {r['kk_number']}  {('NIK ' + r['nik']) if r['nik'] else 'seluruh keluarga'}  {r['state']}"
            + (f" ({r['decision_note']})" if r["decision_note"] else "")
        )


@moves_app.command("terima")
def accept(request_id: int, user: AsOption, note: NoteOption, db_url: DatabaseOption = None) -> None:
    """Accept: the record is marked *pindah* in this area, so the asking area can register it."""
    db = open_database(db_url)
    moves.decide(db, common.acting(db, user), request_id, accept=True, note=note)
    typer.echo(f"Permintaan #{request_id} diterima.")


@moves_app.command("tolak")
def refuse(request_id: int, user: AsOption, note: NoteOption, db_url: DatabaseOption = None) -> None:
    """Refuse: nothing changes."""
    db = open_database(db_url)
    moves.decide(db, common.acting(db, user), request_id, accept=False, note=note)
    typer.echo(f"Permintaan #{request_id} ditolak.")


def register(app: typer.Typer) -> None:
    app.add_typer(moves_app, name="perpindahan")

"""CLI commands: ``tepat dci client add|list|show|revoke`` (the systems that call tepat through the DCI Social
Registry standard) and ``tepat dci kirim`` (send the callbacks owed now). See docs/dci.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tepat.cli import common
from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json
from tepat.services import crvs, dci_clients, dci_delivery, dci_events

dci_app = typer.Typer(help="DCI Social Registry interface: clients and callbacks.", no_args_is_help=True)
client_app = typer.Typer(help="Systems allowed to call /dci/registry/...", no_args_is_help=True)
dci_app.add_typer(client_app, name="client")

AsReader = Annotated[
    str | None,
    typer.Option(
        "--as", help="Account acting (its area bounds what it may manage); the office when omitted."
    ),
]


@client_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Client name (its account is dci-NAME).")],
    role: Annotated[
        str, typer.Option("--role", help="Role of its account: what it may read (e.g. operator).")
    ],
    area: Annotated[str, typer.Option("--area", help="Area code: it sees only families inside it.")],
    callback_url: Annotated[
        list[str] | None,
        typer.Option("--callback-url", help="URL prefix it may be called back at (repeatable)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="File with its Ed25519 public key (base64): its messages must be signed."
        ),
    ] = None,
    user: AsReader = None,
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a client and print its token (shown this once)."""
    db = open_database(db_url)
    key = public_key.read_text(encoding="utf-8").strip() if public_key else None
    made = dci_clients.add_client(
        db,
        common.reader(db, user),
        name,
        role=role,
        area_code=area,
        callback_urls=list(callback_url or []),
        public_key=key,
    )
    if as_json:
        print_json({"client": made.name, "token": made.token})
        return
    typer.echo(f"Klien DCI {made.name} dibuat (akun {made.username}). Token (hanya ditampilkan sekali):")
    typer.echo(made.token)


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "client": row["name"],
        "account": row["username"],
        "role": row["role"],
        "area": row["area_code"],
        "callback_urls": row["callback_urls"],
        "signed": bool(row["public_key"]),
        "active": row["revoked_at"] is None and bool(row["active"]),
    }


@client_app.command("list")
def list_(user: AsReader = None, db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Every client with its scope and callback prefixes."""
    db = open_database(db_url)
    rows = [_summary(r) for r in dci_clients.clients(db, common.reader(db, user))]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        state = "aktif" if r["active"] else "dicabut"
        typer.echo(f"{r['client']}\t{r['role']}\t{r['area']}\t{state}\t{' '.join(r['callback_urls'])}")


@client_app.command("show")
def show(
    name: str, user: AsReader = None, db_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """One client: its scope, last transactions, subscriptions and deliveries (with failures)."""
    db = open_database(db_url)
    row = dci_clients.client(db, common.reader(db, user), name)
    deliveries = [
        {k: d[k] for k in ("id", "action", "url", "state", "attempts", "last_status", "last_error")}
        for d in row["deliveries"]
    ]
    found = {
        **_summary(row),
        "transactions": [
            {k: t[k] for k in ("transaction_id", "correlation_id", "action", "status")}
            for t in row["transactions"]
        ],
        "subscriptions": [{k: s[k] for k in ("code", "event_type", "status")} for s in row["subscriptions"]],
        "deliveries": deliveries,
    }
    if as_json:
        print_json(found)
        return
    typer.echo(f"{found['client']} ({found['account']}, {found['role']}, {found['area']})")
    for d in deliveries:
        typer.echo(f"  kiriman {d['id']} {d['action']} {d['state']} ×{d['attempts']} {d['last_error'] or ''}")


@client_app.command("revoke")
def revoke(name: str, user: AsReader = None, db_url: DatabaseOption = None) -> None:
    """End a client: its account and tokens stop working, its subscriptions end."""
    db = open_database(db_url)
    dci_clients.revoke_client(db, common.reader(db, user), name)
    typer.echo(f"Klien DCI {name} dicabut.")


@dci_app.command("kirim")
def send(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Queue the notifications owed to subscribers, forget what is past TEPAT_RETENTION_DAYS, and send the
    callbacks due now (the web app does this by itself; for a server run without it)."""
    db = open_database(db_url)
    dci_events.queue_due(db)
    dci_delivery.forget_old(db, common.settings(db_url).retention_days)
    outcome = dci_delivery.deliver_due(db)
    common.tell(
        as_json,
        {"sent": outcome.sent, "retrying": outcome.retrying, "failed": outcome.failed},
        f"{outcome.sent} terkirim, {outcome.retrying} dicoba lagi nanti, {outcome.failed} gagal.",
    )


crvs_app = typer.Typer(
    help="tepat as a subscriber of the civil registry (CRVS, Dukcapil).", no_args_is_help=True
)
dci_app.add_typer(crvs_app, name="crvs")


@crvs_app.command("subscribe")
def crvs_subscribe(
    url: Annotated[
        str, typer.Option("--url", help="The civil registry's DCI base URL (…/registry/subscribe).")
    ],
    token: Annotated[str, typer.Option("--token", help="The token the civil registry gave this office.")],
    callback_url: Annotated[
        str,
        typer.Option(
            "--callback-url", help="This server's CRVS callback base, e.g. https://tepat.example/dci/crvs."
        ),
    ],
    db_url: DatabaseOption = None,
) -> None:
    """Subscribe to death and move events of the office's area; they arrive at /dci/crvs/registry/notify (sent
    with the token of the DCI client registered for the civil registry) and are applied as a change file is."""
    db = open_database(db_url)
    status = crvs.subscribe(db, url, token, callback_url, dci_delivery.post_json)
    if not 200 <= status < 300:
        common.fail(f"Registri sipil menjawab HTTP {status}: langganan tidak diterima.")
    typer.echo(
        f"Permintaan langganan kematian dan pindah dikirim (HTTP {status}); jawabannya datang lewat callback."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(dci_app, name="dci")

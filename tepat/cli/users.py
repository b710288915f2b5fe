"""CLI commands: ``tepat user add|list|token|deactivate`` and ``tepat serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json, settings
from tepat.domain.access import SYSTEM, Actor, Role
from tepat.services import auth

user_app = typer.Typer(help="Accounts: add users, list them, make API tokens.", no_args_is_help=True)

_ROLES = ", ".join(r.value for r in Role)


def _cli_actor() -> Actor:
    # Whoever can run commands on the server administers it: the CLI acts as the system.
    return SYSTEM


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name (lowercase letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {_ROLES}.")],
    area: Annotated[str, typer.Option("--area", help="Region code: 32.75, a kecamatan or a kelurahan.")],
    name: Annotated[str, typer.Option("--name", help="Full name shown on pages.")] = "",
    password: Annotated[str | None, typer.Option("--password", help="Password (prompted when left out).")] = None,
    db_url: DatabaseOption = None,
) -> None:
    """Create an account."""
    if password is None:
        password = typer.prompt("Kata sandi", hide_input=True, confirmation_prompt=True)
    db = open_database(db_url)
    user_id = auth.create_user(db, _cli_actor(), username=username, password=password, role=role, area_code=area,
                               full_name=name)
    typer.echo(f"Akun {username.strip().lower()} dibuat (id {user_id}, peran {Role(role).label}, "
               f"wilayah {db.regions.name(area.strip())}).")


@user_app.command("list")
def list_(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List the accounts."""
    db = open_database(db_url)
    rows = auth.list_users(db, _cli_actor())
    if as_json:
        print_json([{"id": u.id, "username": u.username, "full_name": u.full_name, "role": u.role.value,
                     "area_code": u.area_code, "active": u.active} for u in rows])
        return
    if not rows:
        typer.echo("Belum ada akun.")
        return
    for u in rows:
        state = "aktif" if u.active else "nonaktif"
        typer.echo(f"{u.username:<20} {u.role.value:<12} {u.area_code:<14} {state:<9} {u.full_name}")


@user_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="The account the token acts as.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
    db_url: DatabaseOption = None,
) -> None:
    """Make an API token (printed once; only its hash is stored)."""
    issued = auth.issue_token(open_database(db_url), _cli_actor(), username, label=label)
    typer.echo(issued.token)
    typer.echo(f"Token untuk {issued.username} ({issued.label}). Simpan sekarang: token ini tidak dapat ditampilkan lagi.",
               err=True)


@user_app.command("deactivate")
def deactivate(
    username: Annotated[str, typer.Argument(help="The account to switch off.")],
    db_url: DatabaseOption = None,
) -> None:
    """Switch an account off and revoke its API tokens."""
    auth.deactivate_user(open_database(db_url), _cli_actor(), username)
    typer.echo(f"Akun {username.strip().lower()} dinonaktifkan; token API-nya dicabut.")


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default TEPAT_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default TEPAT_PORT or 8000).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help=(
        "Worker processes (default 1). Use one per CPU core for a busy public status check; "
        "rate limits and used challenges are shared by all of them."))] = 1,
    db_url: DatabaseOption = None,
) -> None:
    """Run the web application (operator pages and the JSON API) with uvicorn."""
    import os

    import uvicorn

    from tepat.cli.asgi_app import IMPORT_STRING, ready_to_serve
    from tepat.web.app import create_app

    config = settings(db_url)
    bind_host, bind_port = host or config.host, port or config.port
    # Client addresses come from tepat.web.client_address (TEPAT_TRUSTED_PROXIES), never from uvicorn trusting a header.
    options: dict[str, object] = {"host": bind_host, "port": bind_port, "proxy_headers": False, "server_header": False,
                                  "access_log": False,  # tepat.web.access_log logs route templates, never query strings
                                  "log_level": "info"}
    typer.echo(f"tepat berjalan di http://{bind_host}:{bind_port}/ dengan {workers} proses (Ctrl+C untuk berhenti)",
               err=True)
    if workers == 1:
        uvicorn.run(ready_to_serve(create_app(config)), **options)  # type: ignore[arg-type]
        return
    # Each worker process builds its own app from the environment: hand it the database chosen here.
    os.environ["TEPAT_DATABASE_URL"] = config.database_url
    uvicorn.run(IMPORT_STRING, factory=True, workers=workers, **options)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(user_app, name="user")
    app.command("serve")(serve)

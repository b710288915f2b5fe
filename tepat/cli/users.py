"""CLI commands: ``tepat user add|list|passwd|reset|logout|token|tokens|token-revoke|deactivate`` and ``tepat serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from tepat.cli.common import DatabaseOption, JsonOption, open_database, print_json, settings
from tepat.domain.access import SYSTEM, Actor, Role
from tepat.domain.formatting import long_date, moment
from tepat.services import auth

user_app = typer.Typer(
    help="Accounts: add, list, set or reset passwords, end sessions, API tokens.", no_args_is_help=True
)

_ROLES = ", ".join(r.value for r in Role)


def _cli_actor() -> Actor:
    # Whoever can run commands on the server administers it: the CLI acts as the system.
    return SYSTEM


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name (lowercase letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {_ROLES}.")],
    area: Annotated[
        str,
        typer.Option(
            "--area",
            help="Region code: the office's (e.g. 32.76), a kecamatan or a kelurahan inside it; for a province "
            "account (--role provinsi) the province's (e.g. 32).",
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="Full name shown on pages.")] = "",
    password: Annotated[
        str | None, typer.Option("--password", help="Password (prompted when left out).")
    ] = None,
    db_url: DatabaseOption = None,
) -> None:
    """Create an account."""
    if password is None:
        password = typer.prompt("Kata sandi", hide_input=True, confirmation_prompt=True)
    db = open_database(db_url)
    user_id = auth.create_user(
        db, _cli_actor(), username=username, password=password, role=role, area_code=area, full_name=name
    )
    typer.echo(
        f"Akun {username.strip().lower()} dibuat (id {user_id}, peran {Role(role).label}, "
        f"wilayah {db.regions.name(area.strip())})."
    )


@user_app.command("list")
def list_(db_url: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List the accounts."""
    db = open_database(db_url)
    rows = auth.list_users(db, _cli_actor())
    if as_json:
        print_json(
            [
                {
                    "id": u.id,
                    "username": u.username,
                    "full_name": u.full_name,
                    "role": u.role.value,
                    "area_code": u.area_code,
                    "active": u.active,
                }
                for u in rows
            ]
        )
        return
    if not rows:
        typer.echo("Belum ada akun.")
        return
    for u in rows:
        state = "aktif" if u.active else "nonaktif"
        typer.echo(f"{u.username:<20} {u.role.value:<12} {u.area_code:<14} {state:<9} {u.full_name}")


@user_app.command("passwd")
def passwd(
    username: Annotated[str, typer.Argument(help="The account whose password to set.")],
    db_url: DatabaseOption = None,
) -> None:
    """Set an account's password (prompted twice); every session of the account ends."""
    new = typer.prompt("Kata sandi baru", hide_input=True)
    repeat = typer.prompt("Ulangi kata sandi baru", hide_input=True)
    auth.set_password(open_database(db_url), _cli_actor(), username, new, repeat)
    typer.echo(f"Kata sandi {username.strip().lower()} diganti; semua sesinya berakhir.")


@user_app.command("reset")
def reset(
    username: Annotated[str, typer.Argument(help="The account to reset.")],
    totp: Annotated[
        bool, typer.Option("--totp", help="Also switch off its authenticator code (a lost phone).")
    ] = False,
    db_url: DatabaseOption = None,
) -> None:
    """Give an account a one-time password (printed once) that must be replaced at the next login."""
    password = auth.reset_password(open_database(db_url), _cli_actor(), username, remove_second_factor=totp)
    typer.echo(password)
    extra = " Verifikasi dua langkahnya dimatikan." if totp else ""
    typer.echo(
        f"Kata sandi sekali pakai untuk {username.strip().lower()}: harus diganti saat masuk; semua sesinya "
        f"berakhir.{extra}",
        err=True,
    )


@user_app.command("logout")
def logout(
    username: Annotated[str, typer.Argument(help="The account to sign out everywhere.")],
    db_url: DatabaseOption = None,
) -> None:
    """End every open session of an account at once."""
    ended = auth.end_sessions(open_database(db_url), _cli_actor(), username)
    typer.echo(f"{ended} sesi {username.strip().lower()} diakhiri.")


@user_app.command("token")
def token(
    username: Annotated[str, typer.Argument(help="The account the token acts as.")],
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "api",
    days: Annotated[
        int, typer.Option("--days", help=f"Days the token is valid (1-{auth.MAX_TOKEN_DAYS}).")
    ] = auth.TOKEN_DAYS,
    db_url: DatabaseOption = None,
) -> None:
    """Make an API token (printed once; only its hash is stored)."""
    issued = auth.issue_token(open_database(db_url), _cli_actor(), username, label=label, days=days)
    typer.echo(issued.token)
    typer.echo(
        f"Token {issued.token_id} untuk {issued.username} ({issued.label}), berlaku sampai "
        f"{long_date(issued.expires_at)}. Simpan sekarang: token ini tidak dapat ditampilkan lagi.",
        err=True,
    )


@user_app.command("tokens")
def tokens(
    username: Annotated[str, typer.Argument(help="The account whose tokens to list.")],
    db_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List an account's API tokens: when made, last used, expiry, revoked."""
    rows = auth.tokens_of(open_database(db_url), _cli_actor(), username)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("Belum ada token.")
        return
    for t in rows:
        used = moment(t["last_used_at"]) if t["last_used_at"] else "belum pernah dipakai"
        until = long_date(t["expires_at"]) if t["expires_at"] else "tanpa batas"
        state = f"dicabut {moment(t['revoked_at'])}" if t["revoked_at"] else "aktif"
        typer.echo(f"{t['id']:>5}  {t['label']:<20} {state:<28} berlaku sampai {until:<18} {used}")


@user_app.command("token-revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's number (from `tepat user tokens`).")],
    db_url: DatabaseOption = None,
) -> None:
    """Revoke one API token."""
    auth.revoke_token(open_database(db_url), _cli_actor(), token_id)
    typer.echo(f"Token {token_id} dicabut.")


@user_app.command("deactivate")
def deactivate(
    username: Annotated[str, typer.Argument(help="The account to switch off.")],
    db_url: DatabaseOption = None,
) -> None:
    """Switch an account off, end its sessions and revoke its API tokens."""
    auth.deactivate_user(open_database(db_url), _cli_actor(), username)
    typer.echo(f"Akun {username.strip().lower()} dinonaktifkan; sesi dan token API-nya berakhir.")


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default TEPAT_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default TEPAT_PORT or 8000).")] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help=(
                "Worker processes (default 1). Use one per CPU core for a busy public status check; "
                "rate limits and used challenges are shared by all of them."
            ),
        ),
    ] = 1,
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
    options: dict[str, object] = {
        "host": bind_host,
        "port": bind_port,
        "proxy_headers": False,
        "server_header": False,
        "access_log": False,  # tepat.web.access_log logs route templates, never query strings
        "log_level": "info",
    }
    typer.echo(
        f"tepat berjalan di http://{bind_host}:{bind_port}/ dengan {workers} proses (Ctrl+C untuk berhenti)",
        err=True,
    )
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

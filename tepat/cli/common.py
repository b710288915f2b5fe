"""What every command shares: the database option, JSON output, plain-line failures."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tepat.config import Settings
from tepat.domain.access import Actor, system_actor
from tepat.domain.json_values import plain
from tepat.domain.validation import parse_date
from tepat.store.database import Database

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: TEPAT_DATABASE_URL, else ./tepat.sqlite).", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
AsOption = Annotated[
    str, typer.Option("--as", help="Username of the account acting (required: changes are audited).")
]
AsReader = Annotated[str, typer.Option("--as", help="Username to read as (default: the system, whole city).")]
OfficeOption = Annotated[
    str | None,
    typer.Option(
        "--office",
        help="Kabupaten/kota code whose programme catalogue (a province's database; default: the account's office).",
    ),
]


def settings(db_url: str | None = None) -> Settings:
    return Settings.from_env(database_url=db_url)


def open_database(db_url: str | None) -> Database:
    """The database named by ``--db`` or the settings."""
    return Database(settings(db_url).database_url)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(plain(value), ensure_ascii=False, indent=2))


def tell(as_json: bool, value: Any, line: str) -> None:
    """The result as JSON (``--json``, for a script), or one line for a person."""
    if as_json:
        print_json(value)
    else:
        typer.echo(line)


def fail(message: str, code: int = 1) -> None:
    """Print one plain line to stderr and exit non-zero."""
    typer.echo(f"Galat: {message}", err=True)
    raise typer.Exit(code)


def parse_day(raw: str, option: str) -> date:
    """A date given to option ``option`` (``TTTT-BB-HH`` or ``HH-BB-TTTT``), through the one date parser; a
    malformed one ends the command with a plain line."""
    try:
        return parse_date(raw)
    except ValueError:
        fail(f"{option} harus berformat TTTT-BB-HH atau HH-BB-TTTT, bukan '{raw}'.")
        raise  # unreachable: fail exits


def acting(db: Database, username: str | None) -> Actor:
    """The account a changing command acts as (``--as USERNAME``): its role and area apply, and the audit names it."""
    from tepat.services.programmes import actor_by_username

    if not (username or "").strip():
        fail("Sebutkan akun yang bertindak dengan --as USERNAME.")
    return actor_by_username(db, username or "")


def reader(db: Database, username: str | None) -> Actor:
    """The account a reading command reads as; the system (the whole office) when ``--as`` is not given."""
    return acting(db, username) if (username or "").strip() else office_actor(db)


def office_actor(db: Database) -> Actor:
    """The system acting over everything the database serves (commands run on the server by its operator): the
    office, or a province deployment's every office."""
    return system_actor(db.offices.area)


def open_as_office(db_url: str | None) -> tuple[Database, Actor]:
    """The database and the system acting over its whole office."""
    db = open_database(db_url)
    return db, office_actor(db)


@contextmanager
def progress_bar(
    action: str, unit: str, *, enabled: bool = True
) -> Iterator[Callable[[int, int | None], None] | None]:
    """A progress bar on stderr for a long job (``update(done, total)``); ``None`` when stderr is not a terminal."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn(action),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(action, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update

"""What every command shares: the database option, JSON output, plain-line failures."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from tepat.config import Settings
from tepat.store.database import Database

DatabaseOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: TEPAT_DATABASE_URL, else ./tepat.sqlite).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def settings(db_url: str | None = None) -> Settings:
    return Settings.from_env(database_url=db_url)


def open_database(db_url: str | None) -> Database:
    """The database named by ``--db`` or the settings."""
    return Database(settings(db_url).database_url)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, default=str, indent=2))


def fail(message: str, code: int = 1) -> None:
    """Print one plain line to stderr and exit non-zero."""
    typer.echo(f"Galat: {message}", err=True)
    raise typer.Exit(code)

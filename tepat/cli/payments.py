"""CLI commands for payments (issue 4). Filled in by the module's owner."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's command groups to the ``tepat`` command."""

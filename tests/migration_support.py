"""Helpers for migration tests: one step up or down (the ``scratch`` fixture in conftest gives a database of the
test's own, on which migrations are run by hand)."""

from __future__ import annotations

import sqlalchemy as sa

from tepat.store.migrate import run


def migrate(engine: sa.Engine, how: str, target: str) -> None:
    """``how`` is ``upgrade`` or ``downgrade``; ``target`` a revision (``0017``, ``head``)."""
    run(engine, how, target)

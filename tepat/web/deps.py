"""FastAPI dependencies shared by every router: the database and the logged-in actor.

(Skeleton: the web module owner fills in sessions and login.)
"""

from __future__ import annotations

from fastapi import Request

from tepat.domain.access import Actor
from tepat.store.database import Database


def get_db(request: Request) -> Database:
    """The application's database (set on ``app.state.db`` at start-up)."""
    return request.app.state.db


def current_actor(request: Request) -> Actor:
    """The logged-in user; redirects to the login page when there is none."""
    raise NotImplementedError

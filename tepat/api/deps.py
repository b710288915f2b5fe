"""Dependencies of the JSON API: the database and the actor behind a bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tepat.domain.access import Actor
from tepat.errors import AuthenticationFailed
from tepat.services import auth
from tepat.store.database import Database

bearer = HTTPBearer(auto_error=False, description="Token dari `tepat user token USERNAME`")


def get_db(request: Request) -> Database:
    """The API's database."""
    db: Database = request.app.state.db
    return db


def token_actor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The account holding the bearer token; 401 in the one error shape otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise AuthenticationFailed("Token API diperlukan: kirim header 'Authorization: Bearer <token>'.")
    return auth.actor_for_token(get_db(request), credentials.credentials)

"""DCI clients: the systems allowed to call tepat through the DCI Social Registry standard.

A client is backed by a tepat account named ``dci-NAME`` with a role and an area, so that every DCI answer is
scoped exactly as that account's pages and API are (an operator-role client of one kecamatan sees that
kecamatan's families; an analyst-role client sees no personal data and is refused a search); it authenticates
with the account's API token (``Authorization: Bearer …``: expiry, revocation and last use as for every token).
A client is called back only at the URL prefixes registered for it, never at an address a message names, and
when an Ed25519 public key is registered every message it sends must be signed (``tepat.services.dci_signature``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tepat.domain.access import Actor, Permission
from tepat.domain.audit_actions import AuditAction
from tepat.domain.dci import ErrorCode, Refused
from tepat.errors import AuthenticationFailed, FieldError, NotFound, TepatError, ValidationError
from tepat.services import auth
from tepat.store import audit
from tepat.store import dci as store
from tepat.store.database import Database
from tepat.store.engine import now

ACCOUNT_PREFIX = "dci-"
TOKEN_DAYS = auth.MAX_TOKEN_DAYS


@dataclass(frozen=True)
class DciClient:
    """A calling system, as a request sees it: the account it acts as and where it may be called back."""

    id: int
    name: str
    actor: Actor
    callback_urls: tuple[str, ...]
    public_key: str | None

    def may_call_back(self, url: str) -> bool:
        """True when ``url`` lies under one of the registered prefixes (same scheme, host and port)."""
        return any(client_prefix_holds(prefix, url) for prefix in self.callback_urls)


@dataclass(frozen=True)
class NewClient:
    """A client just made: ``token`` is the only time its secret is visible."""

    name: str
    username: str
    token: str


def client_prefix_holds(prefix: str, url: str) -> bool:
    """True when ``url`` lies under the registered ``prefix`` (same scheme, host and port; path below it)."""
    try:
        got, base = urlsplit(url), urlsplit(prefix)
        same_origin = (got.scheme, got.hostname, got.port) == (base.scheme, base.hostname, base.port)
    except ValueError:
        return False
    path = base.path.rstrip("/")
    return same_origin and not got.username and (got.path == path or got.path.startswith(path + "/"))


def check_callback_url(url: str) -> str | None:
    """Why ``url`` cannot be registered as a callback prefix, or ``None``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises on a bad port
    except ValueError:
        return f"alamat tidak sah: {url!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"alamat callback harus http(s)://host/…: {url!r}"
    if parts.username or parts.password or parts.fragment or parts.query:
        return f"alamat callback tanpa nama pengguna, query atau fragmen: {url!r}"
    return None


def check_public_key(text: str) -> str | None:
    """Why ``text`` is not a base64 Ed25519 public key (32 bytes), or ``None``."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "kunci publik harus base64 (32 bita Ed25519)"
    return None if len(raw) == 32 else "kunci publik Ed25519 panjangnya 32 bita"


def add_client(
    db: Database,
    actor: Actor,
    name: str,
    *,
    role: str,
    area_code: str,
    callback_urls: list[str],
    public_key: str | None = None,
) -> NewClient:
    """Register a DCI client: its account (role, area), its callback prefixes and key, and a token shown once."""
    actor.require(Permission.MANAGE_USERS)
    name = name.strip().lower()
    errors = [
        FieldError("callback_url", problem, url)
        for url in callback_urls
        if (problem := check_callback_url(url)) is not None
    ]
    if public_key and (problem := check_public_key(public_key)) is not None:
        errors.append(FieldError("public_key", problem))
    if errors:
        raise ValidationError("Klien DCI tidak dapat dibuat.", errors)
    username = ACCOUNT_PREFIX + name
    with db.read() as conn:
        if store.client_by_name(conn, name) is not None:
            raise ValidationError(
                "Klien DCI tidak dapat dibuat.", [FieldError("name", "Nama klien sudah dipakai.", name)]
            )
    user_id = auth.create_user(
        db,
        actor,
        username=username,
        password=secrets.token_urlsafe(32),  # never used: the client authenticates with its token
        role=role,
        area_code=area_code,
        full_name=f"Klien DCI {name}",
        one_time=True,
    )
    with db.begin() as conn:
        client_id = store.insert_client(
            conn,
            name=name,
            user_id=user_id,
            callback_urls=[u.strip() for u in callback_urls],
            public_key=public_key.strip() if public_key else None,
            created_at=now(),
        )
        audit.record(
            conn,
            actor,
            AuditAction.DCI_CLIENT_CREATE,
            "dci_client",
            client_id,
            area_code=area_code,
            detail={"name": name, "role": role, "callback_urls": callback_urls, "signed": bool(public_key)},
        )
    issued = auth.issue_token(db, actor, username, label="dci", days=TOKEN_DAYS)
    return NewClient(name=name, username=username, token=issued.token)


def client_for_token(db: Database, token: str) -> DciClient:
    """The client holding this bearer token; ``Refused`` (unauthorized or forbidden) otherwise."""
    try:
        actor = auth.actor_for_token(db, token)
    except AuthenticationFailed:
        raise Refused(ErrorCode.UNAUTHORIZED, "unknown, expired or revoked token") from None
    with db.read() as conn:
        row = store.client_by_user(conn, actor.user_id or 0)
    if row is None or row["revoked_at"] is not None or not row["active"]:
        raise Refused(ErrorCode.FORBIDDEN, "this token does not belong to an active DCI client")
    return _client(row, actor)


def client_by_id(db: Database, client_id: int) -> DciClient:
    """The client with this id as it stands now (its account's role and area), to answer on its behalf later;
    ``Refused`` (forbidden) once it has been revoked."""
    with db.read() as conn:
        row = store.client_by_id(conn, client_id)
    if row is None or row["revoked_at"] is not None or not row["active"]:
        raise Refused(ErrorCode.FORBIDDEN, "this DCI client has been revoked")
    actor = auth.actor_for_user(db, row["user_id"])
    if actor is None:
        raise Refused(ErrorCode.FORBIDDEN, "this DCI client's account is gone")
    return _client(row, actor)


def _client(row: dict[str, Any], actor: Actor) -> DciClient:
    return DciClient(
        id=row["id"],
        name=row["name"],
        actor=actor,
        callback_urls=tuple(row["callback_urls"] or ()),
        public_key=row["public_key"],
    )


def clients(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Every DCI client in the actor's area, with its scope, prefixes and whether it signs."""
    actor.require(Permission.MANAGE_USERS)
    with db.read() as conn:
        return [c for c in store.clients(conn) if actor.in_area(c["area_code"])]


def client(db: Database, actor: Actor, name: str) -> dict[str, Any]:
    """One client with its last transactions, subscriptions and deliveries (the admin's view)."""
    actor.require(Permission.MANAGE_USERS)
    with db.read() as conn:
        row = store.client_by_name(conn, name.strip().lower())
        if row is None or not actor.in_area(row["area_code"]):
            raise NotFound(f"Klien DCI {name!r} tidak ditemukan.")
        row["transactions"] = store.recent_transactions(conn, row["id"])
        row["subscriptions"] = store.subscriptions_of(conn, row["id"])
        row["deliveries"] = store.deliveries_of(conn, row["id"])
    return row


def revoke_client(db: Database, actor: Actor, name: str) -> None:
    """End a client: its account is deactivated (every token with it), its subscriptions end."""
    found = client(db, actor, name)
    if found["revoked_at"] is not None:
        raise TepatError(f"Klien DCI {name!r} sudah dicabut.")
    auth.deactivate_user(db, actor, found["username"])
    at = now()
    with db.begin() as conn:
        store.update_client(conn, found["id"], revoked_at=at)
        for subscription in found["subscriptions"]:
            store.end_subscription(conn, subscription["id"], at)
        audit.record(
            conn,
            actor,
            AuditAction.DCI_CLIENT_REVOKE,
            "dci_client",
            found["id"],
            area_code=found["area_code"],
        )


def end_subscription(db: Database, actor: Actor, name: str, code: str) -> None:
    """An admin ends one of a client's subscriptions (no more notifications for it)."""
    found = client(db, actor, name)
    subscription = next((row for row in found["subscriptions"] if row["code"] == code), None)
    if subscription is None:
        raise NotFound(f"Langganan {code!r} tidak ditemukan pada klien {name!r}.")
    with db.begin() as conn:
        if not store.end_subscription(conn, subscription["id"], now()):
            raise TepatError(f"Langganan {code!r} sudah berakhir.")
        audit.record(
            conn,
            actor,
            AuditAction.DCI_SUBSCRIPTION_END,
            "dci_client",
            found["id"],
            area_code=found["area_code"],
            detail={"code": code},
        )

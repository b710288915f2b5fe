"""Pages for admins: the DCI clients (/klien-dci): their scope, callback addresses and key, a new client with its
token shown once, one client's last transactions, subscriptions and deliveries with failures, and revocation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from tepat.domain.access import Actor, Permission, Role
from tepat.services import dci_clients
from tepat.store.database import Database
from tepat.web.deps import DB, requires
from tepat.web.feedback import Feedback, act
from tepat.web.templating import templates

router = APIRouter()
Admin = Annotated[Actor, Depends(requires(Permission.MANAGE_USERS))]


def _list_page(
    request: Request,
    db: Database,
    actor: Actor,
    *,
    made: dci_clients.NewClient | None = None,
    values: dict[str, str] | None = None,
    feedback: Feedback | None = None,
) -> Response:
    return templates.page(
        request,
        "dci/clients.html",
        {
            "title": "Klien DCI",
            "rows": dci_clients.clients(db, actor),
            "made": made,
            "values": values or {"peran": Role.VERIFIER.value, "wilayah": actor.area_code},
            "roles": [(r.value, r.label) for r in Role],
            "notice": request.query_params.get("dicabut", ""),
        },
        headers={"Cache-Control": "no-store"},
        feedback=feedback or Feedback(),
    )


@router.get("/klien-dci")
def clients(request: Request, db: DB, actor: Admin) -> Response:
    """Every DCI client in the admin's area; the form to add one."""
    return _list_page(request, db, actor)


@router.post("/klien-dci")
def add_client(
    request: Request,
    db: DB,
    actor: Admin,
    nama: Annotated[str, Form()] = "",
    peran: Annotated[str, Form()] = "",
    wilayah: Annotated[str, Form()] = "",
    callback: Annotated[str, Form()] = "",
    kunci: Annotated[str, Form()] = "",
) -> Response:
    """Register a client; its token is shown on this answer only (not in a URL, not stored)."""
    urls = [line.strip() for line in callback.splitlines() if line.strip()]

    def attempt() -> Response:
        made = dci_clients.add_client(
            db,
            actor,
            nama,
            role=peran,
            area_code=wilayah,
            callback_urls=urls,
            public_key=kunci.strip() or None,
        )
        return _list_page(request, db, actor, made=made)

    values = {"nama": nama, "peran": peran, "wilayah": wilayah, "callback": callback, "kunci": kunci}
    return act(attempt, lambda feedback: _list_page(request, db, actor, values=values, feedback=feedback))


@router.get("/klien-dci/{name}")
def client(request: Request, db: DB, actor: Admin, name: str) -> Response:
    """One client: scope, last transactions, subscriptions and the delivery log (failures first to see)."""
    found: dict[str, Any] = dci_clients.client(db, actor, name)
    return templates.page(
        request,
        "dci/client.html",
        {"title": f"Klien DCI {found['name']}", "c": found},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/klien-dci/{name}/cabut")
def revoke(db: DB, actor: Admin, name: str) -> Response:
    """End a client: its account and tokens, and its subscriptions."""
    dci_clients.revoke_client(db, actor, name)
    return RedirectResponse(f"/klien-dci?dicabut={name}", status_code=303)


@router.post("/klien-dci/{name}/langganan/{subscription}/akhiri")
def end_subscription(db: DB, actor: Admin, name: str, subscription: str) -> Response:
    """End one subscription of the client (``{subscription}``: its code; ``{code}`` in page paths is a region's)."""
    dci_clients.end_subscription(db, actor, name, subscription)
    return RedirectResponse(f"/klien-dci/{name}", status_code=303)

"""The deactivation form, one for a family and a member: a reason from the closed list, a note, the version the user
saw (and, for a member, the date of death). A refused form is shown again with what was typed: 422 naming the
fields, 409 with the current version when someone changed the record meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from fastapi import Request
from fastapi.responses import Response

from tepat.domain.households import InactiveReason
from tepat.web import forms
from tepat.web.feedback import Feedback, answer
from tepat.web.templating import templates

# The service names the reason and the note by their column; the form by its field.
_FORM_FIELD = {"inactive_reason": "reason_code", "reason": "note"}


@dataclass(frozen=True)
class Target:
    """What is switched off, as the form speaks of it."""

    title: str  # "Nonaktifkan keluarga 3275…"
    what: str  # "keluarga dengan KK 3275…", in "Data … tetap tersimpan"
    action: str  # where the form posts
    back: str  # where "Batal" leads
    with_death_date: bool = False


@dataclass(frozen=True)
class Entry:
    """What the user typed (or, on first showing, only the version they see)."""

    version: int
    code: str = ""
    note: str = ""
    death_date: str = ""  # as typed: parsed by the caller's ``apply``


def page(request: Request, target: Target, entry: Entry, feedback: Feedback | None = None) -> Response:
    return templates.page(
        request,
        "deactivate.html",
        {
            "title": target.title,
            "what": target.what,
            "action": target.action,
            "back": target.back,
            "version": entry.version,
            "reasons": list(InactiveReason),
            "code": entry.code,
            "note": entry.note,
            "with_death_date": target.with_death_date,
            "death_date": entry.death_date,
        },
        feedback=feedback or Feedback(),
    )


async def submit(
    request: Request,
    target: Target,
    apply: Callable[[Entry], object],
    *,
    current: Callable[[], tuple[Target, int]],
    done: str,
) -> Response:
    """Read the posted form and ``apply`` it; then to ``done``, or the form again (``current`` gives the record's
    target and version as they are now, after a conflict)."""
    form = await request.form()
    entry = Entry(
        version=forms.as_int(form.get("version")),
        code=str(form.get("reason_code", "")),
        note=str(form.get("note", "")).strip(),
        death_date=str(form.get("death_date", "")).strip(),
    )

    def attempt() -> str:
        apply(entry)
        return done

    def show(feedback: Feedback) -> Response:
        if not feedback.conflict:
            return page(request, target, entry, feedback)
        fresh, version = current()
        return page(request, fresh, replace(entry, version=version), feedback)

    return answer(attempt, show, rename=_FORM_FIELD)

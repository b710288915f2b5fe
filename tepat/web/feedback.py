"""What a page says back about a form just sent, and the one way a form's post is answered: the write succeeds and
the browser goes on (303), or the same form comes back with what was typed and what went wrong — 422 with a message
next to each field, or 409 when someone changed the record since the form was opened (the form then carries the
record's current version, so sending it again overwrites knowingly)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from fastapi.responses import RedirectResponse, Response

from tepat.errors import ConflictError, FieldError, NotFound, TepatError, ValidationError


@dataclass(frozen=True)
class Feedback:
    """A message over the form, the problems it names (each next to its field), the notice of a conflicting
    change, and the answer's status. ``Feedback()`` is a form shown for the first time."""

    message: str = ""
    problems: Sequence[FieldError] = ()  # as given: one per field, or a file's rows with row number and value
    conflict: str = ""
    status_code: int = 200

    @property
    def errors(self) -> dict[str, str]:
        """Field name → its first message: what a form shows next to each field."""
        return error_map(self.problems)

    @classmethod
    def of(cls, exc: TepatError, *, rename: Mapping[str, str] | None = None) -> Feedback:
        """Any refusal, shown on the page the action came from: its message, the problems it names (``rename``:
        the service's name of a field → the form's, where they differ), and its status (422 refused, 403 not
        allowed, 404 not found, 409 changed meanwhile…)."""
        problems = exc.errors if isinstance(exc, ValidationError) else []
        if rename:
            problems = [replace(p, field=rename.get(p.field, p.field)) for p in problems]
        return cls(message=exc.message, problems=problems, status_code=exc.status_code)

    @classmethod
    def conflicted(cls, exc: ConflictError) -> Feedback:
        """409: someone saved the record first."""
        return cls(conflict=exc.message, status_code=409)

    def context(self) -> dict[str, Any]:
        """The template's ``message``, ``errors``, ``conflict`` and ``problems``."""
        return {
            "message": self.message,
            "errors": self.errors,
            "conflict": self.conflict,
            "problems": list(self.problems),
        }


def error_map(errors: Sequence[FieldError]) -> dict[str, str]:
    """Field name → message (the first message per field)."""
    out: dict[str, str] = {}
    for e in errors:
        out.setdefault(e.field, e.message)
    return out


def answer(
    attempt: Callable[[], str],
    show: Callable[[Feedback], Response],
    *,
    rename: Mapping[str, str] | None = None,
) -> Response:
    """Run ``attempt`` (the write; it returns where the browser goes next) and redirect there, or ``show`` the form
    again with the ``Feedback`` of its refusal or conflict."""
    try:
        return RedirectResponse(attempt(), status_code=303)
    except ValidationError as exc:
        return show(Feedback.of(exc, rename=rename))
    except ConflictError as exc:
        return show(Feedback.conflicted(exc))


def act(attempt: Callable[[], str | Response], show: Callable[[Feedback], Response]) -> Response:
    """For a page that shows every refusal as its message (``Feedback.of``; a form whose record has no version to
    overwrite): redirect (303) where ``attempt`` says — or, for a page that shows once what was just made (a key, a
    token), the page ``attempt`` gives — or ``show`` the page again. A record that is not there (or not the
    user's) stays the 404 page: the form is not shown again for it."""
    try:
        done = attempt()
    except NotFound:
        raise
    except TepatError as exc:
        return show(Feedback.of(exc))
    return done if isinstance(done, Response) else RedirectResponse(done, status_code=303)

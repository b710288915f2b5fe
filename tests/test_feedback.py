"""The one way a page answers a posted form (``tepat.web.feedback``): the write goes through and the browser is sent
on (303), or the page comes back with the refusal — its message, the message next to each field it names, its
status — and a record that is not there stays a 404 rather than a form."""

from __future__ import annotations

import pytest
from fastapi.responses import Response

from tepat.errors import ConflictError, FieldError, NotFound, PermissionDenied, ValidationError
from tepat.web.feedback import Feedback, act, answer


def _shown(feedback: Feedback) -> Response:
    return Response(repr(feedback.context()), status_code=feedback.status_code)


def _refusing(exc: Exception):  # type: ignore[no-untyped-def]
    def attempt() -> str:
        raise exc

    return attempt


def test_a_write_that_goes_through_sends_the_browser_on() -> None:
    for respond in (act, answer):
        response = respond(lambda: "/siklus/7?ok=1", _shown)
        assert response.status_code == 303 and response.headers["location"] == "/siklus/7?ok=1"


def test_a_refusal_comes_back_on_the_page_with_each_fields_message() -> None:
    refused = ValidationError(
        "Data siklus belum benar.",
        [
            FieldError("budget_cap", "Pagu harus bilangan bulat"),
            FieldError("budget_cap", "kedua"),
            FieldError("name", "Isi nama"),
        ],
    )
    shown: list[Feedback] = []

    def show(feedback: Feedback) -> Response:
        shown.append(feedback)
        return _shown(feedback)

    response = act(_refusing(refused), show)
    assert response.status_code == 422
    context = shown[0].context()
    assert context["message"] == "Data siklus belum benar."
    assert context["errors"] == {"budget_cap": "Pagu harus bilangan bulat", "name": "Isi nama"}
    assert context["problems"] == refused.errors  # every one as given, for a page listing a file's rows
    for exc, status in (
        (PermissionDenied("Peran Anda tidak dapat"), 403),
        (ConflictError("Sudah diubah"), 409),
    ):
        response = act(_refusing(exc), _shown)
        assert response.status_code == status and exc.message in response.body.decode()


def test_a_record_that_is_not_there_stays_a_404_not_a_form() -> None:
    with pytest.raises(NotFound):
        act(_refusing(NotFound("Kasus tidak ditemukan")), _shown)


def test_a_versioned_form_shows_a_conflict_apart_from_a_refusal() -> None:
    response = answer(_refusing(ConflictError("Data ini sudah diubah orang lain.")), _shown)
    assert response.status_code == 409
    assert "'conflict': 'Data ini sudah diubah orang lain.'" in response.body.decode()


def test_a_page_that_shows_once_what_was_made_is_the_answer_itself() -> None:
    """A new account's one-time password, a facility's key, a DCI client's token: shown on the answer, never in a
    URL, so the success is the page and not a redirect."""
    response = act(lambda: Response("kunci-sekali-tampil", status_code=200), _shown)
    assert response.status_code == 200 and response.body == b"kunci-sekali-tampil"

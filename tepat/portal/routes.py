"""Public pages for residents (no login): status check, usul, sanggah, pengaduan, tracking.

Mounted by the web app as ``router``: ``/cek`` (status check, and ``/cek/api``
for JSON), ``/layanan/...`` (forms and tracking). Every form carries the signed
sum from ``challenge``; submissions are rate-limited per client. The status
check answers no sooner than ``MIN_SECONDS`` whatever the outcome (an
``asyncio`` sleep: waiting costs no CPU), so the time taken says nothing about
whether a NIK exists. Rate-limit buckets and used challenge nonces live in a
file shared by every worker process (``tepat.store.rate_limits``), so
``tepat serve --workers N`` does not multiply anyone's allowance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData, UploadFile

from tepat.domain.access import Actor, Permission
from tepat.domain.cases import (
    PENGADUAN_CATEGORIES,
    parse_tracking_number,
)
from tepat.domain.households import Relationship
from tepat.domain.nik import Nik
from tepat.domain.regions import Level
from tepat.domain.throttle import Limit, Once
from tepat.errors import Busy, FieldError, TepatError, Throttled, ValidationError
from tepat.files import uploads as upload_files
from tepat.files.uploads import MAX_BYTES
from tepat.portal import challenge
from tepat.portal.pages import templates
from tepat.portal.shared_state import app_state, client, rate_limits
from tepat.portal.usul_form import household
from tepat.services import case_submissions, sessions
from tepat.services.status_check import (
    ChallengeReused,
    StatusChecker,
    keyed_hash,
)
from tepat.store.database import Database


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """At shutdown each worker writes its last status-check log rows (a worker process skips ``atexit``)."""
    yield
    service = getattr(app.state, "status_checker", None)
    if service is not None:
        await run_in_threadpool(service.flush)


router = APIRouter(lifespan=_lifespan)
T = TypeVar("T")
_PACKAGE_DIR = Path(__file__).resolve().parent.parent
MIN_SECONDS = 0.02  # every status check takes at least this long (covers the found / not-found difference)
MAX_REQUEST_BYTES = 2 * MAX_BYTES + 64 * 1024
LOG_BATCH = 100  # status-check log rows written together (at most half a second late)
SUBMIT_LIMIT = Limit.per(5, 3600.0)  # forms with files: five accepted an hour per client
# every attempt, refused ones included: a resident fixing a typo is not locked out
ATTEMPT_LIMIT = Limit.per(30, 3600.0)
MEMBER_ROWS = 5


# ----------------------------------------------------------------- shared state of one app


def _db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def _secret(request: Request) -> str:
    return str(request.app.state.settings.secret_key)


def _upload_dir(request: Request) -> Path:
    path = Path(request.app.state.settings.upload_dir)
    upload_files.check_outside(path, _PACKAGE_DIR)  # never under the code (and static files) of tepat
    return path


def _settings(request: Request) -> Any:
    return request.app.state.settings


def checker(request: Request) -> StatusChecker:
    """The app's status checker: the office's second factor, shared rate limits, its log written in batches off
    the event loop."""
    settings = _settings(request)
    return app_state(
        request,
        "status_checker",
        lambda: StatusChecker(
            _db(request),
            _secret(request),
            factor=settings.status_check_factor,
            per_minute=settings.status_checks_per_minute,
            limiter=rate_limits(request),
            log_batch=LOG_BATCH,
            log_in_background=True,
        ),
    )


def _guard(request: Request) -> challenge.NonceGuard:
    return rate_limits(request)


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    base: dict[str, Any] = {"title": "Layanan Warga", "message": "", "field_errors": [], "values": {}}
    if "challenge" not in context:
        base["challenge"] = challenge.new_challenge(_secret(request), time.time())
    return templates.TemplateResponse(
        request, name, {**base, **context}, status_code=status_code, headers=headers
    )


def _error_context(exc: TepatError) -> dict[str, Any]:
    return {"message": exc.message, "field_errors": exc.errors if isinstance(exc, ValidationError) else []}


async def _shared_limits(request: Request, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A call that reads or writes the shared rate limits: in the thread pool when they are over the network
    (Redis, which may hang until its timeout when it has gone away), inline when they are this host's file."""
    if rate_limits(request).over_network:
        return await run_in_threadpool(call, *args, **kwargs)
    return call(*args, **kwargs)


def _challenge_ok(request: Request, form: FormData | dict[str, Any]) -> bool:
    token, at = str(form.get("token", "")), time.time()
    if challenge.verify(_secret(request), token, str(form.get("jawaban", "")), at, _guard(request)):
        return True
    challenge.spend_if_genuine(_secret(request), token, at, _guard(request))
    return False


def _challenge_answered(request: Request, form: FormData | dict[str, Any]) -> Once | None:
    """The (nonce, expiry) of a rightly answered, unexpired question, not yet used up: the status check uses it
    up in the same step as its rate limits (one lock and one write per check)."""
    token = str(form.get("token", ""))
    at = time.time()
    if not challenge.verify(_secret(request), token, str(form.get("jawaban", "")), at):
        challenge.spend_if_genuine(
            _secret(request), token, at, _guard(request)
        )  # a wrong answer spends it too
        return None
    return challenge.nonce_of(token)


_WRONG_ANSWER = "Jawaban soal pengaman salah atau sudah kedaluwarsa. Jawab soal yang baru."


def _kelurahan_options(db: Database) -> list[tuple[str, str]]:
    found = [r for code in db.offices.codes for r in db.regions.descendants(code, Level.KELURAHAN)]
    return sorted(
        ((r.code, f"{r.name} ({db.regions.name(r.code.rsplit('.', 1)[0])})") for r in found),
        key=lambda x: x[1],
    )


# ----------------------------------------------------------------- status check


@router.get("/layanan")
def services_page(request: Request) -> Response:
    """The list of public services."""
    return _render(request, "layanan.html", {"title": "Layanan Warga"})


def _second_field(request: Request) -> str:
    """The form field of the office's second factor: ``nomor_kk`` or ``nama``."""
    return "nomor_kk" if _settings(request).status_check_factor == "kk" else "nama"


def _check_context(request: Request, nik: str = "", second: str = "") -> dict[str, Any]:
    return {
        "title": "Cek status",
        "nik": nik[:20],
        "second": second[:120],
        "second_field": _second_field(request),
    }


@router.get("/cek")
def check_page(request: Request) -> Response:
    """The status check form."""
    return _render(request, "cek.html", _check_context(request))


async def _timed_check(request: Request, nik: str, birth: str, channel: str, once: tuple[str, float]) -> Any:
    """The check, answered no sooner than ``MIN_SECONDS`` after it started, whatever the outcome or error."""
    deadline = time.perf_counter() + MIN_SECONDS
    try:
        service = checker(request)
        if (
            service.runs_inline
        ):  # SQLite: microseconds of local work, cheaper than a thread hop; limits awaited
            return await service.check_async(nik, birth, client=client(request), channel=channel, once=once)
        return await run_in_threadpool(
            service.check, nik, birth, client=client(request), channel=channel, once=once
        )
    finally:
        # Sleeping costs no CPU. A loop, because an event loop's timers may fire up to a millisecond early
        # (uvloop counts whole milliseconds); the last nap is never shorter than one.
        while (remaining := deadline - time.perf_counter()) > 0:
            await asyncio.sleep(max(remaining, 0.001))


@router.post("/cek")
async def check(request: Request) -> Response:
    """Answer a status check (the same page shape for every outcome)."""
    form = await request.form()
    nik, second = str(form.get("nik", "")), str(form.get(_second_field(request), ""))
    context = _check_context(request, nik, second)
    once = await _shared_limits(request, _challenge_answered, request, form)
    if once is None:
        return _render(request, "cek.html", {**context, "message": _WRONG_ANSWER}, 400)
    try:
        answer = await _timed_check(request, nik, second, "web", once)
    except ChallengeReused:
        return _render(request, "cek.html", {**context, "message": _WRONG_ANSWER}, 400)
    except (Throttled, Busy) as exc:  # Busy: the whole service, or its shared limits down
        return _render(
            request,
            "cek.html",
            {**context, "message": exc.message},
            exc.status_code,
            headers={"Retry-After": str(int(exc.retry_after) + 1)},
        )
    except ValidationError as exc:
        return _render(request, "cek.html", {**context, **_error_context(exc)}, 422)
    return _render(request, "cek_hasil.html", {"title": "Hasil cek status", "answer": answer})


def _json_error(
    message: str, status: int, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        {"ok": False, "error": message, "errors": [e.as_dict() for e in errors or []]},
        status_code=status,
        headers=headers,
    )


@router.get("/cek/api/soal")
def check_api_challenge(request: Request) -> Response:
    """A fresh anti-abuse question for the JSON status check."""
    found = challenge.new_challenge(_secret(request), time.time())
    return JSONResponse({"soal": found.question, "token": found.token})


async def check_api(request: Request) -> Response:
    """The status check as JSON: ``{"nik", "nomor_kk" (or "nama"), "token", "jawaban"}`` → the same keys for every
    outcome.

    A plain Starlette route (added below): it takes nothing but the request,
    so FastAPI's per-request dependency and parameter handling is skipped on
    the busiest public endpoint.
    """
    try:
        body = await request.json()
    except ValueError:
        return _json_error("Badan permintaan harus JSON", 400)
    if not isinstance(body, dict):
        return _json_error("Badan permintaan harus objek JSON", 400)
    once = await _shared_limits(request, _challenge_answered, request, body)
    if once is None:
        return _json_error(_WRONG_ANSWER, 400)
    try:
        answer = await _timed_check(
            request, str(body.get("nik", "")), str(body.get(_second_field(request), "")), "json", once
        )
    except ChallengeReused:
        return _json_error(_WRONG_ANSWER, 400)
    except (Throttled, Busy) as exc:  # Busy: the whole service, or its shared limits down
        return _json_error(
            exc.message, exc.status_code, headers={"Retry-After": str(int(exc.retry_after) + 1)}
        )
    except ValidationError as exc:
        return _json_error(exc.message, 422, exc.errors)
    return JSONResponse({"ok": True, **answer.as_public_dict()})


router.add_route("/cek/api", check_api, methods=["POST"])


# ----------------------------------------------------------------- forms with files


@dataclass
class Submission:
    """A public form as received: its fields, the first problem found (a message, or field errors), and who files
    it (a logged-in operator at the help desk, or ``None`` for a resident)."""

    form: FormData | None
    problem: str = ""
    errors: list[FieldError] = field(default_factory=list)
    staff: Actor | None = None
    counted: str = ""  # the client's key when a submission was counted: given back if the form is refused

    @property
    def refused(self) -> bool:
        return bool(self.problem or self.errors) or self.form is None


def _staff(request: Request) -> Actor | None:
    """A logged-in admin or operator filing for a resident (their session, checked on the server)."""
    secret = request.session.get(sessions.COOKIE_KEY) if "session" in request.scope else None
    found = sessions.signed_in(_db(request), secret) if isinstance(secret, str) else None
    # Filing for a resident at the help desk: no per-client limit.
    return found.actor if found is not None and found.actor.may(Permission.EDIT_REGISTRY) else None


async def _submission(request: Request, files: tuple[str, ...] = ()) -> Submission:
    """The form, checked in this order: its size, its files (type and size, before any other field, so a resident
    does not fill everything twice), the question, then the limits: per client and hour five accepted submissions
    and thirty attempts; staff filing for a resident are not limited."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_REQUEST_BYTES:
        return Submission(
            None, f"Berkas terlalu besar: paling besar {MAX_BYTES // (1024 * 1024)} MB per berkas."
        )
    form = await request.form(max_files=2, max_fields=100)
    for name in files:
        found = form.get(name)
        if isinstance(found, UploadFile) and found.filename:
            try:
                upload_files.check(found.file, field=name)
            except ValidationError as exc:
                return Submission(form, "Berkas belum dapat diterima: pilih lagi berkasnya.", exc.errors)
    if not await _shared_limits(request, _challenge_ok, request, form):
        return Submission(form, _WRONG_ANSWER)
    staff = _staff(request)
    if staff is not None:
        return Submission(form, staff=staff)
    client_key = (
        f"kiriman:{keyed_hash(_secret(request), 'client', client(request))}"  # no address in the file
    )
    decision = await _shared_limits(
        request,
        rate_limits(request).take_all,
        [(ATTEMPT_LIMIT, f"{client_key}:coba")],
        time.time(),
        then=[(SUBMIT_LIMIT, client_key)],
    )
    if decision is None or not decision.allowed:  # (``None`` only answers a ``once`` key, not asked for here)
        return Submission(form, "Terlalu banyak kiriman dari perangkat ini. Coba lagi nanti.")
    return Submission(form, counted=client_key)


async def _not_counted(request: Request, submission: Submission) -> None:
    """A submission refused for its content counts as an attempt only: its place among the accepted comes back."""
    if submission.counted:
        await _shared_limits(
            request, rate_limits(request).give_back, SUBMIT_LIMIT, submission.counted, time.time()
        )


def _files(form: FormData, name: str, purpose: str) -> list[case_submissions.Evidence]:
    found = form.get(name)
    if isinstance(found, UploadFile) and found.filename:
        return [case_submissions.Evidence(found.file, purpose)]
    return []


def _values(form: FormData | None) -> dict[str, str]:
    if form is None:
        return {}
    return {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str) and k not in ("token", "jawaban")}


def _filed_by(sent: Submission) -> Actor:
    """Who files: the operator at the help desk, when one files for a resident (recorded with the case)."""
    return sent.staff if sent.staff is not None else case_submissions.PUBLIC


def _sent(request: Request, title: str, number: str) -> Response:
    """The confirmation: its deadline is the one stored with the case (as tracking and staff pages show it)."""
    tracked = case_submissions.track(_db(request), number)
    deadline = tracked.deadline if tracked is not None else None
    return _render(request, "terkirim.html", {"title": title, "number": number, "deadline": deadline})


def _usul_context(request: Request, values: dict[str, str]) -> dict[str, Any]:
    return {
        "title": "Usul",
        "values": values,
        "member_rows": MEMBER_ROWS,
        "max_mb": MAX_BYTES // (1024 * 1024),
        "kelurahan_options": _kelurahan_options(_db(request)),
        "relationships": [(r.value, r.label) for r in Relationship],
    }


@router.get("/layanan/usul")
def usul_page(request: Request) -> Response:
    """The form to propose a family."""
    return _render(request, "usul.html", _usul_context(request, {}))


@router.post("/layanan/usul")
async def usul(request: Request) -> Response:
    """Receive a proposal; answers with its tracking number."""
    sent = await _submission(request, files=("foto",))
    form, values = sent.form, _values(sent.form)
    if sent.refused or form is None:
        return _render(
            request,
            "usul.html",
            {**_usul_context(request, values), "message": sent.problem, "field_errors": sent.errors},
            422 if sent.errors else 400,
        )
    family, members = household(values, MEMBER_ROWS)
    try:
        number = await run_in_threadpool(
            case_submissions.submit_usul,
            _db(request),
            _upload_dir(request),
            family=family,
            members=members,
            proposer_name=values.get("nama", ""),
            proposer_contact=values.get("kontak", ""),
            reason=values.get("alasan", ""),
            evidence=_files(form, "foto", "foto_rumah"),
            actor=_filed_by(sent),
        )
    except ValidationError as exc:
        await _not_counted(request, sent)
        return _render(request, "usul.html", {**_usul_context(request, values), **_error_context(exc)}, 422)
    return _sent(request, "Usulan terkirim", number)


@router.get("/layanan/sanggah")
def sanggah_page(request: Request) -> Response:
    """The form to dispute a recipient in one's own kelurahan."""
    return _render(request, "sanggah.html", {"title": "Sanggah", "second_field": _second_field(request)})


@router.post("/layanan/sanggah")
async def sanggah(request: Request) -> Response:
    """Receive a dispute; answers with its tracking number (nothing about the disputed family)."""
    sent = await _submission(request, files=("bukti",))
    form, values = sent.form, _values(sent.form)
    context = {"title": "Sanggah", "values": values, "second_field": _second_field(request)}
    if sent.refused or form is None:
        return _render(
            request,
            "sanggah.html",
            {**context, "message": sent.problem, "field_errors": sent.errors},
            422 if sent.errors else 400,
        )
    try:
        service = checker(request)
        typed = Nik.typed_or_none(
            values.get("nik", "")
        )  # a malformed one is refused by the service, as on /cek
        evidence = _files(form, "bukti", "bukti")
        if evidence:  # without it the service refuses before looking anyone up: no attempt is spent
            # The disputer proves who they are as on /cek, under the same limits (service, client, NIK).
            service.take(
                client(request), keyed_hash(_secret(request), "nik", typed.digits) if typed else None, None
            )
        number = await run_in_threadpool(
            case_submissions.submit_sanggah,
            _db(request),
            _upload_dir(request),
            _secret(request),
            disputer_nik=values.get("nik", ""),
            disputer_proof=values.get(_second_field(request), ""),
            factor=service.factor,
            target_nik=values.get("nik_penerima", ""),
            target_kk=values.get("kk_penerima", ""),
            target_description=values.get("penerima", ""),
            reason=values.get("alasan", ""),
            contact=values.get("kontak", ""),
            evidence=evidence,
        )
    except (Throttled, Busy) as exc:  # Busy: the whole service, or its shared limits down
        await _not_counted(request, sent)
        return _render(request, "sanggah.html", {**context, "message": exc.message}, exc.status_code)
    except ValidationError as exc:
        await _not_counted(request, sent)
        return _render(request, "sanggah.html", {**context, **_error_context(exc)}, 422)
    return _sent(request, "Sanggah terkirim", number)


def _pengaduan_context(request: Request, values: dict[str, str]) -> dict[str, Any]:
    return {
        "title": "Pengaduan",
        "values": values,
        "kelurahan_options": _kelurahan_options(_db(request)),
        "categories": [(k, v[0]) for k, v in PENGADUAN_CATEGORIES.items()],
    }


@router.get("/layanan/pengaduan")
def pengaduan_page(request: Request) -> Response:
    """The complaint form."""
    return _render(request, "pengaduan.html", _pengaduan_context(request, {}))


@router.post("/layanan/pengaduan")
async def pengaduan(request: Request) -> Response:
    """Receive a complaint; answers with its ticket number."""
    sent = await _submission(request, files=("bukti",))
    form, values = sent.form, _values(sent.form)
    if sent.refused or form is None:
        return _render(
            request,
            "pengaduan.html",
            {**_pengaduan_context(request, values), "message": sent.problem, "field_errors": sent.errors},
            422 if sent.errors else 400,
        )
    try:
        number = await run_in_threadpool(
            case_submissions.submit_pengaduan,
            _db(request),
            _upload_dir(request),
            category=values.get("kategori", ""),
            kelurahan_code=values.get("kelurahan_code", ""),
            description=values.get("uraian", ""),
            name=values.get("nama", ""),
            contact=values.get("kontak", ""),
            evidence=_files(form, "bukti", "bukti"),
            actor=_filed_by(sent),
        )
    except ValidationError as exc:
        await _not_counted(request, sent)
        return _render(
            request, "pengaduan.html", {**_pengaduan_context(request, values), **_error_context(exc)}, 422
        )
    return _sent(request, "Pengaduan terkirim", number)


@router.get("/layanan/lacak")
def track(request: Request, nomor: str = "") -> Response:
    """The public tracking page: state and dates by tracking number."""
    text = nomor.strip()[:30]
    tracked = case_submissions.track(_db(request), text) if text else None
    shown = parse_tracking_number(text) or text
    return _render(
        request,
        "lacak.html",
        {"title": "Lacak", "nomor": shown, "tracked": tracked},
        200 if tracked or not text else 404,
    )

"""Accounts: creating users, passwords, API tokens, deactivation, and the ``tepat user`` commands."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tepat.cli import app as cli_app
from tepat.domain.access import Role
from tepat.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationError
from tepat.services import auth
from tepat.store import audit
from tepat.store.database import Database
from tests.conftest import actor
from tests.test_web_support import PASSWORD, SYSTEM_ADMIN, add_user


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def test_create_user_then_authenticate_gives_the_actor(db: Database) -> None:
    user_id = add_user(db, "ani.operator", Role.OPERATOR, "32.75.01.1001", "Ani Rahayu")
    found = auth.authenticate(db, "Ani.Operator ", PASSWORD)
    assert (found.user_id, found.username, found.role, found.area_code, found.full_name) == (
        user_id,
        "ani.operator",
        Role.OPERATOR,
        "32.75.01.1001",
        "Ani Rahayu",
    )


def test_password_is_stored_hashed_with_argon2(db: Database) -> None:
    add_user(db, "budi", Role.ADMIN, "32.75")
    with db.read() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users WHERE username = 'budi'").scalar_one()
    assert stored.startswith("$argon2") and PASSWORD not in stored


@pytest.mark.parametrize("username,password", [("budi", "salah-sandi"), ("tidakada", PASSWORD)])
def test_wrong_password_and_unknown_user_fail_alike(db: Database, username: str, password: str) -> None:
    add_user(db, "budi", Role.ADMIN, "32.75")
    with pytest.raises(AuthenticationFailed) as exc:
        auth.authenticate(db, username, password)
    assert exc.value.message == "Nama pengguna atau kata sandi salah."


def test_operator_needs_a_kecamatan_or_kelurahan(db: Database) -> None:
    with pytest.raises(ValidationError) as exc:
        auth.create_user(
            db, SYSTEM_ADMIN, username="citra", password=PASSWORD, role="operator", area_code="32.75"
        )
    assert "kecamatan atau kelurahan" in _fields(exc)["area_code"]
    assert auth.create_user(
        db, SYSTEM_ADMIN, username="citra", password=PASSWORD, role="operator", area_code="32.75.01"
    )


@pytest.mark.parametrize("area", ["32.73", "32.73.01.1001", "32.75.99", "3275", "bekasi", ""])
def test_area_must_be_a_known_region_of_kota_bekasi(db: Database, area: str) -> None:
    with pytest.raises(ValidationError) as exc:
        auth.create_user(
            db, SYSTEM_ADMIN, username="dedi", password=PASSWORD, role="verifikator", area_code=area
        )
    assert "area_code" in _fields(exc)


def test_bad_role_short_password_and_taken_username_are_reported_by_field(db: Database) -> None:
    with pytest.raises(ValidationError) as exc:
        auth.create_user(db, SYSTEM_ADMIN, username="x", password="pendek", role="bos", area_code="32.75")
    assert set(_fields(exc)) == {"username", "password", "role"}
    add_user(db, "eka", Role.ANALYST, "32.75")
    with pytest.raises(ValidationError) as exc:
        add_user(db, "eka", Role.ANALYST, "32.75")
    assert _fields(exc) == {"username": "Nama pengguna sudah dipakai."}


def test_only_admins_create_accounts_and_only_inside_their_area(db: Database) -> None:
    with pytest.raises(PermissionDenied):
        auth.create_user(
            db,
            actor(Role.OPERATOR, "32.75.01.1001"),
            username="fajar",
            password=PASSWORD,
            role="operator",
            area_code="32.75.01.1001",
        )
    with pytest.raises(ValidationError) as exc:
        auth.create_user(
            db,
            actor(Role.ADMIN, "32.75.01"),
            username="fajar",
            password=PASSWORD,
            role="operator",
            area_code="32.75.02.1001",
        )
    assert "di dalam wilayah Anda" in _fields(exc)["area_code"]


def test_token_is_shown_once_stored_hashed_and_identifies_the_user(db: Database) -> None:
    add_user(db, "gita", Role.VERIFIER, "32.75.02")
    issued = auth.issue_token(db, SYSTEM_ADMIN, "gita", label="aplikasi lapangan")
    with db.read() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash, label, last_used_at FROM api_tokens").one()
    assert (
        stored[0] != issued.token
        and stored[0] == auth.hash_token(issued.token)
        and stored[1] == "aplikasi lapangan"
    )
    assert stored[2] is None
    found = auth.actor_for_token(db, issued.token)
    assert (found.username, found.role, found.area_code) == ("gita", Role.VERIFIER, "32.75.02")
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT last_used_at FROM api_tokens").scalar_one() is not None
    with pytest.raises(AuthenticationFailed):
        auth.actor_for_token(db, issued.token + "x")


def test_deactivated_user_cannot_log_in_and_tokens_are_revoked(db: Database) -> None:
    user_id = add_user(db, "hadi", Role.OPERATOR, "32.75.01.1001")
    issued = auth.issue_token(db, SYSTEM_ADMIN, "hadi")
    auth.deactivate_user(db, SYSTEM_ADMIN, "hadi")
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(db, "hadi", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        auth.actor_for_token(db, issued.token)
    assert auth.actor_for_user(db, user_id) is None
    with pytest.raises(NotFound):
        auth.issue_token(db, SYSTEM_ADMIN, "hadi")


def test_account_changes_are_audited(db: Database) -> None:
    user_id = add_user(db, "indah", Role.FINANCE, "32.75")
    auth.issue_token(db, SYSTEM_ADMIN, "indah", label="bank")
    auth.deactivate_user(db, SYSTEM_ADMIN, "indah")
    with db.read() as conn:
        actions = [e["action"] for e in audit.entries(conn, entity="user", entity_id=user_id)]
    assert actions == ["user.deactivate", "token.create", "user.create"]


def test_non_admin_may_only_make_tokens_for_themselves(db: Database) -> None:
    add_user(db, "joko", Role.OPERATOR, "32.75.01.1001")
    add_user(db, "kiki", Role.OPERATOR, "32.75.01.1001")
    joko = auth.authenticate(db, "joko", PASSWORD)
    assert auth.issue_token(db, joko, "joko").token.startswith("tpt_")
    with pytest.raises(PermissionDenied):
        auth.issue_token(db, joko, "kiki")


# ----------------------------------------------------------------- CLI


def _cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_cli_user_add_list_token_deactivate(db: Database) -> None:
    code, out, _ = _cli(
        "user",
        "add",
        "lina",
        "--role",
        "operator",
        "--area",
        "32.75.01.1001",
        "--name",
        "Lina M",
        "--password",
        PASSWORD,
        "--db",
        db.url,
    )
    assert code == 0 and out == "Akun lina dibuat (id 1, peran Operator, wilayah Bekasijaya).\n"
    code, out, _ = _cli("user", "list", "--db", db.url)
    assert code == 0 and out.split() == ["lina", "operator", "32.75.01.1001", "aktif", "Lina", "M"]
    code, out, err = _cli("user", "token", "lina", "--label", "uji", "--db", db.url)
    assert code == 0 and auth.actor_for_token(db, out.strip()).username == "lina"
    assert "tidak dapat ditampilkan lagi" in err
    code, out, _ = _cli("user", "deactivate", "lina", "--db", db.url)
    assert code == 0 and out == "Akun lina dinonaktifkan; sesi dan token API-nya berakhir.\n"


def test_cli_prompts_for_the_password(db: Database) -> None:
    code, _, _ = _cli(
        "user",
        "add",
        "mira",
        "--role",
        "admin",
        "--area",
        "32.75",
        "--db",
        db.url,
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert code == 0 and auth.authenticate(db, "mira", PASSWORD).role is Role.ADMIN


def test_cli_user_add_error_is_one_plain_line_per_problem(db: Database) -> None:
    code, _, err = _cli(
        "user", "add", "nina", "--role", "operator", "--area", "32.75", "--password", PASSWORD, "--db", db.url
    )
    assert code == 1
    assert (
        err
        == "Galat: Akun tidak dapat dibuat.\n  - area_code: Operator harus ditugaskan di satu kecamatan atau kelurahan.\n"
    )


def test_cli_serve_runs_the_app_with_uvicorn(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from fastapi import FastAPI

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    code, _, err = _cli("serve", "--host", "0.0.0.0", "--port", "8123", "--db", db.url)
    assert code == 0 and "http://0.0.0.0:8123/" in err
    assert isinstance(started["app"], FastAPI) and (started["host"], started["port"]) == ("0.0.0.0", 8123)
    assert started["app"].state.db.url == db.url

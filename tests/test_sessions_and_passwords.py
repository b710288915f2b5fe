"""Server-side sessions, API token expiry and revocation (issue 13 point 13); password change and reset, from the
page and the CLI, and a way back into the demo (issue 12 point 4)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tepat.cli import app as cli_app
from tepat.domain.access import Role
from tepat.errors import AuthenticationFailed, NotFound, PermissionDenied, ValidationError
from tepat.services import auth
from tepat.store import audit
from tepat.store.database import Database
from tepat.store.engine import now
from tests.test_web_support import PASSWORD, SYSTEM_ADMIN, add_user, csrf_of, login, make_app

NEW_PASSWORD = "sandi-baru-yang-panjang"


def _actions(db: Database, username: str) -> list[str]:
    with db.read() as conn:
        user_id = conn.exec_driver_sql(f"SELECT id FROM users WHERE username = '{username}'").scalar_one()
        return [e["action"] for e in audit.entries(conn, entity="user", entity_id=user_id)]


def _logged_in(app, username: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    client = TestClient(app)
    return client, login(client, username, password)


def _is_logged_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


# ----------------------------------------------------------------- sessions


def test_logout_ends_the_session_on_the_server_not_only_in_the_browser(db: Database, tmp_path: Path) -> None:
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    client, csrf = _logged_in(make_app(db, tmp_path), "ani")
    stolen = dict(client.cookies)  # a copy of the cookie, e.g. taken from a shared computer
    client.post("/keluar", data={"csrf_token": csrf})
    replay = TestClient(client.app, cookies=stolen)
    assert not _is_logged_in(replay)


def test_deactivation_and_an_admins_sign_out_end_sessions_at_once(db: Database, tmp_path: Path) -> None:
    app = make_app(db, tmp_path)
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    add_user(db, "budi", Role.OPERATOR, "32.75.01.1001")
    ani, _ = _logged_in(app, "ani")
    budi, _ = _logged_in(app, "budi")
    admin = add_user(db, "kepala", Role.ADMIN, "32.75")
    assert admin
    kepala, csrf = _logged_in(app, "kepala")
    r = kepala.post("/pengguna/ani/akhiri-sesi", data={"csrf_token": csrf})
    assert r.status_code == 200 and "1 sesi ani diakhiri" in r.text
    assert not _is_logged_in(ani) and _is_logged_in(budi)
    kepala.post("/pengguna/budi/nonaktifkan", data={"csrf_token": csrf})
    assert not _is_logged_in(budi)
    assert _actions(db, "ani")[0] == "user.sessions_end"


def test_a_session_ends_by_itself_after_a_working_day(db: Database, tmp_path: Path) -> None:
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    client, _ = _logged_in(make_app(db, tmp_path), "ani")
    with db.begin() as conn:
        conn.exec_driver_sql("UPDATE user_sessions SET expires_at = created_at")
    assert not _is_logged_in(client)


# ----------------------------------------------------------------- passwords


def test_changing_ones_password_needs_the_current_one_twice_the_new_one_and_ends_other_sessions(
    db: Database, tmp_path: Path
) -> None:
    app = make_app(db, tmp_path)
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    laptop, _ = _logged_in(app, "ani")
    phone, csrf = _logged_in(app, "ani")
    form = {
        "csrf_token": csrf,
        "current_password": "salah",
        "new_password": NEW_PASSWORD,
        "repeat_password": "lain",
    }
    r = phone.post("/akun/sandi", data=form)
    assert r.status_code == 422 and "Kata sandi sekarang salah" in r.text and "tidak sama" in r.text
    form.update(current_password=PASSWORD, repeat_password=NEW_PASSWORD)
    r = phone.post("/akun/sandi", data=form)
    assert r.status_code == 200 and "Kata sandi sudah diganti. 1 sesi lain diakhiri." in r.text
    assert _is_logged_in(phone) and not _is_logged_in(laptop)
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(db, "ani", PASSWORD)
    assert auth.authenticate(db, "ani", NEW_PASSWORD).username == "ani"
    assert _actions(db, "ani")[0] == "user.password_change"


def test_an_admin_reset_gives_a_one_time_password_that_must_be_replaced_first(
    db: Database, tmp_path: Path
) -> None:
    app = make_app(db, tmp_path)
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    add_user(db, "kepala", Role.ADMIN, "32.75")
    ani, _ = _logged_in(app, "ani")
    kepala, csrf = _logged_in(app, "kepala")
    page = kepala.post("/pengguna/ani/atur-ulang", data={"csrf_token": csrf})
    one_time = re.search(r'id="sandi-sekali">.*?<code>([a-z0-9-]+)</code>', page.text, re.DOTALL).group(1)
    assert not _is_logged_in(ani)  # the old session ended
    assert one_time not in kepala.get("/pengguna").text  # shown once
    fresh = TestClient(app)
    csrf = csrf_of(fresh.get("/masuk").text)
    r = fresh.post(
        "/masuk", data={"username": "ani", "password": one_time, "csrf_token": csrf}, follow_redirects=False
    )
    assert r.headers["location"] == "/akun/sandi"
    for path in ("/", "/cari", "/akun"):  # every page sends them to the password form first
        assert fresh.get(path, follow_redirects=False).headers["location"] == "/akun/sandi"
    csrf = csrf_of(fresh.get("/akun/sandi").text)
    r = fresh.post(
        "/akun/sandi",
        data={
            "csrf_token": csrf,
            "current_password": one_time,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )
    assert r.status_code == 200 and _is_logged_in(fresh)
    assert _actions(db, "ani")[:2] == ["user.password_change", "user.password_reset"]


def test_admins_reset_only_inside_their_area_and_never_their_own_password(db: Database) -> None:
    add_user(db, "ani", Role.OPERATOR, "32.75.02.1001")
    add_user(db, "camat", Role.ADMIN, "32.75.01")
    camat = auth.authenticate(db, "camat", PASSWORD)
    with pytest.raises(NotFound):
        auth.reset_password(db, camat, "ani")
    with pytest.raises(PermissionDenied):
        auth.reset_password(db, camat, "camat")
    with pytest.raises(PermissionDenied):
        auth.reset_password(db, auth.authenticate(db, "ani", PASSWORD), "camat")


def test_an_admin_creates_an_account_from_the_page_with_a_one_time_password(
    db: Database, tmp_path: Path
) -> None:
    add_user(db, "kepala", Role.ADMIN, "32.75")
    kepala, csrf = _logged_in(make_app(db, tmp_path), "kepala")
    bad = kepala.post(
        "/pengguna",
        data={
            "csrf_token": csrf,
            "username": "x",
            "full_name": "Dewi",
            "role": "operator",
            "area_code": "32.75",
        },
    )
    assert bad.status_code == 422 and 'value="Dewi"' in bad.text  # what was typed stays
    r = kepala.post(
        "/pengguna",
        data={
            "csrf_token": csrf,
            "username": "dewi",
            "full_name": "Dewi",
            "role": "operator",
            "area_code": "32.75.01",
        },
    )
    one_time = re.search(r'id="sandi-sekali">.*?<code>([a-z0-9-]+)</code>', r.text, re.DOTALL).group(1)
    assert auth.check_password(db, "dewi", one_time).must_change_password


# ----------------------------------------------------------------- API tokens


def test_api_tokens_expire_and_are_revoked_one_by_one_with_their_last_use_shown(
    db: Database, tmp_path: Path
) -> None:
    add_user(db, "gita", Role.VERIFIER, "32.75.02")
    first = auth.issue_token(db, SYSTEM_ADMIN, "gita", label="tablet 1", days=30)
    second = auth.issue_token(db, SYSTEM_ADMIN, "gita", label="tablet 2")
    assert first.expires_at - now() > timedelta(days=29)
    api = TestClient(make_app(db, tmp_path))
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {first.token}"}).status_code == 200
    auth.revoke_token(db, SYSTEM_ADMIN, first.token_id)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {first.token}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {second.token}"}).status_code == 200
    with db.begin() as conn:
        conn.exec_driver_sql(f"UPDATE api_tokens SET expires_at = created_at WHERE id = {second.token_id}")
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {second.token}"})
    assert r.status_code == 401 and "kedaluwarsa" in r.text
    listed = {t["label"]: t for t in auth.tokens_of(db, SYSTEM_ADMIN, "gita")}
    assert listed["tablet 1"]["revoked_at"] is not None and listed["tablet 1"]["last_used_at"] is not None
    with pytest.raises(ValidationError):
        auth.issue_token(db, SYSTEM_ADMIN, "gita", days=0)


def test_a_user_revokes_their_own_token_but_not_someone_elses(db: Database, tmp_path: Path) -> None:
    app = make_app(db, tmp_path)
    add_user(db, "gita", Role.VERIFIER, "32.75.02")
    add_user(db, "hana", Role.VERIFIER, "32.75.02")
    hers = auth.issue_token(db, SYSTEM_ADMIN, "hana")
    gita, csrf = _logged_in(app, "gita")
    page = gita.post("/akun/token", data={"csrf_token": csrf, "label": "skrip", "days": "7"})
    token_id = int(re.search(r"<tr><td>(\d+)</td><td>skrip</td>", page.text).group(1))
    assert "tidak dapat ditampilkan lagi" in page.text and "tpt_" in page.text
    assert gita.post(f"/akun/token/{hers.token_id}/cabut", data={"csrf_token": csrf}).status_code == 404
    assert "dicabut" in gita.post(f"/akun/token/{token_id}/cabut", data={"csrf_token": csrf}).text
    assert auth.actor_for_token(db, hers.token).username == "hana"


# ----------------------------------------------------------------- CLI and demo


def _cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_cli_passwd_reset_logout_and_tokens(db: Database) -> None:
    add_user(db, "lina", Role.FINANCE, "32.75")
    code, out, _ = _cli("user", "passwd", "lina", "--db", db.url, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert code == 0 and "semua sesinya berakhir" in out
    assert auth.authenticate(db, "lina", NEW_PASSWORD).username == "lina"
    code, _, err = _cli("user", "passwd", "lina", "--db", db.url, input=f"{NEW_PASSWORD}\nlain-lain-lain\n")
    assert code == 1 and "tidak sama" in err
    code, out, err = _cli("user", "reset", "lina", "--db", db.url)
    assert (
        code == 0
        and auth.check_password(db, "lina", out.strip()).must_change_password
        and "sekali pakai" in err
    )
    code, out, _ = _cli("user", "logout", "lina", "--db", db.url)
    assert code == 0 and out == "0 sesi lina diakhiri.\n"
    code, token, err = _cli("user", "token", "lina", "--label", "bank", "--days", "10", "--db", db.url)
    assert code == 0 and "berlaku sampai" in err
    token_id = re.search(r"Token (\d+) untuk", err).group(1)
    code, out, _ = _cli("user", "tokens", "lina", "--db", db.url)
    assert code == 0 and "bank" in out and "aktif" in out and "belum pernah dipakai" in out
    code, out, _ = _cli("user", "token-revoke", token_id, "--db", db.url)
    assert code == 0 and out == f"Token {token_id} dicabut.\n"
    with pytest.raises(AuthenticationFailed):
        auth.actor_for_token(db, token.strip())


def test_rerunning_demo_with_reset_passwords_gives_a_way_back_in(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    first = CliRunner().invoke(cli_app, ["demo", "--families", "150", "--db-file", str(path), "--no-serve"])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli_app, ["demo", "--families", "150", "--db-file", str(path), "--no-serve"])
    assert "--reset-passwords" in again.output
    reset = CliRunner().invoke(cli_app, ["demo", "--db-file", str(path), "--no-serve", "--reset-passwords"])
    assert reset.exit_code == 0 and "kata sandi akun demo diganti" in reset.output
    password = re.search(r"│ admin\s+│ (\S+)\s+│", reset.output).group(1)
    db = Database(f"sqlite:///{path}")
    try:
        assert auth.authenticate(db, "admin", password).role is Role.ADMIN
    finally:
        db.dispose()


def test_a_busy_sqlite_writer_never_holds_up_a_page_for_the_last_seen_time(
    db: Database, tmp_path: Path, is_postgres: bool
) -> None:
    """Review: the once-a-minute "last seen" write queued behind an import's write lock (up to 30 s per page)."""
    import sqlite3
    import threading

    import sqlalchemy as sa

    from tepat.services import sessions

    if is_postgres:
        pytest.skip("only SQLite has one writer lock")
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    secret = sessions.start(db, auth.authenticate(db, "ani", PASSWORD))
    with db.begin() as conn:
        conn.exec_driver_sql("UPDATE user_sessions SET last_seen_at = '2020-01-01 00:00:00.000000'")
    holder = sqlite3.connect(sa.make_url(db.url).database, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # an import holding the writer lock
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(sessions.signed_in(db, secret)))
    try:
        reader.start()
        reader.join(10)
        answered_while_locked = not reader.is_alive()
    finally:
        holder.rollback()
        holder.close()
        reader.join(60)
    assert answered_while_locked and found and found[0] is not None


def test_a_post_reads_its_session_once(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review: the body-size check and the page each read (and touched) the session: twice per POST."""
    from tepat.services import sessions
    from tepat.web import app as web_app

    app = make_app(db, tmp_path)
    add_user(db, "ani", Role.OPERATOR, "32.75.01.1001")
    client, csrf = _logged_in(app, "ani")
    calls: list[int] = []
    real = sessions.signed_in

    def counted(database: Database, secret: str):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(database, secret)

    monkeypatch.setattr(sessions, "signed_in", counted)
    monkeypatch.setattr(web_app, "signed_in", counted)
    client.post("/akun/token", data={"csrf_token": csrf, "label": "skrip", "days": "7"})
    assert len(calls) == 1

"""The login page's guard: attempts counted atomically per account and per client, a question instead of a
lock, and the authenticator code as a second step.

Every attempt spends a token from two buckets before the password is
checked, in one step of the shared ``Limiter`` (``tepat.store.rate_limits``
across worker processes), so forty guesses sent at once get the same five
checks as forty sent one after another:

* the client's bucket (its address, see ``tepat.portal.client_address``):
  when empty, that client waits (429) -- it slows an attacker, not the
  account's owner at another desk;
* the account's bucket: when empty, the account is not locked; the page
  asks the anti-abuse question, and a rightly answered (unused) question
  lets one attempt through. So nobody can lock anyone out, while a script
  guessing one account's password must answer a question per guess, at no
  more than its own address's pace.

The account bucket is spent only when the client's allowed the attempt, so
a client refused by its own bucket does not use up the owner's attempts.
"""

from __future__ import annotations

import time

from tepat.domain.access import SYSTEM, Actor
from tepat.domain.audit_actions import AuditAction
from tepat.domain.throttle import Limit, Limiter, Once
from tepat.errors import AuthenticationFailed, Throttled
from tepat.services import auth, second_factor
from tepat.store import audit
from tepat.store.database import Database

ACCOUNT_LIMIT = Limit.per(5, 15 * 60.0)  # five tries at one account, then one more every three minutes
CLIENT_LIMIT = Limit.per(30, 15 * 60.0)  # a help desk's staff behind one address log in a few times each
CODE_LIMIT = Limit.per(5, 15 * 60.0)  # authenticator codes per account


class ChallengeRequired(AuthenticationFailed):
    """The account had too many failed attempts: the next one needs the anti-abuse question answered."""

    def __init__(self) -> None:
        super().__init__(
            "Terlalu banyak percobaan masuk yang gagal untuk akun ini. Jawab soal pengaman di bawah "
            "untuk mencoba lagi."
        )


class LoginThrottled(Throttled):
    """This client tried too often: it waits."""

    def __init__(self, retry_after: float) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            f"Terlalu banyak percobaan masuk dari alamat ini. Coba lagi dalam {minutes} menit.", retry_after
        )


def _name(username: str) -> str:
    return username.strip().lower()[:64]


class LoginGate:
    """``password`` then, for accounts with a second factor, ``code``; both throttled (see the module docstring)."""

    def __init__(self, db: Database, limiter: Limiter) -> None:
        self.db = db
        self.limiter = limiter

    def password(
        self, username: str, password: str, *, client: str, answered: Once | None = None
    ) -> auth.SignInCandidate:
        """Check a username and password. ``answered`` is the (nonce, expiry) of a rightly answered question: it
        is used up here, and lets the attempt past the account's bucket."""
        name = _name(username)
        wanted = [(CLIENT_LIMIT, f"login-client:{client}")]
        then = [] if answered is not None else [(ACCOUNT_LIMIT, f"login-account:{name}")]
        decision = self.limiter.take_all(wanted, time.time(), once=answered, then=then)
        if decision is None:  # the question was answered before: a new one is needed
            raise ChallengeRequired()
        if not decision.allowed:
            if 0 in decision.refused:
                raise LoginThrottled(decision.retry_after)
            with self.db.begin() as conn:
                audit.record(conn, SYSTEM, AuditAction.LOGIN_CHALLENGE, "login", name)
            raise ChallengeRequired()
        return auth.check_password(self.db, name, password)

    def code(self, candidate: Actor, code: str, *, client: str) -> Actor:
        """Check the authenticator code of an account whose password was right a moment ago."""
        if candidate.user_id is None:
            raise AuthenticationFailed(second_factor.WRONG_CODE)
        decision = self.limiter.take_all(
            [(CLIENT_LIMIT, f"login-client:{client}")],
            time.time(),
            then=[(CODE_LIMIT, f"login-code:{candidate.user_id}")],
        )
        if decision is None or not decision.allowed:
            raise LoginThrottled(decision.retry_after if decision else 60.0)
        if not second_factor.check(self.db, candidate.user_id, code):
            with self.db.begin() as conn:
                audit.record(conn, SYSTEM, AuditAction.LOGIN_REJECT_CODE, "login", candidate.username)
            raise AuthenticationFailed(second_factor.WRONG_CODE)
        with self.db.begin() as conn:
            audit.record(conn, SYSTEM, AuditAction.LOGIN_SUCCEED, "login", candidate.username)
        return candidate

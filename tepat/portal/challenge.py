"""The anti-abuse step of the public forms: a small sum, signed with the secret key (no outside service, no JS).

The page shows "Berapa 3 + 4?" and carries a token ``expires.nonce.signature``
where the signature is an HMAC of the right answer, the expiry and the nonce.
The server keeps no state until an answer arrives; then the nonce is
remembered until it expires, whether the answer was right or wrong, so a token
can be answered once only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Protocol

LIFETIME_SECONDS = 15 * 60
_WORDS = {
    1: "satu",
    2: "dua",
    3: "tiga",
    4: "empat",
    5: "lima",
    6: "enam",
    7: "tujuh",
    8: "delapan",
    9: "sembilan",
}


@dataclass(frozen=True)
class Challenge:
    question: str
    token: str


def _sign(secret_key: str, answer: int, expires: int, nonce: str) -> str:
    message = f"challenge|{answer}|{expires}|{nonce}".encode()
    # base64url, not hex: a hex signature now and then holds 19 digits in a row, which the input guard refuses
    return base64.urlsafe_b64encode(
        hmac.new(secret_key.encode(), message, hashlib.sha256).digest()[:24]
    ).decode()


def new_challenge(secret_key: str, at: float) -> Challenge:
    """A fresh question and its signed token."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    expires, nonce = int(at) + LIFETIME_SECONDS, secrets.token_urlsafe(8)
    # Words for one number and digits for the other: trivial for a person, one more step for a naive script.
    return Challenge(
        f"Berapa {_WORDS[a]} ditambah {b}?", f"{expires}.{nonce}.{_sign(secret_key, a + b, expires, nonce)}"
    )


class NonceGuard(Protocol):
    """Remembers used nonces: ``ReplayGuard`` in one process, ``tepat.store.rate_limits`` across worker processes."""

    def use(self, nonce: str, expires: int, at: float) -> bool: ...


class ReplayGuard:
    """Nonces already used, kept until their token expires (in this process's memory)."""

    def __init__(self, max_size: int = 200_000) -> None:
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()
        self.max_size = max_size

    def use(self, nonce: str, expires: int, at: float) -> bool:
        """Mark a nonce used; ``False`` when it already was."""
        with self._lock:
            if len(self._used) >= self.max_size:
                self._used = {n: e for n, e in self._used.items() if e >= at}
            if nonce in self._used:
                return False
            self._used[nonce] = expires
            return True


def nonce_of(token: str) -> tuple[str, float]:
    """The (nonce, expiry) of a token that ``verify`` accepted: to be used up once, e.g. by the status check."""
    expires_text, nonce, _ = token.split(".")
    return nonce, float(expires_text)


def verify(secret_key: str, token: str, answer: str, at: float, guard: NonceGuard | None = None) -> bool:
    """True when the answer is right, the token is ours, unexpired and (with a ``guard``) not used before."""
    try:
        expires_text, nonce, signature = token.split(".")
        expires, given = int(expires_text), int(answer.strip())
    except (ValueError, AttributeError):
        return False
    if expires < at or not 2 <= given <= 18:
        return False
    if not hmac.compare_digest(_sign(secret_key, given, expires, nonce), signature):
        return False
    return guard is None or guard.use(nonce, expires, at)


def spend_if_genuine(secret_key: str, token: str, at: float, guard: NonceGuard) -> None:
    """Use up a token of ours that was answered wrongly: any answer spends the question, so its handful of possible
    answers cannot be tried one by one. (A token we never signed is not remembered: nothing to spend.)"""
    try:
        expires_text, nonce, signature = token.split(".")
        expires = int(expires_text)
    except (ValueError, AttributeError):
        return
    if expires < at:
        return
    if any(
        hmac.compare_digest(_sign(secret_key, answer, expires, nonce), signature) for answer in range(2, 19)
    ):
        guard.use(nonce, expires, at)

"""The exception tree of tepat.

Every error a user can cause is a ``TepatError`` and carries a message in
Bahasa Indonesia that is safe to show as it is::

    TepatError
    ├── ConfigError              bad TEPAT_* setting (English: read by the operator of the server)
    ├── ValidationError          input that breaks a rule; ``errors`` lists field-level problems
    │   └── ImportRejected       a strict import found bad rows and stored nothing
    ├── NotFound                 no such record, or not one the user may see
    ├── PermissionDenied         the user's role or area does not allow it
    ├── AuthenticationFailed     wrong username or password
    ├── ConflictError            the record changed since the user read it (optimistic locking)
    └── StateError               an action not allowed in the record's current state

A ``NotFound`` is also what a user gets for a record outside their area, so
that an operator cannot learn that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass


class TepatError(Exception):
    """Base of every error tepat raises on purpose."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(TepatError):
    """A TEPAT_* setting is missing or invalid."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one field (or one cell of an imported file)."""

    field: str
    message: str
    value: str | None = None
    row: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            k: v
            for k, v in {
                "field": self.field,
                "message": self.message,
                "value": self.value,
                "row": self.row,
            }.items()
            if v is not None
        }


class ValidationError(TepatError):
    """Input breaks one or more rules."""

    status_code = 422

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors: list[FieldError] = list(errors or [])


class ImportRejected(ValidationError):
    """A strict import found bad rows and stored nothing; ``counts`` says what it read, rejected and would have
    created and updated (the same figures a valid-only import of the file reports)."""

    def __init__(
        self, message: str, errors: list[FieldError] | None = None, counts: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, errors)
        self.counts: dict[str, object] = dict(counts or {})


class NotFound(TepatError):
    """No such record, or none the user may see."""

    status_code = 404


class PermissionDenied(TepatError):
    """The user's role or area does not allow the action."""

    status_code = 403


class AuthenticationFailed(TepatError):
    """Wrong username or password."""

    status_code = 401


class ConflictError(TepatError):
    """The record was changed by someone else since it was read."""

    status_code = 409


class StateError(TepatError):
    """The action is not allowed in the record's current state."""

    status_code = 409


class Throttled(TepatError):
    """Too many attempts from one client or at one account: ``retry_after`` seconds until the next may go."""

    status_code = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(TepatError):
    """The server is doing as much of this as it safely can (for everyone): try again shortly."""

    status_code = 503

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LimiterUnavailable(Busy):
    """The shared rate limits (Redis) do not answer: a public check or a login cannot be counted, so it is refused
    rather than served without limits."""

    def __init__(self) -> None:
        super().__init__(
            "Layanan sedang tidak dapat memeriksa batas percobaan. Silakan coba lagi dalam beberapa menit.",
            60.0,
        )


__all__ = [
    "AuthenticationFailed",
    "Busy",
    "ConfigError",
    "ConflictError",
    "FieldError",
    "ImportRejected",
    "LimiterUnavailable",
    "NotFound",
    "PermissionDenied",
    "StateError",
    "TepatError",
    "Throttled",
    "ValidationError",
]

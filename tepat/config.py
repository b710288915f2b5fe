"""Settings, read once from ``TEPAT_*`` environment variables.

Every setting is documented in ``docs/settings.md``. ``Settings`` is frozen: a
running process never changes its configuration behind the code's back.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tepat.errors import ConfigError

DEVELOPMENT_SECRET = "dev-only-secret-change-me"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def _default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'tepat.sqlite'}"


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one tepat process."""

    database_url: str = field(default_factory=_default_database_url)
    secret_key: str = DEVELOPMENT_SECRET
    environment: str = "development"  # development | production
    upload_dir: Path = field(default_factory=lambda: Path.cwd() / "tepat-data" / "uploads")
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = "Asia/Jakarta"
    min_cell_size: int = 10
    # The public status check's second factor next to the NIK: the family card's number ("kk") or the name as
    # written on the card ("nama"); see docs/citizen-services.md.
    status_check_factor: str = "kk"
    status_checks_per_minute: int = 600  # for the whole service: above it, residents are told it is busy
    # Reverse proxies (addresses or networks) allowed to name the client in X-Forwarded-For; none by default.
    trusted_proxies: tuple[str, ...] = ()
    # The office running tepat, as its pages and the residents' pages name it, and its logo (PNG, JPEG or SVG).
    # Empty: the names of the office chosen with ``tepat init --office`` ("Dinas Sosial <kabupaten/kota>").
    office_name: str = ""
    office_short_name: str = ""
    office_logo: Path | None = None
    # Days an import's error report, an export file and a background job's result are kept (they hold personal data).
    retention_days: int = 30
    # Redis for the rate limits and challenge nonces of the public pages and the login, shared by several
    # ``tepat serve`` machines behind one load balancer; empty: a file shared by the processes of this host.
    redis_url: str = ""
    redis_prefix: str = "tepat"  # its keys' prefix: one per deployment when several share a Redis

    def __post_init__(self) -> None:
        if self.status_check_factor not in ("kk", "nama"):
            raise ConfigError(
                f"TEPAT_STATUS_CHECK_FACTOR must be kk or nama, not {self.status_check_factor!r}"
            )
        if self.office_logo is not None and not self.office_logo.is_file():
            raise ConfigError(f"TEPAT_OFFICE_LOGO: {self.office_logo} is not a file")
        if self.retention_days < 1:
            raise ConfigError("TEPAT_RETENTION_DAYS must be at least 1")
        if self.status_checks_per_minute < 1:
            raise ConfigError("TEPAT_STATUS_CHECKS_PER_MINUTE must be at least 1")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(f"TEPAT_TRUSTED_PROXIES: {proxy!r} is not an address or network") from None
        if self.redis_url and not self.redis_url.startswith(REDIS_SCHEMES):
            raise ConfigError(
                f"TEPAT_REDIS_URL must start with {', '.join(REDIS_SCHEMES)}, not {self.redis_url!r}"
            )
        if self.environment not in ("development", "production"):
            raise ConfigError(
                f"TEPAT_ENVIRONMENT must be development or production, not {self.environment!r}"
            )
        if self.environment == "production" and (
            self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32
        ):
            raise ConfigError(
                "TEPAT_SECRET_KEY must be set to a random value of at least 32 characters in production"
            )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``TEPAT_*`` variables (``VARIABLES``: one parser each); keyword overrides win. Every
        malformed variable is named in one ``ConfigError``, not the first one alone and never as a traceback."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        problems: list[str] = []
        for variable, (key, parse, expected) in VARIABLES.items():
            raw = env.get(variable)
            if raw is None:
                continue
            try:
                value = parse(raw)
            except ValueError:
                problems.append(f"{variable} must be {expected}, not {raw!r}")
                continue
            if value is not None:
                values[key] = value
        if problems:
            raise ConfigError("; ".join(problems))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _text(raw: str) -> str:
    return raw


def _name(raw: str) -> str | None:
    """A name with its spaces tidied; empty is "not set"."""
    return " ".join(raw.split()) or None


def _path_or_none(raw: str) -> Path | None:
    return Path(raw.strip()) if raw.strip() else None


def _proxies(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


VARIABLES: dict[str, tuple[str, Callable[[str], object], str]] = {
    "TEPAT_DATABASE_URL": ("database_url", _text, "a database URL"),
    "TEPAT_SECRET_KEY": ("secret_key", _text, "a secret"),
    "TEPAT_ENVIRONMENT": ("environment", _text, "development or production"),
    "TEPAT_UPLOAD_DIR": ("upload_dir", Path, "a directory"),
    "TEPAT_HOST": ("host", _text, "an address"),
    "TEPAT_PORT": ("port", int, "a number"),
    "TEPAT_MIN_CELL_SIZE": ("min_cell_size", int, "a whole number of families"),
    "TEPAT_STATUS_CHECK_FACTOR": ("status_check_factor", lambda raw: raw.strip().lower(), "kk or nama"),
    "TEPAT_STATUS_CHECKS_PER_MINUTE": ("status_checks_per_minute", int, "a number"),
    "TEPAT_OFFICE_NAME": ("office_name", _name, "a name"),
    "TEPAT_OFFICE_SHORT_NAME": ("office_short_name", _name, "a name"),
    "TEPAT_OFFICE_LOGO": ("office_logo", _path_or_none, "a file"),
    "TEPAT_RETENTION_DAYS": ("retention_days", int, "a number of days"),
    "TEPAT_TRUSTED_PROXIES": ("trusted_proxies", _proxies, "addresses or networks, comma-separated"),
    "TEPAT_REDIS_URL": ("redis_url", lambda raw: raw.strip() or None, "a Redis URL"),
    "TEPAT_REDIS_PREFIX": ("redis_prefix", _name, "a name"),
}
"""Every ``TEPAT_*`` variable: the setting it fills, its parser (``ValueError`` when malformed), what it expects.
docs/settings.md lists them; a test checks that every one is documented."""

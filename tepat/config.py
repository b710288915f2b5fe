"""Settings, read once from ``TEPAT_*`` environment variables.

Every setting is documented in ``docs/settings.md``. ``Settings`` is frozen: a
running process never changes its configuration behind the code's back.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from tepat.errors import ConfigError

DEVELOPMENT_SECRET = "dev-only-secret-change-me"


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

    def __post_init__(self) -> None:
        if self.status_check_factor not in ("kk", "nama"):
            raise ConfigError(f"TEPAT_STATUS_CHECK_FACTOR must be kk or nama, not {self.status_check_factor!r}")
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
        if self.environment not in ("development", "production"):
            raise ConfigError(f"TEPAT_ENVIRONMENT must be development or production, not {self.environment!r}")
        if self.environment == "production" and (self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32):
            raise ConfigError("TEPAT_SECRET_KEY must be set to a random value of at least 32 characters in production")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``TEPAT_*`` variables; keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "TEPAT_DATABASE_URL" in env:
            values["database_url"] = env["TEPAT_DATABASE_URL"]
        if "TEPAT_SECRET_KEY" in env:
            values["secret_key"] = env["TEPAT_SECRET_KEY"]
        if "TEPAT_ENVIRONMENT" in env:
            values["environment"] = env["TEPAT_ENVIRONMENT"]
        if "TEPAT_UPLOAD_DIR" in env:
            values["upload_dir"] = Path(env["TEPAT_UPLOAD_DIR"])
        if "TEPAT_HOST" in env:
            values["host"] = env["TEPAT_HOST"]
        if "TEPAT_PORT" in env:
            try:
                values["port"] = int(env["TEPAT_PORT"])
            except ValueError:
                raise ConfigError(f"TEPAT_PORT must be a number, not {env['TEPAT_PORT']!r}") from None
        if "TEPAT_MIN_CELL_SIZE" in env:
            values["min_cell_size"] = int(env["TEPAT_MIN_CELL_SIZE"])
        if "TEPAT_STATUS_CHECK_FACTOR" in env:
            values["status_check_factor"] = env["TEPAT_STATUS_CHECK_FACTOR"].strip().lower()
        if "TEPAT_STATUS_CHECKS_PER_MINUTE" in env:
            try:
                values["status_checks_per_minute"] = int(env["TEPAT_STATUS_CHECKS_PER_MINUTE"])
            except ValueError:
                raise ConfigError("TEPAT_STATUS_CHECKS_PER_MINUTE must be a number") from None
        for variable, key in (("TEPAT_OFFICE_NAME", "office_name"), ("TEPAT_OFFICE_SHORT_NAME", "office_short_name")):
            if variable in env and env[variable].strip():
                values[key] = " ".join(env[variable].split())
        if env.get("TEPAT_OFFICE_LOGO", "").strip():
            values["office_logo"] = Path(env["TEPAT_OFFICE_LOGO"].strip())
        if "TEPAT_RETENTION_DAYS" in env:
            try:
                values["retention_days"] = int(env["TEPAT_RETENTION_DAYS"])
            except ValueError:
                raise ConfigError("TEPAT_RETENTION_DAYS must be a number of days") from None
        if "TEPAT_TRUSTED_PROXIES" in env:
            values["trusted_proxies"] = tuple(p.strip() for p in env["TEPAT_TRUSTED_PROXIES"].split(",") if p.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

"""Settings, read once from ``TEPAT_*`` environment variables.

Every setting is documented in ``docs/settings.md``. ``Settings`` is frozen: a
running process never changes its configuration behind the code's back.
"""

from __future__ import annotations

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

    def __post_init__(self) -> None:
        if self.environment not in ("development", "production"):
            raise ConfigError(f"TEPAT_ENVIRONMENT must be development or production, not {self.environment!r}")
        if self.environment == "production":
            if self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
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
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

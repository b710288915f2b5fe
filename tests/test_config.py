"""Settings: read once from TEPAT_* variables, refusing unsafe production values."""

from __future__ import annotations

import pytest

from tepat.config import Settings
from tepat.errors import ConfigError


def test_defaults_are_for_development():
    s = Settings.from_env({})
    assert s.environment == "development" and s.is_sqlite and s.database_url.endswith("tepat.sqlite")


def test_production_refuses_the_default_secret():
    with pytest.raises(ConfigError, match="TEPAT_SECRET_KEY"):
        Settings.from_env({"TEPAT_ENVIRONMENT": "production"})
    with pytest.raises(ConfigError):
        Settings.from_env({"TEPAT_ENVIRONMENT": "production", "TEPAT_SECRET_KEY": "short"})
    ok = Settings.from_env({"TEPAT_ENVIRONMENT": "production", "TEPAT_SECRET_KEY": "x" * 40})
    assert ok.environment == "production"


def test_bad_values_are_named():
    with pytest.raises(ConfigError, match="TEPAT_PORT"):
        Settings.from_env({"TEPAT_PORT": "delapan"})
    with pytest.raises(ConfigError, match="TEPAT_ENVIRONMENT"):
        Settings.from_env({"TEPAT_ENVIRONMENT": "staging"})


def test_settings_are_frozen():
    s = Settings.from_env({"TEPAT_DATABASE_URL": "postgresql+psycopg://u@h/db"})
    assert not s.is_sqlite
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]

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


def test_every_malformed_variable_is_named_in_one_error_never_a_traceback():
    """TEPAT_MIN_CELL_SIZE=abc crashed with a ValueError before (issue 14: one typed loader)."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {"TEPAT_MIN_CELL_SIZE": "sepuluh", "TEPAT_PORT": "delapan", "TEPAT_RETENTION_DAYS": "30"}
        )
    assert "TEPAT_MIN_CELL_SIZE must be a whole number of families, not 'sepuluh'" in caught.value.message
    assert "TEPAT_PORT must be a number, not 'delapan'" in caught.value.message


def test_every_variable_is_documented():
    from pathlib import Path

    from tepat.config import VARIABLES

    documented = (Path(__file__).parents[1] / "docs" / "settings.md").read_text(encoding="utf-8")
    assert [v for v in VARIABLES if f"`{v}`" not in documented] == []

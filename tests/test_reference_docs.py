"""Reference pages that could drift are generated, and these tests fail when one is out of date (issue 14 habits).
Rewrite them with ``python tools/reference_docs.py``."""

from __future__ import annotations

from pathlib import Path

from tepat.api.reference import markdown as api_markdown
from tepat.cli import app
from tepat.cli.reference import markdown as cli_markdown

DOCS = Path(__file__).parents[1] / "docs"
REWRITE = "out of date: run `python tools/reference_docs.py` and commit the page"


def test_the_cli_reference_is_the_commands_own_help() -> None:
    page = cli_markdown(app)
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == page, REWRITE
    for command in (
        "`tepat init`",
        "`tepat bayar import`",
        "`tepat pelatihan attend`",
        "`tepat poverty line`",
    ):
        assert f"## {command}" in page or f"# {command}" in page, command
    assert "| `--as` | (required) Username of the account acting" in page  # options, with what they mean


def test_the_api_reference_is_the_openapi_document() -> None:
    page = api_markdown()
    assert (DOCS / "api-reference.md").read_text(encoding="utf-8") == page, REWRITE
    assert "### `POST /api/v1/families`" in page and "Body (application/json): `FamilyCreate`" in page
    assert "### `FamilyCreate`" in page

"""Rewrite the generated reference pages: docs/cli.md (from the commands) and docs/api-reference.md (from the
OpenAPI document). ``tests/test_reference_docs.py`` fails when either is out of date.

    python tools/reference_docs.py
"""

from __future__ import annotations

from pathlib import Path

from tepat.api.reference import markdown as api_markdown
from tepat.cli import app
from tepat.cli.reference import markdown as cli_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"

if __name__ == "__main__":
    (DOCS / "cli.md").write_text(cli_markdown(app), encoding="utf-8")
    (DOCS / "api-reference.md").write_text(api_markdown(), encoding="utf-8")
    print("docs/cli.md and docs/api-reference.md written")

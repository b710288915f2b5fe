"""Rewrite the generated reference pages: docs/cli.md (from the commands), docs/api-reference.md (from the
OpenAPI document), and the tables generated into hand-written pages — the permission table in docs/accounts.md and
the audit vocabulary in docs/security.md (between their ``<!-- name -->`` markers). Tests fail when one is out of
date (``tests/test_reference_docs.py``, ``tests/test_permissions.py``, ``tests/test_audit_vocabulary.py``).

    python tools/reference_docs.py
"""

from __future__ import annotations

from pathlib import Path

from tepat.api.reference import markdown as api_markdown
from tepat.cli import app
from tepat.cli.reference import markdown as cli_markdown
from tepat.domain.access import permission_table
from tepat.domain.audit_actions import audit_action_table

DOCS = Path(__file__).resolve().parents[1] / "docs"


def replace_between(path: Path, marker: str, table: str) -> None:
    """Put ``table`` between ``<!-- marker -->`` and ``<!-- /marker -->`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- {marker} -->\n", f"\n<!-- /{marker} -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(head + start + table + end + tail, encoding="utf-8")


if __name__ == "__main__":
    (DOCS / "cli.md").write_text(cli_markdown(app), encoding="utf-8")
    (DOCS / "api-reference.md").write_text(api_markdown(), encoding="utf-8")
    replace_between(DOCS / "accounts.md", "permission-table", permission_table())
    replace_between(DOCS / "security.md", "audit-actions", audit_action_table())
    print(
        "docs/cli.md, docs/api-reference.md and the tables in docs/accounts.md and docs/security.md written"
    )

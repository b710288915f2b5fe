"""docs/import-export.md shows the layout the code uses."""

from __future__ import annotations

from pathlib import Path

from tepat.domain.households import CANONICAL_COLUMNS
from tepat.files.canonical import layout_markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "import-export.md"


def test_the_documented_layout_is_the_field_catalogue() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("<!-- layout:start", 1)[1].split("-->", 1)[1].split("<!-- layout:end -->", 1)[0]
    assert table.strip() == layout_markdown().strip()
    documented = [line.split("|")[2].strip().strip("`") for line in table.strip().splitlines()[2:]]
    assert documented == list(CANONICAL_COLUMNS)

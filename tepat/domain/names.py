r"""What a person's name may hold: letters (any script's, with their accents), spaces, and ``'`` ``’`` ``.`` ``,``
``-``, starting with a letter. That covers Indonesian names with their titles and degrees ("Hj. Siti Aminah",
"Drs. H. Budi, S.Pd.", "Ni Luh Putu", "Ma'ruf") and refuses digits, symbols and the ``=`` ``+`` ``@`` a
spreadsheet would run as a formula (issue 13 point 11).

The rule is written twice below, once in Python (forms, the API: ``str.isalpha`` is Unicode's letter categories)
and once as a pattern for the Rust regex engine of polars (the bulk import: ``\p{L}``, the same categories).
``tests/test_names.py`` holds them to the same answers.
"""

from __future__ import annotations

import unicodedata
from typing import Final

MESSAGE = (
    "hanya boleh huruf, spasi, dan tanda ' . , - (gelar seperti H., Hj., S.Pd. boleh), diawali huruf; "
    "tanpa angka atau simbol"
)
SEPARATORS = frozenset(" '’.,-")
POLARS_PATTERN = r"^\p{L}[\p{L} '’.,\-]*$"
NORMAL_FORM: Final = "NFC"  # "é" typed as e + a combining accent becomes one letter first, in both paths


def tidy(text: str) -> str:
    """A name as stored: composed (NFC), trimmed, inner spaces collapsed."""
    return " ".join(unicodedata.normalize(NORMAL_FORM, text).split())


def is_valid_name(text: str) -> bool:
    """Whether ``text`` (as ``tidy`` leaves it) is a name tepat accepts."""
    return bool(text) and text[0].isalpha() and all(c.isalpha() or c in SEPARATORS for c in text)

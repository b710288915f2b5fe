"""The usul form's household, one reading for the residents' portal and the staff's help desk: the family's address
fields, and a member per row that names someone (``nama_<i>``, ``nik_<i>``, ``lahir_<i>``, ``jk_<i>``,
``hubungan_<i>``; an empty row is an empty member, so errors keep their row numbers)."""

from __future__ import annotations

from collections.abc import Mapping

FAMILY_FIELDS = ("kelurahan_code", "kk_number", "address", "rw", "rt")
_MEMBER_FIELDS = {
    "name": "nama",
    "nik": "nik",
    "birth_date": "lahir",
    "sex": "jk",
    "relationship": "hubungan",
}


def household(values: Mapping[str, str], rows: int) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The family and its ``rows`` member rows as posted."""
    family = {k: values.get(k, "") for k in FAMILY_FIELDS}
    members = [
        {field: values.get(f"{name}_{i}", "") for field, name in _MEMBER_FIELDS.items()}
        if values.get(f"nama_{i}") or values.get(f"nik_{i}")
        else {}
        for i in range(rows)
    ]
    return family, members

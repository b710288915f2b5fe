"""Region codes (Kepmendagri 2025) and their hierarchy.

``32`` province, ``32.76`` kabupaten/kota, ``32.76.01`` kecamatan,
``32.76.01.1006`` kelurahan (1xxx) or desa (2xxx). Codes are never renumbered:
gaps are real.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(\d{4})?$")  # as a spreadsheet holds it: 3276011006


class Level(StrEnum):
    PROVINSI = "provinsi"
    KABKOTA = "kabkota"
    KECAMATAN = "kecamatan"
    KELURAHAN = "kelurahan"  # or desa


_LEVEL_BY_PARTS = {1: Level.PROVINSI, 2: Level.KABKOTA, 3: Level.KECAMATAN, 4: Level.KELURAHAN}


def is_region_code(code: str) -> bool:
    """True when ``code`` has the shape of a region code (any level)."""
    return bool(_CODE.match(code))


def level_of(code: str) -> Level:
    """The administrative level a code names."""
    if not is_region_code(code):
        raise ValueError(f"Kode wilayah tidak dikenal: {code!r}")
    return _LEVEL_BY_PARTS[code.count(".") + 1]


def parent_of(code: str) -> str | None:
    """The code one level up, or ``None`` for a province."""
    return code.rsplit(".", 1)[0] if "." in code else None


def ancestors_of(code: str) -> list[str]:
    """Codes from the province down to ``code`` itself."""
    parts = code.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def office_of(code: str) -> str:
    """The kabupaten/kota (the office) a region code lies in: ``32.75`` for ``32.75.01.1001``; ``""`` for a
    province or the whole country, which no single office holds."""
    return code[:5] if code.count(".") >= 1 else ""


def contains(area_code: str, code: str) -> bool:
    """True when region ``code`` lies inside (or is) ``area_code``; ``""`` is the whole country."""
    return area_code == "" or code == area_code or code.startswith(area_code + ".")


def overlaps(one: str, other: str) -> bool:
    """True when one region lies inside the other (or they are the same): what covers an area reaches everyone
    working anywhere inside it, and an account reaches every region inside its area."""
    return contains(one, other) or contains(other, one)


@dataclass(frozen=True, slots=True)
class RegionCode:
    """A region code parsed once where it enters (a form, a file, the CLI); ``str()`` gives the dotted code."""

    code: str

    def __str__(self) -> str:
        return self.code

    @classmethod
    def parse(cls, raw: object, *, level: Level | None = None) -> RegionCode:
        """Dotted (``32.76.01.1006``) or compact as spreadsheets hold it (``3276011006``); ``level`` when only one
        level will do. ``ValueError`` with a sentence for the user otherwise."""
        text = str(raw if raw is not None else "").strip()
        compact = _COMPACT.match(text)
        if compact and len(text) in (2, 4, 6, 10):
            text = ".".join(part for part in compact.groups() if part)
        if not is_region_code(text):
            raise ValueError(f"bukan kode wilayah Kepmendagri (mis. {_EXAMPLES[level or Level.KELURAHAN]})")
        found = cls(text)
        if level is not None and found.level is not level:
            raise ValueError(f"harus kode {level.value}, mis. {_EXAMPLES[level]}")
        return found

    @classmethod
    def parse_or_none(cls, raw: object) -> RegionCode | None:
        try:
            return cls.parse(raw)
        except ValueError:
            return None

    @property
    def level(self) -> Level:
        return level_of(self.code)

    @property
    def parent(self) -> RegionCode | None:
        up = parent_of(self.code)
        return RegionCode(up) if up is not None else None

    def contains(self, other: RegionCode | str) -> bool:
        """Whether ``other`` lies inside (or is) this region."""
        return contains(self.code, str(other))


_EXAMPLES = {
    Level.PROVINSI: "32",
    Level.KABKOTA: "32.76",
    Level.KECAMATAN: "32.76.01",
    Level.KELURAHAN: "32.76.01.1006",
}


@dataclass(frozen=True)
class Region:
    code: str
    name: str

    @property
    def level(self) -> Level:
        return level_of(self.code)

    @property
    def parent_code(self) -> str | None:
        return parent_of(self.code)

    @property
    def is_desa(self) -> bool:
        return self.level is Level.KELURAHAN and self.code.rsplit(".", 1)[1].startswith("2")


class RegionIndex:
    """All known regions, looked up by code; built once from the reference list."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self._by_code = {r.code: r for r in regions}
        self._children: dict[str, list[str]] = {}
        for code in sorted(self._by_code):
            parent = parent_of(code)
            if parent is not None:
                self._children.setdefault(parent, []).append(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Region]:
        return iter(self._by_code.values())

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def name(self, code: str) -> str:
        """The region's name, or the code itself when unknown."""
        region = self._by_code.get(code)
        return region.name if region else code

    def children(self, code: str) -> list[Region]:
        return [self._by_code[c] for c in self._children.get(code, [])]

    def descendants(self, code: str, level: Level) -> list[Region]:
        """All regions at ``level`` inside ``code``."""
        return [r for c, r in self._by_code.items() if contains(code, c) and r.level is level]

    def kecamatan_codes(self) -> frozenset[str]:
        """Codes of every kecamatan: what a NIK's region prefix is checked against."""
        return frozenset(c for c, r in self._by_code.items() if r.level is Level.KECAMATAN)

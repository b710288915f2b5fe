"""Regional comparison over BPS published poverty figures: rankings, trends, change on the year.

A ranking orders the kabupaten/kota of a province by P0, lowest first
(``peringkat 1`` = the lowest poverty rate); ties share the lower place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tepat.domain.regions import Level, level_of, parent_of


@dataclass(frozen=True)
class RegionFigure:
    """One BPS published row: a region's poverty figures for one year (March)."""

    code: str
    name: str
    year: int
    p0: float  # percent
    poor_thousands: float | None = None
    line_rp: int | None = None
    p1: float | None = None
    p2: float | None = None


@dataclass(frozen=True)
class RankedRegion:
    """A region's place in a year's ranking and its change since the previous year."""

    rank: int
    code: str
    name: str
    p0: float
    previous_p0: float | None
    poor_thousands: float | None
    line_rp: int | None

    @property
    def change(self) -> float | None:
        """Change in P0 (percentage points) since the previous year, when that year is known."""
        return None if self.previous_p0 is None else round(self.p0 - self.previous_p0, 2)

    def as_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "code": self.code,
            "name": self.name,
            "p0": self.p0,
            "previous_p0": self.previous_p0,
            "change": self.change,
            "poor_thousands": self.poor_thousands,
            "line_rp": self.line_rp,
        }


@dataclass(frozen=True)
class Ranking:
    """The kabupaten/kota of one province ranked by P0 for one year."""

    province_code: str
    province_name: str
    year: int
    places: tuple[RankedRegion, ...]
    province_p0: float | None

    def place_of(self, code: str) -> RankedRegion | None:
        """The place of region ``code``, or None when it is not ranked."""
        return next((p for p in self.places if p.code == code), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "province_code": self.province_code,
            "province_name": self.province_name,
            "year": self.year,
            "province_p0": self.province_p0,
            "count": len(self.places),
            "places": [p.as_dict() for p in self.places],
        }


def _index(figures: Iterable[RegionFigure]) -> dict[tuple[str, int], RegionFigure]:
    # Later figures win: a user's import corrects a shipped number for the same year.
    return {(f.code, f.year): f for f in figures}


def years(figures: Iterable[RegionFigure], province_code: str) -> list[int]:
    """The years with figures for at least two kabupaten/kota of the province (a ranking), newest last."""
    counts: dict[int, set[str]] = {}
    for f in figures:
        if level_of(f.code) is Level.KABKOTA and parent_of(f.code) == province_code:
            counts.setdefault(f.year, set()).add(f.code)
    return sorted(year for year, codes in counts.items() if len(codes) >= 2)


def rank_regions(figures: Sequence[RegionFigure], year: int, province_code: str) -> Ranking:
    """Rank the kabupaten/kota of ``province_code`` by P0 in ``year``, lowest first."""
    index = _index(figures)
    rows = sorted(
        (
            f
            for (code, y), f in index.items()
            if y == year and level_of(code) is Level.KABKOTA and parent_of(code) == province_code
        ),
        key=lambda f: (f.p0, f.code),
    )
    places: list[RankedRegion] = []
    for position, f in enumerate(rows, start=1):
        rank = places[-1].rank if places and places[-1].p0 == f.p0 else position
        previous = index.get((f.code, year - 1))
        places.append(
            RankedRegion(
                rank=rank,
                code=f.code,
                name=f.name,
                p0=f.p0,
                previous_p0=None if previous is None else previous.p0,
                poor_thousands=f.poor_thousands,
                line_rp=f.line_rp,
            )
        )
    province = index.get((province_code, year))
    named = province or next(
        (f for (c, _), f in sorted(index.items(), reverse=True) if c == province_code), None
    )
    return Ranking(
        province_code=province_code,
        province_name=named.name if named else f"Provinsi {province_code}",
        year=year,
        places=tuple(places),
        province_p0=province.p0 if province else None,
    )


@dataclass(frozen=True)
class TrendPoint:
    """One year of a region's series with the change since the year before."""

    year: int
    p0: float
    poor_thousands: float | None
    line_rp: int | None
    change: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "year": self.year,
            "p0": self.p0,
            "poor_thousands": self.poor_thousands,
            "line_rp": self.line_rp,
            "change": self.change,
        }


def trend(
    figures: Iterable[RegionFigure], code: str, since: int | None = None, until: int | None = None
) -> list[TrendPoint]:
    """The P0 series of one region by year, with the change on the year where the previous year exists."""
    series = sorted((f for (c, _), f in _index(figures).items() if c == code), key=lambda f: f.year)
    by_year = {f.year: f for f in series}
    points: list[TrendPoint] = []
    for f in series:
        if (since is not None and f.year < since) or (until is not None and f.year > until):
            continue
        previous = by_year.get(f.year - 1)
        change = None if previous is None else round(f.p0 - previous.p0, 2)
        points.append(
            TrendPoint(
                year=f.year, p0=f.p0, poor_thousands=f.poor_thousands, line_rp=f.line_rp, change=change
            )
        )
    return points


def ordinal_phrase(place: RankedRegion, total: int) -> str:
    """An Indonesian sentence for a place, e.g. 'peringkat 3 terendah dari 27 kabupaten/kota'."""
    return f"peringkat {place.rank} terendah dari {total} kabupaten/kota"

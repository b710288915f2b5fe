"""The office running tepat: one kabupaten/kota's Dinas Sosial, as configuration, not code.

Every place a page, a document, a chart or a rule names "its" city — the
region code that bounds the whole area, the names on the letterhead and the
signature blocks, the place of signing, the province a ranking compares within
— reads it from the ``Office`` chosen once with ``tepat init --office CODE``
(stored in the database, ``tepat.store.offices``). Any of Indonesia's 514
kabupaten/kota can be the office.
"""

from __future__ import annotations

from dataclasses import dataclass

from tepat.domain.regions import Level, contains, is_region_code, level_of, overlaps, parent_of

_PREFIXES = ("Kota Administrasi ", "Kabupaten Administrasi ", "Kota ", "Kabupaten ", "Kab. ")


@dataclass(frozen=True)
class Office:
    """A kabupaten/kota's social service office."""

    code: str  # the kabupaten/kota's region code
    name: str  # the kabupaten/kota as the Kepmendagri list names it: "Kota Depok", "Kabupaten Bogor"
    province_name: str  # "Jawa Barat"
    agency: str = ""  # "Dinas Sosial Kota Depok" (default from ``name``)
    short_agency: str = ""  # "Dinsos Kota Depok"
    address: str = ""  # the letterhead's address line, when the office gave one

    def __post_init__(self) -> None:
        if not is_region_code(self.code) or level_of(self.code) is not Level.KABKOTA:
            raise ValueError(f"Kantor harus satu kabupaten/kota, bukan {self.code!r}.")
        if not self.agency:
            object.__setattr__(self, "agency", f"Dinas Sosial {self.name}")
        if not self.short_agency:
            object.__setattr__(self, "short_agency", f"Dinsos {self.name}")

    @property
    def province_code(self) -> str:
        return parent_of(self.code) or self.code

    @property
    def place(self) -> str:
        """The place of signing: the name without "Kota"/"Kabupaten" ("Depok")."""
        for prefix in _PREFIXES:
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return self.name

    @property
    def head_title(self) -> str:
        """The signatory's title: "Kepala Dinas Sosial Kota Depok"."""
        return f"Kepala {self.agency}"

    @property
    def government(self) -> str:
        """The letterhead's first line: "PEMERINTAH KOTA DEPOK"."""
        return f"PEMERINTAH {self.name.upper()}"

    def contains(self, region_code: str) -> bool:
        """True when ``region_code`` lies inside (or is) the office's area."""
        return contains(self.code, region_code)


@dataclass(frozen=True)
class Offices:
    """The offices one database serves: one kabupaten/kota, or several in a province's deployment (issue 17).

    Each office's staff work inside their office's code; a province account (``Role.PROVINCE``) reads all of them.
    ``area`` is the region that holds every office — the office itself when there is one, else the province they
    share, else the whole country (``""``) — and is what "everything here" means for the system and for lists.
    """

    all: tuple[Office, ...]

    def __post_init__(self) -> None:
        if not self.all:
            raise ValueError("Belum ada kantor.")

    @property
    def primary(self) -> Office:
        """The first office chosen (the one office of a single-office database)."""
        return self.all[0]

    @property
    def single(self) -> bool:
        return len(self.all) == 1

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.all)

    @property
    def area(self) -> str:
        if self.single:
            return self.primary.code
        provinces = {o.province_code for o in self.all}
        return provinces.pop() if len(provinces) == 1 else ""

    def of(self, region_code: str | None) -> Office | None:
        """The office whose area holds ``region_code`` (``None`` for a region above or outside every office)."""
        return next((o for o in self.all if region_code and o.contains(region_code)), None)

    def holding(self, area_code: str | None) -> Office | None:
        """The one office an area lies in: the office holding it, or — in a database of one office — that office,
        for an area above it too (the system's ``""``). ``None`` for an area over several offices (a province's):
        what belongs to one kabupaten/kota (its programme catalogue, a cycle's budget) must then be named."""
        return self.of(area_code) or (self.primary if self.single else None)

    def touching(self, area_code: str) -> tuple[Office, ...]:
        """The offices an area reaches: the one holding it (a kecamatan's, a city's), or every one inside it (a
        province's, everywhere's ``""``)."""
        return tuple(o for o in self.all if overlaps(area_code, o.code))

    def serves(self, region_code: str) -> bool:
        """Whether one of these offices holds ``region_code``: a family is registered only there (on PostgreSQL an
        office without a partition here could not hold its rows)."""
        return self.of(region_code) is not None

    def not_served(self) -> str:
        """What to tell someone who registers a family where none of these offices serves."""
        return f"Kelurahan ini di luar kabupaten/kota yang dilayani ({', '.join(self.codes)})."

    def for_area(self, area_code: str | None) -> Office:
        """The office that speaks for ``area_code``: its own office, or — for an area above the offices (a province
        account, the system) — the first office chosen, whose names the deployment's pages carry."""
        return self.of(area_code) or self.primary

    @property
    def agency(self) -> str:
        """Who the deployment is, where no one office speaks (the residents' pages, a province account): the office
        itself, or the province's social service holding the offices."""
        return self._voice("Dinas Sosial", self.primary.agency)

    @property
    def short_agency(self) -> str:
        return self._voice("Dinsos", self.primary.short_agency)

    @property
    def region_name(self) -> str:
        """The region the deployment serves: the kabupaten/kota, or the province of its offices."""
        return self._voice("", self.primary.name).strip() or "Indonesia"

    def _voice(self, agency: str, own: str) -> str:
        if self.single:
            return own
        provinces = {o.province_name for o in self.all}
        return f"{agency} Provinsi {provinces.pop()}" if len(provinces) == 1 else agency

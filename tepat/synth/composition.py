"""Who lives in a synthetic family: relationships, sex, ages and marital status.

Families are drawn by type (single person, couple, nuclear, single parent,
extended with the head's or spouse's parents, three generations) so that the
mean size is about 3.3 as in Kota Bekasi. Ages keep every child 18–45 years
younger than the head and the spouse. Everything is vectorised: one NumPy
array per attribute, members sorted by family in KK order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tepat.domain.households import MaritalStatus, Relationship

REFERENCE_DAY = np.datetime64("2025-06-30", "D")
"""The day the synthetic registry describes (ages, KK and verification dates are before it)."""

YEAR = 365.2425
MAX_AGE = 94.0  # older people would be born before 1931 and make the NIK's two-digit year ambiguous

# Relationship codes in KK order (index = sort key).
RELATIONSHIPS: tuple[str, ...] = (
    Relationship.KEPALA_KELUARGA,
    Relationship.ISTRI_SUAMI,
    Relationship.ANAK,
    Relationship.MENANTU,
    Relationship.CUCU,
    Relationship.ORANG_TUA,
    Relationship.MERTUA,
    Relationship.FAMILI_LAIN,
)
HEAD, SPOUSE, CHILD, IN_LAW, GRANDCHILD, PARENT, PARENT_IN_LAW, RELATIVE = range(8)
MARITAL: tuple[str, ...] = tuple(m.value for m in MaritalStatus)
SINGLE, MARRIED, DIVORCED, WIDOWED = range(4)

FAMILY_TYPES = ("sendiri", "pasangan", "inti", "orang_tua_tunggal", "dengan_orang_tua", "tiga_generasi")
TYPE_SHARES = np.array([0.12, 0.12, 0.55, 0.09, 0.08, 0.04])


@dataclass(frozen=True)
class Composition:
    """Families and their members as parallel arrays (members sorted by family)."""

    family_type: np.ndarray  # index into FAMILY_TYPES
    size: np.ndarray
    member_family: np.ndarray  # family index of each member
    relationship: np.ndarray  # index into RELATIONSHIPS
    female: np.ndarray  # bool
    age: np.ndarray  # years (float) on REFERENCE_DAY
    marital: np.ndarray  # index into MARITAL
    married_child: np.ndarray  # bool: the married child of a three-generation family

    @property
    def families(self) -> int:
        return len(self.size)

    @property
    def birth_date(self) -> np.ndarray:
        """Birth dates as ``datetime64[D]``."""
        return REFERENCE_DAY - np.round(self.age * YEAR).astype("timedelta64[D]")

    def per_family(self, values: np.ndarray) -> np.ndarray:
        """Sum a member-level array per family."""
        return np.bincount(self.member_family, weights=values, minlength=self.families)


def _between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    # Margins keep the 18/45-year bounds strict after rounding ages to whole days.
    lo = lo + 0.01
    hi = np.maximum(hi - 0.01, lo)
    return lo + rng.random(len(lo)) * (hi - lo)


def _pick(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(np.cumsum(shares) / shares.sum(), rng.random(n), side="right")


def draw_composition(rng: np.random.Generator, families: int) -> Composition:
    """Draw ``families`` families and their members."""
    n = families
    ftype = _pick(rng, TYPE_SHARES, n)
    u = rng.random(n)
    single, couple, nuclear, lone, extended, three = (ftype == t for t in range(6))

    # Head: age and sex by family type.
    young_single = single & (u < 0.6)
    head_age = np.select(
        [young_single, single, couple & (u < 0.5), couple, nuclear, lone, extended, three],
        [
            rng.uniform(19, 40, n),
            rng.uniform(55, 90, n),
            rng.uniform(21, 36, n),
            rng.uniform(50, 85, n),
            rng.triangular(24, 38, 63, n),
            rng.uniform(28, 70, n),
            rng.uniform(26, 55, n),
            rng.uniform(55, 82, n),
        ],
    )
    v = rng.random(n)
    head_female = np.select([young_single, single, lone], [v < 0.35, v < 0.7, v < 0.8], default=v < 0.05)
    has_spouse = couple | nuclear | extended | three
    gap = np.clip(rng.normal(3.5, 4.0, n), -6, 15)
    spouse_age = np.where(head_female, head_age + gap, head_age - gap)
    spouse_age = np.clip(spouse_age, 18.5, MAX_AGE)
    head_age = np.where(has_spouse, np.clip(head_age, spouse_age - 15, spouse_age + 15), head_age)
    young = np.where(has_spouse, np.minimum(head_age, spouse_age), head_age)
    old = np.where(has_spouse, np.maximum(head_age, spouse_age), head_age)

    # How many of each relationship.
    n_child = np.select(
        [nuclear, lone, extended, three],
        [
            1 + np.minimum(rng.poisson(0.8, n), 5),
            1 + np.minimum(rng.poisson(0.6, n), 4),
            np.minimum(rng.poisson(1.3, n), 5),
            1 + np.minimum(rng.poisson(0.4, n), 3),
        ],
        default=0,
    )
    n_parent = np.where(extended, 1 + (rng.random(n) < 0.4), 0)
    n_in_law = three.astype(np.int64)
    n_grand = np.where(three, 1 + np.minimum(rng.poisson(0.6, n), 3), 0)
    n_relative = ((nuclear | extended) & (rng.random(n) < 0.03)).astype(np.int64)
    size = 1 + has_spouse + n_child + n_parent + n_in_law + n_grand + n_relative

    parts: list[tuple[np.ndarray, ...]] = []  # (family, relationship, female, age, marital, married_child)
    fam = np.arange(n)

    # Head and spouse.
    head_marital = np.select(
        [has_spouse, young_single, single, lone],
        [
            MARRIED,
            np.where(rng.random(n) < 0.85, SINGLE, DIVORCED),
            np.where(rng.random(n) < 0.8, WIDOWED, np.where(rng.random(n) < 0.5, DIVORCED, SINGLE)),
            np.where(rng.random(n) < 0.5, WIDOWED, DIVORCED),
        ],
        default=MARRIED,
    )
    parts.append((fam, np.full(n, HEAD), head_female, head_age, head_marital, np.zeros(n, bool)))
    s = fam[has_spouse]
    parts.append(
        (
            s,
            np.full(len(s), SPOUSE),
            ~head_female[s],
            spouse_age[s],
            np.full(len(s), MARRIED),
            np.zeros(len(s), bool),
        )
    )

    # Children: 18–45 years younger than both parents; those living at home are mostly under 35.
    c = np.repeat(fam, n_child)
    first = np.r_[True, c[1:] != c[:-1]] if len(c) else np.zeros(0, bool)
    lo = np.maximum(0.0, old[c] - 45)
    hi = young[c] - 18
    married = three[c] & first
    lo = np.where(married, np.maximum(lo, 20.0), lo)
    hi = np.where(married, hi, np.maximum(np.minimum(hi, 35.0), lo))
    child_age = _between(rng, lo, hi)
    child_female = rng.random(len(c)) < 0.49
    child_marital = np.where(
        married, MARRIED, np.where((child_age >= 19) & (rng.random(len(c)) < 0.06), DIVORCED, SINGLE)
    )
    parts.append((c, np.full(len(c), CHILD), child_female, child_age, child_marital, married))

    # Three generations: the married child's spouse (menantu) and their children (cucu).
    mc_age = np.zeros(n)
    mc_female = np.zeros(n, bool)
    mc_age[c[married]] = child_age[married]
    mc_female[c[married]] = child_female[married]
    t = fam[three]
    in_law_age = np.clip(mc_age[t] + rng.normal(0, 3, len(t)).clip(-8, 8), 18.5, MAX_AGE)
    parts.append(
        (
            t,
            np.full(len(t), IN_LAW),
            ~mc_female[t],
            in_law_age,
            np.full(len(t), MARRIED),
            np.zeros(len(t), bool),
        )
    )
    in_law_of = np.zeros(n)
    in_law_of[t] = in_law_age
    g = np.repeat(fam, n_grand)
    g_young = np.minimum(mc_age[g], in_law_of[g])
    g_old = np.maximum(mc_age[g], in_law_of[g])
    g_lo = np.maximum(0.0, g_old - 45)
    g_age = _between(rng, g_lo, np.maximum(np.minimum(g_young - 18, 16.0), g_lo))
    parts.append(
        (
            g,
            np.full(len(g), GRANDCHILD),
            rng.random(len(g)) < 0.49,
            g_age,
            np.full(len(g), SINGLE),
            np.zeros(len(g), bool),
        )
    )

    # Parents of the head (orang tua) or of the spouse (mertua): 18–45 years older than their child.
    p = np.repeat(fam, n_parent)
    second = np.r_[False, p[1:] == p[:-1]] if len(p) else np.zeros(0, bool)
    of_spouse = (rng.random(n) < 0.45) & has_spouse
    base = np.where(of_spouse, spouse_age, head_age)[p]
    father = base + _between(rng, np.full(len(p), 20.0), np.minimum(45.0, MAX_AGE - base))
    mother = np.clip(father - np.clip(rng.normal(4, 3, len(p)), 0, 10), base + 18.5, MAX_AGE)
    two = np.zeros(n, bool)
    two[p[second]] = True
    lone_female = rng.random(len(p)) < 0.72
    parent_female = np.where(two[p], second, lone_female)
    parent_age = np.minimum(np.where(parent_female, mother, father), MAX_AGE)
    parts.append(
        (
            p,
            np.where(of_spouse[p], PARENT_IN_LAW, PARENT),
            parent_female,
            parent_age,
            np.where(two[p], MARRIED, WIDOWED),
            np.zeros(len(p), bool),
        )
    )

    # Other relatives (nephews, nieces, cousins) staying with the family.
    r = np.repeat(fam, n_relative)
    r_age = rng.uniform(5, 30, len(r))
    parts.append(
        (
            r,
            np.full(len(r), RELATIVE),
            rng.random(len(r)) < 0.5,
            r_age,
            np.where((r_age > 24) & (rng.random(len(r)) < 0.4), MARRIED, SINGLE),
            np.zeros(len(r), bool),
        )
    )

    cols = [np.concatenate(col) for col in zip(*parts, strict=True)]
    order = np.lexsort((-cols[3], cols[1], cols[0]))
    member_family, relationship, female, age, marital, married_child = (col[order] for col in cols)
    return Composition(
        family_type=ftype,
        size=size.astype(np.int64),
        member_family=member_family.astype(np.int64),
        relationship=relationship.astype(np.int8),
        female=female.astype(bool),
        age=age,
        marital=marital.astype(np.int8),
        married_child=married_child.astype(bool),
    )

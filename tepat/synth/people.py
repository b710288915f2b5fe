"""Schooling, work and health of synthetic members, by age, sex and family welfare.

Education is an ordered probit in the family's permanent welfare and the birth
cohort (younger people studied longer), capped by what a person of that age can
have finished. Rates are plausible for an Indonesian metropolitan city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from tepat.domain.households import ChronicIllness, Disability, Education, SchoolParticipation, WorkStatus
from tepat.synth.composition import MARRIED, Composition

EDUCATION: tuple[str, ...] = tuple(e.value for e in Education)
NONE, SD, SMP, SMA, DIPLOMA, S1, S2 = range(7)
SCHOOL: tuple[str, ...] = tuple(s.value for s in SchoolParticipation)
NOT_YET, IN_SCHOOL, LEFT_SCHOOL = range(3)
WORK: tuple[str, ...] = tuple(w.value for w in WorkStatus)
NOT_WORKING, OWN_ACCOUNT, EMPLOYER, EMPLOYEE, CASUAL, FAMILY_WORKER = range(6)
DISABILITY: tuple[str, ...] = tuple(d.value for d in Disability)
ILLNESS: tuple[str, ...] = tuple(c.value for c in ChronicIllness)

# Final attainment of adults, cumulative shares: none, SD, SMP, SMA, diploma, S1, S2/S3.
_EDUCATION_CUMULATIVE = np.array([0.04, 0.20, 0.37, 0.77, 0.83, 0.975])
_EDUCATION_CUTS = ndtri(_EDUCATION_CUMULATIVE)
_DISABILITY_TYPES = np.array([0.0, 0.40, 0.15, 0.15, 0.10, 0.12, 0.08])
_ILLNESS_TYPES = np.array([0.0, 0.45, 0.20, 0.10, 0.05, 0.03, 0.05, 0.04, 0.03, 0.05])


@dataclass(frozen=True)
class Attributes:
    """Member-level codes (indices into the tuples above) and pregnancy."""

    education: np.ndarray
    school: np.ndarray
    work: np.ndarray
    disability: np.ndarray
    illness: np.ndarray
    pregnant: np.ndarray


def _choose(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    cum = np.cumsum(shares) / shares.sum()
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(shares) - 1)


def draw_attributes(rng: np.random.Generator, comp: Composition, permanent: np.ndarray) -> Attributes:
    """Draw education, school participation, work, disability, illness and pregnancy."""
    n = len(comp.age)
    age = comp.age
    female = comp.female
    p = permanent[comp.member_family]

    cohort = (2025 - age - 1975) / 15
    score = 0.6 * p + 0.45 * cohort + 0.62 * rng.standard_normal(n)
    final = np.searchsorted(_EDUCATION_CUTS, score).astype(np.int8)

    # School participation by age; poorer children leave earlier.
    u = rng.random(n)
    stay = np.select(
        [age < 5, age < 7, age < 13, age < 16, age < 19, age < 25, age < 30],
        [0.0, 0.3, 0.99, 0.93 + 0.03 * p, 0.80 + 0.10 * p, 0.22 + 0.12 * p, 0.03],
        default=0.0,
    )
    in_school = u < stay
    # What someone still in school has finished so far, and the most a leaver of that age can hold.
    so_far = np.select([age < 13, age < 16, age < 19], [NONE, SD, SMP], default=SMA)
    ceiling = np.select(
        [age < 13, age < 16, age < 19, age < 21, age < 23, age < 25],
        [NONE, SD, SMP, SMA, DIPLOMA, S1],
        default=S2,
    )
    education = np.where(in_school, so_far, np.minimum(final, ceiling)).astype(np.int8)
    school = np.where(
        in_school,
        IN_SCHOOL,
        np.where((age < 7) | ((education == NONE) & (rng.random(n) < 0.5)), NOT_YET, LEFT_SCHOOL),
    ).astype(np.int8)

    # Work: participation by age and sex, then the kind of work by welfare (Gumbel-max choice).
    work_rate = np.select(
        [age < 15, age < 25, age < 60, age < 70],
        [0.0, np.where(female, 0.35, 0.55), np.where(female, 0.50, 0.90), np.where(female, 0.25, 0.50)],
        default=np.where(female, 0.08, 0.20),
    )
    works = (rng.random(n) < work_rate) & ~in_school
    utility = np.stack(
        [
            0.0 * p,
            0.5 + 0.0 * p,
            -1.8 + 0.8 * p,
            1.2 + 0.4 * p,
            -0.2 - 0.8 * p,
            -1.8 + 0.9 * female + 0.6 * (age < 25),
        ],
        axis=1,
    )
    utility[:, 0] = -np.inf
    kind = np.argmax(utility + rng.gumbel(size=(n, 6)), axis=1)
    work = np.where(works, kind, NOT_WORKING).astype(np.int8)

    # Disability and chronic illness rise with age; slightly more common in poorer families.
    frailty = np.exp(-0.2 * p)
    disabled = rng.random(n) < (0.006 + 0.0012 * np.maximum(age - 40, 0)) * frailty
    disability = np.where(disabled, _choose(rng, _DISABILITY_TYPES, n), 0).astype(np.int8)
    ill_rate = np.select([age < 30, age < 45, age < 60], [0.01, 0.04, 0.14], default=0.30) * frailty
    illness = np.where(rng.random(n) < ill_rate, _choose(rng, _ILLNESS_TYPES, n), 0).astype(np.int8)

    fertile = female & (age >= 18.1) & (age < 45.9) & (comp.marital == MARRIED)
    pregnant = fertile & (rng.random(n) < np.where(age < 35, 0.08, 0.03))
    return Attributes(education, school, work, disability, illness, pregnant)

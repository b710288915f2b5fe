"""Roles and areas: who may see and change what (UU 27/2022: access by role and area).

An account has one role and one area (a region code: ``32.76`` for the whole
city, a kecamatan, or a kelurahan). Personal data is visible only inside the
area and only to roles that need it; an analyst sees aggregates only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tepat.domain.regions import contains


class Role(StrEnum):
    ADMIN = "admin"  # Admin Dinsos: the whole area, approves and configures
    OPERATOR = "operator"  # Operator kelurahan/kecamatan: registers and edits families
    VERIFIER = "verifikator"  # field verification
    FINANCE = "keuangan"  # payment files and reconciliation
    ANALYST = "analis"  # aggregates only, never names

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.ADMIN: "Admin Dinsos",
    Role.OPERATOR: "Operator",
    Role.VERIFIER: "Verifikator",
    Role.FINANCE: "Keuangan",
    Role.ANALYST: "Analis",
}

_READS_PERSONAL = frozenset({Role.ADMIN, Role.OPERATOR, Role.VERIFIER, Role.FINANCE})
_EDITS_REGISTRY = frozenset({Role.ADMIN, Role.OPERATOR})
_RUNS_TRAINING = frozenset({Role.ADMIN, Role.OPERATOR})  # enrol, record attendance, finish seats


@dataclass(frozen=True)
class Actor:
    """Someone acting on tepat: a logged-in user, or the system itself."""

    username: str
    role: Role
    area_code: str
    full_name: str = ""
    user_id: int | None = None

    def in_area(self, region_code: str) -> bool:
        """True when ``region_code`` lies inside this actor's area."""
        return contains(self.area_code, region_code)

    def can_read_personal(self, region_code: str) -> bool:
        return self.role in _READS_PERSONAL and self.in_area(region_code)

    def can_edit_registry(self, region_code: str) -> bool:
        return self.role in _EDITS_REGISTRY and self.in_area(region_code)

    def can_run_training(self, region_code: str) -> bool:
        """Enrol people in training seats, record their attendance and completion (seats in ``region_code``)."""
        return self.role in _RUNS_TRAINING and self.in_area(region_code)

    @property
    def sees_personal_data(self) -> bool:
        return self.role in _READS_PERSONAL


SYSTEM = Actor(username="sistem", role=Role.ADMIN, area_code="", full_name="Sistem tepat")
"""The actor for work started from the command line (imports, synthetic data)."""


def system_actor(area_code: str = "") -> Actor:
    return Actor(username="sistem", role=Role.ADMIN, area_code=area_code, full_name="Sistem tepat")


def applying_findings(actor: Actor) -> Actor:
    """The actor under whose name a finding (a verification visit, a sanggah's outcome) is applied to the registry:
    the same person and area, with the right to change registry data that only editors have."""
    return Actor(username=actor.username, role=Role.ADMIN, area_code=actor.area_code, full_name=actor.full_name,
                 user_id=actor.user_id)

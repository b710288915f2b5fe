"""Roles, permissions and areas: who may see and change what (UU 27/2022: access by role and area).

An account has one role and one area (a region code: ``32.76`` for the whole
office, a kecamatan, or a kelurahan; ``32`` for a province account reading every
office of a province's deployment). What a role may do is one table,
``PERMISSIONS`` (role → permissions, printed in docs/accounts.md and checked
there by a test); ``Actor.may(permission, area)`` answers it and
``Actor.require`` refuses with the permission's own sentence. Personal data is
visible only inside the area and only to roles that need it; an analyst sees
aggregates only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from tepat.domain.regions import contains, overlaps
from tepat.domain.vocabulary import Labelled
from tepat.errors import PermissionDenied


class Role(Labelled):
    ADMIN = "admin", "Admin Dinsos"  # Admin Dinsos: the whole area, approves and configures
    OPERATOR = "operator", "Operator"  # Operator kelurahan/kecamatan: registers and edits families
    VERIFIER = "verifikator", "Verifikator"  # field verification
    FINANCE = "keuangan", "Keuangan"  # payment files and reconciliation
    ANALYST = "analis", "Analis"  # aggregates only, never names
    # Dinsos Provinsi: reads every office of a province's deployment, changes nothing
    PROVINCE = "provinsi", "Pemantau Provinsi"


class Permission(StrEnum):
    """One thing a role may do (its value is how docs and templates name it)."""

    READ_PERSONAL = "baca_data_pribadi"  # names, NIK, addresses of the families in the area
    EDIT_REGISTRY = "ubah_registri"  # register and edit families, import, request a change of recipients
    VERIFY = "verifikasi"  # field visits and their findings
    HANDLE_CASES = "tangani_kasus"  # usul, sanggah, pengaduan of the area
    RUN_TRAINING = "kelola_pelatihan"  # enrol, record attendance, finish training seats
    MANAGE_MONEY = "kelola_pembayaran"  # payment batches, files, results
    READ_PAYMENTS = "baca_pembayaran"  # batches and reconciliation (aggregates for analysts)
    TARGETING = "sasaran"  # PMT versions, desil, rules, simulation
    READ_PROGRAMMES = "baca_program"  # the catalogue
    READ_CYCLES = "baca_siklus"  # benefit cycles and their lists
    MANAGE_PROGRAMMES = "kelola_program"  # the catalogue, cycles (maker-checker), overrides, cycle areas
    MANAGE_USERS = "kelola_pengguna"  # accounts, sessions and tokens of the area
    READ_AUDIT = "baca_audit"  # the audit log
    MANAGE_FACILITIES = "kelola_fasilitas"  # health facilities and their API keys
    IMPORT_BPS = "impor_bps"  # newer BPS figures
    SECOND_FACTOR = "faktor_kedua"  # may (and should) protect the account with a TOTP code
    OVERSEE = "awasi_wilayah"  # others' jobs, overdue sanggah, accepting an usul into the registry

    @property
    def refusal(self) -> str:
        """The sentence a refused user reads."""
        return _REFUSALS[self]


_P = Permission
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset(
        {
            _P.READ_PERSONAL,
            _P.EDIT_REGISTRY,
            _P.VERIFY,
            _P.HANDLE_CASES,
            _P.RUN_TRAINING,
            _P.READ_PROGRAMMES,
            _P.READ_CYCLES,
        }
    ),
    Role.VERIFIER: frozenset({_P.READ_PERSONAL, _P.VERIFY, _P.HANDLE_CASES}),
    Role.FINANCE: frozenset(
        {
            _P.READ_PERSONAL,
            _P.HANDLE_CASES,
            _P.MANAGE_MONEY,
            _P.READ_PAYMENTS,
            _P.READ_PROGRAMMES,
            _P.READ_CYCLES,
            _P.SECOND_FACTOR,
        }
    ),
    Role.ANALYST: frozenset({_P.READ_PAYMENTS, _P.TARGETING, _P.READ_PROGRAMMES}),
    Role.PROVINCE: frozenset({_P.READ_PERSONAL, _P.READ_PAYMENTS, _P.READ_PROGRAMMES, _P.READ_CYCLES}),
}
"""What each role may do, inside its area: the one table (docs/accounts.md prints it)."""

_REFUSALS = {
    _P.READ_PERSONAL: "Data pribadi hanya untuk peran yang boleh membacanya, di dalam wilayahnya.",
    _P.EDIT_REGISTRY: "Hanya Admin Dinsos dan Operator yang boleh mengubah data registri.",
    _P.VERIFY: "Hanya Verifikator, Operator dan Admin Dinsos yang mencatat verifikasi lapangan.",
    _P.HANDLE_CASES: "Kasus hanya ditangani petugas Dinsos dan kelurahan.",
    _P.RUN_TRAINING: "Hanya Admin Dinsos dan Operator yang mengelola peserta pelatihan.",
    _P.MANAGE_MONEY: "Hanya Keuangan dan Admin Dinsos yang boleh mengelola pembayaran.",
    _P.READ_PAYMENTS: "Pembayaran dan rekonsiliasi hanya untuk Keuangan, Admin Dinsos dan Analis.",
    _P.TARGETING: "Halaman sasaran hanya untuk Admin Dinsos dan Analis.",
    _P.READ_PROGRAMMES: "Katalog program tidak tersedia untuk peran Anda.",
    _P.READ_CYCLES: "Siklus bantuan tidak tersedia untuk peran Anda.",
    _P.MANAGE_PROGRAMMES: "Hanya Admin Dinsos yang dapat mengelola program dan siklus bantuan.",
    _P.MANAGE_USERS: "Hanya Admin Dinsos yang boleh mengelola akun pengguna.",
    _P.READ_AUDIT: "Log audit hanya untuk Admin Dinsos.",
    _P.MANAGE_FACILITIES: "Hanya Admin Dinsos yang mengelola fasilitas kesehatan.",
    _P.IMPORT_BPS: "Hanya Admin Dinsos yang boleh mengimpor angka BPS.",
    _P.SECOND_FACTOR: "Faktor kedua hanya untuk Admin Dinsos dan Keuangan.",
    _P.OVERSEE: "Hanya Admin Dinsos yang mengawasi pekerjaan di wilayahnya.",
}
_DESCRIPTIONS = {
    _P.READ_PERSONAL: "names, NIK, addresses of the families in the area",
    _P.EDIT_REGISTRY: "register and edit families, import, request a change of recipients",
    _P.VERIFY: "field visits and their findings",
    _P.HANDLE_CASES: "usul, sanggah, pengaduan of the area",
    _P.RUN_TRAINING: "enrol, record attendance, finish training seats",
    _P.MANAGE_MONEY: "payment batches, files, results",
    _P.READ_PAYMENTS: "batches and reconciliation (aggregates for analysts)",
    _P.TARGETING: "PMT versions, desil, rules, simulation",
    _P.READ_PROGRAMMES: "the catalogue",
    _P.READ_CYCLES: "benefit cycles and their lists",
    _P.MANAGE_PROGRAMMES: "the catalogue, cycles (maker-checker), overrides, cycle areas",
    _P.MANAGE_USERS: "accounts, sessions and tokens of the area",
    _P.READ_AUDIT: "the audit log",
    _P.MANAGE_FACILITIES: "health facilities and their API keys",
    _P.IMPORT_BPS: "newer BPS figures",
    _P.SECOND_FACTOR: "may (and should) protect the account with a TOTP code",
    _P.OVERSEE: "others' jobs, overdue sanggah, accepting an usul into the registry",
}
OUTSIDE_AREA = "Wilayah ini di luar wilayah kerja Anda."


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

    def shares_area(self, region_code: str) -> bool:
        """True when ``region_code`` and this actor's area overlap: one lies inside the other. What covers a whole
        area — a city's cycle, a batch of all its kelurahan — is seen by the staff working anywhere inside it, and
        by no one outside it (another office of a province's database)."""
        return overlaps(self.area_code, region_code)

    def may(self, permission: Permission, region_code: str | None = None) -> bool:
        """True when the role has ``permission`` and, given a region, the region lies inside the area."""
        return permission in PERMISSIONS[self.role] and (region_code is None or self.in_area(region_code))

    def require(self, permission: Permission, region_code: str | None = None) -> None:
        """Refuse (``PermissionDenied``, in the permission's words) unless ``may`` says yes."""
        if permission not in PERMISSIONS[self.role]:
            raise PermissionDenied(permission.refusal)
        if region_code is not None and not self.in_area(region_code):
            raise PermissionDenied(OUTSIDE_AREA)

    def narrowed(self, region_code: str) -> Actor:
        """The same person and role over ``region_code``, a part of their area (a province account looking at one
        office); ``PermissionDenied`` outside it. Never wider than the account."""
        if not self.in_area(region_code):
            raise PermissionDenied(OUTSIDE_AREA)
        return replace(self, area_code=region_code)

    def can_read_personal(self, region_code: str) -> bool:
        return self.may(Permission.READ_PERSONAL, region_code)

    def can_edit_registry(self, region_code: str) -> bool:
        return self.may(Permission.EDIT_REGISTRY, region_code)

    def can_run_training(self, region_code: str) -> bool:
        """Enrol people in training seats, record their attendance and completion (seats in ``region_code``)."""
        return self.may(Permission.RUN_TRAINING, region_code)

    @property
    def sees_personal_data(self) -> bool:
        return self.may(Permission.READ_PERSONAL)


SYSTEM = Actor(username="sistem", role=Role.ADMIN, area_code="", full_name="Sistem tepat")
"""The actor for work started from the command line (imports, synthetic data)."""


def system_actor(area_code: str = "") -> Actor:
    return Actor(username="sistem", role=Role.ADMIN, area_code=area_code, full_name="Sistem tepat")


def applying_findings(actor: Actor) -> Actor:
    """The actor under whose name a finding (a verification visit, a sanggah's outcome) is applied to the registry:
    the same person and area, with the right to change registry data that only editors have."""
    return Actor(
        username=actor.username,
        role=Role.ADMIN,
        area_code=actor.area_code,
        full_name=actor.full_name,
        user_id=actor.user_id,
    )


def permission_table() -> str:
    """``PERMISSIONS`` as the Markdown table docs/accounts.md prints (a test checks the two agree)."""
    roles = list(Role)
    lines = ["| permission | " + " | ".join(r.label for r in roles) + " |", "|---|" + "---|" * len(roles)]
    for permission in Permission:
        marks = " | ".join("✓" if permission in PERMISSIONS[r] else "" for r in roles)
        lines.append(f"| `{permission.value}`: {_DESCRIPTIONS[permission]} | {marks} |")
    return "\n".join(lines)

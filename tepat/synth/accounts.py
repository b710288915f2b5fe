"""The demo's accounts: one per role, in the synthetic city's areas (printed once by ``tepat demo``)."""

from __future__ import annotations

from tepat.domain.access import Role

DEMO_ACCOUNTS: tuple[tuple[str, Role, str, str], ...] = (
    ("admin", Role.ADMIN, "32.75", "Admin Dinsos Kota Bekasi"),
    ("kabid", Role.ADMIN, "32.75", "Kepala Bidang Linjamsos (penyetuju siklus)"),
    ("operator.bekasijaya", Role.OPERATOR, "32.75.01.1001", "Operator Kelurahan Bekasijaya"),
    ("operator.bekasitimur", Role.OPERATOR, "32.75.01", "Operator Kecamatan Bekasi Timur"),
    ("verifikator", Role.VERIFIER, "32.75.01", "Verifikator Bekasi Timur"),
    ("keuangan", Role.FINANCE, "32.75", "Bidang Keuangan Dinsos"),
    ("analis", Role.ANALYST, "32.75", "Analis Bappeda"),
)

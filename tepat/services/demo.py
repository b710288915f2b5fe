"""Building the demo: a synthetic Kota Bekasi in a fresh database, with one account per role."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tepat.domain.access import Role, system_actor
from tepat.services import auth
from tepat.services.imports import ImportResult, import_file
from tepat.services.setup import init_database
from tepat.store.database import Database
from tepat.synth import generate_registry, write_registry

DEMO_ACCOUNTS: tuple[tuple[str, Role, str, str], ...] = (
    ("admin", Role.ADMIN, "32.75", "Admin Dinsos Kota Bekasi"),
    ("operator.bekasijaya", Role.OPERATOR, "32.75.01.1001", "Operator Kelurahan Bekasijaya"),
    ("operator.bekasitimur", Role.OPERATOR, "32.75.01", "Operator Kecamatan Bekasi Timur"),
    ("verifikator", Role.VERIFIER, "32.75.01", "Verifikator Bekasi Timur"),
    ("keuangan", Role.FINANCE, "32.75", "Bidang Keuangan Dinsos"),
    ("analis", Role.ANALYST, "32.75", "Analis Bappeda"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    area_code: str
    full_name: str


@dataclass(frozen=True)
class DemoBuild:
    families: int
    members: int
    imported: ImportResult
    accounts: list[DemoAccount]


Progress = Callable[[str, int, int | None], None]


def build_demo(db: Database, *, families: int, seed: int, progress: Progress | None = None) -> DemoBuild:
    """Initialise ``db``, fill it with ``families`` synthetic families and create the demo accounts."""
    report = progress or (lambda _step, _done, _total: None)
    init_database(db)
    report("sintetis", 0, families)
    synthetic = generate_registry(families, seed=seed)
    report("sintetis", families, families)
    with tempfile.TemporaryDirectory(prefix="tepat-demo-") as tmp:
        path = Path(tmp) / "registry.parquet"
        write_registry(synthetic, path)
        rows = synthetic.members.height
        result = import_file(
            db, system_actor(), path, mode="valid-only", filename="demo-sintetis.parquet",
            progress=lambda done, total: report("impor", done, total or rows),
        )
    accounts = []
    creator = system_actor()
    for username, role, area, name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        auth.create_user(db, creator, username=username, password=password, role=role, area_code=area, full_name=name)
        accounts.append(DemoAccount(username, password, role, area, name))
    return DemoBuild(families=result.families_created, members=result.members_created, imported=result, accounts=accounts)

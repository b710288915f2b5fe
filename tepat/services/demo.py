"""Building the demo: the synthetic city in a fresh database, with one account per role."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tepat.domain.access import Role, system_actor
from tepat.domain.welfare import fit_pmt
from tepat.files.survey_frames import read_survey_columns
from tepat.services import auth, cycles, programmes, registry_ranking, targeting
from tepat.services.imports import ImportResult, import_file
from tepat.services.setup import init_database
from tepat.store.database import Database
from tepat.synth import generate_registry, generate_survey, write_registry
from tepat.synth.accounts import DEMO_ACCOUNTS
from tepat.synth.geography import SYNTH_CITY

PMT_FEATURES = (
    "jumlah_art",
    "jumlah_anak",
    "jumlah_lansia",
    "umur_kepala",
    "pendidikan_kepala",
    "status_pekerjaan_kepala",
    "ada_disabilitas",
    "luas_lantai",
    "jenis_lantai",
    "jenis_dinding",
    "jenis_atap",
    "sumber_air_minum",
    "daya_listrik",
    "bahan_bakar_memasak",
    "fasilitas_bab",
    "aset_kulkas",
    "aset_ac",
    "aset_sepeda_motor",
    "aset_mobil",
    "aset_komputer",
    "aset_emas",
)
"""Proxy-means features of the demo model: household make-up, housing and assets, all known to the registry."""
CATEGORICAL = frozenset(
    {
        "pendidikan_kepala",
        "status_pekerjaan_kepala",
        "jenis_lantai",
        "jenis_dinding",
        "jenis_atap",
        "sumber_air_minum",
        "daya_listrik",
        "bahan_bakar_memasak",
        "fasilitas_bab",
    }
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
    model_id: int
    cycle_id: int


Progress = Callable[[str, int, int | None], None]


def reopen_demo(db: Database) -> None:
    """An existing demo database, upgraded to this version's schema; one made before offices existed is the
    synthetic city's."""
    if init_database(db).office is None:
        init_database(db, office=SYNTH_CITY)


def build_demo(db: Database, *, families: int, seed: int, progress: Progress | None = None) -> DemoBuild:
    """Initialise ``db``, fill it with ``families`` synthetic families, rank them with a fitted PMT, create the accounts."""
    report = progress or (lambda _step, _done, _total: None)
    init_database(db, office=SYNTH_CITY, seed_programmes=True)
    report("sintetis", 0, families)
    synthetic = generate_registry(families, seed=seed)
    report("sintetis", families, families)
    with tempfile.TemporaryDirectory(prefix="tepat-demo-") as tmp:
        path = Path(tmp) / "registry.parquet"
        write_registry(synthetic, path)
        rows = synthetic.members.height
        result = import_file(
            db,
            system_actor(),
            path,
            mode="valid-only",
            filename="demo-sintetis.parquet",
            progress=lambda done, total: report("impor", done, total or rows),
        )
        model_id = _rank_with_a_fitted_model(db, Path(tmp), seed)
        report("peringkat", 1, 1)
    accounts = []
    creator = system_actor()
    for username, role, area, name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        auth.create_user(
            db, creator, username=username, password=password, role=role, area_code=area, full_name=name
        )
        accounts.append(DemoAccount(username, password, role, area, name))
    cycle_id = _submit_a_blt_cycle(db)
    return DemoBuild(
        families=result.families_created,
        members=result.members_created,
        imported=result,
        accounts=accounts,
        model_id=model_id,
        cycle_id=cycle_id,
    )


def reset_demo_passwords(db: Database) -> list[DemoAccount]:
    """New passwords for the demo accounts of an existing demo database (the first ones were printed once): the
    way back in after rerunning ``tepat demo``. Their sessions end; each change is audited."""
    accounts = []
    creator = system_actor()
    for username, role, area, name in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        auth.set_password(db, creator, username, password, password)
        accounts.append(DemoAccount(username, password, role, area, name))
    return accounts


def _submit_a_blt_cycle(db: Database) -> int:
    """A BLT-APBD cycle made and submitted by ``admin``, waiting for ``kabid`` to approve it (maker-checker)."""
    maker = programmes.actor_by_username(db, "admin")
    cycle_id = cycles.create_cycle(
        db,
        maker,
        "BLT-APBD",
        name="BLT-APBD Juli 2025",
        period_start=date(2025, 7, 1),
        period_end=date(2025, 7, 31),
    )
    cycles.generate(db, maker, cycle_id)
    cycles.submit(db, maker, cycle_id)
    return cycle_id


def _rank_with_a_fitted_model(db: Database, folder: Path, seed: int) -> int:
    """Fit a PMT on a synthetic Susenas sample of the city, check it on a second sample, rank the registry."""
    actor = system_actor()
    fit_path, check_path = folder / "susenas-sintetis.csv", folder / "susenas-sintetis-uji.csv"
    generate_survey(1_600, seed=seed).write_csv(fit_path)
    generate_survey(1_600, seed=seed + 1).write_csv(check_path)
    columns = read_survey_columns(
        fit_path, ["pengeluaran_per_kapita", "bobot", *PMT_FEATURES], text_columns=sorted(CATEGORICAL)
    )
    model = fit_pmt(
        columns,
        target="pengeluaran_per_kapita",
        features=PMT_FEATURES,
        weight="bobot",
        categorical=CATEGORICAL,
    )
    model_id = targeting.save_model(db, actor, model, source=fit_path, name="PMT demo (Susenas sintetis)")
    targeting.evaluate_model(db, actor, model_id, check_path)
    registry_ranking.rank_registry(db, actor, model_id)
    return model_id

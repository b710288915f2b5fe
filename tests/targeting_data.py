"""Shared data for the targeting tests: a small survey file, a saved model and a varied registry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tepat.domain.access import Actor
from tepat.domain.welfare import PmtModel, fit_pmt
from tepat.files.survey_frames import read_survey_columns
from tepat.services import targeting
from tepat.store.database import Database
from tepat.synth import generate_survey
from tests.factories import KELURAHAN, OTHER_KELURAHAN, letters, make_family, member_values

DAY = date(2026, 7, 1)
FEATURES = [
    "jumlah_art",
    "jumlah_anak",
    "umur_kepala",
    "pendidikan_kepala",
    "ada_disabilitas",
    "jenis_lantai",
    "daya_listrik",
    "aset_mobil",
    "luas_lantai",
]
CATEGORICAL = {"pendidikan_kepala", "jenis_lantai", "daya_listrik"}


def survey_file(folder: Path, households: int = 600, seed: int = 11) -> Path:
    path = folder / f"survei-{seed}.csv"
    generate_survey(households, seed).write_csv(path)
    return path


def fitted(path: Path, features: list[str] | None = None) -> PmtModel:
    names = features or FEATURES
    cols = read_survey_columns(
        path, ["pengeluaran_per_kapita", "bobot", *names], text_columns=sorted(CATEGORICAL)
    )
    return fit_pmt(
        cols,
        target="pengeluaran_per_kapita",
        features=names,
        weight="bobot",
        categorical=CATEGORICAL & set(names),
    )


def saved_model(
    db: Database, actor: Actor, folder: Path, name: str = "uji", features: list[str] | None = None
) -> int:
    path = survey_file(folder)
    return targeting.save_model(db, actor, fitted(path, features), source=path, name=name)


FLOORS = ["tanah", "keramik", "semen_bata", "bambu", "keramik", "ubin_tegel"]
POWER = ["450", "900", "1300", "2200", "450", "900"]


def varied_registry(
    db: Database, actor: Actor, n: int = 12, kelurahan: tuple[str, ...] = (OTHER_KELURAHAN, KELURAHAN)
) -> list[int]:
    """``n`` families differing in floor, power, car, floor area, size and ages (in turn in ``kelurahan``)."""
    ids = []
    for i in range(n):
        people = [
            member_values(
                f"Kepala {letters(i)}",
                "L" if i % 3 else "P",
                date(1950 + 3 * i, 5, 17),
                "kepala_keluarga",
                education=["sd", "sma", "s1"][i % 3],
            )
        ]
        for k in range(i % 4):
            people.append(
                member_values(
                    f"Anak {letters(i)}-{letters(k)}",
                    "L",
                    date(2010 + k, 1, 1 + i),
                    "anak",
                    school_participation="masih_sekolah",
                )
            )
        if i % 5 == 0:
            people.append(
                member_values(f"Nenek {letters(i)}", "P", date(1945, 3, 3), "orang_tua", disability="fisik")
            )
        ids.append(
            make_family(
                db,
                actor,
                kelurahan[i % len(kelurahan)],
                members=people,
                floor_material=FLOORS[i % 6],
                power_va=POWER[i % 6],
                asset_car=(i % 4 == 0),
                floor_area_m2=20 + 7 * i,
            )
        )
    return ids

"""FGT estimates equal R's survey package (values in tests/data/poverty_reference.json, made by poverty_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tepat.domain.poverty import LonelyPsu, SurveyDesign, estimate_fgt
from tepat.domain.poverty_line import per_capita

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "poverty_reference.json").read_text())
TOLERANCE = 1e-9


def assert_matches(estimates, expected):
    assert [e.domain for e in estimates] == [r["domain"] for r in expected]
    for estimate, reference in zip(estimates, expected):
        got = estimate.as_dict()
        for key, value in reference.items():
            if key == "domain":
                continue
            if value is None:
                assert got[key] is None, key
            else:
                assert got[key] == pytest.approx(value, rel=TOLERANCE, abs=TOLERANCE), (estimate.domain, key)


def person_design(lonely, domain=None):
    p = pl.read_csv(DATA / "poverty_person.csv")
    design = SurveyDesign(
        p["bobot"].to_numpy(),
        strata=p["strata"].to_numpy(),
        psu=p["psu"].to_numpy(),
        domain=None if domain is None else p[domain].to_numpy(),
        lonely_psu=lonely,
    )
    return design, p["pengeluaran_kapita"].to_numpy(), p["garis"].to_numpy()


def household_design(lonely, domain=None, stratified=True):
    h = pl.read_csv(DATA / "poverty_household.csv")
    extra = {"strata": h["strata"].to_numpy(), "psu": h["bs"].to_numpy()} if stratified else {}
    design = SurveyDesign(
        h["bobot_ruta"].to_numpy(),
        size=h["art"].to_numpy(),
        domain=None if domain is None else h[domain].to_numpy(),
        lonely_psu=lonely,
        **extra,
    )
    return design, per_capita(h["pengeluaran_ruta"].to_numpy(), h["art"].to_numpy())


@pytest.mark.parametrize("lonely", list(LonelyPsu))
@pytest.mark.parametrize("by", ["kecamatan", "wilayah"])
def test_person_level_file_matches_r(lonely, by):
    overall, y, line = person_design(lonely)
    domains, _, _ = person_design(lonely, by)
    estimates = estimate_fgt(overall, y, line) + estimate_fgt(domains, y, line)
    assert_matches(estimates, REFERENCE[f"person_{lonely.value}"][f"by_{by}"])


@pytest.mark.parametrize("lonely", list(LonelyPsu))
def test_household_file_with_sizes_matches_r(lonely):
    overall, y = household_design(lonely)
    domains, _ = household_design(lonely, "kelurahan")
    estimates = estimate_fgt(overall, y, 842927) + estimate_fgt(domains, y, 842927)
    assert_matches(estimates, REFERENCE[f"household_{lonely.value}"]["by_kelurahan"])


def test_unstratified_file_matches_r():
    design, y = household_design(LonelyPsu.ADJUST, stratified=False)
    assert_matches(estimate_fgt(design, y, 842927), REFERENCE["household_srs_adjust"]["overall"])


def test_the_lonely_psu_choice_changes_the_reference():
    # Guards the fixture itself: each dataset really has a single-PSU stratum that matters.
    for name, group in (("person", "by_kecamatan"), ("household", "by_kelurahan")):
        adjust = REFERENCE[f"{name}_adjust"][group][0]["se_p0"]
        certainty = REFERENCE[f"{name}_certainty"][group][0]["se_p0"]
        assert adjust > certainty


def test_the_design_has_domains_missing_from_some_psus():
    p = pl.read_csv(DATA / "poverty_person.csv")
    psus = p.select(pl.struct("strata", "psu").n_unique()).item()
    for kecamatan in p["kecamatan"].unique():
        assert (
            p.filter(pl.col("kecamatan") == kecamatan).select(pl.struct("strata", "psu").n_unique()).item()
            < psus
        )
    assert np.any(p.group_by("strata").agg(pl.col("psu").n_unique())["psu"].to_numpy() == 1)

"""Rupiah typed as people type it is read the same in every money field (issue 12 point 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tepat.domain.access import Role
from tepat.domain.programmes import rupiah_amount
from tests.test_web_support import add_user, login, make_app


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("Rp 300.000", 300_000),
        ("Rp300.000", 300_000),
        ("RP 300.000", 300_000),
        ("rp. 300.000", 300_000),
        ("300000", 300_000),
        ("1.000.000", 1_000_000),
        ("1,000,000", 1_000_000),
        ("Rp 250.000,-", 250_000),
        ("300.000,00", 300_000),
        ("13000.00", 13_000),
        (" Rp\u00a01.500.000 ", 1_500_000),
    ],
)
def test_typed_rupiah(typed: str, value: int) -> None:
    assert rupiah_amount(typed) == value


@pytest.mark.parametrize("typed", ["12.5", "13000.50", "30.00.000", "tiga ratus ribu", "", "Rp"])
def test_not_whole_rupiah(typed: str) -> None:
    assert rupiah_amount(typed) is None


def test_the_simulation_page_takes_rupiah_as_typed(db, tmp_path: Path) -> None:
    add_user(db, "kadis", Role.ADMIN, "32.75")
    with TestClient(make_app(db, tmp_path)) as client:
        csrf = login(client, "kadis")
        page = client.post(
            "/sasaran/simulasi",
            data={
                "csrf_token": csrf,
                "aturan_1": 'status == "aktif"',
                "aturan_2": "",
                "besaran": "Rp 300.000",
                "satuan": "keluarga",
                "anggaran": "RP 1.000.000.000",
            },
        )
        assert "harus berupa bilangan bulat rupiah" not in page.text
        bad = client.post(
            "/sasaran/simulasi",
            data={
                "csrf_token": csrf,
                "aturan_1": 'status == "aktif"',
                "aturan_2": "",
                "besaran": "Rp 12,5",
                "satuan": "keluarga",
                "anggaran": "",
            },
        )
        assert "harus berupa bilangan bulat rupiah, mis. Rp 300.000" in bad.text

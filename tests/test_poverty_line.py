"""Issue 19 point 1: the poverty line from a food basket, on the command line, on the page and in the estimate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tepat.cli import app
from tepat.domain.access import Role
from tepat.domain.poverty_line import BasketItem, food_line, scale_basket
from tests.conftest import actor
from tests.test_poverty_web import client_for

DATA = Path(__file__).parent / "data"
runner = CliRunner()
BASKET = "komoditas,jumlah,kalori,harga\nBeras,7.2,3600,14000\nTelur ayam ras,1.1,1540,30000\nMinyak goreng,1,8840,18000\n"


@pytest.fixture
def basket(tmp_path: Path) -> Path:
    path = tmp_path / "paket.csv"
    path.write_text(BASKET)
    return path


def _expected_food() -> int:
    """GKM of ``BASKET`` computed by hand: the basket's cost scaled by 2,100 x 30 over its calories."""
    kcal = 7.2 * 3600 + 1.1 * 1540 + 8840  # per capita per month as given
    return round((7.2 * 14000 + 1.1 * 30000 + 18000) * 2100 * 30 / kcal)


def test_the_scaled_basket_gives_the_norm_and_its_parts_sum_to_the_food_line() -> None:
    basket = [BasketItem("Beras", 7.2, 3600, 14000), BasketItem("Telur ayam ras", 1.1, 1540, 30000)]
    scaled = scale_basket(basket)
    assert sum(i.kcal_per_day for i in scaled.items) == pytest.approx(2100)
    assert scaled.rupiah == food_line(basket) == round(sum(i.cost for i in scaled.items))
    assert scaled.items[0].quantity == pytest.approx(7.2 * scaled.scale)


def test_poverty_line_command_text_and_json(basket: Path) -> None:
    food = _expected_food()
    gk = round(food / (1 - 0.26))
    data = json.loads(
        runner.invoke(app, ["poverty", "line", str(basket), "--non-food-share", "0.26", "--json"]).stdout
    )
    assert (data["garis_makanan"], data["garis_kemiskinan"], data["garis_non_makanan"]) == (
        food,
        gk,
        gk - food,
    )
    assert [c["nama"] for c in data["komoditas"]] == ["Beras", "Telur ayam ras", "Minyak goreng"]
    text = runner.invoke(app, ["poverty", "line", str(basket), "--non-food", "250000"]).stdout
    assert (
        f"Garis kemiskinan (GK):               {'Rp' + f'{food + 250_000:,}'.replace(',', '.'):>14}" in text
    )
    refused = runner.invoke(app, ["poverty", "line", str(basket)])
    assert refused.exit_code == 1 and "garis non-makanan (rupiah) atau porsinya" in refused.output


def test_a_bad_basket_cell_is_named_by_its_row(tmp_path: Path) -> None:
    path = tmp_path / "paket.csv"
    path.write_text("komoditas,jumlah,kalori,harga\nBeras,7,3600,14000\nTelur,satu,1540,30000\n")
    result = runner.invoke(app, ["poverty", "line", str(path), "--non-food-share", "0.26"])
    assert result.exit_code == 1 and "baris 3, jumlah: bukan angka" in result.output


def test_estimate_uses_the_line_computed_from_the_basket(basket: Path) -> None:
    gk = round(_expected_food() / (1 - 0.26))
    common = [
        "poverty",
        "estimate",
        str(DATA / "poverty_person.csv"),
        "--consumption",
        "pengeluaran_kapita",
        "--weight",
        "bobot",
        "--json",
    ]
    from_basket = json.loads(
        runner.invoke(app, [*common, "--line-from", str(basket), "--non-food-share", "0.26"]).stdout
    )
    given = json.loads(runner.invoke(app, [*common, "--line", str(gk)]).stdout)
    assert from_basket["estimates"] == given["estimates"]
    assert from_basket["poverty_line"]["garis_kemiskinan"] == gk


def test_the_page_computes_the_line_and_shows_its_parts(db, tmp_path: Path, basket: Path) -> None:
    client = client_for(db, tmp_path, actor(Role.ANALYST, "32.75"))
    assert 'href="/statistik/garis-kemiskinan"' in client.get("/statistik").text
    food = _expected_food()
    page = client.post(
        "/statistik/garis-kemiskinan",
        data={"porsi_non_makanan": "26", "kalori": "2.100"},
        files={"berkas": ("paket.csv", basket.read_bytes(), "text/csv")},
    )
    assert page.status_code == 200 and 'id="hasil-garis-kemiskinan"' in page.text

    def rp(n: int) -> str:
        return "Rp" + f"{n:,}".replace(",", ".")

    assert f'<dd id="gkm">{rp(food)}</dd>' in page.text
    assert f"<strong>{rp(round(food / 0.74))}</strong>" in page.text and "Telur ayam ras" in page.text
    bad = client.post(
        "/statistik/garis-kemiskinan",
        data={"porsi_non_makanan": "dua puluh"},
        files={"berkas": ("paket.csv", basket.read_bytes(), "text/csv")},
    )
    assert bad.status_code == 422 and "Porsi non-makanan harus berupa persen" in bad.text

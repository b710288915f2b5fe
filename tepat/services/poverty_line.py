"""The poverty line from a food basket, BPS's method: the use case behind ``tepat poverty line`` and the
*Garis kemiskinan* page (the arithmetic is ``tepat.domain.poverty_line``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tepat.domain.poverty_line import (
    KCAL_PER_DAY,
    FoodLine,
    PovertyLine,
    poverty_line,
    scale_basket,
)
from tepat.errors import ValidationError
from tepat.files.basket import read_basket


@dataclass(frozen=True)
class PovertyLineReport:
    """GK computed from a food basket: the food line with its commodities, the non-food line and their sum."""

    food: FoodLine
    line: PovertyLine
    non_food_share: float | None  # as given (None when the non-food line was given in rupiah)

    def as_dict(self) -> dict[str, object]:
        return {
            "garis_kemiskinan": self.line.total,
            "garis_makanan": self.line.food,
            "garis_non_makanan": self.line.non_food,
            "porsi_makanan": self.line.food_share,
            "porsi_non_makanan_diberikan": self.non_food_share,
            "norma_kalori": self.food.kcal_per_day,
            "kalori_paket_awal": self.food.kcal_before,
            "faktor_skala": self.food.scale,
            "komoditas": [
                {
                    "nama": i.item.name,
                    "jumlah_awal": i.item.quantity,
                    "jumlah": i.quantity,
                    "kalori_per_hari": i.kcal_per_day,
                    "harga": i.item.price,
                    "biaya": i.cost,
                }
                for i in self.food.items
            ],
        }


def poverty_line_from_basket(
    path: Path,
    *,
    non_food_share: float | None = None,
    non_food: int | None = None,
    kcal_per_day: float = KCAL_PER_DAY,
) -> PovertyLineReport:
    """GK the BPS way from a basket file: the food line scaled to the calorie norm, plus the non-food line given
    in rupiah or as its share of GK."""
    basket = read_basket(path)
    try:
        food = scale_basket(basket, kcal_per_day)
        line = poverty_line(food.rupiah, non_food=non_food, non_food_share=non_food_share)
    except ValueError as exc:  # the domain's messages are written for users
        raise ValidationError(str(exc)) from None
    return PovertyLineReport(food, line, non_food_share)

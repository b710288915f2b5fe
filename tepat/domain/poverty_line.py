"""The poverty line (garis kemiskinan, GK) the BPS way, and per-capita consumption.

GK = GKM + GKNM. The food line GKM is the monthly cost of a basket of
commodities giving 2,100 kcal per capita per day: the basket's quantities (per
capita per month, from the reference population's consumption) are scaled so
that their calories reach exactly 2,100 x 30, then valued at the reference
prices. The non-food line GKNM is either given in rupiah or as its share of GK
(``GK = GKM / (1 - share)``). Lines are whole rupiah per capita per month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

KCAL_PER_DAY = 2100
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class BasketItem:
    """One commodity of the food basket: monthly quantity per capita, calories and price per unit."""

    name: str
    quantity: float
    kcal_per_unit: float
    price: float  # rupiah per unit

    def __post_init__(self) -> None:
        if self.quantity < 0 or self.kcal_per_unit < 0 or self.price < 0:
            raise ValueError(f"Jumlah, kalori dan harga {self.name} tidak boleh negatif.")


@dataclass(frozen=True)
class PovertyLine:
    """GK per capita per month in rupiah, with its food and non-food parts."""

    food: int
    non_food: int

    @property
    def total(self) -> int:
        return self.food + self.non_food

    @property
    def food_share(self) -> float:
        """Share of the food line in GK (BPS reports it, about three quarters)."""
        return self.food / self.total if self.total else 0.0


@dataclass(frozen=True)
class ScaledItem:
    """One commodity after scaling: the monthly quantity that, with the others, gives the calorie norm."""

    item: BasketItem
    quantity: float  # per capita per month, scaled
    kcal_per_day: float  # what it contributes per capita per day
    cost: float  # rupiah per capita per month


@dataclass(frozen=True)
class FoodLine:
    """GKM with its parts: the basket's calories before scaling, the scale and each commodity's share."""

    items: tuple[ScaledItem, ...]
    kcal_before: float  # per capita per day, from the quantities as given
    kcal_per_day: float  # the norm the basket was scaled to
    scale: float

    @property
    def rupiah(self) -> int:
        """GKM, whole rupiah per capita per month."""
        return round(sum(i.cost for i in self.items))


def scale_basket(basket: Sequence[BasketItem], kcal_per_day: float = KCAL_PER_DAY) -> FoodLine:
    """Scale the basket's quantities so that their calories reach ``kcal_per_day`` per capita per day, and value
    each commodity at its price (the BPS food line with its parts)."""
    if kcal_per_day <= 0:
        raise ValueError("Norma kalori harus lebih dari nol.")
    calories = sum(item.quantity * item.kcal_per_unit for item in basket)
    if calories <= 0:
        raise ValueError("Paket komoditas makanan tidak memberi kalori.")
    scale = kcal_per_day * DAYS_PER_MONTH / calories
    items = tuple(
        ScaledItem(
            item,
            item.quantity * scale,
            item.quantity * scale * item.kcal_per_unit / DAYS_PER_MONTH,
            item.quantity * scale * item.price,
        )
        for item in basket
    )
    return FoodLine(items, calories / DAYS_PER_MONTH, kcal_per_day, scale)


def food_line(basket: Sequence[BasketItem], kcal_per_day: float = KCAL_PER_DAY) -> int:
    """GKM: the cost of the basket scaled to ``kcal_per_day`` per capita per day, over a month."""
    return scale_basket(basket, kcal_per_day).rupiah


def poverty_line(
    food: int, *, non_food: int | None = None, non_food_share: float | None = None
) -> PovertyLine:
    """GK from the food line plus a non-food line given in rupiah or as a share of GK."""
    if food <= 0:
        raise ValueError("Garis kemiskinan makanan harus lebih dari nol.")
    if (non_food is None) == (non_food_share is None):
        raise ValueError("Isi salah satu: garis non-makanan (rupiah) atau porsinya.")
    if non_food is not None:
        if non_food < 0:
            raise ValueError("Garis kemiskinan non-makanan tidak boleh negatif.")
        return PovertyLine(food=food, non_food=non_food)
    assert non_food_share is not None
    if not 0 <= non_food_share < 1:
        raise ValueError("Porsi non-makanan harus di antara 0 dan 1.")
    total = round(food / (1.0 - non_food_share))
    return PovertyLine(food=food, non_food=total - food)


def per_capita(household_total: ArrayLike, size: ArrayLike) -> NDArray[np.float64]:
    """Per-capita consumption: each household's total divided by its number of members."""
    total = np.asarray(household_total, dtype=np.float64)
    members = np.asarray(size, dtype=np.float64)
    if total.shape != members.shape:
        raise ValueError("Kolom pengeluaran dan jumlah anggota harus sama panjang.")
    if np.any(~np.isfinite(members)) or np.any(members <= 0):
        raise ValueError("Jumlah anggota rumah tangga harus lebih dari nol.")
    result: NDArray[np.float64] = total / members
    return result

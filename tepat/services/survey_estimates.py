"""FGT poverty indices (P0, P1, P2) from a Susenas-like survey file, with survey-design standard errors: the use
case behind ``tepat poverty estimate`` (the method is ``tepat.domain.poverty``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tepat.domain.poverty import FgtEstimate, LonelyPsu, SurveyDesign, estimate_fgt
from tepat.domain.poverty_line import (
    per_capita,
)
from tepat.errors import ValidationError
from tepat.files.survey import read_survey


@dataclass(frozen=True)
class EstimateRequest:
    """Which columns of a survey file play which role."""

    consumption: str
    weight: str
    line: float | None = None
    line_column: str | None = None
    size: str | None = None
    strata: str | None = None
    psu: str | None = None
    by: str | None = None
    household_total: bool = False  # consumption is the household's total: divide by size
    lonely_psu: LonelyPsu = LonelyPsu.ADJUST


def estimate_file(path: Path, request: EstimateRequest) -> list[FgtEstimate]:
    """FGT estimates for the whole sample and, with ``by``, for each domain, from a CSV/XLSX/Parquet file."""
    if (request.line is None) == (request.line_column is None):
        raise ValidationError(
            "Isi salah satu: --line (rupiah), --line-from (paket komoditas) atau --line-col "
            "(kolom garis kemiskinan)."
        )
    if request.line is not None and request.line <= 0:
        raise ValidationError("Garis kemiskinan harus lebih dari nol.")
    if request.household_total and request.size is None:
        raise ValidationError("Pengeluaran rumah tangga dibagi jumlah anggota: isi juga --size.")
    data = read_survey(
        path,
        consumption=request.consumption,
        weight=request.weight,
        line=request.line_column,
        size=request.size,
        strata=request.strata,
        psu=request.psu,
        domain=request.by,
    )
    try:
        consumption = (
            per_capita(data.consumption, data.size)
            if request.household_total and data.size is not None
            else data.consumption
        )
        line = data.line if data.line is not None else float(request.line or 0)
        common = {"size": data.size, "strata": data.strata, "psu": data.psu, "lonely_psu": request.lonely_psu}
        result = estimate_fgt(SurveyDesign(data.weight, **common), consumption, line)  # type: ignore[arg-type]
        if data.domain is not None:
            result += estimate_fgt(SurveyDesign(data.weight, domain=data.domain, **common), consumption, line)  # type: ignore[arg-type]
    except ValueError as exc:  # the domain's own messages are written for users
        raise ValidationError(str(exc)) from None
    return result

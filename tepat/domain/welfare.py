"""Proxy-means test (PMT): a weighted least-squares model of welfare (docs/targeting.md).

``fit_pmt`` regresses ``ln(per-capita consumption)`` on household indicators by
survey-weighted least squares, as TNP2K/World Bank built Indonesia's PMT:
numeric features enter as they are, categorical features as 0/1 dummies for
every level except a reference level (default: the most frequent level, ties
broken by the level's sort order). The solver is a Householder QR of the
``sqrt(w)``-scaled design matrix, which gives the same coefficients as
statsmodels ``WLS`` without forming ``XᵀWX``.

Data come as columns (``Mapping[str, array-like]``), the shape a survey file or a
database query hands over. Rows with a missing or non-positive target or weight,
or a missing feature, are left out of the fit and counted in ``dropped``. When
predicting, an unseen or missing category counts as the reference level and a
missing number as the weighted training mean; both are counted, never hidden.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tepat.errors import FieldError, ValidationError

FloatArray = npt.NDArray[np.float64]
Columns = Mapping[str, Sequence[Any] | npt.NDArray[Any]]

_MISSING_TEXT = ("", "None", "nan", "NaN", "null")


@dataclass(frozen=True)
class FeatureSpec:
    """One model feature: a number, or a category with its levels and reference level."""

    name: str
    kind: Literal["numeric", "categorical"]
    levels: tuple[str, ...] = ()
    reference: str | None = None
    mean: float = 0.0  # weighted training mean, used for a missing number when predicting

    @property
    def columns(self) -> tuple[str, ...]:
        """The design-matrix column names this feature produces."""
        if self.kind == "numeric":
            return (self.name,)
        return tuple(f"{self.name}={level}" for level in self.levels if level != self.reference)


@dataclass(frozen=True)
class PmtPrediction:
    """Predicted ln(per-capita consumption) per row, with what had to be filled in."""

    log_welfare: FloatArray
    unknown_levels: int  # category cells unseen in training or missing, taken as the reference level
    imputed: int  # numeric cells missing, taken as the training mean

    @property
    def per_capita(self) -> FloatArray:
        """Predicted per-capita consumption (exp of the log prediction)."""
        return np.exp(self.log_welfare)


@dataclass(frozen=True)
class PmtModel:
    """A fitted proxy-means model: coefficients by name and its fit statistics."""

    target: str
    weight: str | None
    features: tuple[FeatureSpec, ...]
    coefficient_names: tuple[str, ...]
    coefficient_values: tuple[float, ...]
    r2: float  # weighted R², as statsmodels WLS reports it
    n: int
    weight_sum: float
    residual_variance: float  # Σ w e² / (n − k), statsmodels' ``scale``
    dropped: int = 0
    group: str | None = None

    @property
    def coefficients(self) -> dict[str, float]:
        """Coefficients by name: ``intercept``, ``floor_area_m2``, ``floor_material=tanah``, …"""
        return dict(zip(self.coefficient_names, self.coefficient_values, strict=True))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for storing a model version."""
        return {
            "target": self.target,
            "weight": self.weight,
            "group": self.group,
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "levels": list(f.levels),
                    "reference": f.reference,
                    "mean": f.mean,
                }
                for f in self.features
            ],
            "coefficients": self.coefficients,
            "r2": self.r2,
            "n": self.n,
            "weight_sum": self.weight_sum,
            "residual_variance": self.residual_variance,
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PmtModel:
        """The model stored by ``as_dict``."""
        features = tuple(
            FeatureSpec(f["name"], f["kind"], tuple(f["levels"]), f["reference"], float(f["mean"]))
            for f in data["features"]
        )
        coefficients: dict[str, float] = dict(data["coefficients"])
        return cls(
            target=data["target"],
            weight=data["weight"],
            features=features,
            coefficient_names=tuple(coefficients),
            coefficient_values=tuple(float(v) for v in coefficients.values()),
            r2=float(data["r2"]),
            n=int(data["n"]),
            weight_sum=float(data["weight_sum"]),
            residual_variance=float(data["residual_variance"]),
            dropped=int(data["dropped"]),
            group=data["group"],
        )

    def predict(self, columns: Columns) -> PmtPrediction:
        """Predicted ln(per-capita consumption) for new rows."""
        n = _row_count(columns, [f.name for f in self.features])
        x, unknown, imputed = _design(columns, self.features, n, fitting=False)
        beta = np.asarray(self.coefficient_values, dtype=np.float64)
        return PmtPrediction(x @ beta, unknown, imputed)

    def contributions(self, row: Mapping[str, object]) -> list[tuple[str, float]]:
        """Each feature's term in one row's log prediction, largest effect first (reference levels add 0)."""
        coef = self.coefficients
        terms: list[tuple[str, float]] = []
        for spec in self.features:
            value = row.get(spec.name)
            if spec.kind == "numeric":
                number = spec.mean if _is_missing(value) else float(value)  # type: ignore[arg-type]
                terms.append((spec.name, coef[spec.name] * number))
            else:
                name = f"{spec.name}={value}"
                terms.append((name if name in coef else f"{spec.name}={spec.reference}", coef.get(name, 0.0)))
        return sorted(terms, key=lambda t: -abs(t[1]))


@dataclass(frozen=True)
class GroupedPmtModel:
    """One PMT model per group (e.g. per kecamatan group), chosen by a group column."""

    group_column: str
    models: tuple[PmtModel, ...]

    # What a stored version shows as a whole: the shared target, weight and features, and the groups' sums.
    @property
    def target(self) -> str:
        return self.models[0].target

    @property
    def weight(self) -> str | None:
        return self.models[0].weight

    @property
    def features(self) -> tuple[FeatureSpec, ...]:
        return self.models[0].features

    @property
    def n(self) -> int:
        return sum(m.n for m in self.models)

    @property
    def dropped(self) -> int:
        return sum(m.dropped for m in self.models)

    @property
    def weight_sum(self) -> float:
        return sum(m.weight_sum for m in self.models)

    @property
    def r2(self) -> float:
        """The groups' R², weighted by their households (each group's model explains its own rows)."""
        return sum(m.r2 * m.n for m in self.models) / self.n if self.n else 0.0

    @property
    def residual_variance(self) -> float:
        return sum(m.residual_variance * m.n for m in self.models) / self.n if self.n else 0.0

    @property
    def coefficients(self) -> dict[str, float]:
        """Every group's coefficients, named ``group: name``."""
        return {f"{m.group}: {name}": value for m in self.models for name, value in m.coefficients.items()}

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form, for storing a model version (``PmtModel`` reads its own)."""
        return {"group_column": self.group_column, "models": [m.as_dict() for m in self.models]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupedPmtModel:
        return cls(str(data["group_column"]), tuple(PmtModel.from_dict(m) for m in data["models"]))

    def contributions(self, row: Mapping[str, object]) -> list[tuple[str, float]]:
        """The row's terms under its own group's model."""
        return self.model_for(_text_of(row.get(self.group_column))).contributions(row)

    def model_for(self, group: str) -> PmtModel:
        """The model fitted for ``group``."""
        for model in self.models:
            if model.group == group:
                return model
        raise ValidationError(f"Tidak ada model PMT untuk kelompok '{group}'.")

    def predict(self, columns: Columns) -> PmtPrediction:
        """Predictions, each row by the model of its group."""
        groups = _as_text(np.asarray(columns[self.group_column]))
        out = np.full(groups.shape[0], np.nan)
        unknown = imputed = 0
        for value in np.unique(groups):
            mask = groups == value
            part = {k: np.asarray(v)[mask] for k, v in columns.items()}
            prediction = self.model_for(str(value)).predict(part)
            out[mask] = prediction.log_welfare
            unknown += prediction.unknown_levels
            imputed += prediction.imputed
        return PmtPrediction(out, unknown, imputed)


AnyPmtModel = PmtModel | GroupedPmtModel
"""A stored PMT version: one model for the whole city, or one per group."""


def model_fingerprint(spec: Mapping[str, Any]) -> str:
    """The SHA-256 of a version's spec as canonical JSON: the same model, stored in any office, has the same one
    (a national ranking checks that every office scored with it)."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def model_from_spec(spec: Mapping[str, Any]) -> AnyPmtModel:
    """The model a version stored (``as_dict`` of either kind)."""
    return GroupedPmtModel.from_dict(spec) if "group_column" in spec else PmtModel.from_dict(spec)


def fit_pmt(
    columns: Columns,
    *,
    target: str,
    features: Sequence[str],
    weight: str | None = None,
    categorical: Collection[str] = (),
    reference: Mapping[str, str] | None = None,
    group: str | None = None,
) -> PmtModel:
    """Fit ln(target) on the features by weighted least squares.

    A feature is categorical when its values are text, when it is named in
    ``categorical``, or when it has a ``reference`` level.
    """
    reference = dict(reference or {})
    names = list(features)
    problems = [FieldError(n, "kolom tidak ada") for n in [target, weight, *names] if n and n not in columns]
    problems += [
        FieldError(n, "fitur disebut dua kali") for n in sorted({n for n in names if names.count(n) > 1})
    ]
    problems += [FieldError(n, "bukan fitur model") for n in reference if n not in names]
    if problems:
        raise ValidationError("Spesifikasi model PMT tidak valid.", problems)
    n_all = _row_count(columns, [target, *names] + ([weight] if weight else []))

    y_raw = _as_float(columns[target], target)
    w_raw = _as_float(columns[weight], weight) if weight else np.ones(n_all)
    keep = np.isfinite(y_raw) & (y_raw > 0) & np.isfinite(w_raw) & (w_raw > 0)
    raw: dict[str, npt.NDArray[Any]] = {}
    factors: dict[str, tuple[npt.NDArray[np.str_], npt.NDArray[np.intp], npt.NDArray[np.bool_]]] = {}
    for name in names:
        values = np.asarray(columns[name])
        if name in categorical or name in reference or not _is_numeric(values):
            levels, codes = _factorize(values)
            is_missing: npt.NDArray[np.bool_] = np.isin(levels, _MISSING_TEXT)
            factors[name] = (levels, codes, is_missing)
            keep &= ~is_missing[codes]
        else:
            raw[name] = _as_float(values, name)
            keep &= np.isfinite(raw[name])
    dropped = int(n_all - keep.sum())
    y = np.log(y_raw[keep])
    w = w_raw[keep]
    n = int(y.shape[0])

    specs: list[FeatureSpec] = []
    kept: dict[str, npt.NDArray[Any]] = {}
    for name in names:
        if name in raw:
            kept[name] = raw[name][keep]
            specs.append(
                FeatureSpec(name, "numeric", mean=float(np.average(kept[name], weights=w)) if n else 0.0)
            )
            continue
        all_levels, all_codes, missing = factors[name]
        codes = all_codes[keep]
        counts = np.bincount(codes, minlength=all_levels.shape[0])
        present = (counts > 0) & ~missing
        level_list = tuple(str(v) for v in all_levels[present])
        chosen = reference.get(name)
        if chosen is None:
            chosen = str(all_levels[int(np.argmax(np.where(present, counts, -1)))]) if level_list else None
        elif chosen not in level_list:
            raise ValidationError(
                f"Level acuan '{chosen}' tidak ada dalam data untuk fitur {name}.",
                [FieldError(name, "level acuan tidak ada dalam data", chosen)],
            )
        spec = FeatureSpec(name, "categorical", level_list, chosen)
        # design column of each level code (-1: the reference level)
        column_of = np.full(all_levels.shape[0], -1, dtype=np.intp)
        others = [i for i in np.flatnonzero(present) if str(all_levels[i]) != chosen]
        column_of[others] = np.arange(len(others))
        kept[name] = column_of[codes]
        specs.append(spec)

    labels = ("intercept", *(c for s in specs for c in s.columns))
    if n <= len(labels):
        raise ValidationError(
            f"Data terlalu sedikit untuk model PMT: {n} baris untuk {len(labels)} koefisien."
        )
    x, _, _ = _design(kept, tuple(specs), n, fitting=True, extra=y)
    beta, ssr = _solve_wls(x, w, labels)
    y_bar = float(np.average(y, weights=w))
    tss = float(np.dot(w, (y - y_bar) ** 2))
    return PmtModel(
        target=target,
        weight=weight,
        features=tuple(specs),
        coefficient_names=labels,
        coefficient_values=tuple(float(b) for b in beta),
        r2=1.0 - ssr / tss if tss > 0 else math.nan,
        n=n,
        weight_sum=float(w.sum()),
        residual_variance=ssr / (n - len(labels)),
        dropped=dropped,
        group=group,
    )


def fit_pmt_by_group(
    columns: Columns,
    *,
    group_column: str,
    target: str,
    features: Sequence[str],
    weight: str | None = None,
    categorical: Collection[str] = (),
    reference: Mapping[str, str] | None = None,
) -> GroupedPmtModel:
    """One PMT model per value of ``group_column`` (each fitted on its own rows only)."""
    if group_column not in columns:
        raise ValidationError(
            "Spesifikasi model PMT tidak valid.", [FieldError(group_column, "kolom tidak ada")]
        )
    groups = _as_text(np.asarray(columns[group_column]))
    models = []
    for value in np.unique(groups):
        if value in _MISSING_TEXT:
            continue
        mask = groups == value
        part = {k: np.asarray(v)[mask] for k, v in columns.items()}
        models.append(
            fit_pmt(
                part,
                target=target,
                features=features,
                weight=weight,
                categorical=categorical,
                reference=reference,
                group=str(value),
            )
        )
    return GroupedPmtModel(group_column, tuple(models))


# ----------------------------------------------------------------- internals


def _solve_wls(x: FloatArray, w: FloatArray, labels: Sequence[str]) -> tuple[FloatArray, float]:
    """Least squares by QR of [√w·X | √w·y]: the last column of R holds Qᵀ√w·y and the residual norm."""
    x *= np.sqrt(w)[:, None]
    r: FloatArray = np.asarray(np.linalg.qr(x, mode="r"))
    k = len(labels)
    diag = np.abs(np.diag(r)[:k])
    tol = diag.max() * max(x.shape) * np.finfo(np.float64).eps
    weak = [labels[int(i)] for i in np.flatnonzero(diag <= tol)]
    if weak:
        raise ValidationError(
            "Fitur model PMT saling kolinear atau tidak bervariasi: " + ", ".join(weak) + ".",
            [FieldError(name, "kolinear atau tidak bervariasi") for name in weak],
        )
    beta = np.asarray(np.linalg.solve(r[:k, :k], r[:k, k]), dtype=np.float64)
    return beta, float(r[k, k] ** 2)


def _design(
    columns: Mapping[str, Any],
    specs: tuple[FeatureSpec, ...],
    n: int,
    *,
    fitting: bool,
    extra: FloatArray | None = None,
) -> tuple[FloatArray, int, int]:
    """The design matrix (intercept first; ``extra`` appended as a last column when given).

    When fitting, a categorical column already holds each row's design column (-1: reference).
    """
    width = 1 + sum(len(s.columns) for s in specs)
    x = np.zeros((n, width + (extra is not None)), dtype=np.float64, order="F")
    x[:, 0] = 1.0
    if extra is not None:
        x[:, width] = extra
    unknown = imputed = 0
    at = 1
    rows = np.arange(n)
    for spec in specs:
        values = np.asarray(columns[spec.name]) if spec.name in columns else np.full(n, None, dtype=object)
        if spec.kind == "numeric":
            col = values if fitting else _as_float(values, spec.name)
            missing = ~np.isfinite(col)
            if missing.any():
                imputed += int(missing.sum())
                col = np.where(missing, spec.mean, col)
            x[:, at] = col
            at += 1
            continue
        others = [lv for lv in spec.levels if lv != spec.reference]
        if fitting:
            index = values
        else:
            levels, codes = _factorize(values)
            position = {level: i for i, level in enumerate(others)}
            column_of = np.array([position.get(str(lv), -1) for lv in levels], dtype=np.intp)
            known = np.isin(levels, spec.levels)
            unknown += int((~known[codes]).sum())
            index = column_of[codes]
        dummy = index >= 0
        x[rows[dummy], at + index[dummy]] = 1.0
        at += len(others)
    return x, unknown, imputed


def _row_count(columns: Mapping[str, Any], names: Sequence[str]) -> int:
    sizes = {len(columns[name]) for name in names if name in columns}
    if len(sizes) > 1:
        raise ValidationError("Kolom data PMT tidak sama panjang.")
    return sizes.pop() if sizes else 0


def _as_float(values: Any, name: str | None) -> FloatArray:
    array = np.asarray(values)
    if array.dtype.kind in "iufb":
        return array.astype(np.float64)
    try:
        return np.array([math.nan if _is_missing(v) else float(v) for v in array], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(
            f"Kolom {name} harus berisi angka.", [FieldError(name or "", "bukan angka")]
        ) from None


def _as_text(values: npt.NDArray[Any]) -> npt.NDArray[np.str_]:
    if values.dtype.kind == "f":
        # integral floats (e.g. a code column read with gaps) must match their text form "2", not "2.0"
        text = np.where(np.isfinite(values), np.char.mod("%.15g", np.nan_to_num(values)), "")
        return np.asarray(text, dtype=np.str_)
    return values.astype(np.str_)


def _factorize(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.intp]]:
    """Sorted distinct values as text (missing → "") and each row's index into them."""
    if values.dtype.kind in "OUS":
        # one dict pass: much faster than sorting 300,000 strings
        table: dict[object, int] = {}
        codes = np.fromiter(
            (table.setdefault(v, len(table)) for v in values.tolist()), dtype=np.intp, count=values.shape[0]
        )
        texts = np.asarray(["" if _is_missing(v) else _text_of(v) for v in table], dtype=np.str_)
    else:
        distinct, inverse = np.unique(values, return_inverse=True)
        codes = inverse.reshape(-1).astype(np.intp)
        texts = _as_text(distinct) if distinct.size else np.asarray([], dtype=np.str_)
    levels, remap = np.unique(texts, return_inverse=True)
    return levels, remap.reshape(-1).astype(np.intp)[codes] if texts.size else codes


def _is_numeric(values: npt.NDArray[Any]) -> bool:
    """Numbers (possibly with gaps), as opposed to codes or text."""
    if values.dtype.kind in "iufb":
        return True
    if values.dtype.kind != "O":
        return False
    items = values.tolist()
    return not any(isinstance(v, str) for v in items) and any(not _is_missing(v) for v in items)


def _text_of(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:.15g}"
    return str(value)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""

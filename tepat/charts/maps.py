"""Choropleth maps written straight from the shipped GeoJSON boundaries.

Each area is one ``<path>`` whose ``id`` is ``wilayah-<kode>`` and which carries
``data-kode``, ``data-nama`` and ``data-nilai``; areas fall into at most five
classes of equal count (quantiles), and an area without a value (no data, or a
suppressed small cell) is grey with its own legend entry.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from html import escape
from typing import Any

from tepat.charts.svg import MUTED, NO_DATA, SCALE, document, footer, header, number, text
from tepat.files.reference import BOUNDARIES_DIR


def boundary_file(area_name: str, parts: str) -> str | None:
    """The shipped boundary file of ``area_name``'s ``parts`` (``kab_kota`` of a province, ``kecamatan`` or
    ``kelurahan`` of a kabupaten/kota), named ``<area>_<parts>.geojson`` ("Kota Depok", "kelurahan" →
    ``kota_depok_kelurahan.geojson``); ``None`` when tepat ships none for it."""
    slug = re.sub(r"[^a-z0-9]+", "_", area_name.lower().removeprefix("provinsi ")).strip("_")
    name = f"{slug}_{parts}.geojson"
    return name if (BOUNDARIES_DIR / name).is_file() else None


def no_map(title: str, area_name: str) -> str:
    """What a map says when tepat has no boundaries for the area (a new office adds them: tepat/data/README.md)."""
    width, height = 820, 120
    body = [
        *header(width, title, "Peta belum tersedia"),
        text(
            16, 80, f"Batas wilayah {area_name} belum ada di tepat/data/batas_wilayah.", size=12, fill=MUTED
        ),
    ]
    return document(width, height, body, title=title, description=f"Peta {area_name} belum tersedia")


@lru_cache(maxsize=4)
def _boundaries(name: str) -> str:
    return (BOUNDARIES_DIR / name).read_text(encoding="utf-8")


def boundaries(name: str) -> dict[str, Any]:
    """One shipped boundary file as a GeoJSON dict (``kode``, ``nama`` in each feature's properties)."""
    data: dict[str, Any] = json.loads(_boundaries(name))
    return data


def _rings(geometry: Mapping[str, Any]) -> Iterator[list[list[float]]]:
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    elif geometry["type"] == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon


def class_breaks(values: Sequence[float], classes: int = len(SCALE)) -> list[float]:
    """Upper bounds of up to ``classes`` equal-count classes (the last is the maximum)."""
    ordered = sorted(values)
    if not ordered:
        return []
    count = min(classes, len(set(ordered)))
    breaks = [
        ordered[min(len(ordered) - 1, math.ceil(len(ordered) * k / count) - 1)] for k in range(1, count + 1)
    ]
    return sorted(set(breaks))


def _class_of(value: float, breaks: Sequence[float]) -> int:
    return next((i for i, upper in enumerate(breaks) if value <= upper), len(breaks) - 1)


def choropleth(
    geojson: Mapping[str, Any],
    values: Mapping[str, float | None],
    *,
    title: str,
    unit: str,
    source: str,
    legend_title: str,
    digits: int = 2,
    missing_label: str = "Tidak ada data",
    highlight: str | None = None,
) -> str:
    """An SVG map with each feature coloured by its value's class, a legend, title, units and source."""
    features = geojson["features"]
    width, height, map_w, map_h, top = 820, 600, 560, 480, 64
    points = [pt for f in features for ring in _rings(f["geometry"]) for pt in ring]
    min_x, max_x = min(p[0] for p in points), max(p[0] for p in points)
    min_y, max_y = min(p[1] for p in points), max(p[1] for p in points)
    shrink = math.cos(math.radians((min_y + max_y) / 2))  # equirectangular at the map's middle latitude
    scale = min(map_w / ((max_x - min_x) * shrink), map_h / (max_y - min_y))
    off_x = 16 + (map_w - (max_x - min_x) * shrink * scale) / 2

    def project(p: Sequence[float]) -> str:
        return f"{off_x + (p[0] - min_x) * shrink * scale:.1f},{top + (max_y - p[1]) * scale:.1f}"

    known = [v for v in values.values() if v is not None]
    breaks = class_breaks(known)
    body = header(width, title, f"Satuan: {unit}")
    outlines: list[str] = []
    for feature in features:
        code, name = str(feature["properties"]["kode"]), str(feature["properties"]["nama"])
        value = values.get(code)
        fill = NO_DATA if value is None else SCALE[_class_of(value, breaks)]
        d = " ".join("M" + " L".join(project(p) for p in ring) + " Z" for ring in _rings(feature["geometry"]))
        shown = missing_label if value is None else f"{number(value, digits)} ({unit})"
        data_value = "" if value is None else repr(float(value))
        stroke, stroke_width = ("#111111", 2.2) if code == highlight else ("#ffffff", 0.8)
        element = (
            f'<path id="wilayah-{escape(code)}" class="wilayah" data-kode="{escape(code)}" data-nama="{escape(name)}" '
            f'data-nilai="{data_value}" d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}">'
            f"<title>{escape(name)}: {escape(shown)}</title></path>"
        )
        (outlines if code == highlight else body).append(element)
    body += outlines  # the highlighted outline drawn last, over its neighbours
    legend_x, y = 600, 90
    body.append(text(legend_x, y, legend_title, size=12, weight="bold", css="legenda"))
    lower = min(known) if known else 0.0
    for i, upper in enumerate(breaks):
        y += 24
        label = f"{number(lower, digits)} – {number(upper, digits)}"
        body += [
            f'<rect x="{legend_x}" y="{y - 12}" width="18" height="14" fill="{SCALE[i]}" stroke="#999999" stroke-width="0.5"/>',
            text(legend_x + 26, y, label, size=11),
        ]
        lower = upper
    if len(known) < len(features):
        y += 24
        body += [
            f'<rect x="{legend_x}" y="{y - 12}" width="18" height="14" fill="{NO_DATA}" stroke="#999999" stroke-width="0.5"/>',
            text(legend_x + 26, y, missing_label, size=11),
        ]
    if highlight:
        y += 24
        body += [
            f'<rect x="{legend_x}" y="{y - 12}" width="18" height="14" fill="none" stroke="#111111" stroke-width="2.2"/>',
            text(legend_x + 26, y, _feature_name(features, highlight), size=11),
        ]
    body.append(text(legend_x, y + 30, "Kelas: jumlah wilayah sama banyak", size=10, fill=MUTED))
    body += footer(height, source)
    return document(width, height, body, title=title)


def _feature_name(features: Sequence[Mapping[str, Any]], code: str) -> str:
    return next((str(f["properties"]["nama"]) for f in features if f["properties"]["kode"] == code), code)

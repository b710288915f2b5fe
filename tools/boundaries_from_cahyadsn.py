"""Convert boundary rows of cahyadsn/wilayah_boundaries (MIT, Cahya DSN) into the GeoJSON tepat ships.

The repository keeps each area as an SQL row ``(kode, nama, lat, lng, path)`` whose ``path`` is a JSON list of
rings of ``[lat, lng]`` points. tepat's files are GeoJSON FeatureCollections in ``[lng, lat]`` order, with
``kode``, ``nama`` and ``centroid`` properties, coordinates rounded to 6 decimals.

    python tools/boundaries_from_cahyadsn.py SQL_FILE PREFIX OUT.geojson
    # e.g. db/kel/32/wilayah_boundaries_kel_32.76.sql 32.76. tepat/data/batas_wilayah/kota_depok_kelurahan.geojson

Only areas whose code starts with PREFIX are kept. Run by hand when a new office's boundaries are added; the
output is reference data (see tepat/data/README.md), not generated at run time.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROW = re.compile(
    r"\('(?P<kode>[\d.]+)','(?P<nama>(?:[^']|'')*)',(?P<lat>-?[\d.]+),(?P<lng>-?[\d.]+),'(?P<path>\[.*?\])'\)"
)


def _ring(points: list[list[float]]) -> list[list[float]]:
    return [[round(lng, 6), round(lat, 6)] for lat, lng in points]


def convert(sql: str, prefix: str) -> dict[str, object]:
    features = []
    for m in ROW.finditer(sql):
        if not m["kode"].startswith(prefix):
            continue
        rings = json.loads(m["path"])
        if rings and isinstance(rings[0][0][0], list):  # several polygons
            geometry = {"type": "MultiPolygon", "coordinates": [[_ring(r) for r in poly] for poly in rings]}
        else:
            geometry = {"type": "Polygon", "coordinates": [_ring(r) for r in rings]}
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "kode": m["kode"],
                    "nama": m["nama"].replace("''", "'"),
                    "centroid": [round(float(m["lng"]), 6), round(float(m["lat"]), 6)],
                },
                "geometry": geometry,
            }
        )
    features.sort(key=lambda f: f["properties"]["kode"])  # type: ignore[index]
    return {"type": "FeatureCollection", "features": features}


def main() -> None:
    sql_file, prefix, out = sys.argv[1:4]
    collection = convert(Path(sql_file).read_text(encoding="utf-8"), prefix)
    Path(out).write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
    print(f"{out}: {len(collection['features'])} wilayah")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

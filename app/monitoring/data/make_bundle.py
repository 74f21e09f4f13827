"""Rebuild the bundled boundaries from the BKG VG5000 extracts (see SOURCES.md):

    python -m app.monitoring.data.make_bundle /path/to/shared/data/geo

Keeps only ``AGS``, ``GEN`` (and ``KRS_AGS`` for Gemeinden) and rounds the WGS84 coordinates to
4 decimals (about 10 m; the source scale 1:5,000,000 is far coarser), dropping repeated points.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FILES = {
    "sachsen_kreise_vg5000_2023-12-31.geojson": "kreise_2023-12-31.geojson",
    "sachsen_gemeinden_vg5000_2021-01-01.geojson": "gemeinden_2021-01-01.geojson",
    "sachsen_gemeinden_vg5000_2023-12-31.geojson": "gemeinden_2023-12-31.geojson",
}


def _ring(ring: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for lon, lat in ring:
        point = [round(lon, 4), round(lat, 4)]
        if not out or out[-1] != point:
            out.append(point)
    return out


def _feature(feature: dict[str, Any]) -> dict[str, Any]:
    geometry = feature["geometry"]
    polygons = (
        [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    )
    props = {
        k: feature["properties"][k] for k in ("AGS", "GEN", "KRS_AGS") if k in feature["properties"]
    }
    return {
        "type": "Feature",
        "id": feature["id"],
        "properties": props,
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[_ring(r) for r in polygon] for polygon in polygons],
        },
    }


def main(source: Path) -> None:
    for name, target in FILES.items():
        data = json.loads((source / name).read_text(encoding="utf-8"))
        out = {"type": "FeatureCollection", "features": [_feature(f) for f in data["features"]]}
        (HERE / target).write_text(
            json.dumps(out, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))

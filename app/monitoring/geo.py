"""Map of Saxony as server-side SVG (issue 15): BKG VG5000 boundaries bundled in ``data/``,
projected once per process (equirectangular, x scaled by cos of the mean latitude), rounded to
whole SVG units with repeated points dropped, so the map stays small and needs no JavaScript."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
ATTRIBUTION = "© GeoBasis-DE / BKG (2024), dl-de/by-2-0 (Daten verändert)"
ATTRIBUTION_URL = "https://www.bkg.bund.de"
#: The Gemeinden file valid from which day (R35: the territory valid at the chosen date).
GEMEINDEN_FILES = (
    (date(2023, 1, 1), "gemeinden_2023-12-31.geojson"),
    (date(1990, 1, 1), "gemeinden_2021-01-01.geojson"),
)
KREISE_FILE = "kreise_2023-12-31.geojson"
WIDTH = 800  # SVG user units; height follows from the aspect ratio
PAD = 4
# Bounding box of Saxony in the bundled data (lon, lat; SOURCES.md of the extracts).
LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = 11.87, 15.05, 50.17, 51.69
COS = math.cos(math.radians((LAT_MIN + LAT_MAX) / 2))
SCALE = (WIDTH - 2 * PAD) / ((LON_MAX - LON_MIN) * COS)
HEIGHT = round((LAT_MAX - LAT_MIN) * SCALE) + 2 * PAD


@dataclass(frozen=True)
class Shape:
    """One region: AGS, name, Kreis key and its SVG path (``d``)."""

    ags: str
    name: str
    kreis_key: str
    d: str


def project(lon: float, lat: float) -> tuple[int, int]:
    """WGS84 → SVG user units (north up)."""
    return (
        round(PAD + (lon - LON_MIN) * COS * SCALE),
        round(PAD + (LAT_MAX - lat) * SCALE),
    )


def _path(polygons: list[list[list[list[float]]]]) -> str:
    parts = []
    for polygon in polygons:
        for ring in polygon:
            points: list[tuple[int, int]] = []
            for lon, lat in ring:
                point = project(lon, lat)
                if not points or points[-1] != point:
                    points.append(point)
            if len(points) < 3:
                continue  # a ring smaller than one unit vanishes at this scale
            head, *rest = points
            parts.append(f"M{head[0]} {head[1]}" + "".join(f"L{x} {y}" for x, y in rest) + "Z")
    return "".join(parts)


@lru_cache(maxsize=4)
def shapes(filename: str) -> tuple[Shape, ...]:
    """Projected shapes of one bundled file, cached per process."""
    data = json.loads((DATA / filename).read_text(encoding="utf-8"))
    return tuple(
        Shape(
            ags=f["id"],
            name=f["properties"]["GEN"],
            kreis_key=f["properties"].get("KRS_AGS", f["id"][:5]),
            d=_path(f["geometry"]["coordinates"]),
        )
        for f in data["features"]
    )


def gemeinden_on(day: date) -> tuple[Shape, ...]:
    """The Gemeinden as the territory stood on ``day`` (R35)."""
    for valid_from, filename in GEMEINDEN_FILES:
        if day >= valid_from:
            return shapes(filename)
    return shapes(GEMEINDEN_FILES[-1][1])


def kreise() -> tuple[Shape, ...]:
    return shapes(KREISE_FILE)

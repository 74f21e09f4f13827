"""The map of Saxony for a reporting date: bundled shapes joined on the AGS with the programme
status of each Gemeinde (issue 15). Colour never carries meaning alone: every status also has
its own hatch pattern, a legend and a table fallback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.monitoring import geo
from app.monitoring.queries import OrgStatus, ProgrammeFigures, RegionRow, merge_status

LEVELS = ("funded", "kpr", "consulted", "none")


@dataclass(frozen=True)
class Region:
    ags: str
    name: str
    d: str
    level: str
    status: OrgStatus | None


@dataclass(frozen=True)
class KreisOutline:
    key: str
    name: str
    d: str
    figures: RegionRow | None


@dataclass(frozen=True)
class MapView:
    gemeinden: list[Region]
    kreise: list[KreisOutline]
    counts: dict[str, int]
    width: int = geo.WIDTH
    height: int = geo.HEIGHT
    attribution: str = geo.ATTRIBUTION
    attribution_url: str = geo.ATTRIBUTION_URL


def build_map(
    figures: ProgrammeFigures, day: date, successors: dict[str, list[str]] | None = None
) -> MapView:
    """Regions valid on ``day``; ``successors`` maps a successor AGS to its predecessors' AGS
    (R35), whose status carries over to the merged Gemeinde."""
    status = figures.status_by_ags
    successors = successors or {}
    regions = []
    counts = dict.fromkeys(LEVELS, 0)
    for shape in geo.gemeinden_on(day):
        own = status.get(shape.ags)
        for old in successors.get(shape.ags, ()):
            theirs = status.get(old)
            if theirs is not None:
                own = merge_status(own, theirs) if own else theirs
        level = own.level if own else "none"
        counts[level] += 1
        regions.append(Region(shape.ags, shape.name, shape.d, level, own))
    rows = {row.key: row for row in figures.by_kreis}
    outlines = [KreisOutline(s.ags, s.name, s.d, rows.get(s.ags)) for s in geo.kreise()]
    return MapView(regions, outlines, counts)

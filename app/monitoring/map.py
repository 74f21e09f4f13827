"""The map of Saxony for a reporting date: bundled shapes joined on the AGS with the programme
status of each Gemeinde (issue 15). Colour never carries meaning alone: every status also has
its own hatch pattern, a legend and a table fallback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.monitoring import geo
from app.monitoring.queries import OrgStatus, ProgrammeFigures, RegionRow

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
            own = _merge(own, status.get(old))
        level = own.level if own else "none"
        counts[level] += 1
        regions.append(Region(shape.ags, shape.name, shape.d, level, own))
    rows = {row.key: row for row in figures.by_kreis}
    outlines = [KreisOutline(s.ags, s.name, s.d, rows.get(s.ags)) for s in geo.kreise()]
    return MapView(regions, outlines, counts)


def _merge(a: OrgStatus | None, b: OrgStatus | None) -> OrgStatus | None:
    if a is None or b is None:
        return a or b
    return OrgStatus(
        consulted_on=min((d for d in (a.consulted_on, b.consulted_on) if d), default=None),
        kpr_on=min((d for d in (a.kpr_on, b.kpr_on) if d), default=None),
        funded=a.funded or b.funded,
    )

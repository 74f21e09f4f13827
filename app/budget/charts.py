"""Server-side geometry for the SVG bar charts of the budget page (no JavaScript, no CSS
``style`` attributes: widths and positions become SVG presentation attributes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.budget.services import RegionTotal

LABEL_WIDTH = 270  # room for "Sächsische Schweiz-Osterzgebirge" at font size 14
BAR_AREA = 330
VALUE_WIDTH = 140
ROW_HEIGHT = 26
BAR_HEIGHT = 18


@dataclass(frozen=True)
class Bar:
    """One bar: label, amount and its geometry in SVG user units."""

    label: str
    cents: int
    y: int
    width: int

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 4

    @property
    def value_x(self) -> int:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart scaled to its largest value."""

    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(totals: Sequence[RegionTotal]) -> BarChart:
    """Bars for ``totals`` (already ordered); integer arithmetic, the largest bar is full width."""
    largest = max((max(t.committed_cents, 0) for t in totals), default=0)
    bars = []
    for index, total in enumerate(totals):
        cents = max(total.committed_cents, 0)
        width = cents * BAR_AREA // largest if largest else 0
        if cents and not width:
            width = 1  # a tiny amount stays visible
        bars.append(Bar(total.name, total.committed_cents, index * ROW_HEIGHT + 4, width))
    return BarChart(
        bars=bars,
        width=LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        height=max(len(bars), 1) * ROW_HEIGHT + 8,
    )

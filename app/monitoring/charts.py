"""Server-side geometry of the monitoring charts (no JavaScript; SVG presentation attributes
only). The cumulative chart is a column chart: one column per month, height = running total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.budget.charts import BarChart, bar_chart
from app.budget.services import RegionTotal
from app.monitoring.queries import MonthPoint, RegionRow

WIDTH = 720
HEIGHT = 240
LEFT = 44  # room for the axis labels
BOTTOM = 24
TOP = 10


@dataclass(frozen=True)
class Column:
    label: str  # "01.2021"
    total: int
    added: int
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Tick:
    value: int
    y: int


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    ticks: list[Tick]
    year_marks: list[tuple[int, str]]  # x and year label below the axis
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base_y: int = HEIGHT - BOTTOM


def _nice_step(largest: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if largest // step <= 5:
            return step
    return 1000


def cumulative_chart(points: Sequence[MonthPoint]) -> ColumnChart:
    """Columns for ``points``; integer arithmetic, the highest total fills the plot height."""
    plot_h = HEIGHT - BOTTOM - TOP
    plot_w = WIDTH - LEFT - 8
    largest = max((p.total for p in points), default=0)
    step = _nice_step(largest)
    top = max(step, -(-largest // step) * step)
    n = max(len(points), 1)
    slot = max(plot_w // n, 1)
    columns, marks = [], []
    for index, point in enumerate(points):
        height = point.total * plot_h // top
        x = LEFT + index * plot_w // n
        columns.append(
            Column(
                point.month.strftime("%m.%Y"),
                point.total,
                point.added,
                x,
                HEIGHT - BOTTOM - height,
                max(slot - 1, 1),
                height,
            )
        )
        if point.month.month == 1 or index == 0:
            marks.append((x, str(point.month.year)))
    ticks = [Tick(v, HEIGHT - BOTTOM - v * plot_h // top) for v in range(0, top + 1, step)]
    return ColumnChart(columns, ticks, marks)


def money_chart(rows: Sequence[RegionRow]) -> BarChart:
    """The budget page's bar chart of approved money per region (largest first)."""
    ordered = sorted(rows, key=lambda r: (-r.approved_cents, r.name))
    return bar_chart([RegionTotal(r.name, r.approved_cents) for r in ordered if r.approved_cents])

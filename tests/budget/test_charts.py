"""Bar geometry for the SVG charts: integer widths, largest bar full width, tiny bars visible."""

from __future__ import annotations

from app.budget.charts import BAR_AREA, ROW_HEIGHT, bar_chart
from app.budget.services import RegionTotal


def test_bar_chart_scales_to_the_largest_total():
    chart = bar_chart(
        [RegionTotal("Görlitz", 400_00), RegionTotal("Dresden", 100_00), RegionTotal("Zwickau", 1)]
    )
    assert [bar.width for bar in chart.bars] == [BAR_AREA, BAR_AREA // 4, 1]
    assert [bar.y for bar in chart.bars] == [4, 4 + ROW_HEIGHT, 4 + 2 * ROW_HEIGHT]
    assert chart.height == 3 * ROW_HEIGHT + 8
    assert all(isinstance(bar.width, int) for bar in chart.bars)


def test_bar_chart_without_data_is_empty():
    chart = bar_chart([])
    assert chart.bars == [] and chart.height == ROW_HEIGHT + 8

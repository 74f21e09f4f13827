"""Map of Saxony (issue 15): bundled boundaries, AGS join, territory by date (R35), a11y."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db
from app.monitoring import geo
from app.monitoring.map import build_map
from app.monitoring.queries import Filters, OrgStatus, programme_figures
from app.orgs.reference import apply_mergers
from tests.monitoring import helpers as m

JAHNATAL, OSTRAU, ZSCHAITZ = "14522275", "14522450", "14522620"


def test_R35_map_uses_the_territory_valid_on_the_day():
    before = {s.ags for s in geo.gemeinden_on(date(2022, 12, 31))}
    after = {s.ags for s in geo.gemeinden_on(date(2023, 1, 1))}
    assert len(before) == 419 and len(after) == 418
    assert {OSTRAU, ZSCHAITZ} <= before and JAHNATAL not in before
    assert JAHNATAL in after and OSTRAU not in after
    assert len(geo.kreise()) == 13


def test_projection_keeps_saxony_inside_the_view():
    xs, ys = zip(
        *(geo.project(lon, lat) for lon, lat in [(11.874, 50.172), (15.042, 51.684)]), strict=True
    )
    assert all(0 <= x <= geo.WIDTH for x in xs) and all(0 <= y <= geo.HEIGHT for y in ys)
    assert geo.shapes("kreise_2023-12-31.geojson") is geo.kreise()  # cached per process


def test_R35_successor_inherits_the_status_of_its_predecessors(app):
    with app.app_context():
        figures = programme_figures(Filters())
    figures.status_by_ags[OSTRAU] = OrgStatus(consulted_on=date(2020, 5, 4))
    view = build_map(figures, date(2024, 1, 1), successors={JAHNATAL: [OSTRAU, ZSCHAITZ]})
    jahnatal = next(r for r in view.gemeinden if r.ags == JAHNATAL)
    assert jahnatal.level == "consulted"


def test_dashboard_map_joins_status_on_the_ags(reviewer_client, app):
    with app.app_context():
        m.consult(m.ZITTAU, date(2020, 3, 1))
        m.kpr(m.PIRNA, date(2020, 3, 1))
        db.session.commit()
    html = reviewer_client.get("/programm").get_data(as_text=True)
    zittau = re.search(r'<path class="region"[^>]*aria-label="Zittau[^"]*"', html)
    assert zittau and 'fill="url(#p-consulted)"' in zittau.group(0)
    pirna = re.search(r'<path class="region"[^>]*aria-label="Pirna[^"]*"', html)
    assert pirna and 'fill="url(#p-kpr)"' in pirna.group(0)
    assert html.count('class="region"') == 418
    assert geo.ATTRIBUTION in html
    assert len(html) < 400_000


def test_sources_page_names_the_map_attribution(client):
    assert geo.ATTRIBUTION in client.get("/datenquellen").get_data(as_text=True)


def test_R35_counts_use_the_territory_valid_on_the_reporting_day(app_ctx):
    m.consult(OSTRAU, date(2020, 5, 4))
    m.consult(ZSCHAITZ, date(2021, 6, 1))
    apply_mergers()
    m.consult(JAHNATAL, date(2023, 3, 1))
    before = programme_figures(Filters(as_of=date(2022, 12, 31)))
    assert before.consulted_total == 2
    assert {OSTRAU, ZSCHAITZ} <= set(before.status_by_ags)
    after = programme_figures(Filters(as_of=date(2023, 6, 30)))
    assert after.consulted_total == 1  # one Gemeinde now, consulted since 04.05.2020
    assert after.status_by_ags[JAHNATAL].consulted_on == date(2020, 5, 4)
    view = build_map(after, date(2023, 6, 30))
    jahnatal = next(r for r in view.gemeinden if r.ags == JAHNATAL)
    assert jahnatal.level == "consulted" and len(view.gemeinden) == 418


def test_funded_status_respects_the_reporting_day(app_ctx):
    m.approved(m.ZITTAU)  # approved today
    assert programme_figures(Filters()).status_by_ags[m.ZITTAU].level == "funded"
    past = programme_figures(Filters(as_of=date(2021, 1, 20)))
    assert m.ZITTAU not in past.status_by_ags or past.status_by_ags[m.ZITTAU].level != "funded"

"""The demo tells the programme's story (issue 15): the 100th consultation is Seifhennersdorf
(Landkreis Görlitz) on 18.01.2021, with 19 KPRs founded by the press release of 20.01.2021."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.demo import create_demo_data
from app.extensions import db
from app.monitoring.models import MilestoneEvent, MilestoneKind
from app.monitoring.queries import Filters, programme_figures


def test_demo_shows_the_100th_consultation_in_january_2021(app_ctx):
    create_demo_data(date(2026, 12, 4))
    hundredth = db.session.execute(
        select(MilestoneEvent).where(
            MilestoneEvent.kind == MilestoneKind.CONSULTED, MilestoneEvent.threshold == 100
        )
    ).scalar_one()
    assert hundredth.organisation.name.startswith("Seifhennersdorf")
    assert hundredth.reached_on == date(2021, 1, 18)
    press = programme_figures(Filters(as_of=date(2021, 1, 20)))
    assert press.consulted_total == 100 and press.resolutions == 19
    assert programme_figures(Filters()).consulted_total > 150

"""R35: municipality mergers — the real Jahnatal case (Ostrau 14522450 + Zschaitz-Ottewig
14522620 → Jahnatal 14522275 on 01.01.2023)."""

from __future__ import annotations

from datetime import date

from app.orgs import queries
from app.orgs.reference import MERGERS, apply_mergers
from tests import factories

OSTRAU, ZSCHAITZ, JAHNATAL = "14522450", "14522620", "14522275"


def test_R35_jahnatal_merger_is_applied_idempotently(app_ctx):
    user = factories.create_user("applicant", ags=OSTRAU)
    first = apply_mergers()
    assert (first.created, first.closed, first.users_moved) == (1, 2, 1)
    again = apply_mergers()
    assert (again.created, again.closed, again.users_moved, again.unchanged) == (0, 0, 0, 2)
    jahnatal = queries.by_key(JAHNATAL, date(2023, 1, 1))
    assert jahnatal is not None and jahnatal.name == "Jahnatal"
    assert jahnatal.population == 3427 + 1288 and jahnatal.kreis_name == "Mittelsachsen"
    assert jahnatal.polizeidirektion == "Chemnitz"
    # the old organisations stay readable under their names, valid until 31.12.2022
    ostrau = queries.by_key(OSTRAU, date(2022, 12, 31))
    assert ostrau is not None and ostrau.name == "Ostrau" and ostrau.successor_id == jahnatal.id
    assert queries.by_key(OSTRAU, date(2023, 1, 1)) is None
    assert queries.by_key(JAHNATAL, date(2022, 12, 31)) is None
    # the successor is the applicant from the merger date
    assert user.organisation_id == jahnatal.id
    assert len(MERGERS) == 1


def test_R35_merger_command(app, runner):
    result = runner.invoke(args=["reference", "merge-municipalities"])
    assert result.exit_code == 0, result.output
    assert "14522450 + 14522620 → 14522275 Jahnatal" in result.output
    result = runner.invoke(args=["reference", "merge-municipalities"])
    assert "Nachfolger neu: 0, Vorgänger beendet: 0" in result.output

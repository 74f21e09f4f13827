"""Reference data: 419 Gemeinden + 10 Landkreise, idempotent import, Kreis/PD mapping (R35)."""

from __future__ import annotations

from collections import Counter

from app.extensions import db
from app.orgs.models import Organisation, OrgKind
from app.orgs.reference import import_reference_data


def _all():
    return db.session.execute(db.select(Organisation)).scalars().all()


def test_import_counts_and_spot_checks(app_ctx):
    orgs = _all()
    kinds = Counter(o.kind for o in orgs)
    assert kinds[OrgKind.GEMEINDE] == 419 and kinds[OrgKind.LANDKREIS] == 10
    assert sum(o.population or 0 for o in orgs) == 4_038_131
    by_ags = {o.ags: o for o in orgs}
    assert by_ags["14626530"].name == "Seifhennersdorf, Stadt"
    assert by_ags["14625525"].name == "Schirgiswalde-Kirschau, Stadt"
    assert by_ags["14511000"].kreisfrei and by_ags["14511000"].polizeidirektion == "Chemnitz"
    assert by_ags["14626"].kind is OrgKind.LANDKREIS
    assert by_ags["14626"].display_name == "Landkreis Görlitz"


def test_polizeidirektion_counts_match_saechspolorgvo(app_ctx):
    counts = Counter(o.polizeidirektion for o in _all() if o.kind is OrgKind.GEMEINDE)
    assert counts == {"Chemnitz": 113, "Dresden": 65, "Görlitz": 110, "Leipzig": 61, "Zwickau": 70}


def test_import_twice_changes_nothing(app_ctx):
    result = import_reference_data()
    assert result.gemeinden_created == 0 and result.landkreise_created == 0
    assert result.updated == 0 and result.unchanged == 429


def test_import_repairs_a_changed_attribute(app_ctx):
    org = db.session.execute(db.select(Organisation).filter_by(ags="14626610")).scalar_one()
    org.population = 1
    result = import_reference_data()
    assert result.updated == 1 and org.population == 25585


def test_cli_reference_import_prints_counts(runner):
    result = runner.invoke(args=["reference", "import"])
    assert result.exit_code == 0, result.output
    assert "Gemeinden neu: 0" in result.output and "unverändert: 429" in result.output
    assert "dl-de/by-2-0" in result.output

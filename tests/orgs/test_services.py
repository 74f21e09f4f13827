"""Organisation data maintained by the applicants: the postal address for letters."""

from __future__ import annotations

import pytest

from app.common.errors import DomainError, NotPermitted
from app.extensions import db
from app.orgs import queries as org_queries
from app.orgs.services import set_address
from tests import factories


def test_letter_name_puts_the_legal_form_first(app_ctx):
    assert org_queries.by_key("14523320").letter_name == "Stadt Plauen"
    assert org_queries.by_key("14626").letter_name == "Landkreis Görlitz"
    assert org_queries.by_key("14522060").letter_name == "Stadt Burgstädt"
    assert org_queries.by_key("14521010").letter_name == "Amtsberg"


def test_manager_sets_the_postal_address(app_ctx):
    manager = factories.create_user("applicant", ags="14523320", manager=True)
    set_address(manager, manager.organisation, "  Unterer Graben 1 \r\n\r\n08523 Plauen ")
    assert manager.organisation.address_lines == ["Unterer Graben 1", "08523 Plauen"]


def test_address_needs_a_manager_and_a_sane_length(app_ctx):
    clerk = factories.create_user("applicant", ags="14523320")
    with pytest.raises(NotPermitted):
        set_address(clerk, clerk.organisation, "Unterer Graben 1\n08523 Plauen")
    manager = factories.create_user("applicant", ags="14523320", manager=True)
    with pytest.raises(DomainError, match="höchstens 5 Zeilen"):
        set_address(manager, manager.organisation, "\n".join("Zeile" for _ in range(6)))
    with pytest.raises(DomainError, match="Postanschrift"):
        set_address(manager, manager.organisation, " \n ")
    db.session.flush()

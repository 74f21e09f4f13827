"""Organisation data the applicants maintain themselves."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.errors import DomainError, NotPermitted
from app.orgs.models import Organisation

#: Lines and characters of a postal address (DIN 5008 allows up to six lines in the window).
ADDRESS_MAX_LINES = 5
ADDRESS_MAX_LENGTH = 300


def set_address(user: User, organisation: Organisation, address: str) -> None:
    """The organisation's postal address for letters (the Zuwendungsbescheid); managers only.

    :raises NotPermitted: not a manager of the organisation; :raises DomainError: too long.
    """
    if not (
        user.has_role(Role.APPLICANT)
        and user.organisation_id == organisation.id
        and user.is_org_manager
    ):
        raise NotPermitted(_l("Nur die Verwaltung der Kommune kann die Anschrift ändern."))
    lines = [line.strip() for line in address.replace("\r", "").split("\n") if line.strip()]
    if not lines:
        raise DomainError(_l("Bitte geben Sie die Postanschrift ein."), field="address")
    text = "\n".join(lines)
    if len(lines) > ADDRESS_MAX_LINES or len(text) > ADDRESS_MAX_LENGTH:
        raise DomainError(
            _l(
                "Die Anschrift darf höchstens %(address_max_lines)s Zeilen und "
                "%(address_max_length)s Zeichen haben.",
                address_max_lines=ADDRESS_MAX_LINES,
                address_max_length=ADDRESS_MAX_LENGTH,
            ),
            field="address",
        )
    organisation.address = text
    record_event("organisation_address_set", "organisation", organisation.id, actor_id=user.id)

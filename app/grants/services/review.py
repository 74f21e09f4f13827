"""Ministry-side services: assignment, conflicts of interest, change requests, comments, the
rule checklist, decision preparation, four-eyes approval within the budget, Bescheid and finality.

No Flask request objects, no commits: the route or CLI command owns the transaction, so an
approval either writes everything (status, commitments, Bescheid, events) or nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, User
from app.budget.services import commit_funds
from app.common.audit import record_event
from app.common.dates import add_months, legal_date, runs_longer_than
from app.common.db import today, utcnow
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.common.money import format_eur
from app.common.programme import (
    ANBEST_VERSION,
    MAX_FUNDING_RATE_BP,
    NOTIFICATION_DAYS_AFTER_POSTING,
    REMEDY_PERIOD_MONTHS,
    REMEDY_TEXT,
    SMALL_GRANT_LIMIT_CENTS,
    SPLIT_MIN_MONTHS,
    SPLIT_THRESHOLD_CENTS,
    VN_MONTHS_AFTER_PERIOD,
)
from app.extensions import db
from app.finance.services.payouts import (
    check_r12_years_match_plan,
    create_payout_plan,
    planned_by_year,
    split_plan,
)
from app.grants import queries
from app.grants.models import (
    Application,
    Bescheid,
    ChangeRequest,
    Decision,
    DecisionStatus,
    DecisionYear,
    EventKind,
    FinancingType,
    ManualCheck,
    ReviewerAffiliation,
    Status,
)
from app.grants.services import snapshot
from app.grants.services.applications import add_event, notify_organisation, transition
from app.grants.services.rules import RuleProblem, check_r9_small_grant, check_submission

logger = logging.getLogger(__name__)

REVIEW_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW)


class DecisionInvalid(DomainError):
    """A decision field violates R10/R11 or the plan; ``field`` names the form field."""


# --- permissions and conflicts ---------------------------------------------------------------


def ensure_role(user: User, *roles: Role) -> None:
    """:raises NotPermitted: the user has none of ``roles``."""
    if not user.has_role(*roles):
        raise NotPermitted(_l("Für diese Aktion fehlt Ihnen die Berechtigung."))


def has_conflict(user: User, organisation_id: int) -> bool:
    """True if the ministry user declared an affiliation with the organisation."""
    return (
        db.session.execute(
            db.select(ReviewerAffiliation.id).where(
                ReviewerAffiliation.user_id == user.id,
                ReviewerAffiliation.organisation_id == organisation_id,
            )
        ).first()
        is not None
    )


def ensure_no_conflict(user: User, application: Application) -> None:
    """:raises NotPermitted: the user is affiliated with the applicant (conflict of interest)."""
    if has_conflict(user, application.organisation_id):
        raise NotPermitted(
            _l(
                "Sie haben eine Verbindung zu dieser Kommune angegeben und sind daher "
                "von der Bearbeitung ausgeschlossen (Befangenheit)."
            )
        )


def declare_affiliation(user: User, organisation_id: int, note: str) -> ReviewerAffiliation:
    """A ministry user declares an affiliation; they are then excluded from its applications."""
    ensure_role(user, Role.REVIEWER, Role.APPROVER, Role.ADMIN, Role.FINANCE)
    if has_conflict(user, organisation_id):
        raise DomainError(_l("Diese Verbindung ist bereits erfasst."), field="organisation")
    row = ReviewerAffiliation(user_id=user.id, organisation_id=organisation_id, note=note.strip())
    db.session.add(row)
    db.session.flush()
    record_event(
        "affiliation_declared", "user", user.id, actor_id=user.id, organisation_id=organisation_id
    )
    if db.session.execute(
        db.select(Application.id).where(
            Application.organisation_id == organisation_id,
            Application.assigned_reviewer_id == user.id,
            Application.status.in_(list(REVIEW_STATUSES)),
        )
    ).first():
        db.session.execute(
            update(Application)
            .where(
                Application.organisation_id == organisation_id,
                Application.assigned_reviewer_id == user.id,
            )
            .values(assigned_reviewer_id=None)
            .execution_options(synchronize_session=False)
        )
    return row


# --- assignment, review start, change requests, comments ----------------------------------------


def assign(lead: User, application: Application, reviewer: User) -> None:
    """A lead (approver or admin) assigns a reviewer without conflict of interest.

    :raises NotPermitted: not a lead, or the reviewer is affiliated; :raises InvalidTransition:
    """
    ensure_role(lead, Role.APPROVER, Role.ADMIN)
    if not reviewer.has_role(Role.REVIEWER) or not reviewer.active:
        raise DomainError(
            _l("Bitte wählen Sie eine Person mit der Rolle Sachbearbeitung."), field="reviewer"
        )
    if has_conflict(reviewer, application.organisation_id):
        raise NotPermitted(
            _l("%(name)s ist wegen Befangenheit ausgeschlossen.", name=reviewer.name)
        )
    if application.status is Status.SUBMITTED:
        transition(application, [Status.SUBMITTED], Status.IN_REVIEW)
    elif application.status not in (Status.IN_REVIEW, Status.INCOMPLETE):
        raise InvalidTransition(_l("Der Antrag ist nicht in Prüfung."))
    application.assigned_reviewer_id = reviewer.id
    add_event(
        application,
        EventKind.ASSIGNED,
        lead,
        internal=True,
        reviewer_id=reviewer.id,
        reviewer=reviewer.name,
    )


def start_review(reviewer: User, application: Application) -> None:
    """T5: SUBMITTED → IN_REVIEW; the reviewer takes the application if unassigned."""
    ensure_role(reviewer, Role.REVIEWER)
    ensure_no_conflict(reviewer, application)
    transition(application, [Status.SUBMITTED], Status.IN_REVIEW)
    if application.assigned_reviewer_id is None:
        application.assigned_reviewer_id = reviewer.id
    add_event(application, EventKind.REVIEW_STARTED, reviewer, internal=True)


def request_changes(
    reviewer: User,
    application: Application,
    *,
    message: str,
    sections: Sequence[str],
    due_on: date | None,
) -> ChangeRequest:
    """T3: ask the applicant for changes; the application becomes editable (INCOMPLETE).

    :raises DomainError: empty message; :raises NotPermitted / InvalidTransition:
    """
    ensure_role(reviewer, Role.REVIEWER, Role.APPROVER)
    ensure_no_conflict(reviewer, application)
    if not message.strip():
        raise DomainError(
            _l("Bitte beschreiben Sie, was geändert oder nachgereicht werden soll."),
            field="message",
        )
    if due_on is not None and due_on < today():
        raise DomainError(_l("Die Frist darf nicht in der Vergangenheit liegen."), field="due_on")
    transition(application, list(REVIEW_STATUSES), Status.INCOMPLETE)
    # A prepared decision refers to the version under review; it must not survive the change.
    db.session.execute(
        update(Decision)
        .where(
            Decision.application_id == application.id, Decision.status == DecisionStatus.PREPARED
        )
        .values(status=DecisionStatus.SENT_BACK, reasons="Durch Nachforderung überholt")
        .execution_options(synchronize_session=False)
    )
    request = ChangeRequest(
        application_id=application.id,
        requested_by_id=reviewer.id,
        sections=",".join(sections),
        message=message.strip(),
        due_on=due_on,
    )
    db.session.add(request)
    db.session.flush()
    add_event(
        application,
        EventKind.CHANGES_REQUESTED,
        reviewer,
        message=message.strip(),
        sections=list(sections),
        due_on=due_on,
    )
    notify_organisation(
        application,
        "Nachforderung zu Ihrem Antrag",
        f"Die Geschäftsstelle des Landespräventionsrates bittet um Änderungen an Ihrem Antrag "
        f"{application.reference}:\n\n{message.strip()}\n"
        + (f"\nFrist: {due_on:%d.%m.%Y}\n" if due_on else ""),
    )
    return request


def add_comment(user: User, application: Application, body: str, *, internal: bool) -> None:
    """A comment: ministry users may write internal (ministry-only) or external ones; applicants
    only external ones on their own application."""
    if not body.strip():
        raise DomainError(_l("Bitte geben Sie einen Kommentar ein."), field="body")
    if user.is_ministry:
        ensure_no_conflict(user, application)
    else:
        internal = False
        if user.organisation_id != application.organisation_id:
            raise NotPermitted(_l("Keine Berechtigung."))
    add_event(application, EventKind.COMMENT, user, internal=internal, message=body.strip())


# --- checklist ------------------------------------------------------------------------------------

#: The rule checklist of the review page (labels lazy: shown in the reviewer's language).
CHECKLIST_RULES: tuple[tuple[str, object], ...] = (
    ("", _l("Angaben vollständig (Titel, Zweck, Zeitraum, Koordinierungsstelle)")),
    ("R1", _l("Beratungsgespräch vor Einreichung")),
    ("R2", _l("Antragsfrist bzw. begründete verspätete Einreichung")),
    ("R3", _l("Antragsberechtigte sächsische Kommune")),
    ("R4", _l("Erforderliche Unterlagen vollständig")),
    ("R5", _l("Finanzierungsplan ausgeglichen")),
    ("R6", _l("Fördersatz ≤ 90 %, Eigenanteil ≥ 10 %")),
    ("R7", _l("Investive Ausgaben ausgeschlossen")),
    ("R8", _l("Personalausgaben innerhalb der TV-L-Obergrenzen")),
    ("R9", _l("Ausnahmegrund bei Zuwendung bis 10.000 €")),
)


@dataclass
class ChecklistItem:
    rule: str
    label: object
    problems: list[RuleProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def checklist(application: Application) -> list[ChecklistItem]:
    """Each rule with pass/fail, judged as of the (first) submission date."""
    on = legal_date(application.first_submitted_at)
    problems = check_submission(queries.submission_context(application, on))
    items = [ChecklistItem(rule, label) for rule, label in CHECKLIST_RULES]
    by_rule = {item.rule: item for item in items}
    for problem in problems:
        by_rule.get(problem.rule, by_rule[""]).problems.append(problem)
    return items


# --- manual checklist items -------------------------------------------------------------------

#: Manual checklist items beside the automatic rule checks: (code, label). The one place where
#: they are configured; a saved row keeps its code, so relabelling keeps past reviews.
MANUAL_CHECKS: tuple[tuple[str, LazyString], ...] = (
    ("documents_complete", _l("Unterlagen vollständig und lesbar")),
    ("job_description", _l("Stellenbeschreibung plausibel")),
    ("cooperation_signed", _l("Kooperationsvereinbarung unterzeichnet")),
    ("purpose_fits", _l("Vorhaben entspricht dem Zuwendungszweck der Richtlinie")),
    ("costs_reasonable", _l("Ausgaben angemessen und wirtschaftlich")),
)
MANUAL_CHECK_LABELS = dict(MANUAL_CHECKS)
MANUAL_NOTE_MAX = 2000
MANUAL_CHECK_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW, Status.INCOMPLETE)


@dataclass(frozen=True)
class ManualEntry:
    """One manual item as the reviewer set it."""

    item: str
    done: bool
    note: str


def save_manual_checks(
    reviewer: User, application: Application, entries: Sequence[ManualEntry]
) -> int:
    """Tick or untick the manual checklist items with a note each; every changed item is audited
    (old and new value). Returns the number of changed items.

    :raises NotPermitted: no reviewer/approver or conflict of interest; :raises InvalidTransition:
        the application is not under review; :raises DomainError: unknown item or note too long.
    """
    ensure_role(reviewer, Role.REVIEWER, Role.APPROVER)
    ensure_no_conflict(reviewer, application)
    if application.status not in MANUAL_CHECK_STATUSES:
        raise InvalidTransition("Die Prüfpunkte können nur während der Prüfung geändert werden.")
    rows = {
        row.item: row
        for row in db.session.execute(
            db.select(ManualCheck)
            .where(ManualCheck.application_id == application.id)
            .with_for_update()
        ).scalars()
    }
    changed = 0
    for entry in entries:
        if entry.item not in MANUAL_CHECK_LABELS:
            raise DomainError("Unbekannter Prüfpunkt.", field="items")
        note = entry.note.strip()
        if len(note) > MANUAL_NOTE_MAX:
            raise DomainError(
                f"Die Notiz darf höchstens {MANUAL_NOTE_MAX} Zeichen lang sein.", field="items"
            )
        row = rows.get(entry.item)
        before = (row.done, row.note) if row is not None else (False, "")
        if before == (entry.done, note):
            continue
        if row is None:
            row = ManualCheck(application_id=application.id, item=entry.item)
            db.session.add(row)
        row.done, row.note = entry.done, note
        row.checked_by_id, row.checked_at = reviewer.id, utcnow()
        record_event(
            "manual_check_saved",
            "application",
            application.id,
            actor_id=reviewer.id,
            item=entry.item,
            done=entry.done,
            note=note,
            done_before=before[0],
            note_before=before[1],
        )
        changed += 1
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a second reviewer saved the first row at the same moment
        raise DomainError(
            "Die Prüfpunkte wurden gleichzeitig von einer anderen Person gespeichert. Bitte laden "
            "Sie die Seite neu.",
            field="items",
        ) from exc
    return changed


# --- decision ------------------------------------------------------------------------------------


@dataclass
class DecisionInput:
    financing_type: FinancingType
    override_note: str
    rate_bp: int
    eligible_base_cents: int
    max_amount_cents: int
    grant_cents: int
    purpose: str
    period_start: date
    period_end: date
    vn_deadline: date
    years: Mapping[int, int]
    late_accepted: bool = False
    pass_through_allowed: bool = False  # R30 (RL III): the Bescheid allows passing funds on
    pass_through_recipient: str = ""  # R30: the NGO that receives them


def default_years(grant_cents: int, start: date, end: date, approval_year: int) -> dict[int, int]:
    """Default payout years: 40 % in the start year (R14), the 25 % interim instalment in the
    next year for split plans (R15), the rest in the year after the period (VN, R18/R19)."""
    first_year = max(start.year, approval_year)
    last_year = max(end.year + 1, first_year)
    candidates = {first_year, last_year}
    if grant_cents > SPLIT_THRESHOLD_CENTS and runs_longer_than(start, end, SPLIT_MIN_MONTHS):
        candidates.add(min(first_year + 1, last_year))  # the interim instalment's year (R15)
    # R12: the amounts per year are exactly what the payout plan pays in each of these years.
    return planned_by_year(split_plan(grant_cents, start, end, sorted(candidates)))


def proposal(application: Application, approval_year: int) -> DecisionInput:
    """A decision proposal from the application (the reviewer adjusts it)."""
    totals = queries.totals_for(application)
    start = application.project_start or date(application.funding_year, 1, 1)
    end = application.project_end or date(application.funding_year, 12, 31)
    grant = application.requested_grant_cents
    eligible = totals.eligible_cents
    # Round the rate up so that rate × eligible base covers the requested grant.
    rate = -(-grant * 10000 // eligible) if eligible else 0
    return DecisionInput(
        financing_type=FinancingType.SHARE,
        override_note="",
        rate_bp=min(rate, MAX_FUNDING_RATE_BP),
        eligible_base_cents=totals.eligible_cents,
        max_amount_cents=grant,
        grant_cents=grant,
        purpose=application.purpose,
        period_start=start,
        period_end=end,
        vn_deadline=add_months(end, VN_MONTHS_AFTER_PERIOD),
        years=default_years(grant, start, end, approval_year),
        late_accepted=False,
    )


def check_r6_decision_caps(application: Application, data: DecisionInput) -> None:
    """R6, R11 at the decision: the eligible base the reviewer types may not exceed the eligible
    expenditure of the submitted plan, and *every* financing type (Anteil, Festbetrag, Fehlbedarf)
    stays within 90 % of that base — there is no Vollfinanzierung (RL V.2, VVK 2.2).

    :raises DecisionInvalid: at ``eligible_base`` or ``grant``.
    """
    plan_eligible = queries.totals_for(application).eligible_cents
    if data.eligible_base_cents <= 0:
        raise DecisionInvalid(
            _("Bitte geben Sie die zuwendungsfähigen Ausgaben an (R6)."), field="eligible_base"
        )
    if data.eligible_base_cents > plan_eligible:
        raise DecisionInvalid(
            _(
                "Die zuwendungsfähigen Ausgaben (%(base)s) dürfen die des eingereichten "
                "Finanzierungsplans (%(plan)s) nicht übersteigen (R6).",
                base=format_eur(data.eligible_base_cents),
                plan=format_eur(plan_eligible),
            ),
            field="eligible_base",
        )
    if data.grant_cents * 10000 > data.eligible_base_cents * MAX_FUNDING_RATE_BP:
        raise DecisionInvalid(
            _(
                "Die Zuwendung darf bei jeder Finanzierungsart höchstens %(rate)s %% der "
                "zuwendungsfähigen Ausgaben (%(cap)s) betragen (R6, R11).",
                rate=MAX_FUNDING_RATE_BP // 100,
                cap=format_eur(data.eligible_base_cents * MAX_FUNDING_RATE_BP // 10000),
            ),
            field="grant",
        )


def check_t7_period_and_years(application: Application, data: DecisionInput) -> None:
    """T7 plausibility: the approval period cannot start before the application was first
    submitted (RL: no start before the application), and no money may be planned for a year after
    the last possible payment (the final instalment at the latest in the year after the VN
    deadline, R19) — such a plan would bind a far, unopened budget year.

    :raises DecisionInvalid: at ``period_start`` or ``years``.
    """
    first = application.first_submitted_at
    submitted_on = legal_date(first) if first else None
    if submitted_on is not None and data.period_start < submitted_on:
        raise DecisionInvalid(
            _(
                "Der Bewilligungszeitraum darf nicht vor dem Antrag (eingereicht am "
                "%(submitted)s) beginnen.",
                submitted=f"{submitted_on:%d.%m.%Y}",
            ),
            field="period_start",
            rule="T7",
        )
    last_year = max(data.vn_deadline.year, data.period_end.year) + 1
    too_late = sorted(year for year in data.years if year > last_year)
    if too_late:
        raise DecisionInvalid(
            _(
                "Für %(years)s kann nichts ausgezahlt werden: die letzte Rate ist spätestens "
                "%(last)s fällig.",
                years=", ".join(str(year) for year in too_late),
                last=last_year,
            ),
            field="years",
            rule="T7",
        )


def check_r9_decision(application: Application, grant_cents: int) -> None:
    """R9 on the decided amount: a grant of at most 10,000 EUR needs the RL V.6 reason even when
    the application asked for more (the rule itself is ``rules.check_r9_small_grant``).

    :raises DecisionInvalid: at ``grant``.
    """
    if check_r9_small_grant(application, grant_cents):
        raise DecisionInvalid(
            _(
                "Eine Zuwendung bis %(limit)s ist nur mit einem Ausnahmegrund nach RL V.6 "
                "möglich; der Antrag nennt keinen. Bitte fordern Sie ihn nach oder "
                "bewilligen Sie mehr (R9).",
                limit=format_eur(SMALL_GRANT_LIMIT_CENTS),
            ),
            field="grant",
        )


def check_r2_late_accepted(application: Application, decision: Decision) -> None:
    """R2, T6/T7: a late application is *approved* only with its justification accepted; a
    rejection needs no acceptance (the lateness may be the very reason for it).

    :raises DecisionInvalid: at ``late_accepted``.
    """
    if application.is_late and not decision.late_accepted:
        raise DecisionInvalid(
            "Der Antrag wurde verspätet eingereicht: bitte bestätigen Sie, dass "
            "die Begründung anerkannt wird (R2).",
            field="late_accepted",
        )


def validate_decision(application: Application, data: DecisionInput, approval_year: int) -> None:
    """R10, R11, R6 (rate and base), R9 (decided amount), R21 (VN deadline) and the payout years.
    The late acceptance (R2) is checked at approval only, so a late application can be rejected.

    :raises DecisionInvalid: naming the field.
    """
    if data.financing_type is FinancingType.DEFICIT and not data.override_note.strip():
        raise DecisionInvalid(
            _l(
                "Fehlbedarfsfinanzierung wird Kommunen grundsätzlich nicht gewährt; "
                "bitte begründen Sie die Ausnahme (R11)."
            ),
            field="override_note",
        )
    if not 0 < data.rate_bp <= MAX_FUNDING_RATE_BP:
        raise DecisionInvalid(
            _l("Zulässig ist ein Fördersatz über 0 %, höchstens 90 % (R6, R11)."), field="rate"
        )
    if data.max_amount_cents <= 0:
        raise DecisionInvalid(_l("Bitte geben Sie den Höchstbetrag an (R10)."), field="max_amount")
    if data.grant_cents <= 0:
        raise DecisionInvalid(_l("Bitte geben Sie die Zuwendung an."), field="grant")
    if data.grant_cents > data.max_amount_cents:
        raise DecisionInvalid(
            _l("Die Zuwendung darf den Höchstbetrag nicht übersteigen."), field="grant"
        )
    check_r6_decision_caps(application, data)
    check_r9_decision(application, data.grant_cents)
    if (
        data.financing_type is FinancingType.SHARE
        and data.grant_cents * 10000 > data.eligible_base_cents * data.rate_bp
    ):
        raise DecisionInvalid(
            _l("Die Zuwendung übersteigt Fördersatz × zuwendungsfähige Ausgaben."), field="grant"
        )
    if not data.purpose.strip():
        raise DecisionInvalid(_l("Bitte geben Sie den Zuwendungszweck an (R10)."), field="purpose")
    if data.period_end < data.period_start:
        raise DecisionInvalid(
            _l("Das Ende des Bewilligungszeitraums liegt vor dem Beginn."), field="period_end"
        )
    check_t7_period_and_years(application, data)
    latest_vn = add_months(data.period_end, VN_MONTHS_AFTER_PERIOD)
    if not data.period_end < data.vn_deadline <= latest_vn:
        raise DecisionInvalid(
            _l(
                "Die Frist für den Verwendungsnachweis muss nach dem "
                "Bewilligungszeitraum und spätestens am %(latest_vn)s liegen (R21).",
                latest_vn=format(latest_vn, "%d.%m.%Y"),
            ),
            field="vn_deadline",
        )
    check_r30_pass_through(data.pass_through_allowed, data.pass_through_recipient)
    if any(year < approval_year for year in data.years):
        raise DecisionInvalid(
            _l("Auszahlungsjahre dürfen nicht vor dem Bewilligungsjahr liegen."), field="years"
        )
    if any(amount <= 0 for amount in data.years.values()):
        raise DecisionInvalid(_l("Beträge je Jahr müssen positiv sein."), field="years")
    if sum(data.years.values()) != data.grant_cents:
        raise DecisionInvalid(
            _l(
                "Die Beträge je Haushaltsjahr (%(values)s) müssen die Zuwendung "
                "(%(grant_cents)s) ergeben.",
                values=format_eur(sum(data.years.values())),
                grant_cents=format_eur(data.grant_cents),
            ),
            field="years",
        )
    _check_r12(data.grant_cents, data.period_start, data.period_end, data.years)


def _check_r12(grant: int, start: date, end: date, years: Mapping[int, int]) -> None:
    """R12 (``payouts.check_r12_years_match_plan``) as a decision error at ``years``."""
    try:
        check_r12_years_match_plan(grant, start, end, years)
    except DomainError as exc:
        raise DecisionInvalid(exc.message, field="years", rule="R12") from exc


def check_r30_pass_through(allowed: bool, recipient: str) -> None:
    """R30 (RL III, ANBK 6.6): a pass-through to an NGO is only possible if the Bescheid allows
    it; the Bescheid names the NGO, and a name without the permission is refused as ambiguous.

    :raises DecisionInvalid: at ``pass_through_recipient``.
    """
    if allowed and not recipient.strip():
        raise DecisionInvalid(
            "Bitte nennen Sie den Dritten, an den die Weiterleitung erlaubt wird (R30).",
            field="pass_through_recipient",
        )
    if recipient.strip() and not allowed:
        raise DecisionInvalid(
            "Ein Empfänger der Weiterleitung ist angegeben, die Weiterleitung aber nicht "
            "erlaubt (R30).",
            field="pass_through_recipient",
        )


def decision_draft(application: Application, approval_year: int) -> DecisionInput:
    """What the decision form starts from: the prepared decision's values, else a proposal."""
    existing = open_decision(application)
    if existing is None:
        return proposal(application, approval_year)
    return DecisionInput(
        financing_type=existing.financing_type,
        override_note=existing.override_note,
        rate_bp=existing.rate_bp,
        eligible_base_cents=existing.eligible_base_cents,
        max_amount_cents=existing.max_amount_cents,
        grant_cents=existing.grant_cents,
        purpose=existing.purpose,
        period_start=existing.period_start,
        period_end=existing.period_end,
        vn_deadline=existing.vn_deadline,
        years={y.year: y.amount_cents for y in existing.years},
        late_accepted=existing.late_accepted,
        pass_through_allowed=existing.pass_through_allowed,
        pass_through_recipient=existing.pass_through_recipient,
    )


def open_decision(application: Application) -> Decision | None:
    """The prepared (not yet decided) decision of an application, if any."""
    return db.session.execute(
        db.select(Decision).where(
            Decision.application_id == application.id, Decision.status == DecisionStatus.PREPARED
        )
    ).scalar_one_or_none()


def prepare_decision(
    reviewer: User,
    application: Application,
    data: DecisionInput,
    *,
    approval_year: int | None = None,
) -> Decision:
    """Record the decision proposal (replacing an earlier undecided one).

    :raises DecisionInvalid / NotPermitted / InvalidTransition:
    """
    ensure_role(reviewer, Role.REVIEWER)
    ensure_no_conflict(reviewer, application)
    if application.status is not Status.IN_REVIEW:
        raise InvalidTransition(
            _l("Eine Entscheidung kann nur für Anträge in Prüfung vorbereitet werden.")
        )
    approval_year = approval_year or today().year
    validate_decision(application, data, approval_year)
    decision = open_decision(application)
    if decision is None:
        decision = Decision(
            application_id=application.id,
            status=DecisionStatus.PREPARED,
            prepared_by_id=reviewer.id,
        )
        db.session.add(decision)
    decision.prepared_by_id = reviewer.id
    decision.financing_type = data.financing_type
    decision.override_note = data.override_note.strip()
    decision.rate_bp = data.rate_bp
    decision.eligible_base_cents = data.eligible_base_cents
    decision.max_amount_cents = data.max_amount_cents
    decision.grant_cents = data.grant_cents
    decision.purpose = data.purpose.strip()
    decision.period_start = data.period_start
    decision.period_end = data.period_end
    decision.vn_deadline = data.vn_deadline
    decision.anbest_version = ANBEST_VERSION
    decision.late_accepted = data.late_accepted
    decision.pass_through_allowed = data.pass_through_allowed
    decision.pass_through_recipient = (
        data.pass_through_recipient.strip() if data.pass_through_allowed else ""
    )
    _set_years(decision, data.years)
    db.session.flush()
    add_event(
        application,
        EventKind.DECISION_PREPARED,
        reviewer,
        internal=True,
        decision_id=decision.id,
        grant_cents=data.grant_cents,
        rate_bp=data.rate_bp,
        years={str(y): a for y, a in data.years.items()},
    )
    return decision


def _set_years(decision: Decision, years: Mapping[int, int]) -> None:
    """Payout years of a (revised) decision, updated in place: replacing the list would insert
    the kept years before deleting the old rows and break ``uq_decision_year`` (issue 11)."""
    existing = {row.year: row for row in decision.years}
    for year, row in existing.items():
        if year not in years:
            decision.years.remove(row)
    if any(year not in years for year in existing):
        db.session.flush()  # deletes before inserts of the same year
    for year, amount in sorted(years.items()):
        if year in existing:
            existing[year].amount_cents = amount
        else:
            decision.years.append(DecisionYear(year=year, amount_cents=amount))


def _decide(decision: Decision, to: DecisionStatus, approver: User, reasons: str) -> None:
    """Guarded PREPARED → ``to`` so that two approvers cannot decide the same decision twice."""
    result: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Decision)
        .where(Decision.id == decision.id, Decision.status == DecisionStatus.PREPARED)
        .values(status=to, decided_by_id=approver.id, decided_at=utcnow(), reasons=reasons)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise InvalidTransition(_l("Über diesen Antrag wurde bereits entschieden."))
    db.session.refresh(decision)


def _ensure_four_eyes(approver: User, decision: Decision) -> None:
    ensure_role(approver, Role.APPROVER)
    if approver.id == decision.prepared_by_id:
        raise NotPermitted(
            _l(
                "Vier-Augen-Prinzip: Wer die Entscheidung vorbereitet hat, darf sie "
                "nicht selbst treffen."
            )
        )
    ensure_no_conflict(approver, decision.application)


def approve(approver: User, decision: Decision, *, now: datetime | None = None) -> Bescheid:
    """T7: approve in one transaction — guarded status changes, budget commitments per payout year
    (R12, R13 via ``app.budget.services.commit_funds``), Kassenzeichen, payout plan and approval
    ledger entries (``app.finance``), Bescheid PDF, events.

    :raises NotPermitted: four eyes / conflict; :raises InvalidTransition: already decided;
    :raises BudgetCapExceeded: a year's budget or VE is short (nothing is written).
    """
    now = now or utcnow()
    local = legal_date(now)  # the budget year is the German calendar year
    _ensure_four_eyes(approver, decision)
    application = decision.application
    check_r2_late_accepted(application, decision)
    check_r9_decision(application, decision.grant_cents)
    _check_r12(
        decision.grant_cents,
        decision.period_start,
        decision.period_end,
        {y.year: y.amount_cents for y in decision.years},
    )
    _decide(decision, DecisionStatus.APPROVED, approver, "")
    transition(application, [Status.IN_REVIEW], Status.APPROVED)
    commit_funds(
        application.id,
        {y.year: y.amount_cents for y in decision.years},
        approval_year=local.year,
        actor_id=approver.id,
    )
    decision.kassenzeichen = f"KP-{application.funding_year}-{application.id:04d}"
    db.session.flush()
    create_payout_plan(decision, actor_id=approver.id, posting_date=local)
    application.late_accepted = decision.late_accepted
    application.notified_on = local + timedelta(days=NOTIFICATION_DAYS_AFTER_POSTING)
    bescheid = issue_bescheid(decision, approver, now)
    add_event(
        application,
        EventKind.APPROVED,
        approver,
        decision_id=decision.id,
        grant_cents=decision.grant_cents,
    )
    add_event(
        application,
        EventKind.BESCHEID_ISSUED,
        approver,
        bescheid_id=bescheid.id,
        pdf_sha256=bescheid.pdf_sha256,
    )
    notify_organisation(
        application,
        "Zuwendungsbescheid erteilt",
        f"Für Ihren Antrag {application.reference} wurde ein Zuwendungsbescheid über "
        f"{format_eur(decision.grant_cents)} erteilt. Sie können ihn im Förderportal "
        f"herunterladen.\n",
    )
    logger.info(
        "application_approved", extra={"application_id": application.id, "decision_id": decision.id}
    )
    return bescheid


def reject(approver: User, decision: Decision, reasons: str) -> None:
    """T6: reject with written reasons (§ 39 VwVfG)."""
    if not reasons.strip():
        raise DomainError(_l("Eine Ablehnung muss begründet werden."), field="reasons")
    _ensure_four_eyes(approver, decision)
    application = decision.application
    _decide(decision, DecisionStatus.REJECTED, approver, reasons.strip())
    transition(application, [Status.IN_REVIEW], Status.REJECTED)
    add_event(application, EventKind.REJECTED, approver, message=reasons.strip())
    notify_organisation(
        application,
        "Entscheidung über Ihren Antrag",
        f"Ihr Antrag {application.reference} wurde abgelehnt. Begründung:\n\n{reasons.strip()}\n",
    )


def send_back(approver: User, decision: Decision, reasons: str) -> None:
    """The approver returns the proposal to the reviewer (application stays in review)."""
    if not reasons.strip():
        raise DomainError(_l("Bitte geben Sie an, was zu ändern ist."), field="reasons")
    _ensure_four_eyes(approver, decision)
    _decide(decision, DecisionStatus.SENT_BACK, approver, reasons.strip())
    add_event(
        decision.application, EventKind.SENT_BACK, approver, internal=True, message=reasons.strip()
    )


def issue_bescheid(decision: Decision, issuer: User, now: datetime) -> Bescheid:
    """Render the Zuwendungsbescheid PDF (VVK 4.2 content) and store it immutably."""

    application = decision.application
    with force_locale("de"):  # a legal document: German whatever the UI language
        html = render_template(
            "grants/pdf/bescheid.html",
            app=application,
            decision=decision,
            issued_at=now,
            issuer=issuer,
            remedy_text=REMEDY_TEXT,
            plan=payout_plan(decision.grant_cents, decision),
        )
    pdf = snapshot.render_pdf(html)
    bescheid = Bescheid(
        application_id=application.id,
        decision_id=decision.id,
        issued_at=now,
        issued_by_id=issuer.id,
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
    db.session.add(bescheid)
    db.session.flush()
    return bescheid


#: Conditions printed on the Bescheid per instalment kind (VVK 7.1/7.2, RL VI.6).
INSTALMENT_LABELS = {
    "first": "nach Bestandskraft und Anzeige des Vorhabenbeginns",
    "interim": "als Zwischenrate",
    "after_vn": "nach Vorlage des vollständigen Verwendungsnachweises",
    "final": "nach Prüfung des Verwendungsnachweises",
    "reimbursement": "nach Vorlage eines (Teil-)Verwendungsnachweises (Erstattungsverfahren)",
}


def payout_plan(grant_cents: int, decision: Decision) -> list[tuple[str, int]]:
    """Instalments as printed on the Bescheid — the same plan the payouts are created from."""
    plan = split_plan(
        grant_cents, decision.period_start, decision.period_end, [y.year for y in decision.years]
    )
    return [(INSTALMENT_LABELS[item.kind.value], item.amount_cents) for item in plan]


# --- notification, waiver, finality -----------------------------------------------------------


def check_t8_not_before_bescheid(application: Application, on: date, field: str) -> None:
    """T8 plausibility: the Bescheid can be received (Bekanntgabe) and the legal remedy waived
    only on or after the day the Bescheid was issued (its date in Germany).

    :raises DomainError: at ``field``.
    """
    bescheid = queries.bescheid_of(application)
    if bescheid is None:
        raise InvalidTransition("Für diesen Antrag gibt es keinen Zuwendungsbescheid.")
    issued_on = legal_date(bescheid.issued_at)
    if on < issued_on:
        raise DomainError(
            _(
                "Das Datum darf nicht vor dem Bescheid vom %(issued)s liegen.",
                issued=f"{issued_on:%d.%m.%Y}",
            ),
            field=field,
            rule="T8",
        )


def record_notification(reviewer: User, application: Application, notified_on: date) -> None:
    """Correct the date the Bescheid was received (Bekanntgabe), e.g. for electronic delivery."""
    ensure_role(reviewer, Role.REVIEWER, Role.APPROVER)
    if application.status is not Status.APPROVED:
        raise InvalidTransition(_l("Nur für bewilligte, noch nicht bestandskräftige Anträge."))
    if notified_on > today():
        raise DomainError(_l("Das Datum darf nicht in der Zukunft liegen."), field="notified_on")
    check_t8_not_before_bescheid(application, notified_on, "notified_on")
    application.notified_on = notified_on
    add_event(
        application,
        EventKind.NOTIFICATION_RECORDED,
        reviewer,
        internal=True,
        notified_on=notified_on,
    )


def record_waiver(reviewer: User, application: Application, waiver_on: date) -> None:
    """T8: a recorded Rechtsbehelfsverzicht makes the Bescheid final at once."""
    ensure_role(reviewer, Role.REVIEWER, Role.APPROVER)
    if waiver_on > today():
        raise DomainError(_l("Das Datum darf nicht in der Zukunft liegen."), field="waiver_on")
    if application.status is not Status.APPROVED:
        raise InvalidTransition(_l("Nur für bewilligte, noch nicht bestandskräftige Anträge."))
    check_t8_not_before_bescheid(application, waiver_on, "waiver_on")
    transition(application, [Status.APPROVED], Status.FINAL)
    application.waiver_on = waiver_on
    application.final_on = waiver_on
    add_event(application, EventKind.WAIVER_RECORDED, reviewer, waiver_on=waiver_on)
    add_event(application, EventKind.FINAL, reviewer, final_on=waiver_on)


def finality_date(application: Application) -> date | None:
    """The day the Bescheid becomes final: the day after the remedy period ends."""
    if application.notified_on is None:
        return None
    return add_months(application.notified_on, REMEDY_PERIOD_MONTHS) + timedelta(days=1)


def finalize_due(on: date | None = None) -> list[Application]:
    """T8 (system job): APPROVED applications whose remedy period is over become FINAL.

    Idempotent: running it twice on the same day changes nothing the second time.
    """
    on = on or today()
    candidates = (
        db.session.execute(
            db.select(Application).where(
                Application.status == Status.APPROVED, Application.notified_on.is_not(None)
            )
        )
        .scalars()
        .all()
    )
    done = []
    for application in candidates:
        final_on = finality_date(application)
        if final_on is not None and final_on <= on:
            transition(application, [Status.APPROVED], Status.FINAL)
            application.final_on = final_on
            add_event(application, EventKind.FINAL, None, final_on=final_on)
            done.append(application)
    return done

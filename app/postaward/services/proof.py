"""Proof of use (Verwendungsnachweis): purpose fulfilled, submission, completeness check, audit
sample, final check, recalculation and the grant reduction that follows (T11–T19; R16, R18, R19,
R21, R22, R23, R25, R29, R30).

No Flask request objects, no commits.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from app.auth.models import Role, User
from app.common.audit import record_event
from app.common.dates import add_months
from app.common.db import today
from app.common.errors import DomainError, InvalidTransition, NotPermitted
from app.common.programme import (
    AUDIT_SHARE_BP,
    CHANGE_NOTICE_BP,
    CHANGE_NOTICE_CENTS,
    CHECK_DAYS,
    FINAL_PAYMENT_MONTHS,
    NGO_PROOF_MONTHS,
    PUBLICITY_CURE_DAYS,
    RECALC_THRESHOLD_CENTS,
    VN_MONTHS_AFTER_PERIOD,
)
from app.extensions import db
from app.finance.models import Instalment, InstalmentKind
from app.finance.services import adjust
from app.finance.services.payouts import mark_due
from app.grants import queries
from app.grants.models import (
    Application,
    Decision,
    DecisionStatus,
    EventKind,
    FinancingType,
    PlanLine,
    Status,
)
from app.grants.services.applications import add_event, notify_organisation, transition
from app.grants.services.financing import PlanTotals, compute_totals
from app.postaward.models import (
    AuditSample,
    ProofKind,
    ProofLine,
    ProofOfUse,
    ProofStatus,
)
from app.postaward.services import revocation
from app.postaward.services.closing import close_if_settled

logger = logging.getLogger(__name__)


def approved_decision(application: Application) -> Decision:
    """The approved decision (Bescheid) of the grant.

    :raises InvalidTransition: there is none.
    """
    decision = db.session.execute(
        db.select(Decision).where(
            Decision.application_id == application.id, Decision.status == DecisionStatus.APPROVED
        )
    ).scalar_one_or_none()
    if decision is None:
        raise InvalidTransition(_l("Für diesen Antrag gibt es keinen Zuwendungsbescheid."))
    return decision


def _ensure_recipient(user: User, application: Application) -> None:
    if not (user.has_role(Role.APPLICANT) and user.organisation_id == application.organisation_id):
        raise NotPermitted(
            _l("Nur die Zuwendungsempfängerin kann den Verwendungsnachweis einreichen.")
        )


def _ensure_reviewer(user: User) -> None:
    if not user.has_role(Role.REVIEWER, Role.APPROVER):
        raise NotPermitted(_l("Verwendungsnachweise prüft die Bewilligungsbehörde."))


# --- purpose fulfilled (T11) ---------------------------------------------------------------------


def vn_due_date(decision: Decision, fulfilled_on: date) -> date:
    """R21: min(purpose fulfilled + 1 year, end of the grant period + 1 year), and never later
    than the deadline stated in the Bescheid (R10)."""
    months = VN_MONTHS_AFTER_PERIOD
    return min(
        add_months(fulfilled_on, months),
        add_months(decision.period_end, months),
        decision.vn_deadline,
    )


def check_t11_fulfilled_date(decision: Decision, fulfilled_on: date) -> None:
    """T11 plausibility: the purpose cannot be fulfilled before the approval period starts (it
    would set the VN deadline and, after the VN, release the 50 %).

    :raises DomainError: at ``fulfilled_on``.
    """
    if fulfilled_on < decision.period_start:
        raise DomainError(
            _(
                "Der Zweck kann nicht vor Beginn des Bewilligungszeitraums (%(start)s) erfüllt "
                "sein.",
                start=f"{decision.period_start:%d.%m.%Y}",
            ),
            field="fulfilled_on",
            rule="T11",
        )


def declare_purpose_fulfilled(user: User, application: Application, fulfilled_on: date) -> None:
    """The recipient reports the purpose fulfilled: RUNNING → VN_DUE with the R21 deadline."""
    _ensure_recipient(user, application)
    if fulfilled_on > today():
        raise DomainError(_l("Das Datum darf nicht in der Zukunft liegen."), field="fulfilled_on")
    decision = approved_decision(application)
    check_t11_fulfilled_date(decision, fulfilled_on)
    transition(application, [Status.RUNNING], Status.VN_DUE)
    application.purpose_fulfilled_on = fulfilled_on
    application.vn_due_on = vn_due_date(decision, fulfilled_on)
    add_event(
        application,
        EventKind.PURPOSE_FULFILLED,
        user,
        fulfilled_on=fulfilled_on,
        vn_due_on=application.vn_due_on,
    )


# --- submission (T12, T15) -----------------------------------------------------------------------


def proof_deadline(application: Application) -> date | None:
    """The date the proof of use is due: the R21 date once the purpose is fulfilled, before that
    the VN deadline stated in the Bescheid (R10); None without an approved Bescheid."""
    if application.vn_due_on is not None:
        return application.vn_due_on
    try:
        return approved_decision(application).vn_deadline
    except InvalidTransition:
        return None


@dataclass
class ProofInput:
    kind: ProofKind
    report: str
    publicity_confirmed: bool
    publicity_note: str
    actuals: Mapping[int, int]  # plan line id → actual cents
    actual_own_cents: int
    actual_third_party_cents: int
    ngo_share_cents: int = 0
    ngo_proof_received_on: date | None = None  # R30: the NGO's own proof reached the municipality


def ngo_proof_due_date(decision: Decision, fulfilled_on: date) -> date:
    """R30 (ANBK 6.6; VwV Anl. 2 Nr. 6.1): the NGO proves the use of passed-on funds within six
    months after the purpose is fulfilled, at the latest six months after the grant period."""
    return min(
        add_months(fulfilled_on, NGO_PROOF_MONTHS),
        add_months(decision.period_end, NGO_PROOF_MONTHS),
    )


def ngo_proof_late(proof: ProofOfUse) -> bool:
    """R30: the NGO's proof reached the municipality after its six-month deadline."""
    return (
        proof.ngo_proof_due_on is not None
        and proof.ngo_proof_received_on is not None
        and proof.ngo_proof_received_on > proof.ngo_proof_due_on
    )


def _check_r30_pass_through(
    decision: Decision, application: Application, data: ProofInput, on: date
) -> date | None:
    """R30 (RL III, ANBK 6.6): funds passed on only if the Bescheid allows it, and then the NGO's
    own proof (ANBest-P, with Belegliste) is attached to the municipality's proof. Returns the
    NGO's deadline (None without pass-through).

    :raises DomainError: not allowed, NGO proof missing or dated in the future.
    """
    if data.ngo_share_cents <= 0:
        return None
    if not decision.pass_through_allowed:
        raise DomainError(
            "Der Zuwendungsbescheid erlaubt keine Weiterleitung an Dritte (RL III).",
            field="ngo_share",
        )
    received = data.ngo_proof_received_on
    if received is None:
        raise DomainError(
            f"Bitte fügen Sie den Verwendungsnachweis des Dritten "
            f"({decision.pass_through_recipient}) mit Belegliste bei und geben Sie an, wann er "
            "eingegangen ist (Nr. 6.6 ANBest-K).",
            field="ngo_proof_received_on",
        )
    if received > on:
        raise DomainError(
            "Das Datum darf nicht in der Zukunft liegen.", field="ngo_proof_received_on"
        )
    fulfilled = application.purpose_fulfilled_on or min(on, decision.period_end)
    return ngo_proof_due_date(decision, fulfilled)


def change_notice_required(planned_cents: int, actual_cents: int) -> bool:
    """R23: a reduction of planned expenditure by more than 7.5 % or 10,000 EUR."""
    reduction = planned_cents - actual_cents
    return reduction > CHANGE_NOTICE_CENTS or reduction * 10000 > planned_cents * CHANGE_NOTICE_BP


def actual_totals(application: Application, proof: ProofOfUse | ProofInput) -> PlanTotals:
    """Plan totals with the actual figures of a proof (staff caps and R7 apply as planned)."""
    actuals = (
        {ln.plan_line_id: ln.actual_cents for ln in proof.lines}
        if isinstance(proof, ProofOfUse)
        else dict(proof.actuals)
    )
    shadow = [
        PlanLine(
            category=line.category,
            description=line.description,
            amount_cents=actuals.get(line.id, 0),
            pay_group=line.pay_group,
            pay_step=line.pay_step,
            qualification=line.qualification,
            fte_permille=line.fte_permille,
            months=line.months,
            investive=line.investive,
            in_kind=line.in_kind,
            position=line.position,
        )
        for line in application.lines
    ]
    totals = compute_totals(
        shadow,
        own_cash_cents=proof.actual_own_cents,
        third_party_cents=proof.actual_third_party_cents,
        requested_grant_cents=application.requested_grant_cents,
        monthly_caps=queries.monthly_caps(application.funding_year),
    )
    for line in shadow:  # transient helpers: keep them out of the session
        if line in db.session:
            db.session.expunge(line)
    return totals


def submit_proof(
    user: User, application: Application, data: ProofInput, *, on: date | None = None
) -> ProofOfUse:
    """Submit a proof of use (T12) or re-submit after a request (T15: the R18 clock restarts).

    From RUNNING only a partial (Erstattungsverfahren, R16) or provisional proof is possible.

    :raises DomainError: missing report, figures or a pass-through the Bescheid does not allow.
    """
    _ensure_recipient(user, application)
    on = on or today()
    allowed = [Status.VN_DUE, Status.VN_INCOMPLETE]
    if data.kind in (ProofKind.PARTIAL, ProofKind.PROVISIONAL):
        allowed.append(Status.RUNNING)
    if data.kind is ProofKind.PARTIAL and not reimbursement_plan(application):  # R16
        raise DomainError(
            "Ein Teil-Verwendungsnachweis ist nur im Erstattungsverfahren möglich (RL VI.6); "
            "bitte reichen Sie einen vorläufigen oder den abschließenden Verwendungsnachweis ein.",
            field="kind",
        )
    earlier = latest_proof(application)
    if data.kind is ProofKind.FINAL and earlier is not None and earlier.kind is not ProofKind.FINAL:
        # R18: after a partial or provisional proof the final one is still owed.
        allowed += [Status.VN_COMPLETE, Status.VN_CHECKED]
    if application.status not in allowed:
        raise InvalidTransition(_l("Ein Verwendungsnachweis kann jetzt nicht eingereicht werden."))
    if not data.report.strip():
        raise DomainError(_l("Bitte fügen Sie den Sachbericht ein."), field="report")
    missing = [ln for ln in application.lines if ln.id not in data.actuals]
    if missing:
        raise DomainError(
            _l(
                "Bitte geben Sie für jede Zeile des Finanzierungsplans die tatsächlichen "
                "Ausgaben an."
            ),
            field="lines",
        )
    if (
        any(v < 0 for v in data.actuals.values())
        or min(data.actual_own_cents, data.actual_third_party_cents, data.ngo_share_cents) < 0
    ):
        raise DomainError(_l("Beträge dürfen nicht negativ sein."), field="lines")
    decision = approved_decision(application)
    ngo_due = _check_r30_pass_through(decision, application, data, on)
    version = (
        int(
            db.session.execute(
                db.select(func.count())
                .select_from(ProofOfUse)
                .where(ProofOfUse.application_id == application.id)
            ).scalar_one()
        )
        + 1
    )
    proof = ProofOfUse(
        application_id=application.id,
        version=version,
        kind=data.kind,
        status=ProofStatus.RECEIVED,
        report=data.report.strip(),
        publicity_confirmed=data.publicity_confirmed,
        publicity_note=data.publicity_note.strip(),
        actual_own_cents=data.actual_own_cents,
        actual_third_party_cents=data.actual_third_party_cents,
        ngo_share_cents=data.ngo_share_cents,
        ngo_proof_due_on=ngo_due,
        ngo_proof_received_on=data.ngo_proof_received_on if ngo_due else None,
        submitted_by_id=user.id,
        check_due_on=on + timedelta(days=CHECK_DAYS),  # R18 (restarts on re-submission)
    )
    proof.lines = [
        ProofLine(
            plan_line_id=line.id,
            planned_cents=line.amount_cents,
            actual_cents=data.actuals[line.id],
        )
        for line in application.lines
    ]
    db.session.add(proof)
    transition(application, allowed, Status.VN_RECEIVED)
    db.session.flush()
    planned = sum(line.amount_cents for line in application.lines)
    actual = sum(data.actuals.values())
    add_event(
        application,
        EventKind.VN_SUBMITTED,
        user,
        version=version,
        proof_kind=data.kind.value,
        change_notice_required=change_notice_required(planned, actual),
        ngo_proof_late=ngo_proof_late(proof),
    )
    return proof


def reimbursement_plan(application: Application) -> bool:
    """R16: the grant is paid in the Erstattungsverfahren (a reimbursement instalment)."""
    return (
        db.session.execute(
            db.select(Instalment.id).where(
                Instalment.application_id == application.id,
                Instalment.kind == InstalmentKind.REIMBURSEMENT,
            )
        ).first()
        is not None
    )


def latest_proof(application: Application) -> ProofOfUse | None:
    return db.session.execute(
        db.select(ProofOfUse)
        .where(ProofOfUse.application_id == application.id)
        .order_by(ProofOfUse.version.desc())
        .limit(1)
    ).scalar_one_or_none()


# --- completeness check (T13, T14) ---------------------------------------------------------------


def mark_incomplete(reviewer: User, proof: ProofOfUse, note: str) -> None:
    """T14: request the missing parts; the applicant re-submits (T15)."""
    _ensure_reviewer(reviewer)
    if not note.strip():
        raise DomainError(_l("Bitte geben Sie an, was fehlt."), field="note")
    application = db.session.get(Application, proof.application_id)
    assert application is not None  # noqa: S101 - foreign key
    transition(application, [Status.VN_RECEIVED], Status.VN_INCOMPLETE)
    proof.status, proof.reviewer_note = ProofStatus.INCOMPLETE, note.strip()
    add_event(application, EventKind.VN_INCOMPLETE, reviewer, message=note.strip())
    notify_organisation(
        application,
        "Verwendungsnachweis unvollständig",
        f"Bitte ergänzen Sie den Verwendungsnachweis zu {application.reference}:\n\n"
        f"{note.strip()}\n",
    )


def mark_complete(reviewer: User, proof: ProofOfUse, *, on: date | None = None) -> int | None:
    """T13: complete — R22 recalculation, the post-VN instalment becomes due (R18), the final
    payment deadline is set (R19) and missing publicity gets an eight-week cure period (R29).

    Returns the recalculated grant if it changed.
    """

    _ensure_reviewer(reviewer)
    on = on or today()
    application = db.session.get(Application, proof.application_id)
    assert application is not None  # noqa: S101 - foreign key
    transition(application, [Status.VN_RECEIVED], Status.VN_COMPLETE)
    proof.status, proof.completed_on = ProofStatus.COMPLETE, on
    application.final_payment_due_on = add_months(on, FINAL_PAYMENT_MONTHS)
    if not proof.publicity_confirmed:
        proof.publicity_cure_until = on + timedelta(days=PUBLICITY_CURE_DAYS)
    new_grant = recalculate(reviewer, application, proof)
    # R16/R18: a partial or provisional proof releases only a reimbursement; the 50 % (25 %)
    # after the VN needs the final proof of use complete.
    kinds = [InstalmentKind.REIMBURSEMENT]
    if proof.kind is ProofKind.FINAL:
        kinds.append(InstalmentKind.AFTER_VN)
    mark_due(application, kinds)
    if _selected_for_audit(application):  # R25/T16: drawn before it was complete
        transition(application, [Status.VN_COMPLETE], Status.VN_AUDIT)
    add_event(
        application,
        EventKind.VN_COMPLETE,
        reviewer,
        on=on,
        new_grant_cents=new_grant,
        late_check=on > proof.check_due_on,
    )
    if proof.publicity_cure_until:
        notify_organisation(
            application,
            "Öffentlichkeitsarbeit nachholen (§ 44a SäHO)",
            f"Im Verwendungsnachweis zu {application.reference} ist die Information der "
            f"Öffentlichkeit über die Förderung nicht bestätigt. Bitte holen Sie sie bis "
            f"{proof.publicity_cure_until:%d.%m.%Y} nach und bestätigen Sie dies im Portal.\n",
        )
    return new_grant


def confirm_publicity(user: User, application: Application, note: str) -> None:
    """R29: the recipient confirms that the publicity duty has been met (cures the deficit)."""
    _ensure_recipient(user, application)
    proof = latest_proof(application)
    if proof is None:
        raise InvalidTransition(_l("Es liegt noch kein Verwendungsnachweis vor."))
    proof.publicity_confirmed = True
    proof.publicity_note = (proof.publicity_note + "\n" + note.strip()).strip()
    record_event("publicity_confirmed", "application", application.id, actor_id=user.id)


# --- recalculation and reduction (R22) -----------------------------------------------------------


def recalculated_grant(
    decision: Decision, planned: PlanTotals, actual: PlanTotals, planned_third_party: int
) -> int:
    """R22 (ANBK 2.1–2.2): for Anteilfinanzierung the grant falls pro rata when eligible
    expenditure falls or other funds rise by more than 500 EUR; it never rises (ANBK 1.2)."""

    grant = decision.grant_cents
    eligible_drop = planned.eligible_cents - actual.eligible_cents
    funds_rise = actual.third_party_cents - planned_third_party
    if max(eligible_drop, funds_rise) <= RECALC_THRESHOLD_CENTS:
        return grant
    if decision.financing_type is FinancingType.FIXED:
        return grant  # Festbetrag: no reduction for savings (ANBK 1.2 sentences 4–5 do not apply)
    if decision.financing_type is FinancingType.DEFICIT:
        return max(0, grant - max(eligible_drop, 0) - max(funds_rise, 0))
    base = max(0, actual.eligible_cents - max(funds_rise, 0))
    by_rate = base * decision.rate_bp // 10000
    return max(0, min(grant, by_rate, decision.max_amount_cents))


def recalculate(reviewer: User, application: Application, proof: ProofOfUse) -> int | None:
    """Apply R22 to the proof's figures; reduce the grant if it falls. Returns the new grant."""
    decision = approved_decision(application)
    planned = queries.totals_for(application)
    actual = actual_totals(application, proof)
    new_grant = recalculated_grant(decision, planned, actual, application.third_party_cents)
    if new_grant >= adjust.current_grant(application):
        return None
    revocation.reduce_grant(reviewer, application, new_grant)
    return new_grant


# --- audit sample (R25) and final check (T16–T18) ------------------------------------------------


def audit_sample_size(population: int) -> int:
    """R25: at least half (``AUDIT_SHARE_BP``) of the year's proofs, rounded up (exact integers,
    no float): 1 → 1, 2 → 1, 3 → 2."""
    return -(-population * AUDIT_SHARE_BP // 10000)


def _audit_population(year: int) -> list[tuple[ProofOfUse, Application, Decision]]:
    """R25: every proof of use received in ``year`` — whatever has happened to it since
    (complete, checked, closed or still in the completeness check) — one per grant (its latest
    version of the year)."""
    rows = db.session.execute(
        db.select(ProofOfUse, Application, Decision)
        .join(Application, Application.id == ProofOfUse.application_id)
        .join(
            Decision,
            (Decision.application_id == Application.id)
            & (Decision.status == DecisionStatus.APPROVED),
        )
        .where(func.extract("year", ProofOfUse.submitted_at) == year)
        .order_by(ProofOfUse.application_id, ProofOfUse.version)
    ).all()
    latest: dict[int, tuple[ProofOfUse, Application, Decision]] = {}
    for proof, application, decision in rows:
        latest[application.id] = (proof, application, decision)
    return list(latest.values())


def draw_audit_sample(user: User, year: int, *, seed: str | None = None) -> AuditSample:
    """R25: draw at least half of the proofs received in ``year`` for in-depth audit, weighted
    by amount and funding rate, with a random component. The population is the whole year's,
    including proofs already checked before the draw. The seed comes from ``secrets`` (not
    guessable from public data) unless given to reproduce a draw; seed, weights and selection
    are stored and logged.

    Selected grants in VN_COMPLETE move to VN_AUDIT (T16); one still in the completeness check
    goes to VN_AUDIT when it is complete; one already checked keeps its status and gets an
    internal event asking for the in-depth audit (a lower final amount then follows via R22/T25).
    """
    _ensure_reviewer(user)
    if db.session.execute(db.select(AuditSample.id).where(AuditSample.year == year)).first():
        raise DomainError(f"Für {year} wurde die Stichprobe bereits gezogen.", field="year")
    rows = _audit_population(year)
    seed = seed or secrets.token_hex(16)
    rng = random.Random(seed)  # noqa: S311 - reproducible draw from a secret, stored seed
    weights: dict[int, float] = {}
    keys: list[tuple[float, int]] = []
    for proof, _application, decision in rows:
        # Risk weight: amount (in thousands) × funding rate; the random key makes it a draw.
        weight = max(1.0, decision.grant_cents / 100_000) * max(0.1, decision.rate_bp / 10000)
        weights[proof.id] = round(weight, 4)
        keys.append((rng.random() ** (1.0 / weight), proof.id))  # Efraimidis–Spirakis
    count = audit_sample_size(len(rows))
    selected = {pid for _key, pid in sorted(keys, reverse=True)[:count]}
    for proof, application, _decision in rows:
        if proof.id not in selected:
            continue
        proof.audit_selected = True
        if application.status is Status.VN_COMPLETE:
            transition(application, [Status.VN_COMPLETE], Status.VN_AUDIT)
        add_event(
            application,
            EventKind.VN_AUDIT,
            user,
            internal=True,
            year=year,
            status_at_draw=application.status.value,
        )
    sample = AuditSample(
        year=year,
        drawn_by_id=user.id,
        seed=seed,
        population=len(rows),
        selected=len(selected),
        details=json.dumps({"weights": weights, "selected": sorted(selected)}),
    )
    db.session.add(sample)
    db.session.flush()
    record_event(
        "audit_sample_drawn",
        "audit_sample",
        sample.id,
        actor_id=user.id,
        year=year,
        seed=seed,
        population=len(rows),
        selected=len(selected),
    )
    return sample


def _selected_for_audit(application: Application) -> bool:
    """R25: a proof of this grant was drawn while still in the completeness check."""
    return (
        db.session.execute(
            db.select(ProofOfUse.id).where(
                ProofOfUse.application_id == application.id, ProofOfUse.audit_selected.is_(True)
            )
        ).first()
        is not None
    )


def check_ngo_proof(reviewer: User, proof: ProofOfUse, *, on: date | None = None) -> None:
    """R30: the authority has checked the NGO's proof of use attached to the municipality's
    proof; the grant's own check (``mark_checked``) needs it first."""
    _ensure_reviewer(reviewer)
    if proof.ngo_share_cents <= 0 or proof.ngo_proof_received_on is None:
        raise InvalidTransition("Zu diesem Verwendungsnachweis gehört kein Nachweis eines Dritten.")
    if proof.ngo_proof_checked_on is not None:
        raise InvalidTransition("Der Nachweis des Dritten ist bereits geprüft.")
    proof.ngo_proof_checked_on = on or today()
    record_event(
        "ngo_proof_checked",
        "proof_of_use",
        proof.id,
        actor_id=reviewer.id,
        application_id=proof.application_id,
        late=ngo_proof_late(proof),
    )


def mark_checked(
    reviewer: User,
    application: Application,
    *,
    final_eligible_cents: int | None = None,
    on: date | None = None,
) -> int | None:
    """T17/T18: the check is finished; a lower final eligible amount recalculates (R22) and the
    final instalment becomes due (R19). Returns the new grant if it changed."""

    _ensure_reviewer(reviewer)
    on = on or today()
    proof = latest_proof(application)
    if proof is None:
        raise InvalidTransition("Es liegt kein Verwendungsnachweis vor.")
    if proof.ngo_share_cents > 0 and proof.ngo_proof_checked_on is None:  # R30
        raise DomainError(
            "Bitte prüfen Sie zuerst den Verwendungsnachweis des Dritten (Weiterleitung, "
            "Nr. 6.6 ANBest-K).",
            field="final_eligible",
        )
    transition(application, [Status.VN_COMPLETE, Status.VN_AUDIT], Status.VN_CHECKED)
    proof.status, proof.checked_on = ProofStatus.CHECKED, on
    new_grant = None
    if final_eligible_cents is not None:
        if final_eligible_cents < 0:
            raise DomainError(_l("Der Betrag darf nicht negativ sein."), field="final_eligible")
        proof.final_eligible_cents = final_eligible_cents
        decision = approved_decision(application)
        planned = queries.totals_for(application)
        actual = actual_totals(application, proof)
        actual.eligible_cents = final_eligible_cents
        candidate = recalculated_grant(decision, planned, actual, application.third_party_cents)
        if candidate < adjust.current_grant(application):
            revocation.reduce_grant(reviewer, application, candidate)
            new_grant = candidate
    if proof.kind is ProofKind.FINAL:  # R18/R19: the last 10 % only after the final VN's check
        mark_due(application, [InstalmentKind.FINAL])
    add_event(application, EventKind.VN_CHECKED, reviewer, on=on, new_grant_cents=new_grant)
    close_if_settled(application)  # T19: the reduction may have cancelled the final instalment
    return new_grant

"""The daily deadline job (system actor S): timers of RULES.md §5 turned into state changes,
tasks (``Notification``) and e-mails.

``run_deadlines(on)`` handles, in this order:

* T11 — RUNNING grants whose approved Bewilligungszeitraum has ended become VN_DUE with the R21
  deadline; the organisation is told.
* R21 — VN due within 28 days → reminder; VN overdue → reminder with a four-week Nachfrist to
  the organisation and a task for the ministry; Nachfrist over and still VN_DUE → revocation
  check (T24).
* R30 — pass-through allowed: the NGO's proof (six months after the purpose) → reminder to the
  organisation 28 days before.
* R18 — completeness check of a received proof due within 7 days or overdue → ministry task.
* R19 — final instalment not yet paid one month before (and after) its latest payment date →
  ministry and finance alert.
* R24 — FINAL grant without start notice 365 days after the Bescheid was received → revocation
  check (T23).
* R29 — publicity not confirmed by the end of the cure period → revocation check with a
  5–15 % recovery proposal.
* R26 — open revocation checks: warning at ten months, alert once the one-year decision period
  is over.
* T19 — safety net: a VN_CHECKED grant with a checked final proof and no open instalment closes.
* F15 — dunning of open recovery claims: reminder, second reminder (organisation), handover note
  to enforcement (finance), each after its period in ``programme``; amounts below the KLB limits
  are not dunned (``finance.interest.dunning_waived``/``enforcement_waived``).

Idempotent: every notification has a deterministic ``dedupe_key`` (unique in the database), mails
are queued only together with a new notification, and every state change is guarded by the
current status, so a second run on the same day creates nothing. A revocation check that a
reviewer closed without revocation (T27) is not reopened for the same facts.

No Flask request objects, no commits: the CLI command owns the one transaction. Two runs racing
each other cannot double anything either: the later one fails on the unique ``dedupe_key`` and
rolls back as a whole.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import ScalarSelect, and_, func
from sqlalchemy.orm import aliased, joinedload

from app.auth.models import Role, User, UserRole
from app.common.dates import add_months
from app.common.errors import DomainError
from app.common.formatting import date_de
from app.common.mail import queue_mail
from app.common.money import format_eur
from app.common.programme import (
    CHECK_WARNING_DAYS,
    DUNNING_HANDOVER_DAYS,
    DUNNING_SECOND_REMINDER_DAYS,
    FINAL_PAYMENT_ALERT_MONTHS,
    START_DEADLINE_DAYS,
    VN_GRACE_DAYS,
    VN_REMINDER_DAYS,
)
from app.extensions import db
from app.finance.models import (
    ClaimStatus,
    GrantAccount,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    RecoveryClaim,
)
from app.finance.services import claims as claim_service
from app.grants.models import (
    TERMINAL_STATUSES,
    Application,
    Decision,
    DecisionStatus,
    EventKind,
    Status,
)
from app.grants.services.applications import add_event, transition
from app.postaward.models import (
    Notification,
    ProofOfUse,
    ProofStatus,
    RevocationCase,
    RevocationReason,
)
from app.postaward.services import revocation
from app.postaward.services.closing import close_if_settled
from app.postaward.services.proof import ngo_proof_due_date, vn_due_date

logger = logging.getLogger(__name__)

# --- timers (RULES.md §5; *design* where the rules leave the number open) ----------------------

# --- notification kinds -------------------------------------------------------------------------

VN_DUE = "vn_due"  # T11: organisation
VN_REMINDER = "vn_reminder"  # R21: organisation
VN_OVERDUE = "vn_overdue"  # R21: organisation and ministry
VN_CHECK_DUE = "vn_check_due"  # R18: ministry
FINAL_PAYMENT_ALERT = "final_payment_alert"  # R19: ministry and finance
FINAL_PAYMENT_OVERDUE = "final_payment_overdue"  # R19: ministry and finance
REVOCATION_OPENED = "revocation_opened"  # T23, T24, R29: ministry
REVOCATION_WARNING = "revocation_warning"  # R26: ministry
REVOCATION_EXPIRED = "revocation_expired"  # R26: ministry
DUNNING_REMINDER = "dunning_reminder"  # F15: organisation (Mahnung)
DUNNING_SECOND_REMINDER = "dunning_second_reminder"  # F15: organisation (zweite Mahnung)
DUNNING_HANDOVER = "dunning_handover"  # F15: finance (Abgabe an die Vollstreckung)
NGO_PROOF_DUE = "ngo_proof_due"  # R30: organisation (the NGO's proof under ANBK 6.6)

#: Ministry kinds that concern finance staff as well (task list filter and mail recipients).
#: Reviewers, approvers and admins see every ministry task.
FINANCE_KINDS = frozenset({FINAL_PAYMENT_ALERT, FINAL_PAYMENT_OVERDUE, DUNNING_HANDOVER})
REVIEW_ROLES = (Role.REVIEWER, Role.APPROVER)

REASON_LABELS = {
    RevocationReason.NO_START: "kein Vorhabenbeginn binnen eines Jahres (Nr. 1.4, 8.2.3 ANBest-K)",
    RevocationReason.VN_OVERDUE: "Verwendungsnachweis trotz Mahnung nicht vorgelegt "
    "(Nr. 8.3.1 ANBest-K)",
    RevocationReason.PUBLICITY: "Öffentlichkeitsarbeit nicht nachgeholt (§ 44a SäHO)",
}


def ministry_roles_for(kind: str) -> tuple[Role, ...]:
    """Roles whose active users get the mail of a ministry notification of ``kind``."""
    return (*REVIEW_ROLES, Role.FINANCE) if kind in FINANCE_KINDS else REVIEW_ROLES


# --- report -------------------------------------------------------------------------------------


@dataclass
class DeadlineReport:
    """What one run did: new notifications per kind, mails, state changes, skipped steps."""

    on: date
    notifications: Counter[str] = field(default_factory=Counter)
    mails: int = 0
    vn_due: list[str] = field(default_factory=list)  # references moved to VN_DUE (T11)
    revocation_checks: list[tuple[str, RevocationReason]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # state changed meanwhile
    closed: list[str] = field(default_factory=list)  # references closed (T19 safety net)
    dunned: list[str] = field(default_factory=list)  # F15: "Kassenzeichen: step"
    not_dunned: list[str] = field(default_factory=list)  # F15: small amounts (KLB)

    @property
    def total_notifications(self) -> int:
        return sum(self.notifications.values())

    def lines(self) -> list[str]:
        """The report in German (printed by ``flask postaward run-deadlines``)."""
        out = [f"Fristenlauf zum {date_de(self.on)}:"]
        out.append(f"  {len(self.vn_due)} Zuwendung(en) mit fälligem Verwendungsnachweis (T11)")
        for reference in self.vn_due:
            out.append(f"    {reference}")
        out.append(f"  {len(self.revocation_checks)} Widerrufsprüfung(en) eröffnet")
        for reference, reason in self.revocation_checks:
            out.append(f"    {reference}: {REASON_LABELS.get(reason, reason.value)}")
        out.append(f"  {len(self.closed)} Zuwendung(en) abgeschlossen (T19)")
        for reference in self.closed:
            out.append(f"    {reference}")
        out.append(f"  {self.total_notifications} neue Aufgabe(n)/Erinnerung(en)")
        for kind in sorted(self.notifications):
            out.append(f"    {kind}: {self.notifications[kind]}")
        out.append(f"  {len(self.dunned)} Mahnschritt(e) bei Rückforderungen")
        for item in self.dunned:
            out.append(f"    {item}")
        if self.not_dunned:
            out.append(f"  {len(self.not_dunned)} Rückforderung(en) als Kleinbetrag nicht gemahnt:")
            for item in self.not_dunned:
                out.append(f"    {item}")
        out.append(f"  {self.mails} E-Mail(s) in den Postausgang gestellt")
        if self.skipped:
            out.append(f"  {len(self.skipped)} Schritt(e) übersprungen (Stand hat sich geändert):")
            for item in self.skipped:
                out.append(f"    {item}")
        return out


# --- the run ------------------------------------------------------------------------------------


def run_deadlines(on: date) -> DeadlineReport:
    """Run every timer for the day ``on`` (see the module docstring). Idempotent; no commit."""
    run = _Run(on)
    run.period_ended()  # T11 first: its deadline feeds the R21 reminders of the same run
    run.vn_deadlines()  # R21, T24
    run.ngo_proofs()  # R30
    run.completeness_checks()  # R18
    run.final_payments()  # R19
    run.no_start()  # R24, T23
    run.publicity()  # R29
    run.dunning()  # F15
    run.revocation_deadlines()  # R26 last: also warns about checks opened in this run
    run.settled()  # T19 safety net: checked grants whose money is settled close
    logger.info(
        "deadlines_run",
        extra={
            "on": on.isoformat(),
            "notifications": dict(run.report.notifications),
            "mails": run.report.mails,
            "vn_due": len(run.report.vn_due),
            "revocation_checks": len(run.report.revocation_checks),
            "skipped": len(run.report.skipped),
            "dunned": len(run.report.dunned),
        },
    )
    return run.report


class _Run:
    def __init__(self, on: date) -> None:
        self.on = on
        self.report = DeadlineReport(on)
        self._org_recipients: dict[int, list[str]] = {}
        self._ministry_recipients: dict[tuple[Role, ...], list[str]] = {}

    # --- rules ----------------------------------------------------------------------------------

    def period_ended(self) -> None:
        """T11 (S): the approved grant period has ended → VN_DUE with the R21 deadline."""
        for application, decision in _running_with_ended_period(self.on):
            period_end = decision.period_end

            def step(application: Application = application, decision: Decision = decision) -> None:
                transition(application, [Status.RUNNING], Status.VN_DUE)
                if application.purpose_fulfilled_on is None:
                    application.purpose_fulfilled_on = decision.period_end
                application.vn_due_on = vn_due_date(decision, application.purpose_fulfilled_on)
                add_event(
                    application,
                    EventKind.PURPOSE_FULFILLED,
                    None,
                    message="Der Bewilligungszeitraum ist beendet.",
                    period_end=decision.period_end,
                    purpose_fulfilled_on=application.purpose_fulfilled_on,
                    vn_due_on=application.vn_due_on,
                )

            if not self._guarded(application, "T11", step):
                continue
            assert application.vn_due_on is not None  # noqa: S101 - set by step()
            self.report.vn_due.append(_ref(application))
            self.notify(
                f"vn-due:{application.id}:{application.vn_due_on}",
                VN_DUE,
                application,
                ministry=False,
                due_on=application.vn_due_on,
                subject=f"Verwendungsnachweis fällig am {date_de(application.vn_due_on)}",
                message=(
                    f"Der Bewilligungszeitraum der Zuwendung {_ref(application)} endete am "
                    f"{date_de(period_end)}. Bitte legen Sie den Verwendungsnachweis (Sachbericht "
                    f"und zahlenmäßiger Nachweis) bis zum {date_de(application.vn_due_on)} vor "
                    "(Nr. 6.1 ANBest-K)."
                ),
            )

    def vn_deadlines(self) -> None:
        """R21: reminder before the deadline, overdue reminder with Nachfrist, then T24."""
        horizon = self.on + timedelta(days=VN_REMINDER_DAYS)
        applications = (
            db.session.execute(
                db.select(Application)
                .where(
                    Application.status == Status.VN_DUE,
                    Application.vn_due_on.is_not(None),
                    Application.vn_due_on <= horizon,
                )
                .options(joinedload(Application.organisation))
                .order_by(Application.id)
            )
            .scalars()
            .all()
        )
        for application in applications:
            due = application.vn_due_on
            assert due is not None  # noqa: S101 - filtered above
            if self.on <= due:
                self.notify(
                    f"vn-reminder:{application.id}:{due}",
                    VN_REMINDER,
                    application,
                    ministry=False,
                    due_on=due,
                    subject=f"Verwendungsnachweis fällig am {date_de(due)}",
                    message=(
                        f"Verwendungsnachweis fällig am {date_de(due)}: Bitte legen Sie den "
                        f"Verwendungsnachweis zur Zuwendung {_ref(application)} rechtzeitig vor "
                        "(Nr. 6.1 ANBest-K)."
                    ),
                )
                continue
            self._vn_overdue(application, due)

    def ngo_proofs(self) -> None:
        """R30 (ANBK 6.6): where the Bescheid allows a pass-through, the organisation is reminded
        28 days before the NGO's six-month deadline to collect the NGO's proof of use."""
        rows = db.session.execute(
            db.select(Application, Decision)
            .join(Decision, Decision.application_id == Application.id)
            .where(
                Decision.status == DecisionStatus.APPROVED,
                Decision.pass_through_allowed.is_(True),
                Application.status == Status.VN_DUE,
                Application.purpose_fulfilled_on.is_not(None),
            )
            .options(joinedload(Application.organisation))
            .order_by(Application.id)
        ).all()
        for application, decision in rows:
            assert application.purpose_fulfilled_on is not None  # noqa: S101 - filtered above
            due = ngo_proof_due_date(decision, application.purpose_fulfilled_on)
            if not self.on >= due - timedelta(days=VN_REMINDER_DAYS):
                continue
            self.notify(
                f"ngo-proof:{application.id}:{due}",
                NGO_PROOF_DUE,
                application,
                ministry=False,
                due_on=due,
                subject=f"Nachweis des Dritten fällig am {date_de(due)}",
                message=(
                    f"Nachweis des Dritten fällig am {date_de(due)}: "
                    f"{decision.pass_through_recipient} weist die Verwendung der weitergeleiteten "
                    f"Mittel der Zuwendung {_ref(application)} mit Belegliste nach; bitte fügen "
                    "Sie den Nachweis Ihrem Verwendungsnachweis bei (Nr. 6.6 ANBest-K)."
                ),
            )

    def _vn_overdue(self, application: Application, due: date) -> None:
        key = f"vn-overdue:{application.id}:{due}"
        earlier = db.session.execute(
            db.select(Notification.due_on).where(Notification.dedupe_key == key)
        ).first()
        if earlier is not None:
            # T24: reminded in an earlier run; Nachfrist over and still VN_DUE → revocation check.
            grace_end = earlier[0] or due + timedelta(days=VN_GRACE_DAYS)
            if self.on >= grace_end:
                self._open_check(
                    application,
                    RevocationReason.VN_OVERDUE,
                    grace_end,
                    note=(
                        f"Verwendungsnachweis war fällig am {date_de(due)}; trotz Mahnung bis "
                        f"zum {date_de(grace_end)} nicht vorgelegt (Nr. 8.3.1 ANBest-K)."
                    ),
                )
            return
        # Nachfrist: four weeks after the deadline; if this reminder goes out late (the job did
        # not run), four weeks counted from the day of the reminder.
        grace_end = max(
            due + timedelta(days=VN_GRACE_DAYS), self.on + timedelta(days=VN_GRACE_DAYS - 1)
        )
        self.notify(
            key,
            VN_OVERDUE,
            application,
            ministry=False,
            due_on=grace_end,
            subject="Verwendungsnachweis überfällig",
            message=(
                f"Verwendungsnachweis überfällig: Der Verwendungsnachweis zur Zuwendung "
                f"{_ref(application)} war am {date_de(due)} fällig. Bitte legen Sie ihn "
                f"umgehend vor. Liegt er am {date_de(grace_end)} nicht vor, prüft die "
                "Bewilligungsbehörde den Widerruf des Zuwendungsbescheids (Nr. 8.3.1 ANBest-K)."
            ),
        )
        self.notify(
            f"vn-overdue-lpr:{application.id}:{due}",
            VN_OVERDUE,
            application,
            ministry=True,
            due_on=grace_end,
            subject=f"Verwendungsnachweis überfällig: {_ref(application)}",
            message=(
                f"Verwendungsnachweis überfällig: {_ref(application)} "
                f"({_org(application)}) war am {date_de(due)} fällig; die Empfängerin ist "
                f"gemahnt. Widerrufsprüfung ab {date_de(grace_end)}, falls er nicht eingeht."
            ),
        )

    def completeness_checks(self) -> None:
        """R18: the completeness check of the latest received proof is due within 7 days."""
        horizon = self.on + timedelta(days=CHECK_WARNING_DAYS)
        rows = db.session.execute(
            db.select(ProofOfUse, Application)
            .join(Application, Application.id == ProofOfUse.application_id)
            .where(
                ProofOfUse.version == _latest_proof_version(),
                ProofOfUse.status == ProofStatus.RECEIVED,
                ProofOfUse.check_due_on <= horizon,
                Application.status.not_in(list(TERMINAL_STATUSES)),
            )
            .options(joinedload(Application.organisation))
            .order_by(ProofOfUse.check_due_on, ProofOfUse.id)
        ).all()
        for proof, application in rows:
            late = " (Frist überschritten)" if proof.check_due_on < self.on else ""
            self.notify(
                f"vn-check-due:{proof.id}:{proof.check_due_on}",
                VN_CHECK_DUE,
                application,
                ministry=True,
                due_on=proof.check_due_on,
                subject=f"Vollständigkeitsprüfung fällig bis {date_de(proof.check_due_on)}",
                message=(
                    f"Vollständigkeitsprüfung fällig bis {date_de(proof.check_due_on)}{late}: "
                    f"Verwendungsnachweis (Fassung {proof.version}) zu {_ref(application)} "
                    f"({_org(application)}), R18 / Nr. 7.1 VVK."
                ),
            )

    def final_payments(self) -> None:
        """R19: the final instalment is paid at the latest six months after the complete VN;
        alert at five months (one month before) and once the date has passed."""
        unpaid_final = (
            db.select(Instalment.id)
            .where(
                Instalment.application_id == Application.id,
                Instalment.kind == InstalmentKind.FINAL,
                Instalment.status.not_in([InstalmentStatus.PAID, InstalmentStatus.CANCELLED]),
            )
            .exists()
        )
        applications = (
            db.session.execute(
                db.select(Application)
                .where(
                    Application.status.in_(
                        [Status.VN_COMPLETE, Status.VN_AUDIT, Status.VN_CHECKED]
                    ),
                    Application.final_payment_due_on.is_not(None),
                    Application.final_payment_due_on <= self.on + timedelta(days=31),
                    unpaid_final,
                )
                .options(joinedload(Application.organisation))
                .order_by(Application.id)
            )
            .scalars()
            .all()
        )
        for application in applications:
            due = application.final_payment_due_on
            assert due is not None  # noqa: S101 - filtered above
            if self.on > due:
                self.notify(
                    f"final-payment-overdue:{application.id}:{due}",
                    FINAL_PAYMENT_OVERDUE,
                    application,
                    ministry=True,
                    due_on=due,
                    subject=f"Schlussrate überfällig: {_ref(application)}",
                    message=(
                        f"Schlussrate überfällig: Die Schlussrate zu {_ref(application)} "
                        f"({_org(application)}) hätte spätestens am {date_de(due)} ausgezahlt "
                        "werden müssen (sechs Monate nach vollständigem Verwendungsnachweis, "
                        "R19 / Nr. 7.1 VVK)."
                    ),
                )
            elif self.on >= add_months(due, -FINAL_PAYMENT_ALERT_MONTHS):
                self.notify(
                    f"final-payment-alert:{application.id}:{due}",
                    FINAL_PAYMENT_ALERT,
                    application,
                    ministry=True,
                    due_on=due,
                    subject=f"Schlussrate spätestens am {date_de(due)}: {_ref(application)}",
                    message=(
                        f"Schlussrate spätestens am {date_de(due)} auszahlen: Prüfung des "
                        f"Verwendungsnachweises zu {_ref(application)} ({_org(application)}) "
                        "abschließen und die Schlussrate anweisen (R19 / Nr. 7.1 VVK)."
                    ),
                )

    def no_start(self) -> None:
        """R24/T23: no start notified within 365 days after the Bescheid was received."""
        latest_notified = self.on - timedelta(days=START_DEADLINE_DAYS + 1)
        applications = (
            db.session.execute(
                db.select(Application)
                .where(
                    Application.status == Status.FINAL,
                    Application.notified_on.is_not(None),
                    Application.notified_on <= latest_notified,
                )
                .options(joinedload(Application.organisation))
                .order_by(Application.id)
            )
            .scalars()
            .all()
        )
        for application in applications:
            assert application.notified_on is not None  # noqa: S101 - filtered above
            facts_known_on = application.notified_on + timedelta(days=START_DEADLINE_DAYS)
            self._open_check(
                application,
                RevocationReason.NO_START,
                facts_known_on,
                note=(
                    f"Bescheid bekanntgegeben am {date_de(application.notified_on)}; bis "
                    f"{date_de(facts_known_on)} kein Vorhabenbeginn angezeigt "
                    "(Nr. 1.4, 8.2.3 ANBest-K)."
                ),
            )

    def publicity(self) -> None:
        """R29: publicity (§ 44a SäHO) not confirmed by the end of the cure period."""
        rows = db.session.execute(
            db.select(ProofOfUse, Application)
            .join(Application, Application.id == ProofOfUse.application_id)
            .where(
                ProofOfUse.version == _latest_proof_version(),
                ProofOfUse.publicity_confirmed.is_(False),
                ProofOfUse.publicity_cure_until.is_not(None),
                ProofOfUse.publicity_cure_until < self.on,
                Application.status.in_(list(revocation.CHECKABLE)),
            )
            .options(joinedload(Application.organisation))
            .order_by(ProofOfUse.id)
        ).all()
        for proof, application in rows:
            cure_until = proof.publicity_cure_until
            assert cure_until is not None  # noqa: S101 - filtered above
            grant = _grant_cents(application)
            low, high = revocation.publicity_recovery_proposal(grant)
            self._open_check(
                application,
                RevocationReason.PUBLICITY,
                cure_until,
                note=(
                    f"Die Information der Öffentlichkeit über die Förderung (§ 44a SäHO) wurde "
                    f"bis zum {date_de(cure_until)} nicht bestätigt. Vorschlag: Rückforderung von "
                    f"5–15 % der Zuwendung von {format_eur(grant)}, also {format_eur(low)} bis "
                    f"{format_eur(high)} (R29)."
                ),
            )

    def revocation_deadlines(self) -> None:
        """R26: decide within a year of knowing the facts; warn at ten months, then alert."""
        cases = (
            db.session.execute(
                db.select(RevocationCase)
                .where(RevocationCase.closed_on.is_(None))
                .options(
                    joinedload(RevocationCase.application).joinedload(Application.organisation)
                )
                .order_by(RevocationCase.id)
            )
            .scalars()
            .all()
        )
        for case in cases:
            deadline = revocation.decision_deadline(case)
            application = case.application
            reason = REASON_LABELS.get(case.reason, case.reason.value)
            if self.on > deadline:
                self.notify(
                    f"revocation-expired:{case.id}",
                    REVOCATION_EXPIRED,
                    application,
                    ministry=True,
                    due_on=deadline,
                    subject=f"Widerrufsfrist abgelaufen: {_ref(application)}",
                    message=(
                        f"Widerrufsfrist abgelaufen am {date_de(deadline)}: Widerrufsprüfung zu "
                        f"{_ref(application)} ({_org(application)}; {reason}), Tatsachen bekannt "
                        f"seit {date_de(case.facts_known_on)}. Ein Widerruf ist nach § 48 Abs. 4, "
                        "§ 49 Abs. 2 VwVfG nicht mehr möglich; bitte die Prüfung abschließen."
                    ),
                )
            elif self.on >= revocation.warning_date(case):
                self.notify(
                    f"revocation-warning:{case.id}",
                    REVOCATION_WARNING,
                    application,
                    ministry=True,
                    due_on=deadline,
                    subject=f"Widerrufsfrist endet am {date_de(deadline)}: {_ref(application)}",
                    message=(
                        f"Widerrufsfrist endet am {date_de(deadline)}: Widerrufsprüfung zu "
                        f"{_ref(application)} ({_org(application)}; {reason}), Tatsachen bekannt "
                        f"seit {date_de(case.facts_known_on)} (R26 / Nr. 8.4 VVK)."
                    ),
                )

    # --- helpers --------------------------------------------------------------------------------

    def _open_check(
        self,
        application: Application,
        reason: RevocationReason,
        facts_known_on: date,
        *,
        note: str,
    ) -> None:
        """Open a revocation check unless one for the same facts exists (open, or closed by a
        reviewer without revocation — T27 — which the job must not undo)."""
        seen = db.session.execute(
            db.select(RevocationCase.id).where(
                RevocationCase.application_id == application.id,
                RevocationCase.reason == reason,
                RevocationCase.facts_known_on == facts_known_on,
            )
        ).first()
        if seen is not None:
            return
        opened: list[RevocationCase] = []

        def step() -> None:
            opened.append(
                revocation.open_check(
                    application,
                    reason=reason,
                    facts_known_on=facts_known_on,
                    actor=None,
                    note=note,
                )
            )

        if not self._guarded(application, f"Widerrufsprüfung ({reason.value})", step):
            return
        case = opened[0]
        self.report.revocation_checks.append((_ref(application), reason))
        deadline = revocation.decision_deadline(case)
        self.notify(
            f"revocation-opened:{case.id}",
            REVOCATION_OPENED,
            application,
            ministry=True,
            due_on=deadline,
            subject=f"Widerrufsprüfung eröffnet: {_ref(application)}",
            message=(
                f"Widerrufsprüfung eröffnet zu {_ref(application)} ({_org(application)}): "
                f"{REASON_LABELS.get(reason, reason.value)}. {note} Entscheidung bis "
                f"{date_de(deadline)} (R26)."
            ),
        )

    def settled(self) -> None:
        """T19 (safety net): a checked grant with no open instalment closes, whatever step
        settled its money (closing is otherwise tried where that happens)."""
        open_instalment = (
            db.select(Instalment.id)
            .where(
                Instalment.application_id == Application.id,
                Instalment.status.not_in([InstalmentStatus.PAID, InstalmentStatus.CANCELLED]),
            )
            .exists()
        )
        applications = (
            db.session.execute(
                db.select(Application)
                .where(Application.status == Status.VN_CHECKED, ~open_instalment)
                .order_by(Application.id)
            )
            .scalars()
            .all()
        )
        for application in applications:

            def step(application: Application = application) -> None:
                if close_if_settled(application):
                    self.report.closed.append(_ref(application))

            self._guarded(application, "T19", step)

    def dunning(self) -> None:
        """F15: open recovery claims past their due date are dunned step by step (reminder,
        second reminder, handover note to enforcement); the KLB small-amount limits stop a
        step. One step per claim and run; the guarded level change and the dedupe key make a
        second run on the same day a no-op."""
        claims_due = (
            db.session.execute(
                db.select(RecoveryClaim)
                .where(RecoveryClaim.status == ClaimStatus.OPEN, RecoveryClaim.due_on < self.on)
                .options(joinedload(RecoveryClaim.application).joinedload(Application.organisation))
                .order_by(RecoveryClaim.id)
            )
            .scalars()
            .all()
        )
        for claim in claims_due:
            level = claim_service.next_dunning_level(claim, self.on)
            if level is None:
                continue
            refusal = claim_service.dunning_refusal(claim, level)
            if refusal is not None:
                self.report.not_dunned.append(f"{claim.kassenzeichen}: {refusal}")
                continue
            if not claim_service.advance_dunning(claim, level, self.on):
                self.report.skipped.append(f"{claim.kassenzeichen}: Mahnstufe {level}")
                continue
            self._dunning_notice(claim, level)

    def _dunning_notice(self, claim: RecoveryClaim, level: int) -> None:
        application = claim.application
        open_text = (
            f"{format_eur(claim.open_cents)} (Hauptforderung "
            f"{format_eur(claim.principal_open_cents)}, Zinsen "
            f"{format_eur(claim.interest_open_cents)})"
        )
        if level == claim_service.HANDOVER:
            self.report.dunned.append(f"{claim.kassenzeichen}: Abgabe an die Vollstreckung")
            self.notify(
                f"dunning-{level}:{claim.id}",
                DUNNING_HANDOVER,
                application,
                ministry=True,
                due_on=self.on,
                subject=f"Rückforderung {claim.kassenzeichen}: Abgabe an die Vollstreckung",
                message=(
                    f"Abgabe an die Vollstreckung: Die Rückforderung {claim.kassenzeichen} zur "
                    f"Zuwendung {_ref(application)} ({_org(application)}) ist trotz zweier "
                    f"Mahnungen offen: {open_text}. Bitte geben Sie sie an die "
                    "Vollstreckungsstelle ab; Zinsen nach § 49a VwVfG laufen weiter."
                ),
            )
            return
        pay_by = self.on + timedelta(
            days=DUNNING_SECOND_REMINDER_DAYS
            if level == claim_service.REMINDER
            else DUNNING_HANDOVER_DAYS
        )
        kind, label = (
            (DUNNING_REMINDER, "Mahnung")
            if level == claim_service.REMINDER
            else (DUNNING_SECOND_REMINDER, "Zweite Mahnung")
        )
        self.report.dunned.append(f"{claim.kassenzeichen}: {label}")
        then = (
            "Danach wird die Forderung an die Vollstreckung abgegeben."
            if level == claim_service.SECOND_REMINDER
            else "Danach folgt eine zweite Mahnung."
        )
        self.notify(
            f"dunning-{level}:{claim.id}",
            kind,
            application,
            ministry=False,
            due_on=pay_by,
            subject=f"{label}: Rückforderung {claim.kassenzeichen}",
            message=(
                f"{label}: Die Rückforderung zur Zuwendung {_ref(application)} war am "
                f"{date_de(claim.due_on)} fällig und ist noch offen: {open_text}. Bitte "
                f"überweisen Sie den Betrag bis zum {date_de(pay_by)} unter Angabe des "
                f"Kassenzeichens {claim.kassenzeichen}. Zinsen nach § 49a VwVfG laufen bis zum "
                f"Zahlungseingang weiter. {then}"
            ),
        )

    def _guarded(self, application: Application, what: str, step: Callable[[], None]) -> bool:
        """Run a state change in a savepoint; if the status changed meanwhile, skip it."""
        try:
            with db.session.begin_nested():
                step()
        except DomainError as exc:
            db.session.refresh(application)
            self.report.skipped.append(f"{_ref(application)}: {what} – {exc.message}")
            logger.warning(
                "deadline_step_skipped",
                extra={"application_id": application.id, "step": what, "error": exc.message},
            )
            return False
        return True

    def notify(
        self,
        key: str,
        kind: str,
        application: Application,
        *,
        ministry: bool,
        due_on: date | None,
        subject: str,
        message: str,
    ) -> bool:
        """Create the notification unless ``key`` exists; only a new one queues mails (one per
        active organisation user, or per active ministry user with a role for ``kind``)."""
        exists = db.session.execute(
            db.select(Notification.id).where(Notification.dedupe_key == key)
        ).first()
        if exists is not None:
            return False
        db.session.add(
            Notification(
                dedupe_key=key,
                kind=kind,
                application_id=application.id,
                organisation_id=None if ministry else application.organisation_id,
                for_ministry=ministry,
                due_on=due_on,
                message=message,
            )
        )
        add_event(
            application,
            EventKind.REMINDER,
            None,
            internal=ministry,
            message=message,
            notification=key,
        )
        self.report.notifications[kind] += 1
        recipients = (
            self._ministry(ministry_roles_for(kind))
            if ministry
            else self._organisation(application.organisation_id)
        )
        base_url = str(current_app.config.get("PUBLIC_BASE_URL", "")).rstrip("/")
        body = (
            f"Guten Tag,\n\n{message}\n\nIhre Aufgaben im Förderportal: {base_url}/aufgaben\n\n"
            "Ihr Förderportal KommPräv\n"
        )
        for email in recipients:
            queue_mail(email, subject, body)
            self.report.mails += 1
        return True

    def _organisation(self, organisation_id: int) -> list[str]:
        if organisation_id not in self._org_recipients:
            self._org_recipients[organisation_id] = list(
                db.session.execute(
                    db.select(User.email)
                    .where(User.organisation_id == organisation_id, User.active.is_(True))
                    .order_by(User.email)
                ).scalars()
            )
        return self._org_recipients[organisation_id]

    def _ministry(self, roles: tuple[Role, ...]) -> list[str]:
        if roles not in self._ministry_recipients:
            self._ministry_recipients[roles] = list(
                db.session.execute(
                    db.select(User.email)
                    .join(UserRole, UserRole.user_id == User.id)
                    .where(UserRole.role.in_(list(roles)), User.active.is_(True))
                    .group_by(User.email)
                    .order_by(User.email)
                ).scalars()
            )
        return self._ministry_recipients[roles]


# --- queries and rules used by the run ----------------------------------------------------------


def _running_with_ended_period(on: date) -> Sequence[tuple[Application, Decision]]:
    """RUNNING applications with their latest approved decision whose period ended before ``on``."""
    latest = (
        db.select(
            Decision.application_id.label("application_id"),
            func.max(Decision.id).label("decision_id"),
        )
        .where(Decision.status == DecisionStatus.APPROVED)
        .group_by(Decision.application_id)
        .subquery()
    )
    rows = db.session.execute(
        db.select(Application, Decision)
        .join(latest, latest.c.application_id == Application.id)
        .join(Decision, Decision.id == latest.c.decision_id)
        .where(Application.status == Status.RUNNING, Decision.period_end < on)
        .order_by(Application.id)
    ).all()
    return [(application, decision) for application, decision in rows]


def _latest_proof_version() -> ScalarSelect[int]:
    """Correlated scalar subquery: the highest proof version of the row's application."""
    latest = aliased(ProofOfUse)
    return (
        db.select(func.max(latest.version))
        .where(latest.application_id == ProofOfUse.application_id)
        .correlate(ProofOfUse)
        .scalar_subquery()
    )


def _grant_cents(application: Application) -> int:
    """The (possibly reduced) grant: the grant account, else the latest approved decision."""
    account = db.session.get(GrantAccount, application.id)
    if account is not None:
        return account.granted_cents
    grant = db.session.execute(
        db.select(Decision.grant_cents)
        .where(
            and_(
                Decision.application_id == application.id,
                Decision.status == DecisionStatus.APPROVED,
            )
        )
        .order_by(Decision.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return int(grant or 0)


def _ref(application: Application) -> str:
    return application.reference or f"Antrag {application.id}"


def _org(application: Application) -> str:
    return application.organisation.display_name

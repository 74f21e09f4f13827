"""Submission rules R1–R9 (RULES.md §12), each in exactly one function.

Every function returns a list of ``RuleProblem``; an empty list means the rule is met. The
checklist on the application page and ``submit_application`` both call ``check_submission``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.common.dates import add_months, legal_date
from app.common.errors import Message
from app.common.labels import label
from app.common.money import format_eur
from app.common.programme import (
    CONSULTATION_VALID_MONTHS,
    LATE_MIN_DAYS_BEFORE_START,
    MAX_FUNDING_RATE_BP,
    MIN_OWN_SHARE_BP,
    SMALL_GRANT_LIMIT_CENTS,
)
from app.grants.models import Application, Consultation, Document, DocumentType, LineCategory
from app.grants.services.financing import PlanTotals
from app.orgs.models import Organisation, OrgKind


@dataclass(frozen=True)
class RuleProblem:
    """A rule that is not met, with the form field it belongs to (if any)."""

    rule: str
    message: Message  # lazy: shown in the language of the request
    field: str | None = None
    step: str | None = None  # editor step where the user can fix it


@dataclass
class SubmissionContext:
    """Everything the rules need, loaded once by ``queries.submission_context``."""

    application: Application
    organisation: Organisation
    consultations: Sequence[Consultation]
    window: tuple[date, date]
    totals: PlanTotals
    document_types: Sequence[DocumentType]
    documents: Sequence[Document]
    caps_known: bool
    on: date
    consultation_months: int = CONSULTATION_VALID_MONTHS
    problems: list[RuleProblem] = field(default_factory=list)


def check_r1_consultation(
    consultations: Sequence[Consultation],
    on: date,
    months: int = CONSULTATION_VALID_MONTHS,
) -> list[RuleProblem]:
    """R1: a consultation by the LPR Geschäftsstelle is recorded with a date up to ``on`` and at
    most ``months`` calendar months before it (a consultation on the same day of the month
    ``months`` earlier still counts; per funding year, default ``CONSULTATION_VALID_MONTHS``)."""
    earliest = add_months(on, -months)
    if any(earliest <= c.held_on <= on for c in consultations):
        return []
    if any(c.held_on < earliest for c in consultations):
        return [
            RuleProblem(
                "R1",
                f"Das letzte Beratungsgespräch liegt mehr als {months} Monate vor der "
                f"Einreichung (es zählen Gespräche ab dem {earliest:%d.%m.%Y}). Bitte "
                "vereinbaren Sie ein neues Gespräch; die Geschäftsstelle trägt es ein.",
            )
        ]
    return [
        RuleProblem(
            "R1",
            _l(
                "Es ist noch kein Beratungsgespräch mit der Geschäftsstelle des "
                "Landespräventionsrates erfasst. Bitte vereinbaren Sie ein Gespräch; die "
                "Geschäftsstelle trägt es ein."
            ),
        )
    ]


def is_in_window(window: tuple[date, date], on: date) -> bool:
    """R2: submitted inside the application window."""
    return window[0] <= on <= window[1]


def check_r2_window(
    application: Application, window: tuple[date, date], on: date
) -> list[RuleProblem]:
    """R2: in time, or late with a justification and ≥ 42 days before the project start.

    A resubmission is judged by the first submission (design decision, RULES.md T4).
    """
    first = application.first_submitted_at
    judged_on = legal_date(first) if first else on  # the date in Germany (F1)
    if is_in_window(window, judged_on):
        return []
    problems: list[RuleProblem] = []
    if judged_on < window[0]:
        return [
            RuleProblem(
                "R2",
                _l(
                    "Anträge für %(funding_year)s können erst ab %(window)s eingereicht werden.",
                    funding_year=application.funding_year,
                    window=format(window[0], "%d.%m.%Y"),
                ),
            )
        ]
    start = application.project_start
    if start is None or start - judged_on < timedelta(days=LATE_MIN_DAYS_BEFORE_START):
        problems.append(
            RuleProblem(
                "R2",
                _l(
                    "Die Antragsfrist (%(window)s–%(window_2)s) ist abgelaufen. Ein "
                    "verspäteter Antrag muss mindestens %(late_min_days_before_start)s "
                    "Wochen vor Projektbeginn eingehen.",
                    window=format(window[0], "%d.%m.%Y"),
                    window_2=format(window[1], "%d.%m.%Y"),
                    late_min_days_before_start=LATE_MIN_DAYS_BEFORE_START // 7,
                ),
                field="project_start",
                step="general",
            )
        )
    if not application.late_justification.strip():
        problems.append(
            RuleProblem(
                "R2",
                _l(
                    "Die Antragsfrist ist abgelaufen. Bitte begründen Sie die verspätete "
                    "Einreichung."
                ),
                field="late_justification",
                step="submit",
            )
        )
    return problems


def check_r3_applicant(organisation: Organisation, on: date) -> list[RuleProblem]:
    """R3: a Saxon Gemeinde or Landkreis (key starting 14) valid on ``on``, or an Eigenbetrieb
    of one."""
    body = organisation
    if organisation.kind is OrgKind.EIGENBETRIEB:
        if organisation.parent is None:
            return [RuleProblem("R3", _l("Der Eigenbetrieb ist keiner Kommune zugeordnet."))]
        body = organisation.parent
    if body.kind not in (OrgKind.GEMEINDE, OrgKind.LANDKREIS):
        return [RuleProblem("R3", _l("Antragsberechtigt sind nur Gemeinden und Landkreise."))]
    if not (body.ags or "").startswith("14"):
        return [RuleProblem("R3", _l("Antragsberechtigt sind nur sächsische Kommunen."))]
    if not body.is_valid_on(on):
        return [
            RuleProblem(
                "R3",
                _l("Die Kommune ist im Gemeindeverzeichnis zu diesem Datum nicht (mehr) gültig."),
            )
        ]
    return []


def _doc_label(doc_type: DocumentType) -> LazyString:
    """The document type's name, looked up when the message is shown (UI language)."""
    return LazyString(label, doc_type.code, "document_type", doc_type.label_de)


def check_r4_documents(
    application: Application,
    document_types: Sequence[DocumentType],
    documents: Sequence[Document],
) -> list[RuleProblem]:
    """R4: every required document type is present; qualification proof per grant-funded post."""
    problems: list[RuleProblem] = []
    present = {d.type_code for d in documents}
    for doc_type in document_types:
        if not doc_type.required:
            continue
        if doc_type.per_staff_line:
            for line in application.lines:
                if not line.is_grant_funded_staff:
                    continue
                if not any(
                    d.type_code == doc_type.code and d.plan_line_id == line.id for d in documents
                ):
                    name = line.description or f"Personalposition {line.position + 1}"
                    problems.append(
                        RuleProblem(
                            "R4",
                            _l(
                                "%(label_de)s fehlt für „%(name)s“.",
                                label_de=_doc_label(doc_type),
                                name=name,
                            ),
                            field=f"doc_{doc_type.code}",
                            step="documents",
                        )
                    )
        elif doc_type.code not in present:
            problems.append(
                RuleProblem(
                    "R4",
                    _l("%(label_de)s fehlt.", label_de=_doc_label(doc_type)),
                    field=f"doc_{doc_type.code}",
                    step="documents",
                )
            )
    return problems


def check_r5_balance(totals: PlanTotals) -> list[RuleProblem]:
    """R5: Σ expenditure = own share + third-party funds + requested grant, to the cent."""
    if totals.total_expenditure_cents == 0:
        return [
            RuleProblem(
                "R5", _l("Der Finanzierungsplan enthält noch keine Ausgaben."), step="finance"
            )
        ]
    if totals.difference_cents != 0:
        return [
            RuleProblem(
                "R5",
                _l(
                    "Der Finanzierungsplan ist nicht ausgeglichen: Ausgaben "
                    "%(total_expenditure_cents)s, Finanzierung %(financing_total_cents)s "
                    "(Differenz %(difference_cents)s).",
                    total_expenditure_cents=format_eur(totals.total_expenditure_cents),
                    financing_total_cents=format_eur(totals.financing_total_cents),
                    difference_cents=format_eur(totals.difference_cents),
                ),
                field="requested_grant",
                step="finance",
            )
        ]
    return []


def check_r6_rate_and_own_share(application: Application, totals: PlanTotals) -> list[RuleProblem]:
    """R6: grant ≤ 90 % and own share ≥ 10 % of the eligible expenditure; in-kind itemised."""
    problems: list[RuleProblem] = []
    if totals.requested_grant_cents <= 0:
        problems.append(
            RuleProblem(
                "R6",
                _l("Bitte geben Sie die beantragte Zuwendung an."),
                field="requested_grant",
                step="finance",
            )
        )
    eligible = totals.eligible_cents
    if totals.requested_grant_cents * 10000 > eligible * MAX_FUNDING_RATE_BP:
        problems.append(
            RuleProblem(
                "R6",
                _l(
                    "Die Zuwendung darf höchstens %(max_funding_rate_bp)s %% der "
                    "zuwendungsfähigen Ausgaben betragen.",
                    max_funding_rate_bp=MAX_FUNDING_RATE_BP // 100,
                ),
                field="requested_grant",
                step="finance",
            )
        )
    if totals.own_share_cents * 10000 < eligible * MIN_OWN_SHARE_BP:
        problems.append(
            RuleProblem(
                "R6",
                _l(
                    "Der Eigenanteil muss mindestens %(min_own_share_bp)s %% der "
                    "zuwendungsfähigen Ausgaben betragen.",
                    min_own_share_bp=MIN_OWN_SHARE_BP // 100,
                ),
                field="own_share_cash",
                step="finance",
            )
        )
    for line in application.lines:
        if line.in_kind and not line.description.strip():
            problems.append(
                RuleProblem(
                    "R6",
                    _l(
                        "Jede Eigenleistung (Sachmittel oder Personal der Kommune) muss einzeln "
                        "bezeichnet werden."
                    ),
                    step="finance",
                )
            )
            break
    return problems


def check_r7_investive(application: Application, totals: PlanTotals) -> list[RuleProblem]:
    """R7: investive lines are excluded from the eligible base (done in ``compute_totals``);
    they may not be funded from the grant, so an all-investive plan cannot be submitted."""
    if totals.total_expenditure_cents > 0 and totals.eligible_cents == 0:
        return [
            RuleProblem(
                "R7",
                _l(
                    "Investive Ausgaben sind nicht zuwendungsfähig; der Plan enthält keine "
                    "zuwendungsfähigen Ausgaben."
                ),
                step="finance",
            )
        ]
    return []


def check_r8_staff(application: Application, caps_known: bool) -> list[RuleProblem]:
    """R8: each grant-funded staff line names its TV-L group, step, qualification, FTE, months."""
    problems: list[RuleProblem] = []
    staff = [ln for ln in application.lines if ln.category is LineCategory.STAFF and not ln.in_kind]
    for line in staff:
        name = line.description or f"Personalposition {line.position + 1}"
        if not (
            line.pay_group
            and line.pay_step
            and line.qualification
            and line.fte_permille
            and line.months
        ):
            problems.append(
                RuleProblem(
                    "R8",
                    _l(
                        "Für „%(name)s“ fehlen Entgeltgruppe und Stufe (TV-L), Qualifikation, "
                        "Stellenanteil oder Monate.",
                        name=name,
                    ),
                    step="finance",
                )
            )
    if staff and not caps_known:
        problems.append(
            RuleProblem(
                "R8",
                _l(
                    "Für dieses Förderjahr sind keine TV-L-Obergrenzen hinterlegt. Bitte "
                    "wenden Sie sich an die Geschäftsstelle."
                ),
                step="finance",
            )
        )
    return problems


def check_r9_small_grant(
    application: Application, grant_cents: int | None = None
) -> list[RuleProblem]:
    """R9: a grant of at most 10,000 EUR needs one of the RL V.6 exception reasons.

    Judged on the requested grant at submission and on the *approved* grant (``grant_cents``) at
    decision preparation and approval (``review.check_r9_decision``).
    """
    grant = application.requested_grant_cents if grant_cents is None else grant_cents
    if 0 < grant <= SMALL_GRANT_LIMIT_CENTS and application.small_grant_reason is None:
        return [
            RuleProblem(
                "R9",
                _l(
                    "Zuwendungen bis 10.000 € sind nur ausnahmsweise möglich (RL V.6). Bitte "
                    "wählen Sie den zutreffenden Ausnahmegrund."
                ),
                field="small_grant_reason",
                step="finance",
            )
        ]
    return []


def check_general(application: Application) -> list[RuleProblem]:
    """Basic completeness: title, purpose and a consistent project period."""
    problems: list[RuleProblem] = []
    if not application.title.strip():
        problems.append(
            RuleProblem("", _l("Bitte geben Sie einen Projekttitel an."), "title", "general")
        )
    if not application.purpose.strip():
        problems.append(
            RuleProblem("", _l("Bitte beschreiben Sie den Zuwendungszweck."), "purpose", "general")
        )
    start, end = application.project_start, application.project_end
    if start is None or end is None:
        problems.append(
            RuleProblem(
                "", _l("Bitte geben Sie den Projektzeitraum an."), "project_start", "general"
            )
        )
    elif end < start:
        problems.append(
            RuleProblem(
                "", _l("Das Projektende liegt vor dem Projektbeginn."), "project_end", "general"
            )
        )
    if not application.office_unit.strip():
        problems.append(
            RuleProblem(
                "", _l("Bitte beschreiben Sie die Koordinierungsstelle."), "office_unit", "kpr"
            )
        )
    return problems


def check_t2_project_start(application: Application, on: date) -> list[RuleProblem]:
    """T2 plausibility (issue 12): the planned project start is not before the (first)
    submission — the applicant confirms the project has not started (RL VI.3), and a start in
    the past would make the first instalment due at once after approval."""
    first = application.first_submitted_at
    judged_on = legal_date(first) if first else on
    start = application.project_start
    if start is not None and start < judged_on:
        return [
            RuleProblem(
                "T2",
                f"Der Projektbeginn ({start:%d.%m.%Y}) darf nicht vor der Einreichung "
                f"({judged_on:%d.%m.%Y}) liegen.",
                "project_start",
                "general",
            )
        ]
    return []


def check_submission(ctx: SubmissionContext) -> list[RuleProblem]:
    """All submission rules in order; empty when the application may be submitted."""
    app = ctx.application
    return [
        *check_general(app),
        *check_t2_project_start(app, ctx.on),
        *check_r1_consultation(ctx.consultations, ctx.on, ctx.consultation_months),
        *check_r2_window(app, ctx.window, ctx.on),
        *check_r3_applicant(ctx.organisation, ctx.on),
        *check_r4_documents(app, ctx.document_types, ctx.documents),
        *check_r5_balance(ctx.totals),
        *check_r6_rate_and_own_share(app, ctx.totals),
        *check_r7_investive(app, ctx.totals),
        *check_r8_staff(app, ctx.caps_known),
        *check_r9_small_grant(app),
    ]

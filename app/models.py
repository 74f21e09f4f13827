"""Re-exports every model so that Alembic and ``flask shell`` see the whole schema."""

from app.api.models import ApiIdempotency
from app.auth.models import (
    ApiToken,
    Invitation,
    LoginCounter,
    LoginLock,
    RecoveryCode,
    Role,
    User,
    UserRole,
    UserSession,
)
from app.budget.models import BudgetYear, Commitment, CommitmentAuthorisation
from app.common.audit import AuditEvent
from app.common.mail import OutboxMessage
from app.finance.models import (
    BankAccount,
    BankStatement,
    BaseRate,
    GrantAccount,
    Instalment,
    JournalEntry,
    PaymentRun,
    PayoutOrder,
    Posting,
    RecoveryClaim,
    StatementLine,
)
from app.grants.models import (
    Application,
    ApplicationEvent,
    Consultation,
    Document,
    DocumentType,
    FundingYear,
    KprRecord,
    PayScale,
    PlanLine,
    Submission,
)
from app.monitoring.models import MilestoneEvent
from app.orgs.models import Organisation
from app.postaward.models import AuditSample, Notification, ProofLine, ProofOfUse, RevocationCase

__all__ = [
    "ApiIdempotency",
    "ApiToken",
    "MilestoneEvent",
    "AuditSample",
    "BaseRate",
    "Notification",
    "ProofLine",
    "ProofOfUse",
    "RecoveryClaim",
    "RevocationCase",
    "BankAccount",
    "BankStatement",
    "StatementLine",
    "GrantAccount",
    "Instalment",
    "JournalEntry",
    "PaymentRun",
    "PayoutOrder",
    "Posting",
    "Application",
    "ApplicationEvent",
    "AuditEvent",
    "BudgetYear",
    "Commitment",
    "CommitmentAuthorisation",
    "Consultation",
    "Document",
    "DocumentType",
    "FundingYear",
    "Invitation",
    "KprRecord",
    "LoginCounter",
    "LoginLock",
    "Organisation",
    "OutboxMessage",
    "PayScale",
    "PlanLine",
    "RecoveryCode",
    "Role",
    "Submission",
    "User",
    "UserRole",
    "UserSession",
]

"""recovery claims: partial payments (§ 367 BGB order, R27) and dunning (KLB, F15)

Revision ID: 0011
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_CENTS = (
    "costs_cents",
    "costs_paid_cents",
    "interest_paid_cents",
    "principal_paid_cents",
    "interest_accrued_cents",
)


def upgrade():
    with op.batch_alter_table("recovery_claim") as batch:
        for name in _CENTS:
            batch.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("interest_until", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("payment_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("dunning_level", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("dunned_on", sa.Date(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_recovery_claim_principal_paid_range"),
            "principal_paid_cents >= 0 AND principal_paid_cents <= principal_cents",
        )
        batch.create_check_constraint(
            op.f("ck_recovery_claim_interest_paid_range"),
            "interest_paid_cents >= 0 AND interest_paid_cents <= interest_cents",
        )
        batch.create_check_constraint(
            op.f("ck_recovery_claim_costs_paid_range"),
            "costs_paid_cents >= 0 AND costs_paid_cents <= costs_cents",
        )
        batch.create_check_constraint(
            op.f("ck_recovery_claim_dunning_level_range"), "dunning_level BETWEEN 0 AND 3"
        )
    # Claims paid in full before this migration: principal and interest count as paid.
    op.execute(
        "UPDATE recovery_claim SET principal_paid_cents = principal_cents, "
        "interest_paid_cents = interest_cents, interest_accrued_cents = interest_cents, "
        "interest_until = paid_on, payment_count = 1 WHERE status = 'paid'"
    )


def downgrade():
    with op.batch_alter_table("recovery_claim") as batch:
        for name in (
            "dunning_level_range",
            "costs_paid_range",
            "interest_paid_range",
            "principal_paid_range",
        ):
            batch.drop_constraint(op.f(f"ck_recovery_claim_{name}"), type_="check")
        for name in (*_CENTS, "interest_until", "payment_count", "dunning_level", "dunned_on"):
            batch.drop_column(name)

"""manual checklist items of the review (ticked, note) per application

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-04 15:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "manual_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_manual_check_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_id"],
            ["user_account.id"],
            name=op.f("fk_manual_check_checked_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_check")),
        sa.UniqueConstraint("application_id", "item", name="uq_manual_check_application_item"),
    )
    with op.batch_alter_table("manual_check", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_manual_check_application_id"), ["application_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("manual_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manual_check_application_id"))
    op.drop_table("manual_check")

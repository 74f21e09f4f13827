"""bank account: rejection reason (finance refuses a pending account; the recipient reads why);
invitation: further roles (one invitation for e.g. approver + reviewer)

Revision ID: 0013
Revises: 0005
Create Date: 2026-12-04

The new status value ``withdrawn`` needs no schema change (enums are VARCHAR without CHECK).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bank_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rejection_reason", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("extra_roles", sa.String(length=100), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("extra_roles")
    with op.batch_alter_table("bank_account", schema=None) as batch_op:
        batch_op.drop_column("rejection_reason")

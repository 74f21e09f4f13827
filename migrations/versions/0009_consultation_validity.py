"""R1: months before submission a consultation counts, per funding year (issue 12, F16)

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-04 15:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("funding_year", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consultation_valid_months", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_funding_year_consultation_months_positive"),
            "consultation_valid_months IS NULL OR consultation_valid_months > 0",
        )


def downgrade():
    with op.batch_alter_table("funding_year", schema=None) as batch_op:
        batch_op.drop_constraint("ck_funding_year_consultation_months_positive", type_="check")
        batch_op.drop_column("consultation_valid_months")

"""R30 pass-through to an NGO: recipient named in the decision; the NGO's proof of use with its
deadline, receipt and check on the proof of use

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-04 15:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('pass_through_recipient', sa.String(length=200), nullable=False, server_default='')
        )
    with op.batch_alter_table('proof_of_use', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ngo_proof_due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ngo_proof_received_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ngo_proof_checked_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('proof_of_use', schema=None) as batch_op:
        batch_op.drop_column('ngo_proof_checked_on')
        batch_op.drop_column('ngo_proof_received_on')
        batch_op.drop_column('ngo_proof_due_on')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('pass_through_recipient')

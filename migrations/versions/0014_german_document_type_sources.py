"""German source references of the KPR document types (issue 11: "practice (ZIT)" in the German UI)

Revision ID: 0014
Revises: 0013

Data only: the seed now says "Verwaltungspraxis (…)"; existing rows that still carry the English
seed text are corrected (an admin's own wording is left alone).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_RENAMES = (
    ("kpr_resolution", "practice (ZIT)", "Verwaltungspraxis (ZIT)"),
    ("cooperation", "practice (KV)", "Verwaltungspraxis (KV)"),
)


def _set(old_index: int, new_index: int) -> None:
    document_type = sa.table("document_type", sa.column("code"), sa.column("rule"))
    for row in _RENAMES:
        op.execute(
            document_type.update()
            .where(document_type.c.code == row[0], document_type.c.rule == row[old_index])
            .values(rule=row[new_index])
        )


def upgrade():
    _set(1, 2)


def downgrade():
    _set(2, 1)

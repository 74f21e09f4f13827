"""login security: throttling counters, locks per account and source, second factor (TOTP,
recovery codes), signed-in devices (issue 14)

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_counter",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("previous_hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_counter")),
    )
    op.create_table(
        "login_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_login_lock_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_lock")),
        sa.UniqueConstraint("user_id", "source", name="uq_login_lock_user_id_source"),
    )
    # The lock moved to login_lock (per account and source). Plain ALTER TABLE … DROP COLUMN
    # (SQLite >= 3.35, PostgreSQL): a batch copy of user_account would trip the foreign keys
    # that point at it.
    op.execute("ALTER TABLE user_account DROP COLUMN failed_logins")
    op.execute("ALTER TABLE user_account DROP COLUMN locked_until")
    op.add_column("user_account", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column(
        "user_account", sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("user_account", sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_recovery_code_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"], unique=False)
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_user_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_session_key_hash")),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_table("user_session")
    op.drop_index(op.f("ix_recovery_code_user_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    op.execute("ALTER TABLE user_account DROP COLUMN totp_last_step")
    op.execute("ALTER TABLE user_account DROP COLUMN totp_confirmed_at")
    op.execute("ALTER TABLE user_account DROP COLUMN totp_secret")
    op.add_column("user_account", sa.Column("locked_until", sa.DateTime(timezone=True)))
    op.add_column(
        "user_account",
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_table("login_lock")
    op.drop_table("login_counter")

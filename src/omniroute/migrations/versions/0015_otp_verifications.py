"""one-time codes (verifications) and each workspace's rules for them

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniroute.core.time

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "verification_settings",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("sms_allowed_countries", JSON, nullable=True),
        sa.Column("templates", JSON, nullable=False),
        sa.Column("new_code_per_channel", sa.Boolean(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_verification_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_settings")),
    )
    op.create_index(
        op.f("ix_verification_settings_workspace_id"), "verification_settings", ["workspace_id"], unique=False
    )
    op.create_table(
        "verifications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("to", sa.String(length=320), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("attempts", JSON, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("code_length", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_sealed", sa.String(length=400), nullable=True),
        sa.Column("checks_left", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("brand", sa.String(length=60), nullable=True),
        sa.Column("expires_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.Column("approved_at", omniroute.core.time.UTCDateTime(), nullable=True),
        sa.Column("updated_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_verifications_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    op.create_index(
        "ix_verifications_destination",
        "verifications",
        ["workspace_id", "mode", "to", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_verifications_tenant_id", "verifications", ["workspace_id", "mode", "id"], unique=False
    )
    op.create_index(op.f("ix_verifications_workspace_id"), "verifications", ["workspace_id"], unique=False)


def downgrade() -> None:
    op.drop_table("verifications")
    op.drop_table("verification_settings")

"""meta webhooks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 05:32:03.293564
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import omniroute.core.time

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_webhooks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.Column("processed_at", omniroute.core.time.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_provider_webhooks_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_provider_webhooks_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_webhooks")),
        sa.UniqueConstraint("channel_id", "content_hash", name=op.f("uq_provider_webhooks_channel_id")),
    )
    with op.batch_alter_table("provider_webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_webhooks_workspace_id"), ["workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("provider_webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_webhooks_workspace_id"))

    op.drop_table("provider_webhooks")

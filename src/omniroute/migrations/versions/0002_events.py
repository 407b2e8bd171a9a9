"""events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:23:25.722042
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniroute.core.time

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.Column("campaign_id", sa.String(length=40), nullable=True),
        sa.Column("conversation_id", sa.String(length=40), nullable=True),
        sa.Column("template_id", sa.String(length=40), nullable=True),
        sa.Column("channel_id", sa.String(length=40), nullable=True),
        sa.Column("occurred_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.Column("created_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_campaign_id", ["campaign_id"], unique=False)
        batch_op.create_index("ix_events_message_id", ["message_id"], unique=False)
        batch_op.create_index("ix_events_tenant_id", ["workspace_id", "mode", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_workspace_id"), ["workspace_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_workspace_id"))
        batch_op.drop_index("ix_events_tenant_id")
        batch_op.drop_index("ix_events_message_id")
        batch_op.drop_index("ix_events_campaign_id")

    op.drop_table("events")

"""template lifecycle

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 05:32:21.627823
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniroute.core.time

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sandbox_templates",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "components",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("quality_score", sa.String(length=16), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("workspace_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_sandbox_templates_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sandbox_templates_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_templates")),
    )
    with op.batch_alter_table("sandbox_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_templates_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sandbox_templates_workspace_id"), ["workspace_id"], unique=False)

    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggested_category", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("paused_until", omniroute.core.time.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("pause_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(
            sa.Column(
                "category_history",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default="[]",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "quality_history",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default="[]",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "edits",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default="[]",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_column("edits")
        batch_op.drop_column("quality_history")
        batch_op.drop_column("category_history")
        batch_op.drop_column("locked")
        batch_op.drop_column("pause_count")
        batch_op.drop_column("paused_until")
        batch_op.drop_column("status_reason")
        batch_op.drop_column("suggested_category")

    with op.batch_alter_table("sandbox_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_templates_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_sandbox_templates_channel_id"))

    op.drop_table("sandbox_templates")

"""pair rate state, the marketing frequency cap setting, SMS and email campaigns

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "pair_paces",
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_pair_paces_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "recipient", name=op.f("pk_pair_paces")),
    )
    op.create_index(op.f("ix_pair_paces_next_at"), "pair_paces", ["next_at"], unique=False)
    # Plain ALTER TABLE, never a batch copy: on SQLite a batch drops and recreates the
    # table, and dropping a parent table deletes its children through ON DELETE CASCADE
    # (a workspace's channels and messages, a campaign's recipients).
    op.add_column("workspaces", sa.Column("live_marketing_frequency_cap_hours", sa.Integer(), nullable=True))
    op.add_column("workspaces", sa.Column("test_marketing_frequency_cap_hours", sa.Integer(), nullable=True))
    op.add_column("campaigns", sa.Column("content", JSON, nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM campaigns WHERE content IS NOT NULL")  # SMS and email campaigns
    op.drop_column("campaigns", "content")
    op.drop_column("workspaces", "test_marketing_frequency_cap_hours")
    op.drop_column("workspaces", "live_marketing_frequency_cap_hours")
    op.drop_index(op.f("ix_pair_paces_next_at"), table_name="pair_paces")
    op.drop_table("pair_paces")

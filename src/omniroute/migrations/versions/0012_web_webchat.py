"""web chat: visitors, their open streams and their Web Push subscriptions

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omniroute.core.time import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webchat_visitors",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("channel_id", sa.String(40), nullable=False),
        sa.Column("contact_id", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_webchat_visitors_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_webchat_visitors_contact_id_contacts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_webchat_visitors_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webchat_visitors"),
        sa.UniqueConstraint("token_hash", name="uq_webchat_visitors_token_hash"),
    )
    op.create_index("ix_webchat_visitors_channel_id", "webchat_visitors", ["channel_id"])
    op.create_index("ix_webchat_visitors_workspace_id", "webchat_visitors", ["workspace_id"])
    op.create_table(
        "webchat_streams",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("visitor_id", sa.String(40), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["webchat_visitors.id"],
            name="fk_webchat_streams_visitor_id_webchat_visitors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webchat_streams"),
    )
    op.create_index("ix_webchat_streams_visitor_id", "webchat_streams", ["visitor_id", "expires_at"])
    op.create_table(
        "webchat_push_subscriptions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("visitor_id", sa.String(40), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["webchat_visitors.id"],
            name="fk_webchat_push_subscriptions_visitor_id_webchat_visitors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webchat_push_subscriptions"),
        sa.UniqueConstraint("visitor_id", "endpoint", name="uq_webchat_push_subscriptions_visitor_id"),
    )


def downgrade() -> None:
    op.drop_table("webchat_push_subscriptions")
    op.drop_index("ix_webchat_streams_visitor_id", table_name="webchat_streams")
    op.drop_table("webchat_streams")
    op.drop_index("ix_webchat_visitors_workspace_id", table_name="webchat_visitors")
    op.drop_index("ix_webchat_visitors_channel_id", table_name="webchat_visitors")
    op.drop_table("webchat_visitors")

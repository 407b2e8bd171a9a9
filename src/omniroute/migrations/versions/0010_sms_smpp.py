"""SMS: segments on the message, parts and delivery reports, SMPP bind leases

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniroute.core.time

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sms",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    op.create_table(
        "sms_parts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sms_parts_message_id", "sms_parts", ["message_id"], unique=False)
    op.create_index(
        "ix_sms_parts_provider_id", "sms_parts", ["channel_id", "provider_message_id"], unique=True
    )
    op.create_table(
        "sms_delivery_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("stat", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("done_at", omniroute.core.time.UTCDateTime(), nullable=True),
        sa.Column("received_at", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.Column("applied_at", omniroute.core.time.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sms_delivery_reports_provider_id",
        "sms_delivery_reports",
        ["channel_id", "provider_message_id"],
        unique=False,
    )
    op.create_index(
        "ix_sms_delivery_reports_pending", "sms_delivery_reports", ["channel_id", "applied_at"], unique=False
    )
    op.create_table(
        "smpp_binds",
        sa.Column("channel_id", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("lease_until", omniroute.core.time.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("channel_id"),
    )


def downgrade() -> None:
    op.drop_table("smpp_binds")
    op.drop_index("ix_sms_delivery_reports_pending", table_name="sms_delivery_reports")
    op.drop_index("ix_sms_delivery_reports_provider_id", table_name="sms_delivery_reports")
    op.drop_table("sms_delivery_reports")
    op.drop_index("ix_sms_parts_provider_id", table_name="sms_parts")
    op.drop_index("ix_sms_parts_message_id", table_name="sms_parts")
    op.drop_table("sms_parts")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("sms")

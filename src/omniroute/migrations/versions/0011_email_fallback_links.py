"""cross-channel fallback links between messages

A WhatsApp message that fails undeliverable (131026) with a channel fallback gets a
second message on the other channel: ``fallback_for`` on the new one names the
original, ``fallback_message_id`` on the original names the new one.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fallback_for", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("fallback_message_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("fallback_message_id")
        batch_op.drop_column("fallback_for")

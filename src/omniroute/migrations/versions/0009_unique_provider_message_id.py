"""one message per provider message id on a channel

A provider's message id names one message. Inbound deliveries were de-duplicated by a
look-up before the insert, which two concurrent deliveries of the same message (in two
different webhook bodies) both pass; the unique index makes the second insert fail, and
ingest treats that as the duplicate it is. Rows duplicated before this migration keep
their data: the later copies' provider id gets their own message id appended.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE messages SET provider_message_id = provider_message_id || '~' || id
        WHERE provider_message_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM messages AS earlier
            WHERE earlier.channel_id = messages.channel_id
              AND earlier.provider_message_id = messages.provider_message_id
              AND earlier.id < messages.id
        )
        """
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_provider_message_id")
        batch_op.create_index(
            "ix_messages_provider_message_id", ["channel_id", "provider_message_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_provider_message_id")
        batch_op.create_index(
            "ix_messages_provider_message_id", ["channel_id", "provider_message_id"], unique=False
        )

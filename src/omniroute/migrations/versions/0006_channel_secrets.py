"""channel secrets encrypted at rest

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:30:00

Data only: every channel's secret config values (``core.secrets.SECRET_KEYS``) are
encrypted with the first key of ``OMNIROUTE_SECRET_KEY`` (or ``data/secret.key``).
A key is needed only if there is something to encrypt. Downgrading decrypts them.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from omniroute.core import secrets

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

channels = sa.table(
    "channels",
    sa.column("id", sa.String()),
    sa.column("config", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")),
)


def _secret_values(config: Any) -> list[str]:
    if not isinstance(config, dict):
        return []
    return [v for k, v in config.items() if k in secrets.SECRET_KEYS and isinstance(v, str)]


def _rewrite(
    needs_it: Callable[[str], bool], rewrite: Callable[[secrets.Keyring, dict[str, Any]], dict[str, Any]]
) -> None:
    bind = op.get_bind()
    rows = [
        (row.id, row.config)
        for row in bind.execute(sa.select(channels.c.id, channels.c.config))
        if any(needs_it(value) for value in _secret_values(row.config))
    ]
    if not rows:
        return
    keyring = secrets.keyring()
    for channel_id, config in rows:
        bind.execute(
            channels.update().where(channels.c.id == channel_id).values(config=rewrite(keyring, config))
        )


def upgrade() -> None:
    _rewrite(
        lambda value: not value.startswith(secrets.PREFIX), lambda ring, config: ring.seal(ring.open(config))
    )


def downgrade() -> None:
    _rewrite(lambda value: value.startswith(secrets.PREFIX), lambda ring, config: ring.open(config))

"""The Alembic migrations are the schema: they match the models exactly and run both
ways, on SQLite and on PostgreSQL (whichever the suite runs on)."""

import asyncio

import pytest
from alembic import command

from omniroute.config import Settings
from omniroute.migrations.runner import alembic_config, downgrade, upgrade
from tests.conftest import scratch_database


@pytest.fixture
def empty_database(settings: Settings) -> str:
    return asyncio.run(scratch_database(settings, "migrations"))


def test_migrations_produce_exactly_the_models_schema(empty_database: str) -> None:
    upgrade(empty_database)
    command.check(alembic_config(empty_database))  # raises if autogenerate finds a difference


def test_migrations_downgrade_to_nothing_and_upgrade_again(empty_database: str) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")
    upgrade(empty_database)
    command.check(alembic_config(empty_database))

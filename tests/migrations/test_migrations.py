"""The Alembic migrations are the schema: they match the models exactly and run both
ways, on SQLite and on PostgreSQL (whichever the suite runs on)."""

import asyncio
import tempfile
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import make_url

from omniroute.config import Settings
from omniroute.migrations.runner import alembic_config, downgrade, upgrade
from tests.conftest import run_on_postgres

DATABASE = "omniroute_migration_tests"


@pytest.fixture
def empty_database(settings: Settings) -> str:
    """A database of its own, so the server's tables are untouched."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'migrations.db'}"

    asyncio.run(
        run_on_postgres(
            settings.database_url, f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE}"
        )
    )
    return url.set(database=DATABASE).render_as_string(hide_password=False)


def test_migrations_produce_exactly_the_models_schema(empty_database: str) -> None:
    upgrade(empty_database)
    command.check(alembic_config(empty_database))  # raises if autogenerate finds a difference


def test_migrations_downgrade_to_nothing_and_upgrade_again(empty_database: str) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")
    upgrade(empty_database)
    command.check(alembic_config(empty_database))

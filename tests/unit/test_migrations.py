"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic import command

from peacewatch.core.migrate import alembic_config


def test_models_and_migrations_agree(database_url: str) -> None:
    command.check(alembic_config(database_url))  # raises if autogenerate would find any difference

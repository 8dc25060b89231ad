"""Running Alembic from code, so ``peacewatch db upgrade`` needs no alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from peacewatch.core.db import make_engine


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", "peacewatch:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(target: str | Engine, revision: str = "head") -> None:
    """Migrate the database of ``target`` (a URL, or the engine the settings made: ``engine_for(..., direct=True)``)."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        if isinstance(target, str):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(_url: str = "") -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_up_to_date(target: str | Engine) -> bool:
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        return current_revision(engine) == head_revision()
    finally:
        if isinstance(target, str):
            engine.dispose()

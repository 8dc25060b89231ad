"""Alembic environment: the URL comes from PeaceWatch's settings unless the caller passes a connection."""

from __future__ import annotations

import re

from alembic import context

from peacewatch.core.db import Base, make_engine
from peacewatch.models import load_all_models

load_all_models()
config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


PARTITION = re.compile(r"^(positions|coverage)_p\d{6,8}$")


def _include_name(name: str | None, type_: str, _parents: object) -> bool:
    """The time partitions of PostgreSQL (made as data arrives, see core/partitions) are not in the models."""
    return not (type_ == "table" and name is not None and PARTITION.match(name))


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]  # Alembic's template: a Connection where its stubs say Connection | None
        target_metadata=target_metadata,
        include_name=_include_name,
        render_as_batch=True,
        compare_type=True,
        # each migration commits on its own: one that rebuilds a growing table commits batch by batch (core/online_copy)
        transaction_per_migration=True,
    )
    postgres = connection.dialect.name == "postgresql"  # type: ignore[attr-defined]  # Alembic's template: a Connection where its stubs say Connection | None
    if postgres:
        # machines started together: one migrates, the others wait here and then find nothing to do; held by the
        # session (the direct URL), as the migrations commit one by one
        connection.exec_driver_sql("SELECT pg_advisory_lock(1347900237)")  # type: ignore[attr-defined]  # the same Connection, typed Connection | None by the stubs
        connection.commit()  # type: ignore[attr-defined]  # the same Connection, typed Connection | None by the stubs
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if postgres:
            connection.rollback()  # type: ignore[attr-defined]  # as above: a migration that failed left its transaction
            connection.exec_driver_sql("SELECT pg_advisory_unlock(1347900237)")  # type: ignore[attr-defined]  # the same Connection, typed Connection | None by the stubs
            connection.commit()  # type: ignore[attr-defined]  # the same Connection, typed Connection | None by the stubs

run_migrations()

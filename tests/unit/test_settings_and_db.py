"""Settings from PEACEWATCH_* variables, the data directory, and SQLite's pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from peacewatch.core.db import make_engine
from peacewatch.core.settings import Settings


def test_settings_come_from_prefixed_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEACEWATCH_DATA_DIR", str(tmp_path / "pw"))
    monkeypatch.setenv("PEACEWATCH_ACCESS_TOKEN_MINUTES", "15")
    settings = Settings()
    assert settings.data_dir == tmp_path / "pw" and settings.access_token_minutes == 15


def test_the_default_database_lives_in_a_data_directory_created_on_first_use(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new" / "dir")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'new' / 'dir' / 'peacewatch.db'}"
    assert (tmp_path / "new" / "dir").is_dir()


def test_postgresql_urls_use_psycopg_3() -> None:
    assert Settings(database_url="postgresql://u@h/db").resolved_database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(("field", "value"), [("secret_key", "short"), ("database_url", "mysql://x/y")])
def test_bad_settings_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_several_database_servers_reach_libpq_in_its_own_multi_host_form() -> None:
    from peacewatch.core.notify import libpq_url

    url = "postgresql+psycopg://pw:s%40fe@/peacewatch?host=db1:5432&host=db2:5432&target_session_attrs=read-write"
    assert libpq_url(url) == "postgresql://pw:s%40fe@db1:5432,db2:5432/peacewatch?target_session_attrs=read-write"
    assert libpq_url("postgresql+psycopg://pw@db1:5432/peacewatch") == "postgresql://pw@db1:5432/peacewatch"

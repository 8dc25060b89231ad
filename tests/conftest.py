"""Fixtures: a real database per test, SQLite by default or PostgreSQL when
PEACEWATCH_TEST_DATABASE_URL names one (as .ci/run does)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from peacewatch.app import create_app
from peacewatch.core.auth import User, issue_access_token
from peacewatch.core.db import Base
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.models import load_all_models
from peacewatch.scenario import activity, airlift_demo, nk2020

PG_URL = os.environ.get("PEACEWATCH_TEST_DATABASE_URL")
SECRET = "test-secret-key-" + "x" * 32
CUSTODY = "test-custody-key-" + "y" * 32


def _pg_url() -> str:
    assert PG_URL
    return Settings(database_url=PG_URL, secret_key=SECRET).resolved_database_url


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Migrated databases made once, copied for each test: empty, and with the scenario loaded."""
    if PG_URL:
        engine = create_engine(_pg_url())
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade(_pg_url())
        return {}
    root = tmp_path_factory.mktemp("templates")
    empty, loaded = root / "empty.db", root / "scenario.db"
    upgrade(f"sqlite:///{empty}")
    shutil.copy(empty, loaded)
    app = create_app(Settings(data_dir=root, database_url=f"sqlite:///{loaded}", secret_key=SECRET, custody_key=CUSTODY))
    with app.state.sessionmaker() as session:
        nk2020.load(session)
    app.state.engine.dispose()
    return {"empty": empty, "scenario": loaded}


def _fresh_database(templates: dict[str, Path], tmp_path: Path, which: str) -> str:
    if PG_URL:
        load_all_models()
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        engine = create_engine(_pg_url())
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return _pg_url()
    target = tmp_path / "peacewatch.db"
    shutil.copy(templates[which], target)
    return f"sqlite:///{target}"


@pytest.fixture
def database_url(sqlite_templates: dict[str, Path], tmp_path: Path) -> str:
    """An empty, migrated database."""
    return _fresh_database(sqlite_templates, tmp_path, "empty")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, secret_key=SECRET, custody_key=CUSTODY, warm_up=False)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    with app.state.sessionmaker() as db:
        yield db


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def scenario(app: FastAPI, sqlite_templates: dict[str, Path], settings: Settings) -> None:
    """The reference scenario, loaded in the test's database."""
    if PG_URL:
        with app.state.sessionmaker() as db:
            nk2020.load(db)
        return
    url = settings.resolved_database_url
    app.state.engine.dispose()
    shutil.copy(sqlite_templates["scenario"], url.removeprefix("sqlite:///"))


@pytest.fixture
def auth(app: FastAPI, settings: Settings) -> Callable[[str], dict[str, str]]:
    """Headers for a user of the loaded scenario, without paying for argon2 on every test."""

    def headers(username: str) -> dict[str, str]:
        with app.state.sessionmaker() as db:
            user = db.query(User).filter_by(username=username).one()
            token = issue_access_token(user, settings.resolved_secret_key, 60)
        return {"Authorization": f"Bearer {token}"}

    return headers


def load_the_demo(app: FastAPI, settings: Settings) -> None:
    """What 'peacewatch demo' loads after the scenario: the first patrols, incidents, remains, airlift, returns, demining."""
    for _ in activity(app.state.sessionmaker, settings):
        pass


@pytest.fixture(scope="session")
def demo_template(sqlite_templates: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The whole demo in a SQLite file, made once (about 15 s) for the tests that read it."""
    if PG_URL:
        return None
    root = tmp_path_factory.mktemp("demo")
    path = root / "demo.db"
    shutil.copy(sqlite_templates["scenario"], path)
    settings = Settings(data_dir=root, database_url=f"sqlite:///{path}", secret_key=SECRET, custody_key=CUSTODY)
    app = create_app(settings)
    load_the_demo(app, settings)
    app.state.engine.dispose()
    return path


DEMO_TEMPLATE_DB = "peacewatch_demo_template"


def _pg_admin(statements: list[str]) -> None:
    """Statements on the server's maintenance database, outside a transaction (CREATE/DROP DATABASE need that).

    A running app's LISTEN connection comes back within a second of being ended: if it slipped in
    before the copy, end it again and retry."""
    from sqlalchemy.exc import OperationalError

    url = make_url(_pg_url())
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for attempt in range(10):
                try:
                    for statement in statements:
                        conn.execute(text(statement))
                    return
                except OperationalError as exc:
                    if "being accessed by other users" not in str(exc) or attempt == 9:
                        raise
    finally:
        engine.dispose()


def _pg_demo(app: FastAPI, settings: Settings) -> None:
    """On PostgreSQL the demo takes a minute to load through the services: load it once into a template
    database, then give each test a copy of it (CREATE DATABASE ... TEMPLATE), which takes a second."""
    name = make_url(_pg_url()).database
    kick = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    app.state.engine.dispose()
    if not _PG_DEMO_READY:
        load_the_demo(app, settings)
        app.state.engine.dispose()
        _pg_admin([kick, f"DROP DATABASE IF EXISTS {DEMO_TEMPLATE_DB}", f"CREATE DATABASE {DEMO_TEMPLATE_DB} TEMPLATE {name}"])
        _PG_DEMO_READY.append(True)
        return
    _pg_admin([kick, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE {DEMO_TEMPLATE_DB}"])


_PG_DEMO_READY: list[bool] = []


@pytest.fixture
def demo(app: FastAPI, scenario: None, settings: Settings, demo_template: Path | None) -> None:
    """The whole demo, as 'peacewatch demo' loads it, in the test's database."""
    if demo_template is None:
        _pg_demo(app, settings)
        return
    app.state.engine.dispose()
    shutil.copy(demo_template, settings.resolved_database_url.removeprefix("sqlite:///"))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo served by a real 'peacewatch serve' on loopback, shared by the browser and the GIS-client tests."""
    from tests.live import live_server

    with live_server(tmp_path_factory.mktemp("live")) as live:
        yield live


@pytest.fixture
def airlift(app: FastAPI, scenario: None, settings: Settings) -> None:
    """The scenario's airlift of November 2020: 250 flights, loaded as the demo loads them."""
    with app.state.sessionmaker() as session:
        assert airlift_demo.load(session, settings)["flights"] == 250

"""The ``run`` fixture: the peacewatch command, invoked as an operator would, on the test's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from peacewatch.cli import app
from tests.conftest import CUSTODY, SECRET


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PEACEWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("PEACEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PEACEWATCH_SECRET_KEY", SECRET)
    monkeypatch.setenv("PEACEWATCH_CUSTODY_KEY", CUSTODY)
    runner = CliRunner()

    def invoke(*args: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), **kwargs)

    return invoke

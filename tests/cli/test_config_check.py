"""'peacewatch config check': what every process will use, and a non-zero exit with a line per problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import PG_URL


def test_config_check_names_the_database_and_keys_and_passes_on_the_tests_database(run: Callable[..., Any]) -> None:
    result = run("config", "check")
    assert result.exit_code == 0, result.output
    assert ("PostgreSQL at" if PG_URL else "SQLite:") in result.output
    assert "secret key:" in result.output and "from the environment" in result.output
    assert "schema:" in result.output and "(current)" in result.output
    assert "configuration: consistent" in result.output


def test_config_check_refuses_a_lost_database_url(run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEACEWATCH_DATABASE_URL")
    monkeypatch.setenv("PEACEWATCH_DATABASE_KIND", "postgresql")
    result = run("config", "check")
    assert result.exit_code == 2
    assert "PEACEWATCH_DATABASE_URL" in result.output and "unquoted &" in result.output
    assert run("db", "current").exit_code == 2  # every command, not only the check


def test_config_check_offline_reads_settings_only_and_reports_missing_tls_files(
        run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PEACEWATCH_COT_TLS_CERT", str(tmp_path / "missing.crt"))
    result = run("config", "check", "--offline")
    assert result.exit_code == 1
    assert "PEACEWATCH_COT_TLS_KEY: missing" in result.output
    assert f"PEACEWATCH_COT_TLS_CERT: cannot read {tmp_path / 'missing.crt'}" in result.output
    assert "schema:" not in result.output

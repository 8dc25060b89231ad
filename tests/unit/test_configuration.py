"""Settings that cannot all hold are refused, naming the variable; what the database answered is judged purely."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from peacewatch.core.dbcheck import Endpoint, contradictions
from peacewatch.core.settings import Settings

PG = "postgresql://peacewatch@127.0.0.1:6432/peacewatch"
DIRECT = "postgresql://peacewatch@db1:5432,db2:5432/peacewatch?target_session_attrs=read-write"


def refusal(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]  # the settings' fields, given by name as the environment would
    return str(caught.value.errors()[0]["msg"])


def test_a_cluster_whose_database_url_was_lost_is_refused_not_served_from_sqlite() -> None:
    assert "PEACEWATCH_DATABASE_URL" in refusal(database_kind="postgresql")
    assert "unquoted &" in refusal(database_kind="postgresql")
    assert "PEACEWATCH_DATABASE_URL" in refusal(database_direct_url=DIRECT)  # the direct URL survived, the URL did not
    assert "PEACEWATCH_DATABASE_URL" in refusal(db_pool_mode="transaction")
    assert Settings(database_kind="postgresql", database_url=PG).shared_database


def test_transaction_pooling_needs_a_direct_url_and_no_prepared_statements() -> None:
    assert "PEACEWATCH_DATABASE_DIRECT_URL" in refusal(database_url=PG, db_pool_mode="transaction")
    assert "PEACEWATCH_DB_PREPARED_STATEMENTS" in refusal(database_url=PG, db_pool_mode="transaction",
                                                          database_direct_url=DIRECT, db_prepared_statements=True)
    pooled = Settings(database_url=PG, db_pool_mode="transaction", database_direct_url=DIRECT)
    assert not pooled.prepared_statements  # off by itself: the pool mode says why
    assert pooled.session_database_url.startswith("postgresql+psycopg://peacewatch@db1")
    assert Settings(database_url=PG).prepared_statements


def test_an_empty_variable_in_an_env_file_is_not_set() -> None:
    assert Settings(database_url="", database_direct_url="").database_direct_url is None


def test_the_env_example_survives_being_sourced_by_a_shell(tmp_path: Path) -> None:
    """§5 of docs/deployment.md loads it with 'set -a; . peacewatch.env': every value must come through whole."""
    example = Path(__file__).resolve().parents[2] / "deploy" / "peacewatch.env.example"
    text = example.read_text()
    multi_host = 'PEACEWATCH_DATABASE_DIRECT_URL="' + DIRECT + '&connect_timeout=5"'
    (tmp_path / "env").write_text(text + "\n" + multi_host + "\n")
    shown = subprocess.run(["bash", "-c", f"set -a; . {tmp_path / 'env'}; env"], capture_output=True, text=True, check=True).stdout
    values = dict(line.split("=", 1) for line in shown.splitlines() if line.startswith("PEACEWATCH_"))
    for line in text.splitlines():
        if line.startswith("PEACEWATCH_"):
            name, value = line.split("=", 1)
            assert values[name] == value.strip('"'), name
    assert values["PEACEWATCH_DATABASE_DIRECT_URL"].endswith("&connect_timeout=5")
    assert values["PEACEWATCH_DATABASE_KIND"] == "postgresql"


def endpoint(**values: object) -> Endpoint:
    started = datetime(2026, 12, 7, tzinfo=UTC)
    return Endpoint(**({"reached": True, "server": "10.0.0.1:5432", "database_oid": 16384, "started_at": started,
                        "primary": True} | values))  # type: ignore[arg-type]  # the fields, given by name


def test_a_pooler_nobody_declared_is_found_by_its_own_process_ids() -> None:
    settings = Settings(database_url=PG)
    found = contradictions(settings, endpoint(pooled=True), None)
    assert len(found) == 1 and "PEACEWATCH_DB_POOL_MODE" in found[0]
    assert contradictions(settings, endpoint(), None) == []


def test_the_direct_url_must_reach_the_same_database_itself_and_its_primary() -> None:
    settings = Settings(database_url=PG, db_pool_mode="transaction", database_direct_url=DIRECT)
    assert contradictions(settings, endpoint(pooled=True), endpoint()) == []
    assert "pooler" in contradictions(settings, endpoint(pooled=True), endpoint(pooled=True))[0]
    other = contradictions(settings, endpoint(pooled=True), endpoint(database_oid=1, server="10.0.0.9:5432"))
    assert "another database (10.0.0.9:5432)" in other[0]
    assert any("standby" in problem for problem in contradictions(settings, endpoint(pooled=True), endpoint(primary=False)))
    assert contradictions(settings, endpoint(reached=False, error="refused"), endpoint()) == []  # said apart, as unreachable

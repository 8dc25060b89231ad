"""The peacewatch command, run as an operator would, on the test's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from peacewatch.core.audit import AuditEntry


def audit_count(database_url: str) -> int:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(AuditEntry.__table__))
    engine.dispose()
    return int(count or 0)


def test_demo_loads_once_and_a_second_run_changes_nothing(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    first = run("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "liaison-a" in first.output and "demo" in first.output
    logged = audit_count(database_url)
    assert logged > 53  # the scenario's 53 records, then the patrol day's patrols, check-ins and alerts
    assert "4 patrols" in first.output
    second = run("demo", "--no-serve")
    assert second.exit_code == 0 and "0 records created" in second.output
    assert audit_count(database_url) == logged


def test_demo_refuses_the_demo_password_beyond_loopback(run) -> None:  # type: ignore[no-untyped-def]
    result = run("demo", "--host", "0.0.0.0")
    assert result.exit_code == 1
    assert "refusing to serve the demo password on 0.0.0.0" in result.output


@pytest.mark.usefixtures("scenario")  # the scenario as the demo loads it, without its activity
def test_serve_refuses_beyond_loopback_while_demo_passwords_remain(run) -> None:  # type: ignore[no-untyped-def]
    result = run("serve", "--host", "10.1.2.3")
    assert result.exit_code == 1 and "still have the demo password" in result.output


@pytest.mark.usefixtures("scenario")  # the scenario as the demo loads it, without its activity
def test_export_for_a_date_and_import_back(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "posts.geojson"
    result = run("export", "posts", "--on", "2020-11-18", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text())["features"]) == 23
    result = run("import", "posts", str(out))
    assert result.exit_code == 0 and "0 created, 23 updated" in result.output
    kml = run("export", "areas", "--format", "kml")
    assert kml.exit_code == 0 and kml.output.count("<Placemark") == 2


@pytest.mark.usefixtures("scenario")  # the scenario as the demo loads it, without its activity
def test_a_bad_import_exits_non_zero_with_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [46.8, 39.8]},
         "properties": {"code": "X-1", "name": "X", "zone_code": "north", "opened_on": "2020-11-20"}}]}))
    result = run("import", "posts", str(bad))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "outside zone north" in lines[0] and "features[0].geometry" in lines[0]


def test_user_add_then_sign_in_works(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    assert run("db", "upgrade").exit_code == 0
    result = run("user", "add", "duty1", "--role", "operations", env={"PEACEWATCH_NEW_PASSWORD": "a-strong-password"})
    assert result.exit_code == 0, result.output
    again = run("user", "add", "duty1", "--role", "operations", env={"PEACEWATCH_NEW_PASSWORD": "a-strong-password"})
    assert again.exit_code == 1 and "already exists" in again.output
    liaison = run("user", "add", "la", "--role", "liaison", env={"PEACEWATCH_NEW_PASSWORD": "a-strong-password"})
    assert liaison.exit_code == 1 and "side A or B" in liaison.output
    listed = run("user", "list")
    assert "duty1" in listed.output and "operations" in listed.output


@pytest.mark.usefixtures("scenario")
def test_an_administrator_lists_and_lifts_a_lockout_from_the_cli(run, settings) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from peacewatch.app import create_app

    app = create_app(settings)
    with TestClient(app, client=("127.0.0.2", 40000)) as client:
        for n in range(10):
            client.post("/api/v1/auth/token", data={"username": "ops", "password": f"guess {n}"})
        assert client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).status_code == 429
        listed = run("user", "lockouts")
        assert listed.exit_code == 0 and "account from" in listed.output and "127.0.0.2" in listed.output, listed.output
        assert run("user", "unlock").exit_code != 0  # neither a user nor an address
        lifted = run("user", "unlock", "ops", "--address", "127.0.0.2")
        assert lifted.exit_code == 0 and "1 lockout(s) lifted" in lifted.output, lifted.output
        assert client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).status_code == 200
    app.state.engine.dispose()
    assert "no lockout" in run("user", "lockouts").output


@pytest.mark.usefixtures("scenario")  # the scenario as the demo loads it, without its activity
def test_a_device_token_from_the_cli_signs_requests_in(run, settings) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from peacewatch.app import create_app

    result = run("token", "create", "tracker MP-07", "--user", "patrol")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("pwk_")
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "patrol"
    app.state.engine.dispose()
    assert run("token", "create", "x", "--user", "nobody").exit_code == 1


@pytest.mark.usefixtures("scenario")  # the scenario as the demo loads it, without its activity
def test_mandate_state_on_a_date(run) -> None:  # type: ignore[no-untyped-def]
    result = run("mandate", "--on", "2025-06-01")
    assert result.exit_code == 0 and "2030-11-10" in result.output
    assert run("mandate", "--on", "June").exit_code == 1


def test_every_command_has_help(run) -> None:  # type: ignore[no-untyped-def]
    for command in (["demo"], ["serve"], ["db", "upgrade"], ["user", "add"], ["import"], ["export"], ["token", "create"]):
        result = run(*command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_a_bad_setting_is_one_line_and_exit_2(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PEACEWATCH_DATABASE_URL", "mysql://nope")
    result = run("db", "upgrade")
    assert result.exit_code == 2 and "PEACEWATCH_DATABASE_URL" in result.output


def test_commands_refuse_an_unmigrated_database(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PEACEWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = run("user", "list")
    assert result.exit_code == 1 and "peacewatch db upgrade" in result.output
    assert run("db", "upgrade").exit_code == 0
    assert run("user", "list").exit_code == 0


def test_secret_key_is_generated_and_kept(tmp_path: Path) -> None:
    from peacewatch.core.settings import Settings

    first = Settings(data_dir=tmp_path / "d").resolved_secret_key
    second = Settings(data_dir=tmp_path / "d").resolved_secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_sqlite_takes_one_server_process_and_says_so(tmp_path: Path) -> None:
    """A second 'peacewatch serve' on the same SQLite database, or --workers, is refused with one line."""
    import os
    import subprocess
    import sys

    import httpx

    from peacewatch.core.migrate import upgrade
    from tests.conftest import SECRET
    from tests.live import free_port, serve

    env = os.environ | {"PEACEWATCH_DATA_DIR": str(tmp_path / "data"), "PEACEWATCH_SECRET_KEY": SECRET,
                        "PEACEWATCH_COT_TCP": "false", "PEACEWATCH_COT_UDP": "false"}
    env.pop("PEACEWATCH_DATABASE_URL", None)
    (tmp_path / "data").mkdir()
    upgrade(f"sqlite:///{tmp_path / 'data' / 'peacewatch.db'}")
    workers = subprocess.run([sys.executable, "-m", "peacewatch", "serve", "--workers", "2"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert workers.returncode == 2 and "--workers needs PostgreSQL" in workers.stderr
    port = free_port()
    first = serve(env, port, path="/readyz")
    try:
        second = subprocess.run([sys.executable, "-m", "peacewatch", "serve", "--port", str(free_port())], env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"another 'peacewatch serve' (pid {first.pid}) already serves" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1, second.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200  # the first serves on
    finally:
        first.terminate()
        first.wait(timeout=15)


@pytest.mark.usefixtures("scenario")
def test_an_import_says_what_it_refused_and_can_be_all_or_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mixed = tmp_path / "mixed.geojson"
    mixed.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [46.7, 40.1]},
         "properties": {"code": "N-60", "name": "Good", "zone_code": "north", "opened_on": "2020-11-20"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [46.8, 39.8]},
         "properties": {"code": "X-1", "name": "Strayed", "zone_code": "north", "opened_on": "2020-11-20"}}]}))
    strict = run("import", "posts", str(mixed), "--all-or-nothing")
    assert strict.exit_code == 1 and "nothing imported: 1 of the file's 2 feature(s) refused" in strict.output
    result = run("import", "posts", str(mixed))
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 1 refused" in result.output and "features[1] Strayed:" in result.output

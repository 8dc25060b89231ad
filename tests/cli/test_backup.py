"""`peacewatch backup` and `peacewatch restore`: a copy taken while positions are written restores into an
empty data directory or database, serves, keeps every record acknowledged before it began, and its custody
chain verifies. Run on SQLite and on PostgreSQL (pg_dump and pg_restore)."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from peacewatch.app import create_app
from peacewatch.cli import app as cli
from peacewatch.core.db import utcnow
from peacewatch.core.settings import AlertSettings, Settings
from peacewatch.live.ingest import Ingest
from peacewatch.tracking import columns as position_columns
from peacewatch.tracking.models import Position, Tracker
from tests.bodies import report
from tests.conftest import CUSTODY, PG_URL, SECRET, _pg_admin, _pg_url
from tests.evidence_files import phone_photo, sha256

UNSET: dict[str, Any] = dict.fromkeys(("PEACEWATCH_DATABASE_URL", "PEACEWATCH_SECRET_KEY", "PEACEWATCH_CUSTODY_KEY"))


def environment(settings: Settings) -> dict[str, str]:
    return {"PEACEWATCH_DATABASE_URL": settings.resolved_database_url, "PEACEWATCH_DATA_DIR": str(settings.data_dir),
            "PEACEWATCH_SECRET_KEY": SECRET, "PEACEWATCH_CUSTODY_KEY": CUSTODY}


def positions_of(factory: Any) -> int:
    with factory() as session:
        counted = select(func.count()).select_from(Position).join(Tracker, Tracker.id == Position.tracker_id).where(Tracker.code == "BK-1")
        return int(session.scalar(counted) or 0)


@pytest.mark.usefixtures("demo")
def test_a_backup_taken_while_positions_arrive_restores_whole(app: Any, settings: Settings, tmp_path: Path, auth: Any) -> None:
    factory = app.state.sessionmaker
    made_tracker = TestClient(app).post("/api/v1/trackers", json={"code": "BK-1", "name": "Backup test"}, headers=auth("ops"))
    assert made_tracker.status_code == 201, made_tracker.text
    acknowledged, stop = [0], threading.Event()
    start = utcnow() - timedelta(hours=2)

    def keep_writing() -> None:  # a patrol's tracker, a fix a second, in batches of 50, until told to stop
        for batch in itertools.count():
            if stop.is_set():
                return
            rows = [{"tracker": "BK-1", "t": (start + timedelta(seconds=batch * 50 + i)).isoformat(), "lat": 40.1, "lon": 46.7 + i / 1e4}
                    for i in range(50)]
            with factory() as session:
                Ingest(8, AlertSettings()).record(session, "test", "http", position_columns.from_rows(rows))
            acknowledged[0] += 50

    # a body's photo: in the backup, and the restored chain of custody proves it unaltered
    body = TestClient(app).get("/api/v1/bodies", params={"limit": 1}, headers=auth("humanitarian")).json()[0]["number"]
    photo = phone_photo(seed=31)
    attached = TestClient(app).post("/api/v1/attachments", data={"record_kind": "body", "record_key": body, "sha256": sha256(photo)},
                                    files={"file": ("effects.jpg", photo)}, headers=auth("humanitarian"))
    assert attached.status_code == 201, attached.text
    writer = threading.Thread(target=keep_writing, daemon=True)
    writer.start()
    while acknowledged[0] < 500:
        stop.wait(0.01)
    before = acknowledged[0]  # every batch acknowledged before the backup began
    folder = tmp_path / "backup"
    made = CliRunner().invoke(cli, ["backup", str(folder)], env=environment(settings))
    stop.set()
    writer.join(timeout=30)
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {"secret_key", "custody_key"} <= set(manifest["files"]) and manifest["schema_revision"]
    assert all((folder / name).stat().st_mode & 0o077 == 0 for name in manifest["files"])
    assert manifest["evidence"]["files"] == 2  # the photo and its thumbnail

    if PG_URL:
        target_db = f"pw_restore_{uuid.uuid4().hex[:8]}"
        _pg_admin([f'CREATE DATABASE "{target_db}"'])
        url = _pg_url().rsplit("/", 1)[0] + f"/{target_db}"
        target = {"PEACEWATCH_DATABASE_URL": url, "PEACEWATCH_DATA_DIR": str(tmp_path / "restored"),
                  "PEACEWATCH_SECRET_KEY": SECRET, "PEACEWATCH_CUSTODY_KEY": CUSTODY}
    else:
        target = {"PEACEWATCH_DATA_DIR": str(tmp_path / "restored"), **UNSET}  # keys: from the backup
    try:
        restored = CliRunner().invoke(cli, ["restore", str(folder)], env=target)
        assert restored.exit_code == 0, restored.output
        again = CliRunner().invoke(cli, ["restore", str(folder)], env=target)
        assert again.exit_code == 1 and ("empty" in again.output)  # never over data
        verified = CliRunner().invoke(cli, ["custody", "verify"], env=target)
        assert verified.exit_code == 0, verified.output  # the evidence file among them, rehashed
        assert (tmp_path / "restored" / "evidence").is_dir()

        restored_settings = Settings(data_dir=tmp_path / "restored", database_url=target["PEACEWATCH_DATABASE_URL"],
                                     secret_key=target.get("PEACEWATCH_SECRET_KEY"), custody_key=target.get("PEACEWATCH_CUSTODY_KEY"))
        served = create_app(restored_settings)
        with TestClient(served) as client:
            assert positions_of(served.state.sessionmaker) >= before
            assert client.get("/api/v1/posts").json() == TestClient(app).get("/api/v1/posts").json()
        served.state.engine.dispose()
    finally:
        if PG_URL:
            _pg_admin([f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE)'])


def test_a_damaged_backup_is_refused_naming_the_file(settings: Settings, app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "backup"
    assert CliRunner().invoke(cli, ["backup", str(folder)], env=environment(settings)).exit_code == 0
    with (folder / "custody_key").open("a") as key:
        key.write("x")
    refused = CliRunner().invoke(cli, ["restore", str(folder)], env={"PEACEWATCH_DATA_DIR": str(tmp_path / "other"), **UNSET})
    assert refused.exit_code == 1 and "custody_key" in refused.output and "checksum" in refused.output
    assert CliRunner().invoke(cli, ["backup", str(folder)], env=environment(settings)).exit_code == 1  # not into a used folder


def test_a_backup_whose_evidence_file_was_changed_is_refused(settings: Settings, app: Any, tmp_path: Path, auth: Any,
                                                             scenario: None) -> None:
    number = TestClient(app).post("/api/v1/incidents", json=report(), headers=auth("ops")).json()["id"]
    photo = phone_photo(seed=32)
    assert TestClient(app).post("/api/v1/attachments", data={"record_kind": "incident", "record_key": str(number)},
                                files={"file": ("crater.jpg", photo)}, headers=auth("patrol")).status_code == 201
    folder = tmp_path / "backup"
    assert CliRunner().invoke(cli, ["backup", str(folder)], env=environment(settings)).exit_code == 0
    next((folder / "evidence").rglob(sha256(photo))).write_bytes(b"not the photo")
    refused = CliRunner().invoke(cli, ["restore", str(folder)], env={"PEACEWATCH_DATA_DIR": str(tmp_path / "other"), **UNSET})
    assert refused.exit_code == 1 and sha256(photo) in refused.output and "damaged" in refused.output


@pytest.mark.skipif(not PG_URL, reason="the direct URL is PostgreSQL's")
def test_a_restore_whose_direct_url_names_another_database_is_refused_before_writing(settings: Settings, app: Any,
                                                                                     tmp_path: Path) -> None:
    """An env file's direct URL left pointing at the live database while PEACEWATCH_DATABASE_URL names the new one:
    pg_restore would go by the direct URL, into the live database. Refused, naming both."""
    from peacewatch.core.backup import BackupError, backup, restore

    app.state.engine.dispose()
    taken = backup(settings, tmp_path / "backup")
    assert taken.database == "postgresql"
    empty = settings.resolved_database_url.rsplit("/", 1)[0] + "/postgres"  # another database of the same server
    mixed = settings.model_copy(update={"database_url": empty, "database_direct_url": settings.resolved_database_url})
    with pytest.raises(BackupError, match="PEACEWATCH_DATABASE_DIRECT_URL reaches another database"):
        restore(mixed, tmp_path / "backup")

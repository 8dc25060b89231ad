"""Evidence files kept in the database (PEACEWATCH_EVIDENCE_STORE=database): a machine that did not take the
upload serves it, custody verification hashes the database's bytes, and unnamed files are swept."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from peacewatch.app import create_app
from peacewatch.core.blobs import BlobChunk, DatabaseBlobs, StoredBlob, blob_store
from peacewatch.core.db import engine_for, utcnow
from peacewatch.core.settings import Settings
from tests.api.test_evidence import incident, send
from tests.evidence_files import phone_photo, sha256


@pytest.fixture
def in_database(settings: Settings) -> Settings:
    return settings.model_copy(update={"evidence_store": "database"})


def machine(settings: Settings, tmp_path: Path, name: str) -> DatabaseBlobs:
    """The store as another machine sees it: the same database, a data directory of its own."""
    store = blob_store(settings.model_copy(update={"data_dir": tmp_path / name}))
    assert isinstance(store, DatabaseBlobs)
    return store


def test_a_file_kept_on_one_machine_is_read_on_another_and_kept_once(in_database: Settings, tmp_path: Path) -> None:
    first, second = machine(in_database, tmp_path, "one"), machine(in_database, tmp_path, "two")
    photo = phone_photo() + os.urandom(300_000)  # over one chunk
    with first.receive([photo[:100_000], photo[100_000:]], max_bytes=10**7) as incoming:
        assert incoming.sha256 == sha256(photo) and incoming.size == len(photo)
        assert incoming.keep() is True
    with second.receive([photo], max_bytes=10**7) as again:
        assert again.keep() is False  # the same bytes: one copy in the database
    assert not second.cache.path(sha256(photo)).exists() or second.cache.path(sha256(photo)).read_bytes() == photo
    with second.open(sha256(photo)) as handle:
        assert handle.read() == photo
    assert second.rehash(sha256(photo)) == sha256(photo)
    assert second.rehash("0" * 64) is None
    with pytest.raises(FileNotFoundError):
        second.open("0" * 64)


def test_custody_verification_hashes_the_databases_bytes_not_a_machines_copy(in_database: Settings, tmp_path: Path) -> None:
    store = machine(in_database, tmp_path, "one")
    photo = phone_photo()
    name = store.put_bytes(photo)
    assert store.local_path(name).read_bytes() == photo  # a copy on this machine
    engine = engine_for(in_database, "test")
    with engine.begin() as connection:
        connection.execute(update(BlobChunk).where(BlobChunk.name == name).values(data=b"a different photo"))
    engine.dispose()
    assert store.rehash(name) == sha256(b"a different photo")  # the copy did not hide the change


def test_derived_files_travel_too_and_the_sweep_keeps_what_is_named(in_database: Settings, tmp_path: Path) -> None:
    first, second = machine(in_database, tmp_path, "one"), machine(in_database, tmp_path, "two")
    named, loose = first.put_bytes(b"named evidence"), first.put_bytes(b"nobody names this")
    made = first.scratch()
    made.write_bytes(b"the copy without metadata")
    first.keep_derived(named, "clean", made)
    derived = second.open_derived(named, "clean")
    assert derived is not None and derived.read() == b"the copy without metadata"
    derived.close()
    assert second.open_derived(loose, "clean") is None
    assert first.sweep(lambda: {named}, grace_s=3600).orphans == 0  # younger than the grace: an upload in flight
    engine = engine_for(in_database, "test")
    with engine.begin() as connection:
        connection.execute(update(StoredBlob).values(kept_at=utcnow() - timedelta(hours=2)))  # kept two hours ago
    engine.dispose()
    swept = first.sweep(lambda: {named}, grace_s=0)
    assert swept.orphans == 1
    assert second.rehash(loose) is None and second.rehash(named) == sha256(b"named evidence")
    with second.open(named) as handle:
        assert handle.read() == b"named evidence"


@pytest.mark.usefixtures("scenario")
def test_an_upload_to_one_process_is_downloaded_from_another_on_its_own_data_directory(
        in_database: Settings, tmp_path: Path, auth: Any) -> None:
    other = in_database.model_copy(update={"data_dir": tmp_path / "machine-two"})
    first_app, second_app = create_app(in_database), create_app(other)
    try:
        with TestClient(first_app) as first, TestClient(second_app) as second:
            number = incident(first, auth)
            photo = phone_photo()
            stored = send(first, auth, "ops", "incident", number, photo)
            assert stored.status_code == 201, stored.text
            attachment = stored.json()["id"]
            got = second.get(f"/api/v1/attachments/{attachment}/content", headers=auth("ops"))
            assert got.status_code == 200, got.text
            assert got.content == photo
            assert not (tmp_path / "machine-two" / "evidence").exists()  # no file store on that machine: the database
    finally:
        first_app.state.engine.dispose()
        second_app.state.engine.dispose()

"""The file store after faults: a server killed mid-upload leaves nothing behind once it starts again, and a full
disk answers 507, stores nothing half and leaves the connection usable."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from peacewatch.core.blobs import FileSystemBlobs
from tests.bodies import report
from tests.conftest import PG_URL
from tests.evidence_files import phone_photo, sha256
from tests.helpers import wait_for
from tests.live import free_port, live_server, serve


def test_the_sweep_deletes_leftovers_past_their_grace_and_spares_the_rest(tmp_path: Path) -> None:
    store = FileSystemBlobs(tmp_path)
    named, orphan = phone_photo(seed=1), phone_photo(seed=2)
    for data in (named, orphan):
        with store.receive([data], max_bytes=10**7) as incoming:
            incoming.keep()
    scratch = store.scratch()
    for sha in (sha256(named), sha256(orphan)):
        copy = store.scratch()
        copy.write_bytes(b"a copy")
        store.keep_derived(sha, "clean", copy)
    young = store.scratch()
    hour_ago = time.time() - 3600
    for path in [scratch, store.path(sha256(named)), store.path(sha256(orphan)), *store.root.glob("derived/*/*")]:
        os.utime(path, (hour_ago, hour_ago))
    swept = store.sweep(lambda: {sha256(named)}, grace_s=600)
    assert (swept.scratch, swept.orphans) == (1, 2)  # the old scratch file; the orphan and its copy
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted([store.path(sha256(named)).relative_to(tmp_path).as_posix(), young.name,
                           store.derived_path(sha256(named), "clean").relative_to(tmp_path).as_posix()])


@pytest.mark.skipif(bool(PG_URL), reason="one real server on the embedded database is enough to kill")
def test_a_server_killed_mid_upload_leaves_no_partial_or_orphan_file_after_it_starts_again(tmp_path: Path) -> None:
    acknowledged: list[str] = []
    with live_server(tmp_path) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        token = client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        incident = client.post("/api/v1/incidents", json=report(), headers=headers).json()["id"]
        stop = threading.Event()

        def upload(worker: int) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as own:
                for n in range(200):
                    if stop.is_set():
                        return
                    photo = phone_photo(seed=worker * 1000 + n, size=(1600, 1200))
                    try:
                        answer = own.post("/api/v1/attachments", headers=headers, files={"file": (f"IMG_{n}.JPG", photo, "image/jpeg")},
                                          data={"record_kind": "incident", "record_key": str(incident), "sha256": sha256(photo)})
                    except httpx.TransportError:
                        return  # the server died under this upload: never acknowledged
                    if answer.status_code == 201:
                        acknowledged.append(sha256(photo))

        senders = [threading.Thread(target=upload, args=(w,)) for w in range(4)]
        for sender in senders:
            sender.start()
        wait_for(lambda: len(acknowledged) >= 12, 60, "a dozen acknowledged uploads", every=0.01)
        server.process.send_signal(signal.SIGKILL)  # mid-upload: files received, kept, or kept but not yet named
        server.process.wait()
        stop.set()
        for sender in senders:
            sender.join(timeout=30)

    store = FileSystemBlobs(server.data_dir / "evidence")
    planted_scratch = store.scratch()  # what a kill in the middle of writing leaves
    planted_scratch.write_bytes(b"half a photo")
    orphan = phone_photo(seed=999_999)
    with store.receive([orphan], max_bytes=10**7) as incoming:
        incoming.keep()  # kept, and its row never committed
    process = serve(server.env | {"PEACEWATCH_EVIDENCE_SWEEP_GRACE_S": "0"}, free_port())
    try:
        wait_for(lambda: not planted_scratch.exists() and not store.path(sha256(orphan)).exists(), 30, "the sweep at start")
        engine = create_engine(f"sqlite:///{server.data_dir / 'peacewatch.db'}")
        with engine.connect() as conn:
            rows = {row[0] for row in conn.execute(text("SELECT sha256 FROM attachments"))}
            rows |= {row[0] for row in conn.execute(text("SELECT thumbnail_sha256 FROM attachments WHERE thumbnail_sha256 IS NOT NULL"))}
        engine.dispose()
        files = {path.name for path in store.root.glob("??/??/*")}
        assert set(acknowledged) <= rows  # nothing acknowledged was lost
        assert files == rows  # no file that no row names, no row without its file
        assert not list(store.root.glob(".incoming-*"))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for the file store: a photo of 1.5 MB fills it."""
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs as root and mounts a small tmpfs: {mounted.stderr.decode().strip()}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)


def test_a_full_disk_answers_507_stores_nothing_half_and_the_connection_goes_on(
        settings: Any, scenario: None, auth: Any, small_disk: Path) -> None:
    import uvicorn

    from peacewatch.app import create_app

    app = create_app(settings.model_copy(update={"data_dir": small_disk}))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the server to start")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth("ops"), timeout=30) as client:
            incident = client.post("/api/v1/incidents", json=report()).json()["id"]
            large = phone_photo(seed=7) + os.urandom(1_500_000)  # a JPEG with a long tail: 1.5 MB that do not compress
            assert len(large) > 2**20
            fields = {"record_kind": "incident", "record_key": str(incident)}
            full = client.post("/api/v1/attachments", data=fields, files={"file": ("IMG_1.JPG", large, "image/jpeg")})
            assert full.status_code == 507 and full.headers["content-type"] == "application/problem+json", full.text
            assert "full" in full.json()["detail"] and "Traceback" not in full.text
            assert client.get("/api/v1/attachments", params=fields).json() == []  # nothing stored, not even half
            assert [p for p in small_disk.rglob("*") if p.is_file()] == []
            assert client.get("/api/v1/incidents/" + str(incident)).status_code == 200  # the connection goes on
            small = phone_photo(seed=8, size=(320, 240))
            assert client.post("/api/v1/attachments", data=fields, files={"file": ("IMG_2.JPG", small, "image/jpeg")}).status_code == 201
    finally:
        server.should_exit = True
        thread.join(15)
        app.state.engine.dispose()

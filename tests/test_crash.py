"""Crash test: a server killed with SIGKILL during ingest loses no position whose batch was acknowledged."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from peacewatch.core.migrate import upgrade
from tests.conftest import PG_URL
from tests.helpers import wait_for
from tests.live import live_server


@pytest.mark.skipif(bool(PG_URL), reason="the embedded SQLite store is the one whose durability is in question here")
def test_sigkill_during_ingest_loses_no_acknowledged_position(tmp_path: Path) -> None:
    acknowledged: list[list[int]] = []  # the milliseconds of each acknowledged batch
    with live_server(tmp_path) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        token = client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.post("/api/v1/trackers", json={"code": "CRASH-1"}, headers=headers).status_code == 201
        stop = threading.Event()

        def ingest() -> None:
            for batch in range(400):
                if stop.is_set():
                    return
                stamps = [1605340800000 + batch * 2000 + i for i in range(2000)]
                positions = [{"tracker": "CRASH-1", "t": _iso(ms), "lat": 40.1, "lon": 46.7} for ms in stamps]
                try:
                    response = client.post("/api/v1/positions", json={"positions": positions}, headers=headers)
                except httpx.TransportError:
                    return  # the server died mid-request: this batch was never acknowledged
                if response.status_code == 200:
                    acknowledged.append(stamps)

        sender = threading.Thread(target=ingest)
        sender.start()
        wait_for(lambda: len(acknowledged) >= 5, 20, "five acknowledged batches", every=0.01)
        server.process.send_signal(signal.SIGKILL)  # no shutdown, no flush: as a power cut of the process
        server.process.wait()
        stop.set()
        sender.join(timeout=10)
    assert len(acknowledged) >= 5

    url = f"sqlite:///{server.data_dir / 'peacewatch.db'}"
    upgrade(url)  # opens (and recovers) the database as the next start would
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text("SELECT t_ms FROM positions WHERE tracker_id = "
                                                       "(SELECT id FROM trackers WHERE code = 'CRASH-1')"))}
    engine.dispose()
    lost = [ms for stamps in acknowledged for ms in stamps if ms not in stored]
    assert lost == [], f"{len(lost)} acknowledged positions lost"


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"

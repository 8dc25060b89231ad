"""Crash test: a server killed with SIGKILL during ingest loses no position whose batch was acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from peacewatch.core.migrate import upgrade
from tests.conftest import PG_URL, SECRET


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(bool(PG_URL), reason="the embedded SQLite store is the one whose durability is in question here")
def test_sigkill_during_ingest_loses_no_acknowledged_position(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = os.environ | {"PEACEWATCH_DATA_DIR": str(data), "PEACEWATCH_SECRET_KEY": SECRET, "PEACEWATCH_COT_PORT": "0",
                        "PEACEWATCH_COT_UDP": "false"}
    env.pop("PEACEWATCH_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "peacewatch", "demo", "--no-serve"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "peacewatch", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    acknowledged: list[list[int]] = []  # the milliseconds of each acknowledged batch
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(150):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert client.post("/api/v1/trackers", json={"code": "CRASH-1"}, headers=headers).status_code == 201

            stop = threading.Event()

            def ingest() -> None:
                batch = 0
                while not stop.is_set() and batch < 400:
                    stamps = [1605340800000 + batch * 2000 + i for i in range(2000)]
                    positions = [{"tracker": "CRASH-1", "t": _iso(ms), "lat": 40.1, "lon": 46.7} for ms in stamps]
                    try:
                        response = client.post("/api/v1/positions", json={"positions": positions}, headers=headers)
                    except httpx.TransportError:
                        return  # the server died mid-request: this batch was never acknowledged
                    if response.status_code == 200:
                        acknowledged.append(stamps)
                    batch += 1

            sender = threading.Thread(target=ingest)
            sender.start()
            deadline = time.monotonic() + 20
            while len(acknowledged) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)  # no shutdown, no flush: as a power-cut of the process
            server.wait()
            stop.set()
            sender.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    assert len(acknowledged) >= 5

    url = f"sqlite:///{data / 'peacewatch.db'}"
    upgrade(url)  # opens (and recovers) the database as the next start would
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text("SELECT t_ms FROM positions"))}
    engine.dispose()
    lost = [ms for stamps in acknowledged for ms in stamps if ms not in stored]
    assert lost == [], f"{len(lost)} acknowledged positions lost"


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"

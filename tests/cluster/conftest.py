"""Real ``peacewatch serve`` processes sharing one real PostgreSQL database, for the tests of a cluster.

These tests run in the PostgreSQL pass of the suite (PEACEWATCH_TEST_DATABASE_URL set, as .ci/run
does, on a server with fsync on); on SQLite they are skipped, as SQLite takes one server process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from peacewatch.core.settings import Settings
from tests.conftest import CUSTODY, SECRET
from tests.helpers import wait_for
from tests.live import free_port
from tests.proxy import Proxy


@dataclass
class Server:
    """One server process; ``url`` is its HTTP address."""

    url: str
    cot_port: int
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def ready(self, headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        try:
            answer = httpx.get(f"{self.url}/readyz", headers=headers, timeout=2)
        except httpx.TransportError:
            return None
        return answer.json() if answer.status_code == 200 else None

    def details(self) -> dict[str, Any] | None:
        """The readiness the administrator reads: the process, whether it leads, its jobs (the scenario's admin)."""
        return self.ready(admin_headers())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def admin_headers() -> dict[str, str]:
    """A sign-in token of the scenario's administrator, signed with the tests' secret."""
    import jwt

    from peacewatch.core.auth import JWT_ALGORITHM
    from peacewatch.core.db import utcnow

    now = utcnow()
    token = jwt.encode({"sub": "admin", "role": "admin", "ver": 0, "iat": now, "exp": now + timedelta(hours=1)}, SECRET,
                       algorithm=JWT_ALGORITHM)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def start_server(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start ``peacewatch serve`` processes on the test's PostgreSQL database; all are stopped at the end."""
    stack = ExitStack()
    count = 0

    def start(*args: str, cot_port: int | None = None, **env: str) -> Server:
        nonlocal count
        count += 1
        port, cot = free_port(), cot_port or free_port()
        variables = os.environ | {
            "PEACEWATCH_DATABASE_URL": settings.resolved_database_url, "PEACEWATCH_SECRET_KEY": SECRET,
            "PEACEWATCH_CUSTODY_KEY": CUSTODY, "PEACEWATCH_DATA_DIR": str(tmp_path / f"data{count}"),
            "PEACEWATCH_COT_PORT": str(cot), "PEACEWATCH_COT_UDP": "false", "PEACEWATCH_SWEEP_SECONDS": "1",
        } | env
        log = tmp_path / f"server{count}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen([sys.executable, "-m", "peacewatch", "serve", "--port", str(port), *args],
                                       env=variables, stdout=output, stderr=subprocess.STDOUT)
        server = Server(f"http://127.0.0.1:{port}", cot, process, log, variables)
        stack.callback(server.stop)
        wait_for(lambda: server.ready() or process.poll() is not None, 60, f"server {count} to be ready", every=0.1)
        if process.poll() is not None:
            pytest.fail(f"server {count} exited: {log.read_text()[-2000:]}")
        return server

    with stack:
        yield start


@pytest.fixture
def pair(start_server: Callable[..., Server], scenario: None, app: Any) -> tuple[Server, Server]:
    """Two server processes on the scenario's database, sharing the CoT port as two processes of one machine do."""
    app.state.engine.dispose()
    first = start_server()
    second = start_server(cot_port=first.cot_port)
    return first, second


def token(server: Server, username: str, password: str = "demo") -> str:
    answer = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": username, "password": password}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.fixture
def database_proxy(settings: Settings) -> Iterator[Proxy]:
    """A cuttable proxy to the test's PostgreSQL, closed at the end so no server session it carried outlives the test."""
    from sqlalchemy.engine import make_url

    database = make_url(settings.resolved_database_url)
    proxy = Proxy((database.host, database.port))
    try:
        yield proxy
    finally:
        proxy.close()

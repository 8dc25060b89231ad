"""A real ``peacewatch serve`` process on free loopback ports, for tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import SECRET
from tests.helpers import wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    cot_port: int
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]


@contextmanager
def live_server(tmp_path: Path, settings: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """The demo loaded into a fresh data directory, then served (with ``settings``, PEACEWATCH_* variables, if
    given); stopped (or found killed) at the end."""
    data = tmp_path / "data"
    cot_port = free_port()
    env = os.environ | {"PEACEWATCH_DATA_DIR": str(data), "PEACEWATCH_SECRET_KEY": SECRET,
                        "PEACEWATCH_COT_PORT": str(cot_port), "PEACEWATCH_COT_UDP": "false"} | (settings or {})
    env.pop("PEACEWATCH_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "peacewatch", "demo", "--no-serve"], env=env, check=True, capture_output=True)
    port = free_port()
    process = serve(env, port)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", cot_port, data, env, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def serve(env: dict[str, str], port: int, *, path: str = "/healthz", seconds: float = 30) -> subprocess.Popen[bytes]:
    """'peacewatch serve' on ``port`` with ``env``, once it answers ``path`` with 200."""
    process = subprocess.Popen([sys.executable, "-m", "peacewatch", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def answers() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(answers, seconds, f"the server to answer {path}", every=0.1)
    return process

"""A scratch database (SQLite, or a PostgreSQL database emptied first) with the whole demo loaded, for the benchmarks that read it;
or the demo served by a real 'peacewatch serve' on loopback, for those that time it over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine

from peacewatch.app import create_app
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.scenario import activity, nk2020


@contextmanager
def demo_app(*, say: bool = False, database_url: str | None = None) -> Iterator[tuple[FastAPI, Settings, Path]]:
    """The application on a fresh database holding what 'peacewatch demo' loads; removed afterwards (SQLite), or
    left for a look (PostgreSQL: its public schema is dropped first, so give a database kept for benchmarks)."""
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        if database_url:
            engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            engine.dispose()
        upgrade(url)
        settings = Settings(data_dir=Path(scratch), database_url=url, secret_key="bench-" + "x" * 40,
                            custody_key="bench-custody-" + "y" * 40)
        app = create_app(settings)
        began = time.perf_counter()
        with app.state.sessionmaker() as session:
            nk2020.load(session)
        for _, said in activity(app.state.sessionmaker, settings):
            if say:
                print(said)
        if say:
            print(f"demo loaded in {time.perf_counter() - began:.1f} s")
        try:
            yield app, settings, Path(scratch)
        finally:
            app.state.engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Served:
    url: str
    pid: int  # the server process, for its memory


@contextmanager
def demo_served() -> Iterator[Served]:
    """'peacewatch demo' loaded into a scratch data directory (SQLite, the embedded default), then served on a free
    loopback port until the block ends."""
    with tempfile.TemporaryDirectory() as scratch:
        env = os.environ | {"PEACEWATCH_DATA_DIR": scratch, "PEACEWATCH_COT_PORT": str(free_port()), "PEACEWATCH_COT_UDP": "false"}
        env.pop("PEACEWATCH_DATABASE_URL", None)
        subprocess.run([sys.executable, "-m", "peacewatch", "demo", "--no-serve"], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "peacewatch", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the demo server did not answer within 60 s")
                time.sleep(0.1)
            yield Served(url, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)

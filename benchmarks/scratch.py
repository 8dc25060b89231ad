"""A scratch database (SQLite, or a PostgreSQL database emptied first) with the whole demo loaded, for the benchmarks that read it;
or the demo served by a real 'peacewatch serve' on loopback, for those that time it over HTTP."""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import create_engine

from peacewatch.app import create_app
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.scenario import activity, nk2020

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for the tests' live server
from tests.live import LiveServer, live_server


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



@contextmanager
def demo_served() -> Iterator[LiveServer]:
    """'peacewatch demo' loaded into a scratch data directory (SQLite, the embedded default), then served on a free
    loopback port until the block ends: the tests' own live server."""
    with tempfile.TemporaryDirectory() as scratch, live_server(Path(scratch)) as served:
        yield served


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a server process and its children (its media workers), in MB."""
    import psutil

    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
    except psutil.Error:
        return 0.0


class MemoryWatch(threading.Thread):
    """A server's resident memory, its media workers' included, sampled every ``every`` seconds; its peak."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.stop = pid, every, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.peak = max(self.peak, tree_rss_mb(self.pid))

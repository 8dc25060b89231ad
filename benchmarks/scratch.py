"""A scratch SQLite database with the whole demo loaded, for the benchmarks that read it (run from the project's root)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from peacewatch.app import create_app
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.scenario import activity, nk2020


@contextmanager
def demo_app(*, say: bool = False) -> Iterator[tuple[FastAPI, Settings, Path]]:
    """The application on a fresh database holding what 'peacewatch demo' loads; removed afterwards."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        settings = Settings(data_dir=Path(scratch), database_url=url, secret_key="bench-" + "x" * 40)
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

"""An upgrade does not stop ingest: positions of revision 0011 are moved into the partitioned layout while a
writer goes on storing batches, none of which waits a second, and none of which is lost (PostgreSQL).

The full measure over 10 million positions is benchmarks/bench_upgrade.py; here a few thousand, in small batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from peacewatch.core import online_copy
from peacewatch.core.db import make_engine
from peacewatch.core.migrate import current_revision, head_revision, upgrade
from peacewatch.core.notify import libpq_url
from tests.conftest import PG_URL
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(not PG_URL, reason="the online copy is PostgreSQL's (SQLite takes one process, stopped to upgrade)")

TRACKERS = 20
START_MS = 1_604_966_400_000


@pytest.fixture
def old_database() -> Iterator[str]:
    """A database of its own at revision 0011, with 20 trackers and 6,000 positions in that layout."""
    assert PG_URL
    url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)).set(database="peacewatch_online_upgrade")
    admin = libpq_url(url.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS peacewatch_online_upgrade WITH (FORCE)")
        connection.execute("CREATE DATABASE peacewatch_online_upgrade")
    text = url.render_as_string(hide_password=False)
    upgrade(text, "0011")
    with psycopg.connect(libpq_url(text), autocommit=True) as connection:
        connection.execute(f"INSERT INTO trackers (code, name, kind, visibility, created_at, updated_at) SELECT 'OU-' || n, 'test', "
                           f"'vehicle', 'public', now(), now() FROM generate_series(1, {TRACKERS}) AS n")
        connection.execute(f"INSERT INTO positions (tracker_id, t_ms, lat, lon, cell) SELECT k.id, {START_MS} + s * 5000, "
                           f"40.1234567, 46.7654321, 1 FROM trackers k CROSS JOIN generate_series(0, 299) AS s")
    yield text
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS peacewatch_online_upgrade WITH (FORCE)")


def test_ingest_goes_on_while_positions_move_to_the_partitioned_layout(old_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(online_copy, "BATCH_ROWS", 500)  # a dozen batches, as a year's table has thousands
    took: list[float] = []
    acknowledged: list[tuple[int, int]] = []
    refused: list[str] = []
    stop = threading.Event()

    def write() -> None:
        new_layout, step = False, 0
        with psycopg.connect(libpq_url(old_database)) as connection:
            while not stop.is_set():
                rows = [(1 + (step * 10 + i) % TRACKERS, START_MS + 86_400_000 * 3 + (step * 10 + i) * 1000) for i in range(10)]
                began = time.perf_counter()
                try:
                    with connection.transaction():
                        for tracker, t in rows:
                            if new_layout:
                                connection.execute("INSERT INTO positions (tracker_id, t_ms, lat, lon) VALUES (%s, %s, 401000000, 467000000)",
                                                   (tracker, t))
                            else:
                                connection.execute("INSERT INTO positions (tracker_id, t_ms, lat, lon, cell) VALUES (%s, %s, 40.1, 46.7, 1)",
                                                   (tracker, t))
                    took.append(time.perf_counter() - began)
                    acknowledged.extend(rows)
                    step += 1
                except psycopg.errors.UndefinedColumn as exc:  # the swap: a restarted process writes the new layout
                    refused.append(str(exc))
                    new_layout = True
                time.sleep(0.005)

    with psycopg.connect(libpq_url(old_database), autocommit=True) as connection:  # what an upgrade that failed left
        connection.execute("CREATE TABLE positions_new (t_ms bigint)")
        connection.execute("CREATE TABLE coverage_new_pending (cell bigint)")
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    wait_for(lambda: len(took) >= 5, 30, "the writer to write")
    engine = make_engine(old_database)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    written = len(took)
    wait_for(lambda: len(took) >= written + 5, 30, "the writer to write the new layout")
    stop.set()
    writer.join(30)

    assert len(refused) <= 1, refused  # at most the one old-layout batch that met the swapped table
    assert max(took) < 1.0, f"a batch waited {max(took):.2f} s during the upgrade"
    with psycopg.connect(libpq_url(old_database)) as connection:
        stored = set(connection.execute("SELECT tracker_id, t_ms FROM positions").fetchall())
        assert connection.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass").fetchone()[0] >= 2  # type: ignore[index]  # an aggregate answers one row
        kept = connection.execute("SELECT lat, lon FROM positions WHERE t_ms = %s LIMIT 1", (START_MS,)).fetchone()
        leftovers = connection.execute("SELECT count(*) FROM pg_class WHERE relname IN ('positions_old', 'positions_new_pending', "
                                       "'coverage_old', 'coverage_new_pending')").fetchone()
    assert kept == (401234567, 467654321)  # 0011's degrees, in whole 10⁻⁷ degrees
    assert leftovers == (0,)
    assert len(stored) == TRACKERS * 300 + len(acknowledged)
    assert set(acknowledged) <= stored

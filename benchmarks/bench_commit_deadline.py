"""What bounding a commit's wait for the synchronous replica costs a commit (PostgreSQL).

Run by hand:
    python benchmarks/bench_commit_deadline.py --database-url postgresql://postgres@127.0.0.1:54329/pw_bench [--rounds 6]

Two engines on one database, one with ``PEACEWATCH_DB_REPLICA_WAIT_S``'s deadline (core.db.CommitDeadlines) and one
without, commit one-row transactions in interleaved rounds of 300 (each row distinct). Prints the median, min and
max microseconds per commit of each; fails unless every committed row is in the table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peacewatch.core.db import make_engine

COMMITS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engines = {"without deadline": make_engine(url), "with deadline (5 s)": make_engine(url, replica_wait_ms=5000)}
    with engines["without deadline"].begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS commit_deadline_bench"))
        connection.execute(text("CREATE TABLE commit_deadline_bench (n bigint PRIMARY KEY)"))
        settings = dict(connection.execute(text("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')")).all())
    took: dict[str, list[float]] = {name: [] for name in engines}
    n = 0
    for _round in range(args.rounds):
        for name, engine in engines.items():
            began = time.perf_counter()
            for _ in range(COMMITS):
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO commit_deadline_bench VALUES (:n)"), {"n": n})
                n += 1
            took[name].append((time.perf_counter() - began) / COMMITS * 1e6)
    with engines["without deadline"].connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM commit_deadline_bench")).scalar_one()
    assert stored == n, (stored, n)
    print(f"PostgreSQL (fsync={settings['fsync']}, synchronous_commit={settings['synchronous_commit']}), no replica: "
          f"{args.rounds} interleaved rounds of {COMMITS} one-row commits, {stored:,} rows stored (checked)")
    for name, values in took.items():
        print(f"  {name:<22} median {statistics.median(values):6.0f} µs per commit (min {min(values):.0f}, max {max(values):.0f})")
    for engine in engines.values():
        engine.dispose()


if __name__ == "__main__":
    main()

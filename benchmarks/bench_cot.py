"""Cursor-on-Target ingest over TCP: events/s from several clients to stored positions, the feed on.

Run by hand:
    python benchmarks/bench_cot.py [--clients 8] [--events 200000] [--trackers 400] [--hang-up]
    python benchmarks/bench_cot.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Starts `peacewatch serve` on a scratch database with its CoT listener (and its feed: every client
is sent the picture of posts, positions and alerts, as a TAK server does) on a free port, registers
the trackers' CoT uids, and streams pre-built events over several TCP connections at once. By
default each client reads what the server sends it while it sends, pausing after each MB as TAK
clients pause between reports (the server sends the picture in the pauses), and stays connected
until everything is stored; with --hang-up it sends its share and closes without reading anything,
the case where a careless server loses events.
It then counts the positions in the database until every event is stored (fails after --timeout
seconds), and prints the rate from the first byte sent to the last position committed.
"""

from __future__ import annotations

import argparse
import math
import socket
import tempfile
import threading
import time
from pathlib import Path

from bench_ingest import prepare, served
from sqlalchemy import create_engine, func, select

from peacewatch.tracking.models import Position


def events_for(trackers: int, count: int) -> list[bytes]:
    start = 1605340800.0
    out = []
    for i in range(count):
        n, k = i % trackers, i // trackers
        t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + k * 5)) + "Z"
        angle = (n * 0.7 + k * 0.01) % (2 * math.pi)
        out.append(
            f'<event version="2.0" uid="ANDROID-{n:04d}" type="a-f-G-U-U-L-M" how="m-g" time="{t}" start="{t}" '
            f'stale="{t}"><point lat="{40.1 + 0.08 * math.sin(angle):.6f}" lon="{46.7 + 0.1 * math.cos(angle):.6f}" '
            f'hae="9999999.0" ce="10.0" le="9999999.0"/><detail><track speed="9.0" course="90.0"/></detail></event>'.encode()
        )
    return out


PAUSE_EVERY = 1 << 20  # a reading client sends a MB, then pauses, as TAK clients pause between reports
PAUSE_S = 0.3


def stream(port: int, data: bytes, read: bool, received: list[int], done: threading.Event) -> None:
    """One TAK client: sign in, send the share; either read the feed meanwhile (pausing now and then, when the
    server sends the picture) and stay until everything is stored, or hang up at once without reading. ``data``
    starts with the sign-in: an anonymous client moves no mission tracker."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        if not read:
            conn.sendall(data)
            return

        def drain() -> None:
            got = 0
            try:
                while chunk := conn.recv(1 << 16):
                    got += len(chunk)
            except OSError:
                pass
            received.append(got)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        for start in range(0, len(data), PAUSE_EVERY):
            conn.sendall(data[start : start + PAUSE_EVERY])
            time.sleep(PAUSE_S)
        done.wait()
        conn.shutdown(socket.SHUT_RDWR)
        reader.join(5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--trackers", type=int, default=400)
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--cot-port", type=int, default=18087)
    parser.add_argument("--hang-up", action="store_true", help="Clients close without reading the feed")
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database (default: SQLite in a scratch directory)")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    settings = prepare(Path(tempfile.mkdtemp(prefix="pw-cot-")), args.trackers, args.database_url)
    engine = create_engine(settings.resolved_database_url)
    with served(settings, args.port, PEACEWATCH_COT_PORT=str(args.cot_port), PEACEWATCH_COT_UDP="false") as (client, headers):
        trackers = client.get("/api/v1/trackers", params={"limit": 10_000}, headers=headers).json()
        for t in trackers:
            if t["code"].startswith("BT-"):
                client.patch(f"/api/v1/trackers/{t['id']}", json={"cot_uid": "ANDROID-" + t["code"][3:]}, headers=headers)
        events = events_for(args.trackers, args.events)
        # each client signs in as TAK Server's clients do, as the operations user (a role that reports for any tracker)
        sign_in = f'<auth><cot username="ops" password="{headers["Authorization"].removeprefix("Bearer ")}"/></auth>'.encode()
        shares = [sign_in + b"".join(events[i :: args.clients]) for i in range(args.clients)]
        received: list[int] = []
        done = threading.Event()

        started = time.perf_counter()
        threads = [threading.Thread(target=stream, args=(args.cot_port, share, not args.hang_up, received, done))
                   for share in shares]
        for thread in threads:
            thread.start()
        stored = 0
        with engine.connect() as connection:
            while stored < args.events and time.perf_counter() - started < args.timeout:
                stored = connection.scalar(select(func.count()).select_from(Position)) or 0
                connection.rollback()
                time.sleep(0.05)
        elapsed = time.perf_counter() - started
        status = client.get("/api/v1/cot/status", headers=headers).json()
        done.set()
        for thread in threads:
            thread.join()
    engine.dispose()
    database = "PostgreSQL" if args.database_url else "SQLite"
    mode = "hanging up without reading" if args.hang_up else f"reading the feed ({sum(received) / 1e6:.1f} MB received)"
    print(f"{args.events:,} CoT events over {args.clients} TCP connections, clients {mode}, {database}: "
          f"{stored:,} stored in {elapsed:.2f} s = {stored / elapsed:,.0f} positions/s "
          f"(malformed {status['malformed']}, oversized {status['oversized']}, shed {status['shed']}, refused {status['refused']}, "
          f"feed events sent {status.get('feed_sent', 0):,})")
    if stored != args.events:
        raise SystemExit(f"LOST {args.events - stored:,} of {args.events:,} events")


if __name__ == "__main__":
    main()

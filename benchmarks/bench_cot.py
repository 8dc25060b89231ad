"""Cursor-on-Target ingest over TCP: events/s from many clients to stored positions.

Run by hand:
    python benchmarks/bench_cot.py [--clients 8] [--events 200000] [--trackers 400]

Starts `peacewatch serve` on a scratch data directory with its CoT listener on a free port,
registers the trackers' CoT uids, streams pre-built events over several TCP connections at once,
and times until the listener reports every fix stored (committed).
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--trackers", type=int, default=400)
    parser.add_argument("--port", type=int, default=8798)
    parser.add_argument("--cot-port", type=int, default=18087)
    args = parser.parse_args()

    settings = prepare(Path(tempfile.mkdtemp(prefix="pw-cot-")), args.trackers)
    with served(settings, args.port, PEACEWATCH_COT_PORT=str(args.cot_port)) as (client, headers):
        trackers = client.get("/api/v1/trackers", params={"limit": 10_000}, headers=headers).json()
        for t in trackers:
            client.patch(f"/api/v1/trackers/{t['id']}", json={"cot_uid": "ANDROID-" + t["code"][3:]}, headers=headers)
        events = events_for(args.trackers, args.events)
        shares = [b"".join(events[i :: args.clients]) for i in range(args.clients)]

        def stream(data: bytes) -> None:
            with socket.create_connection(("127.0.0.1", args.cot_port)) as conn:
                conn.sendall(data)

        started = time.perf_counter()
        threads = [threading.Thread(target=stream, args=(share,)) for share in shares]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = time.perf_counter() - started
        while True:
            status = client.get("/api/v1/cot/status", headers=headers).json()
            if status["stored"] + status["malformed"] + status["oversized"] + status["shed"] >= args.events:
                break
            if time.perf_counter() - started > 300:
                raise SystemExit(f"timed out: {status}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        print(f"{args.events:,} CoT events over {args.clients} TCP connections: sent in {sent:.2f} s, "
              f"all stored in {elapsed:.2f} s = {status['stored'] / elapsed:,.0f} positions/s "
              f"(malformed {status['malformed']}, oversized {status['oversized']}, shed {status['shed']})")


if __name__ == "__main__":
    main()

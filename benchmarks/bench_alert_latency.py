"""Position received -> alert delivered on the live stream, under ingest load.

Run by hand:
    python benchmarks/bench_alert_latency.py [--probes 100] [--load-batch 10000]

Starts `peacewatch serve` on a scratch data directory. One thread posts batches of positions from
400 trackers as fast as the server takes them (the load); a probe tracker on a patrol steps out of
its area and back every half second, and an SSE client on /api/v1/alerts/stream notes when each
"left_area" alert arrives. Latency = alert received - probe POST sent (it includes waiting behind
load batches for the writer).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import make_batches, prepare, served


def load(base: str, headers: dict[str, str], size: int, count: int, stop: Any, loaded: Any) -> None:
    """The load, in its own process so it does not compete with the prober for a GIL: fresh batches back to back."""
    bodies = make_batches(400, size, count)
    with httpx.Client(base_url=base, timeout=60) as client:
        loaded.value = 1
        for body in bodies:
            if stop.is_set():
                return
            client.post("/api/v1/positions", content=body, headers=headers | {"Content-Type": "application/json"})
            with loaded.get_lock():
                loaded.value += size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--load-batch", type=int, default=10_000)
    parser.add_argument("--load-batches", type=int, default=250)
    parser.add_argument("--port", type=int, default=8797)
    args = parser.parse_args()
    settings = prepare(Path(tempfile.mkdtemp(prefix="pw-latency-")), 400)
    base = f"http://127.0.0.1:{args.port}"
    with served(settings, args.port, PEACEWATCH_COT_PORT="0", PEACEWATCH_COT_UDP="false") as (client, headers):
        units = {u["name"]: u["id"] for u in client.get("/api/v1/units", headers=headers).json()}
        north = next(f["id"] for f in client.get("/api/v1/areas").json()["features"] if f["properties"]["code"] == "north")
        client.post("/api/v1/trackers", json={"code": "PROBE"}, headers=headers).raise_for_status()
        now = datetime.now(UTC)
        patrol = client.post("/api/v1/patrols", headers=headers, json={
            "name": "probe", "unit_id": units["Military Police Company North"], "zone_id": north,
            "planned_start": now.isoformat(), "planned_end": now.replace(year=now.year + 1).isoformat(), "trackers": ["PROBE"],
        }).json()
        client.post(f"/api/v1/patrols/{patrol['id']}/start", json={}, headers=headers).raise_for_status()

        sent: dict[str, float] = {}
        latencies: list[float] = []
        done = threading.Event()

        def listen() -> None:
            try:
                with httpx.Client(base_url=base, timeout=None) as sse, \
                        sse.stream("GET", "/api/v1/alerts/stream", headers=headers) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data:"):
                            alert = json.loads(line[5:])
                            key = alert["started_at"][:23]
                            if alert["kind"] == "left_area" and key in sent:
                                latencies.append(time.perf_counter() - sent[key])
                        if done.is_set():
                            return
            except httpx.HTTPError:
                return  # the server stopped at the end of the run

        loaded = multiprocessing.Value("q", 0)
        stop = multiprocessing.Event()
        loader = multiprocessing.Process(
            target=load, args=(base, headers, args.load_batch, args.load_batches, stop, loaded), daemon=True
        )
        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        loader.start()
        while loaded.value == 0:  # the loader prepares its batches first
            time.sleep(0.1)
        started, loaded_before = time.perf_counter(), loaded.value
        for _ in range(args.probes):
            t = datetime.now(UTC)
            stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:23]
            out = {"tracker": "PROBE", "t": stamp + "Z", "lat": 39.5, "lon": 45.0}
            back = {"tracker": "PROBE", "t": t.replace(microsecond=(t.microsecond // 1000 + 1) % 1000 * 1000).strftime(
                "%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z", "lat": 40.1, "lon": 46.7}
            sent[stamp] = time.perf_counter()
            client.post("/api/v1/positions", json={"positions": [out]}, headers=headers)
            client.post("/api/v1/positions", json={"positions": [back]}, headers=headers)
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
        load_rate = (loaded.value - loaded_before) / elapsed
        time.sleep(2)
        done.set()
        stop.set()
        values = np.array(latencies) * 1000
        print(f"{len(values)} of {args.probes} probe alerts received under a load of "
              f"{load_rate:,.0f} positions/s while probing")
        if len(values):
            print(f"latency position received -> alert on the stream: p50 {np.percentile(values, 50):.0f} ms, "
                  f"p90 {np.percentile(values, 90):.0f} ms, p99 {np.percentile(values, 99):.0f} ms, max {values.max():.0f} ms")
        if len(values) != args.probes:
            sys.exit(f"FAILED: {len(values)} of {args.probes} probe alerts reached the stream")


if __name__ == "__main__":
    main()

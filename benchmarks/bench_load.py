"""An operations centre's busy morning: many concurrent users on one served PeaceWatch.

Run by hand (the figures in docs/performance.md):
    python benchmarks/bench_load.py --clients 1000 --seconds 60
    python benchmarks/bench_load.py --clients 1000 --seconds 60 --workers 2 --database-url postgresql://postgres@127.0.0.1:5432/bench
    python benchmarks/bench_load.py --url http://127.0.0.1:8000 ...      (a server you started yourself, demo loaded)
.ci/run runs a short version with --check, which fails on any 5xx, any request unanswered after 30 s,
or any acknowledged write missing from the database.

Without --url it loads the demo into a scratch SQLite database (or the PostgreSQL database named,
whose public schema it drops and makes again: give it a scratch database) and starts
`peacewatch serve` (with --workers on PostgreSQL). The clients, each with a connection of its own:
- 70 % read what the operations map, the lists and GIS clients ask for: zones, posts open on a day,
  latest positions, tracks of the last two hours, patrols, alerts, incidents, OGC API items;
- 20 % hold a live stream open (positions or alerts) for the whole run, as an open map does;
- 10 % write: batches of 100 positions, each from one device (nine in ten writes), and incident reports.
The clients that make requests do one every 0.8 x --pace seconds on average (exponential think
times), so that the whole makes --clients / --pace requests per second, as that many users at one
request every --pace seconds. Each answer is timed from the request to the last byte.
At the end every acknowledged position and report is looked for in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import httpx
from bench_ingest import BENCH_CUSTODY, BENCH_SECRET
from sqlalchemy import create_engine, text

READS = [  # what an operations centre's screens and GIS clients ask, weighted by how often
    (3, "/api/v1/posts?on=2020-11-18&limit=10000", None),
    (2, "/api/v1/areas?on=2020-11-14&limit=1000", None),
    (1, "/api/v1/corridors?on=2020-11-14&limit=1000", None),
    (1, "/api/v1/lines-of-contact?on=2020-11-14&limit=1000", None),
    (2, "/api/v1/positions/latest?at=2020-11-14T10:00:00Z&max_age_minutes=60", "ops"),
    (2, "/api/v1/positions/tracks?until=2020-11-14T10:00:00Z&hours=2", "ops"),
    (2, "/api/v1/patrols?since=2020-11-14T00:00:00Z&until=2020-11-15T00:00:00Z&limit=1000", "ops"),
    (3, "/api/v1/alerts?limit=200", "ops"),
    (3, "/api/v1/incidents?limit=100", "ops"),
    (1, "/api/v1/incidents?limit=100", None),
    (2, "/ogc/collections/incidents/items?limit=100&f=json", "ops"),
    (2, "/ogc/collections/posts/items?limit=100&f=json", None),
    (1, "/ogc/collections/areas/items?f=json", None),
]
STREAMS = ["/api/v1/positions/stream?max_age_minutes=60", "/api/v1/alerts/stream"]
TRACKERS = 100
TIMEOUT_S = 30.0


@dataclass
class Tally:
    reads: list[float] = field(default_factory=list)
    writes: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    positions_acked: int = 0
    incidents_acked: set[int] = field(default_factory=set)
    streams_opened: int = 0
    streams_dropped: int = 0
    stream_bytes: int = 0
    stream_first_byte: list[float] = field(default_factory=list)


class Load:
    def __init__(self, url: str, tokens: dict[str, str], args: argparse.Namespace) -> None:
        self.url = url
        self.tokens = tokens
        self.args = args
        self.tally = Tally()
        self.until = 0.0
        self.rng = random.Random(7)
        self.paths = [(path, who) for weight, path, who in READS for _ in range(weight)]

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    async def request(self, session: aiohttp.ClientSession, method: str, path: str, who: str | None,
                      body: dict[str, object] | None = None) -> tuple[int, bytes] | None:
        try:
            async with session.request(method, self.url + path, json=body, headers=self.headers(who)) as answer:
                return answer.status, await answer.read()
        except TimeoutError:
            self.tally.unanswered += 1
        except aiohttp.ClientError as exc:
            self.tally.failures[type(exc).__name__] += 1
        return None

    async def think(self, pace: float) -> bool:
        """A user's pause between requests; False once the run is over."""
        await asyncio.sleep(min(self.rng.expovariate(1 / pace), max(0.0, self.until - time.monotonic())))
        return time.monotonic() < self.until

    async def reader(self, session: aiohttp.ClientSession, pace: float) -> None:
        while await self.think(pace):
            path, who = self.rng.choice(self.paths)
            began = time.monotonic()
            answer = await self.request(session, "GET", path, who)
            if answer is not None:
                self.tally.statuses[str(answer[0])] += 1
                if answer[0] == 200:
                    self.tally.reads.append(time.monotonic() - began)

    async def writer(self, session: aiohttp.ClientSession, pace: float, number: int) -> None:
        sent = 0
        while await self.think(pace):
            sent += 1
            began = time.monotonic()
            if sent % 10:  # nine batches of positions from the devices for each report filed by a user
                # a device's last two seconds of fixes, 20 ms apart: live, so the live streams carry every one
                start = datetime.now(UTC) - timedelta(seconds=2)
                fixes = [{"tracker": f"LD-{number % TRACKERS:03d}", "t": (start + timedelta(milliseconds=20 * i)).isoformat(),
                          "lat": 40.0 + self.rng.random() * 0.2, "lon": 46.6 + self.rng.random() * 0.3} for i in range(100)]
                answer = await self.request(session, "POST", "/api/v1/positions", "patrol", {"positions": fixes})
                if answer is not None and answer[0] == 200:
                    self.tally.positions_acked += int(json.loads(answer[1])["stored"])
            else:
                report = {"type": "movement_of_forces", "started_at": "2020-11-14T09:00:00Z", "lat": 40.05, "lon": 46.75,
                          "source": "media", "narrative": "load test", "client_id": f"load-{number}-{sent}"}
                answer = await self.request(session, "POST", "/api/v1/incidents", "patrol", report)
                if answer is not None and answer[0] in (200, 201):
                    self.tally.incidents_acked.add(int(json.loads(answer[1])["id"]))
            if answer is not None:
                self.tally.statuses[str(answer[0])] += 1
                if answer[0] in (200, 201):
                    self.tally.writes.append(time.monotonic() - began)

    async def streamer(self, session: aiohttp.ClientSession, path: str) -> None:
        while time.monotonic() < self.until:
            began = time.monotonic()
            try:
                async with session.get(self.url + path, headers=self.headers("ops"),
                                       timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as answer:
                    self.tally.statuses[str(answer.status)] += 1
                    if answer.status != 200:
                        await asyncio.sleep(1)
                        continue
                    self.tally.streams_opened += 1
                    self.tally.stream_first_byte.append(time.monotonic() - began)
                    while time.monotonic() < self.until:
                        chunk = await asyncio.wait_for(answer.content.readany(), max(0.1, self.until - time.monotonic()))
                        if not chunk:
                            self.tally.streams_dropped += 1
                            break
                        self.tally.stream_bytes += len(chunk)
            except TimeoutError:
                pass
            except aiohttp.ClientError as exc:
                self.tally.failures[f"stream {type(exc).__name__}"] += 1
                self.tally.streams_dropped += 1

    async def run(self) -> None:
        args = self.args
        clients = args.clients
        streaming, writing = round(clients * args.stream_share), round(clients * args.write_share)
        reading = clients - streaming - writing
        pace = args.pace * (1 - args.stream_share)  # those that make requests carry the whole rate
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            self.until = time.monotonic() + args.ramp + args.seconds
            tasks = []
            for n in range(clients):  # started evenly over the ramp
                if n < streaming:
                    tasks.append(asyncio.create_task(self.streamer(session, STREAMS[n % 2])))
                elif n < streaming + writing:
                    tasks.append(asyncio.create_task(self.writer(session, pace, n)))
                else:
                    tasks.append(asyncio.create_task(self.reader(session, pace)))
                await asyncio.sleep(args.ramp / clients)
            await asyncio.gather(*tasks)
        del reading


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)

    def pick(q: float) -> float:  # the value at quantile q, in milliseconds
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"p50 {pick(0.5):.0f} ms, p90 {pick(0.9):.0f} ms, p99 {pick(0.99):.0f} ms, max {ordered[-1] * 1000:.0f} ms"


@contextmanager
def served(args: argparse.Namespace, **extra_env: str) -> Iterator[tuple[str, str]]:
    """The demo on a scratch database, served by ``args.workers`` processes (with ``extra_env``); yields the URL and
    the database URL."""
    scratch = Path(tempfile.mkdtemp(prefix="pw-load-"))
    env = os.environ | {"PEACEWATCH_DATA_DIR": str(scratch), "PEACEWATCH_SECRET_KEY": BENCH_SECRET,
                        "PEACEWATCH_CUSTODY_KEY": BENCH_CUSTODY, "PEACEWATCH_COT_PORT": "0", "PEACEWATCH_COT_UDP": "false"} | extra_env
    if args.database_url:
        env["PEACEWATCH_DATABASE_URL"] = args.database_url
        engine = create_engine(args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "peacewatch", "demo", "--no-serve"], env=env, check=True, capture_output=True)
    print(f"demo loaded in {time.perf_counter() - began:.0f} s")
    port = args.port
    log = open(scratch / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-m", "peacewatch", "serve", "--port", str(port), "--workers", str(args.workers)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url, args.database_url or f"sqlite:///{scratch / 'peacewatch.db'}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def prepare(url: str) -> dict[str, str]:
    tokens = {}
    for who in ("ops", "patrol"):
        answer = httpx.post(f"{url}/api/v1/auth/token", data={"username": who, "password": "demo"}, timeout=30)
        answer.raise_for_status()
        tokens[who] = answer.json()["access_token"]
    ops = {"Authorization": f"Bearer {tokens['ops']}"}
    known = {t["code"] for t in httpx.get(f"{url}/api/v1/trackers", params={"limit": 10_000}, headers=ops, timeout=30).json()}
    for n in range(TRACKERS):
        if f"LD-{n:03d}" not in known:
            httpx.post(f"{url}/api/v1/trackers", json={"code": f"LD-{n:03d}", "name": f"Load {n}", "bound_users": ["patrol"]}, headers=ops,
                       timeout=30).raise_for_status()
    return tokens


def stored(database_url: str, incident_ids: set[int]) -> tuple[int, int]:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        positions = connection.execute(text(
            "SELECT count(*) FROM positions JOIN trackers ON trackers.id = positions.tracker_id WHERE trackers.code LIKE 'LD-%'"
        )).scalar_one()
        reports = connection.execute(text("SELECT id FROM incidents WHERE narrative = 'load test'")).scalars().all()
    engine.dispose()
    return int(positions), len(incident_ids & set(reports))


def run(url: str, database_url: str | None, args: argparse.Namespace) -> bool:
    tokens = prepare(url)
    load = Load(url, tokens, args)
    began = time.perf_counter()
    asyncio.run(load.run())
    elapsed = time.perf_counter() - began
    after = time.perf_counter()
    health = httpx.get(f"{url}/healthz", timeout=30).status_code
    recovered = httpx.get(f"{url}/api/v1/posts", params={"on": "2020-11-18"}, timeout=30)
    recovery_s = time.perf_counter() - after
    t = load.tally
    answered = sum(t.statuses.values())
    server_errors = sum(n for status, n in t.statuses.items() if status.startswith("5"))
    print(f"{args.clients} clients for {args.seconds:.0f} s (+{args.ramp:.0f} s ramp), one request per {args.pace} s each "
          f"on average: {answered:,} answers in {elapsed:.0f} s = {answered / elapsed:,.0f} requests/s")
    print(f"  statuses {dict(sorted(t.statuses.items()))}; unanswered after {TIMEOUT_S:.0f} s: {t.unanswered}; "
          f"connection failures: {dict(t.failures) or 0}")
    print(f"  reads  ({len(t.reads):,}): {percentiles(t.reads)}")
    print(f"  writes ({len(t.writes):,}): {percentiles(t.writes)}")
    print(f"  streams: {t.streams_opened} opened, {t.streams_dropped} dropped, {t.stream_bytes / 1e6:.1f} MB received, "
          f"first byte {percentiles(t.stream_first_byte)}")
    ok = server_errors == 0 and t.unanswered == 0 and health == 200 and recovered.status_code == 200 and not t.failures
    if database_url:
        positions, reports = stored(database_url, t.incidents_acked)
        print(f"  acknowledged vs stored: positions {t.positions_acked:,} / {positions:,}, "
              f"incident reports {len(t.incidents_acked):,} / {reports:,}")
        ok = ok and positions == t.positions_acked and reports == len(t.incidents_acked)
    print(f"  after the load: /healthz {health}, posts {recovered.status_code} in {recovery_s * 1000:.0f} ms")
    if t.reads:
        print(f"  read latency mean {statistics.mean(t.reads) * 1000:.0f} ms")
    print("PASS" if ok else "FAIL")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ramp", type=float, default=5, help="Seconds over which the clients start")
    parser.add_argument("--pace", type=float, default=3.0, help="Seconds between one user's requests, on average")
    parser.add_argument("--url", help="A running server with the demo loaded (default: start one)")
    parser.add_argument("--database-url", help="PostgreSQL URL of a scratch database (default: SQLite); with --url, "
                        "the server's database, to check what was stored")
    parser.add_argument("--stream-share", type=float, default=0.2, help="Share of the clients holding a live stream")
    parser.add_argument("--write-share", type=float, default=0.1, help="Share of the clients writing")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8797)
    parser.add_argument("--check", action="store_true", help="Exit 1 on any 5xx, unanswered request or lost write")
    args = parser.parse_args()
    if args.url:
        ok = run(args.url, args.database_url, args)
    else:
        with served(args) as (url, database_url):
            ok = run(url, database_url, args)
    if args.check and not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

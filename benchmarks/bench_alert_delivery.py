"""Alert raised → first notice on TAK and by e-mail, over two server processes on one PostgreSQL.

Run by hand (PostgreSQL: two processes; without --database-url, one process on SQLite):
    python benchmarks/bench_alert_delivery.py --database-url postgresql://postgres@127.0.0.1:54329/pw_bench [--alerts 1000]

Serves the demo with `peacewatch serve --workers 2` (its duty roster: ops is the duty officer; its policy "Calls for
help" tells the duty officer at once by TAK and e-mail), with a real SMTP server of the benchmark's own (aiosmtpd) and
a TAK client signed in as ops (pytak's connection, TAK Server's sign-in). Raises ALERTS calls for help through
POST /api/v1/emergencies at a steady pace, each a distinct call, the kernel spreading the requests over both
processes. Times, per alert, from the moment its POST was sent to the first GeoChat line naming it on the TAK
client and the first e-mail naming it in the mailbox; then checks that each channel received each alert exactly
once (no duplicate across processes or retries) and that the database says the same (notices sent).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import threading
import time
from collections import Counter
from configparser import ConfigParser
from pathlib import Path

import httpx
import numpy as np
import pytak
from lxml import etree
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))
from bench_load import served

from peacewatch.tracking.cot import EventSplitter, StreamCounters
from tests.mail import smtp_server

NAMED = re.compile(r"alert (\d+):")


def token(url: str, who: str) -> dict[str, str]:
    answer = httpx.post(f"{url}/api/v1/auth/token", data={"username": who, "password": "demo"}, timeout=30)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


class TakClient(threading.Thread):
    """ATAK signed in as the duty officer: notes when each GeoChat line naming an alert arrives."""

    def __init__(self, port: int, key: str) -> None:
        super().__init__(daemon=True)
        self.port, self.key = port, key
        self.arrivals: dict[int, float] = {}
        self.counts: Counter[int] = Counter()
        self.stop = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        asyncio.run(self.listen())

    async def listen(self) -> None:
        config = ConfigParser()
        config["tak"] = {"COT_URL": f"tcp://127.0.0.1:{self.port}", "PYTAK_NO_HELLO": "1"}
        reader, writer = await pytak.protocol_factory(config["tak"])
        writer.write(f'<auth><cot username="ops" password="{self.key}" uid="ANDROID-bench-ops"/></auth>'.encode())
        await writer.drain()
        self.ready.set()
        splitter = EventSplitter()
        while not self.stop.is_set():
            try:
                chunk = await asyncio.wait_for(reader.read(1 << 20), 0.5)
            except TimeoutError:
                continue
            if not chunk:
                break
            now = time.perf_counter()
            for raw in splitter.feed(chunk, StreamCounters()):
                event = etree.fromstring(raw)
                if event.get("type") != "b-t-f":
                    continue
                found = NAMED.search(event.findtext("detail/remarks") or "")
                if found:
                    alert = int(found[1])
                    self.counts[alert] += 1
                    self.arrivals.setdefault(alert, now)
        writer.close()


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ms = np.array(values) * 1000
    return f"median {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL (two processes); SQLite otherwise (one)")
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="calls for help raised per second")
    parser.add_argument("--port", type=int, default=8796)
    parser.add_argument("--cot-port", type=int, default=8797)
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the last notices")
    args = parser.parse_args()

    args.workers = 2 if args.database_url else 1
    mail = {"PEACEWATCH_SMTP_HOST": "127.0.0.1", "PEACEWATCH_COT_PORT": str(args.cot_port), "PEACEWATCH_PUBLIC_URL": "https://pw.bench.test"}
    with smtp_server() as (mailbox, smtp_port), served(args, PEACEWATCH_SMTP_PORT=str(smtp_port), **mail) as (url, database_url):
        cot_port = args.cot_port
        ops, admin, patrol = token(url, "ops"), token(url, "admin"), token(url, "patrol")
        me = next(u for u in httpx.get(f"{url}/api/v1/users", headers=admin, timeout=30).json() if u["username"] == "ops")
        httpx.patch(f"{url}/api/v1/users/{me['id']}", json={"email": "ops@bench.test"}, headers=admin, timeout=30).raise_for_status()
        key = httpx.post(f"{url}/api/v1/api-tokens", json={"name": "bench ATAK", "username": "ops"}, headers=admin,
                         timeout=30).json()["token"]
        on_duty = httpx.get(f"{url}/api/v1/duty/now", headers=ops, timeout=30).json()["shifts"]
        print(f"on duty now: {sorted((s['duty'], s['username']) for s in on_duty)}")
        tak = TakClient(cot_port, key)
        tak.start()
        tak.ready.wait(30)
        time.sleep(1.0)  # the sign-in read and the connection's first picture sent: then the timing starts

        sent: dict[int, float] = {}
        began = time.perf_counter()
        with httpx.Client(base_url=url, headers=patrol, timeout=60) as client:
            for n in range(args.alerts):
                due = began + n / args.rate
                while (pause := due - time.perf_counter()) > 0:
                    time.sleep(pause)
                at = time.perf_counter()
                answer = client.post("/api/v1/emergencies", json={"client_id": f"bench-call-{n:06d}", "lat": 39.8 + n * 1e-5, "lon": 46.75})
                answer.raise_for_status()
                sent[answer.json()["id"]] = at
        raised_s = time.perf_counter() - began
        print(f"{len(sent)} calls for help raised in {raised_s:.1f} s ({len(sent) / raised_s:.0f}/s) over "
              f"{'two processes' if args.database_url else 'one process'}")

        def emails() -> dict[int, list[float]]:
            out: dict[int, list[float]] = {}
            for message, when in mailbox.timed():
                found = NAMED.search(" ".join(str(message["Subject"]).split()))
                if found:
                    out.setdefault(int(found[1]), []).append(when)
            return out

        deadline = time.perf_counter() + args.wait
        while time.perf_counter() < deadline and (len(tak.arrivals) < len(sent) or len(emails()) < len(sent)):
            time.sleep(0.2)
        tak.stop.set()
        tak.join(5)
        mail = emails()

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        notices = {channel: count for channel, count in connection.execute(text(
            "SELECT channel, count(*) FROM notices WHERE recipient = 'ops' AND status IN ('sent', 'delivered', 'read') "
            "GROUP BY channel"))}
        steps = connection.execute(text("SELECT count(*) FROM alert_steps WHERE step = 0")).scalar_one()
    engine.dispose()

    tak_latency = [tak.arrivals[a] - sent[a] for a in sent if a in tak.arrivals]
    mail_latency = [min(mail[a]) - sent[a] for a in sent if a in mail]
    tak_duplicates = sum(n - 1 for a, n in tak.counts.items() if a in sent and n > 1)
    mail_duplicates = sum(len(times) - 1 for a, times in mail.items() if a in sent and len(times) > 1)
    print(f"TAK (GeoChat to the duty officer's ATAK): {len(tak_latency)}/{len(sent)} received, {tak_duplicates} duplicates; "
          f"{percentiles(tak_latency)}")
    print(f"e-mail (SMTP, aiosmtpd):                  {len(mail_latency)}/{len(sent)} received, {mail_duplicates} duplicates; "
          f"{percentiles(mail_latency)}")
    print(f"database: first steps taken {steps}, notices to ops sent: {notices}")
    p95 = max(float(np.percentile(tak_latency, 95)) if tak_latency else float("inf"),
              float(np.percentile(mail_latency, 95)) if mail_latency else float("inf"))
    ok = (len(tak_latency) == len(mail_latency) == len(sent) == steps and tak_duplicates == mail_duplicates == 0
          and notices.get("tak") == notices.get("email") == len(sent) and p95 < 10.0)
    print("PASS" if ok else "FAIL", f"(goal: every alert once on each channel, p95 under 10 s; worst p95 {p95:.2f} s)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Two real server processes on one PostgreSQL database: alerts raised exactly once, pushed to both,
periodic work led by one process and handed over when it dies, keys shared."""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from peacewatch.core.db import utcnow
from tests.cluster.conftest import Proxy, Server, admin_headers, token
from tests.conftest import PG_URL
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(not PG_URL, reason="several server processes need PostgreSQL (SQLite takes one)")

NORTH_INSIDE = (40.10, 46.70)
OUTSIDE = (39.50, 45.00)


def north_id(server: Server) -> int:
    areas = httpx.get(f"{server.url}/api/v1/areas", timeout=30).json()["features"]
    return int(next(f["id"] for f in areas if f["properties"]["code"] == "north"))


def north_unit(server: Server, ops: dict[str, str]) -> int:
    units = httpx.get(f"{server.url}/api/v1/units", headers=ops, timeout=30).json()
    return int(next(u["id"] for u in units if u["name"] == "Military Police Company North"))


def start_patrol(server: Server, ops: dict[str, str], name: str, trackers: list[str], *, started: datetime,
                 silence_minutes: int = 15) -> dict[str, Any]:
    with server.client(**ops) as client:
        for code in trackers:
            client.post("/api/v1/trackers", json={"code": code, "bound_users": ["patrol"]})
        body = {"name": name, "unit_id": north_unit(server, ops), "zone_id": north_id(server), "planned_start": started.isoformat(),
                "planned_end": (started + timedelta(hours=8)).isoformat(), "trackers": trackers,
                "silence_minutes": silence_minutes}
        created = client.post("/api/v1/patrols", json=body)
        assert created.status_code == 201, created.text
        patrol = created.json()
        began = client.post(f"/api/v1/patrols/{patrol['id']}/start", json={"at": started.isoformat()})
        assert began.status_code == 200, began.text
    return patrol


def fixes(tracker: str, start: datetime, where: tuple[float, float], count: int) -> list[dict[str, Any]]:
    return [{"tracker": tracker, "t": (start + timedelta(seconds=10 * i)).isoformat(), "lat": where[0],
             "lon": where[1] + (i % 2) * 0.002} for i in range(count)]


def post(server: Server, headers: dict[str, str], positions: list[dict[str, Any]]) -> None:
    answer = httpx.post(f"{server.url}/api/v1/positions", json={"positions": positions}, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text


def alerts(server: Server, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.url}/api/v1/alerts", params={"limit": 1000, **params}, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_the_sweeper_raises_one_silent_alert_per_patrol_whatever_the_processes(
    pair: tuple[Server, Server], auth: Callable[[str], dict[str, str]],
) -> None:
    first, second = pair
    started = utcnow() - timedelta(hours=1)
    with ThreadPoolExecutor(8) as pool:
        patrols = list(pool.map(lambda n: start_patrol(first if n % 2 else second, auth("ops"), f"Silent {n}", [f"S-{n:03d}"],
                                                       started=started, silence_minutes=5), range(200)))
    ops = auth("ops")
    silent = wait_for(lambda: (found := alerts(first, ops, kind="silent")) and len(found) >= 200 and found, 60,
                      "a silent alert for each of the 200 patrols")
    def sweeps() -> int:  # the leader's runs of the sweeper so far
        return sum(state["jobs"]["alert-sweep"]["runs"] for server in pair if (state := server.details()) and state["leader"])

    done = sweeps()
    wait_for(lambda: sweeps() >= done + 3, 30, "three more sweeps by whichever process leads")  # still one alert per patrol
    silent = alerts(second, ops, kind="silent")
    assert sorted(a["patrol_id"] for a in silent) == sorted(p["id"] for p in patrols)
    leaders = [s.details()["leader"] for s in pair]  # type: ignore[index]
    assert sorted(leaders) == [False, True]


def test_racing_batches_of_one_tracker_raise_one_alert_per_episode(
    pair: tuple[Server, Server], auth: Callable[[str], dict[str, str]], session: Any,
) -> None:
    first, second = pair
    base = utcnow() - timedelta(hours=2)
    start_patrol(first, auth("ops"), "Racing", ["R-01"], started=base)
    patrol_user = auth("patrol")
    moment = base + timedelta(minutes=1)
    episodes = 20
    backwards: list[tuple[int, int]] = []

    def state_ms() -> int:
        from sqlalchemy import select

        from peacewatch.tracking.models import Tracker, TrackerState

        session.rollback()  # a fresh look at what the servers committed
        return int(session.scalar(select(TrackerState.t_ms).join(Tracker, Tracker.id == TrackerState.tracker_id)
                                  .where(Tracker.code == "R-01")))
    for _ in range(episodes):
        post(first, patrol_user, fixes("R-01", moment, NORTH_INSIDE, 3))
        moment += timedelta(seconds=30)
        # the tracker leaves its area: two batches of the same stretch reach the two processes at once
        outside = fixes("R-01", moment, OUTSIDE, 6)
        gate = threading.Barrier(2)

        def send(server: Server, batch: list[dict[str, Any]], gate: threading.Barrier = gate) -> None:
            gate.wait()
            post(server, patrol_user, batch)

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(send, (first, second), (outside[:4], outside[2:])))
        newest = int(datetime.fromisoformat(outside[-1]["t"]).timestamp() * 1000)
        if state_ms() != newest:
            backwards.append((state_ms(), newest))
        moment += timedelta(seconds=60)
    post(second, patrol_user, fixes("R-01", moment, NORTH_INSIDE, 3))
    left = alerts(first, auth("ops"), kind="left_area")
    assert len(left) == episodes  # each exit raised exactly one alert: not 0, not 2
    assert all(a["ended_at"] is not None for a in left)  # and each ended when the tracker came back
    ends = sorted(a["started_at"] for a in left)
    assert len(set(ends)) == episodes
    assert backwards == []  # the tracker's state followed time, whichever batch committed last


def test_a_position_and_an_alert_posted_to_one_process_reach_the_other_processes_streams(
    pair: tuple[Server, Server], auth: Callable[[str], dict[str, str]],
) -> None:
    first, second = pair
    start_patrol(first, auth("ops"), "Pushed", ["P-01"], started=utcnow() - timedelta(minutes=30), silence_minutes=60)
    arrived: dict[str, float] = {}
    alerts_seen: list[tuple[dict[str, Any], float]] = []
    listening = threading.Event()
    stop = threading.Event()

    def read_positions() -> None:
        with contextlib.suppress(httpx.HTTPError), \
                httpx.stream("GET", f"{second.url}/api/v1/positions/stream", headers=auth("ops"), timeout=30) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    listening.set()  # the snapshot has come: the stream is subscribed
                    for feature in json.loads(line[5:])["features"]:
                        arrived.setdefault(feature["properties"]["time"], time.perf_counter())
                if stop.is_set():
                    return

    def read_alerts() -> None:
        with contextlib.suppress(httpx.HTTPError), \
                httpx.stream("GET", f"{second.url}/api/v1/alerts/stream", params={"after": 0}, headers=auth("ops"),
                             timeout=30) as stream:  # from the first alert: none can slip by before it subscribes
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    alerts_seen.append((json.loads(line[5:]), time.perf_counter()))
                if stop.is_set():
                    return

    patrol_user = auth("patrol")
    now = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    post(first, patrol_user, [{"tracker": "P-01", "t": (now - timedelta(minutes=1)).astimezone(UTC).isoformat(),
                               "lat": NORTH_INSIDE[0], "lon": NORTH_INSIDE[1]}])  # what the stream's snapshot will show
    readers = [threading.Thread(target=read, daemon=True) for read in (read_positions, read_alerts)]
    for reader in readers:
        reader.start()
    assert listening.wait(10), "no snapshot on the positions stream"
    sent: dict[str, float] = {}
    for i in range(30):
        moment = (now + timedelta(seconds=5 * i)).astimezone(UTC)
        fix = {"tracker": "P-01", "t": moment.isoformat(), "lat": NORTH_INSIDE[0], "lon": NORTH_INSIDE[1] + i * 0.0005}
        post(first, patrol_user, [fix])
        sent[moment.isoformat().replace("+00:00", "Z")] = time.perf_counter()
        time.sleep(0.05)  # pacing, not waiting: a device sends a fix every 50 ms
    straying = (now + timedelta(seconds=200)).astimezone(UTC)
    post(first, patrol_user, [{"tracker": "P-01", "t": straying.isoformat(), "lat": OUTSIDE[0], "lon": OUTSIDE[1]}])
    strayed_at = time.perf_counter()
    wait_for(lambda: len([t for t in sent if t in arrived]) == len(sent) and alerts_seen, 10,
             "every fix and the alert on the other process's streams")
    stop.set()
    delays = sorted(arrived[t] - sent[t] for t in sent)
    assert len(delays) == 30  # no fix lost
    assert delays[-1] < 0.25, f"slowest of 30 fixes took {delays[-1]:.3f} s (median {statistics.median(delays):.3f} s)"
    print(f"fix to the other process's stream: median {statistics.median(delays) * 1000:.0f} ms, slowest {delays[-1] * 1000:.0f} ms")
    [(alert, seen_at)] = alerts_seen
    assert alert["kind"] == "left_area" and seen_at - strayed_at < 0.25


def test_the_lead_moves_to_another_process_when_its_holder_dies(pair: tuple[Server, Server]) -> None:
    first, second = pair
    leader, follower = (first, second) if wait_for(lambda: first.details() and second.details(), 10, "both ready") and \
        first.details()["leader"] else (second, first)  # type: ignore[index]
    assert leader.details()["leader"] and not follower.details()["leader"]  # type: ignore[index]
    leader.kill()
    began = time.monotonic()
    wait_for(lambda: (follower.details() or {}).get("leader"), 10, "the surviving process to take the lead")
    assert time.monotonic() - began < 5


def test_a_token_and_the_custody_chain_hold_on_every_process(
    pair: tuple[Server, Server], auth: Callable[[str], dict[str, str]],
) -> None:
    first, second = pair
    bearer = {"Authorization": f"Bearer {token(first, 'humanitarian')}"}
    recovery = {"site": {"type": "Point", "coordinates": [46.75, 39.8]}, "recovered_at": "2020-11-14T10:00:00Z",
                "team": "Team 1", "side": "A", "bodies_found": 2, "bodies": [{}, {}]}
    with first.client(**bearer) as client:
        made = client.post("/api/v1/recoveries", json=recovery)
        assert made.status_code == 201, made.text
    with second.client(**bearer) as client:
        checked = client.get("/api/v1/custody/verify")
        assert checked.status_code == 200, checked.text  # the first process's token is valid on the second
        report = checked.json()
    assert report["bodies"] == 2 and report["events"] >= 2 and report["intact"] is True, report


def test_two_processes_on_one_machine_share_the_cot_port(pair: tuple[Server, Server]) -> None:
    first, second = pair
    assert first.cot_port == second.cot_port
    assert first.process.poll() is None and second.process.poll() is None


@pytest.mark.parametrize("missing", ["PEACEWATCH_SECRET_KEY", "PEACEWATCH_CUSTODY_KEY"])
def test_a_server_without_the_shared_keys_refuses_to_start(start_server: Callable[..., Server], missing: str,
                                                          app: Any) -> None:
    import subprocess
    import sys

    first = start_server()
    env = {k: v for k, v in first.env.items() if k != missing}
    ended = subprocess.run([sys.executable, "-m", "peacewatch", "serve", "--port", "1"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert ended.returncode == 2
    assert missing in ended.stderr and len(ended.stderr.strip().splitlines()) == 1, ended.stderr


def test_while_the_database_is_away_every_endpoint_answers_503_and_service_resumes_by_itself(
    start_server: Callable[..., Server], settings: Any, scenario: None, app: Any, auth: Callable[[str], dict[str, str]],
    database_proxy: Proxy,
) -> None:
    from sqlalchemy.engine import make_url

    app.state.engine.dispose()
    database, proxy = make_url(settings.resolved_database_url), database_proxy
    server = start_server(PEACEWATCH_DATABASE_URL=database.set(port=proxy.port).render_as_string(hide_password=False))
    ops = auth("ops")
    with server.client(**ops) as client:
        assert client.get("/api/v1/posts", params={"on": "2020-11-18"}).status_code == 200
        proxy.cut()
        for method, path, body in (("GET", "/api/v1/posts?on=2020-11-18", None), ("GET", "/api/v1/alerts", None),
                                   ("POST", "/api/v1/incidents", {"type": "shelling"}), ("GET", "/readyz", None)):
            answer = client.request(method, path, json=body)
            assert answer.status_code == 503, (path, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/problem+json" and int(answer.headers["retry-after"]) >= 1
            assert answer.json()["status"] == 503 and "unavailable" in answer.json()["detail"]
        assert client.get("/healthz").status_code == 200  # alive, only not ready
        proxy.restore()
        wait_for(lambda: client.get("/api/v1/posts", params={"on": "2020-11-18"}).status_code == 200, 15,
                 "service to resume without a restart")
        assert len(client.get("/api/v1/posts", params={"on": "2020-11-18"}).json()["features"]) == 23
        assert wait_for(server.details, 15, "readiness again")["leader"] is True


def test_handlers_racing_on_two_processes_make_one_decision_each(
    pair: tuple[Server, Server], auth: Callable[[str], dict[str, str]],
) -> None:
    """Acknowledging an alert, completing a patrol, accepting a merge: ten clicks at once across two processes, one wins."""
    first, second = pair
    ops, patrol_user = auth("ops"), auth("patrol")
    began = utcnow() - timedelta(hours=1)
    patrol = start_patrol(first, ops, "Handled", ["H-01"], started=began, silence_minutes=120)
    post(first, patrol_user, fixes("H-01", began + timedelta(minutes=1), NORTH_INSIDE, 2)
         + fixes("H-01", began + timedelta(minutes=2), OUTSIDE, 1))
    [alert] = alerts(first, ops, kind="left_area")
    report = {"type": "ceasefire_violation", "subtype": "explosion", "started_at": "2020-11-14T16:00:00Z",
              "ended_at": "2020-11-14T16:20:00Z", "lat": 39.795, "lon": 47.113, "source": "media"}
    for lat, source in ((39.795, "media"), (39.797, "joint_monitoring_centre")):
        made = httpx.post(f"{first.url}/api/v1/incidents", json=report | {"lat": lat, "source": source}, headers=ops, timeout=30)
        assert made.status_code == 201, made.text
    [proposal] = httpx.get(f"{second.url}/api/v1/merge-proposals", params={"status": "open"}, headers=ops, timeout=30).json()

    def race(path: str, body: dict[str, Any]) -> list[int]:
        gate = threading.Barrier(10)

        def click(n: int) -> int:
            gate.wait()
            return httpx.post(f"{pair[n % 2].url}{path}", json=body, headers=ops, timeout=30).status_code

        with ThreadPoolExecutor(10) as pool:
            return sorted(pool.map(click, range(10)))

    assert race(f"/api/v1/alerts/{alert['id']}/acknowledge", {"note": "calling H-01"}) == [200] + [409] * 9
    assert race(f"/api/v1/patrols/{patrol['id']}/complete", {}) == [200] + [409] * 9
    assert race(f"/api/v1/merge-proposals/{proposal['id']}/accept", {"reason": "one shelling"}) == [200] + [409] * 9
    history = httpx.get(f"{first.url}/api/v1/audit", params={"entity": "alerts", "entity_id": str(alert["id"])}, headers=ops,
                        timeout=30).json()
    assert [entry["action"] for entry in history] == ["update", "create"]  # one acknowledgement, audited once


def test_serve_with_two_workers_runs_two_processes_one_of_which_leads(
    start_server: Callable[..., Server], session: Any, scenario: None,
) -> None:
    server = start_server("--workers", "2")

    def workers() -> set[int]:
        """The supervisor's worker processes (multiprocessing's resource tracker is its child too)."""
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        pids = {int(pid) for pid in children.read_text().split()} if children.exists() else set()
        return {pid for pid in pids if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()}

    def leader_pid() -> int | None:
        """The process holding the cluster's advisory lock, as its connection names it in PostgreSQL."""
        session.rollback()
        name = session.scalar(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'peacewatch-leader %'"))
        return int(name.split()[-1]) if name else None

    two = wait_for(lambda: len(workers()) == 2 and workers(), 60, "two worker processes")
    leader = wait_for(leader_pid, 60, "one worker to take the cluster's lead")
    assert leader in two
    answer = httpx.get(f"{server.url}/readyz", headers=admin_headers(), timeout=5).json()  # whichever worker answers knows
    assert answer["process"] in two and answer["leader"] == (answer["process"] == leader)
    held = session.scalar(text(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'peacewatch-leader %'"))
    assert held == 1  # one lead, not one per worker


def test_disabling_a_user_on_one_process_ends_its_streams_on_the_other(
    pair: tuple[Server, Server], auth: Callable[[str], dict[str, str]],
) -> None:
    first, second = pair
    liaison = auth("liaison-a")
    ended: list[float] = []
    opened = threading.Event()

    def hold() -> None:
        with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", f"{second.url}/api/v1/positions/stream", headers=liaison,
                                                               timeout=30) as stream:
            opened.set()
            for _ in stream.iter_lines():
                pass
        ended.append(time.monotonic())

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert opened.wait(10)
    admin = auth("admin")
    users = httpx.get(f"{first.url}/api/v1/users", headers=admin, timeout=30).json()
    liaison_id = next(u["id"] for u in users if u["username"] == "liaison-a")
    disabled_at = time.monotonic()
    assert httpx.patch(f"{first.url}/api/v1/users/{liaison_id}", json={"active": False}, headers=admin, timeout=30).status_code == 200
    holder.join(timeout=10)
    assert ended and ended[0] - disabled_at < 5  # the other process heard of it through the database
    assert httpx.get(f"{second.url}/api/v1/auth/me", headers=liaison, timeout=30).status_code == 401


def test_the_periodic_work_can_run_apart_from_the_web_processes(
    start_server: Callable[..., Server], session: Any, tmp_path: Path, scenario: None,
) -> None:
    """deploy/systemd/peacewatch-work.service: 'peacewatch work' leads; a web process told not to never does."""
    server = start_server(PEACEWATCH_PERIODIC_WORK="false")
    with open(tmp_path / "work.log", "wb") as log:
        work = subprocess.Popen([sys.executable, "-m", "peacewatch", "work"], env=server.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def leader() -> str | None:
            session.rollback()
            return session.scalar(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'peacewatch-leader %'"))

        assert wait_for(leader, 60, "'peacewatch work' to take the lead") == f"peacewatch-leader {work.pid}"
        answer = httpx.get(f"{server.url}/readyz", headers=admin_headers(), timeout=5).json()
        assert answer["leader"] is False and all(job["runs"] == 0 for job in answer["jobs"].values())
    finally:
        work.terminate()
        work.wait(timeout=15)

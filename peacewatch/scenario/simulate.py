"""Feed the demo's patrols live to a running server, over HTTP batches or Cursor-on-Target, as
vehicles on the road would; time runs ``speed`` times faster than real time."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import httpx
from lxml import etree

from peacewatch.scenario.patrol_day import SCRIPTS, START, track
from peacewatch.tracking.cot import position_event


class SimulationError(RuntimeError):
    """The server refused or could not be reached: said in one line by the CLI."""


def _check(response: httpx.Response, what: str) -> httpx.Response:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise SimulationError(f"{what}: HTTP {response.status_code}: {detail}")
    return response


def prepare(client: httpx.Client, headers: dict[str, str], now: datetime, speed: float) -> list[str]:
    """Register the vehicles if needed and start one live patrol per script; returns the tracker codes."""
    trackers = {t["code"] for t in _check(client.get("/api/v1/trackers", params={"limit": 10000}, headers=headers), "trackers").json()}
    units = {u["name"]: u["id"] for u in _check(client.get("/api/v1/units", headers=headers), "units").json()}
    zones = {f["properties"]["code"]: f["id"] for f in _check(client.get("/api/v1/areas", headers=headers), "areas").json()["features"]}
    codes = []
    for script in SCRIPTS:
        code = f"MP-{script.code}"
        if code not in trackers:
            _check(client.post("/api/v1/trackers", json={"code": code, "cot_uid": f"ANDROID-{code}"}, headers=headers), "tracker")
        window = timedelta(hours=4) / speed
        patrol = _check(client.post("/api/v1/patrols", headers=headers, json={
            "name": f"{script.name} (live {now:%H:%M:%S})", "unit_id": units[script.unit], "zone_id": zones[script.zone],
            "route": {"type": "LineString", "coordinates": script.route}, "planned_start": now.isoformat(),
            "planned_end": (now + window).isoformat(), "trackers": [code],
            "max_stop_minutes": max(1, round(20 / speed)) if speed > 1 else 20,
        }), "patrol").json()
        _check(client.post(f"/api/v1/patrols/{patrol['id']}/start", json={"at": now.isoformat()}, headers=headers), "start")
        codes.append(code)
    return codes


def run(
    url: str, username: str, password: str, *, via: str = "http", cot_url: str = "tcp://127.0.0.1:8087",
    minutes: float = 5.0, speed: float = 10.0, interval: float = 5.0, say: Callable[[str], None] = print,
) -> int:
    """Replay the patrol day from now on, compressed ``speed`` times; stops after ``minutes``. Returns fixes sent."""
    now = datetime.now(UTC)
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            token = _check(client.post("/api/v1/auth/token", data={"username": username, "password": password}), "sign-in")
        except httpx.TransportError as exc:
            raise SimulationError(f"cannot reach {url}: {exc}") from None
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        codes = prepare(client, headers, now, speed)
        tracks = []
        for code, script in zip(codes, SCRIPTS):
            times, points = track(script)
            shifted = [now + (t - START) / speed for t in times]
            tracks.append((code, shifted, points))
        sent, cursor = 0, [0] * len(tracks)
        stream = _cot_stream(cot_url, username, token.json()["access_token"]) if via == "cot" else None
        deadline = time.monotonic() + minutes * 60
        try:
            while time.monotonic() < deadline and any(c < len(t[1]) for c, t in zip(cursor, tracks)):
                moment = datetime.now(UTC)
                batch: list[dict[str, object]] = []
                events: list[bytes] = []
                for index, (code, times, points) in enumerate(tracks):
                    while cursor[index] < len(times) and times[cursor[index]] <= moment:
                        i = cursor[index]
                        t_ms = int(times[i].timestamp() * 1000)
                        lon, lat = float(points[i][0]), float(points[i][1])
                        if stream is not None:
                            events.append(position_event(f"ANDROID-{code}", t_ms, lat, lon, callsign=code))
                        else:
                            batch.append({"tracker": code, "t": times[i].isoformat().replace("+00:00", "Z"), "lat": lat, "lon": lon})
                        cursor[index] += 1
                if batch:
                    report = _check(client.post("/api/v1/positions", json={"positions": batch}, headers=headers), "positions").json()
                    if report["alerts"]:
                        say(f"{moment:%H:%M:%S} {report['alerts']} alert(s) raised")
                if events and stream is not None:
                    stream.sendall(b"".join(events))
                sent += len(batch) + len(events)
                time.sleep(interval)
        finally:
            if stream is not None:
                stream.close()
    return sent


def _cot_stream(cot_url: str, username: str, access_token: str) -> socket.socket:
    """A TCP connection to the CoT listener, signed in as TAK Server's clients sign in: an anonymous client moves no
    mission tracker (tracking.sources), the simulator's user does."""
    parsed = urlparse(cot_url)
    if parsed.scheme != "tcp" or not parsed.hostname or not parsed.port:
        raise SimulationError(f"--cot must look like tcp://host:port, not '{cot_url}'")
    try:
        connection = socket.create_connection((parsed.hostname, parsed.port), timeout=10)
    except OSError as exc:
        raise SimulationError(f"cannot reach the CoT listener at {cot_url}: {exc}") from None
    sign_in = etree.Element("auth")
    etree.SubElement(sign_in, "cot", username=username, password=access_token)
    connection.sendall(etree.tostring(sign_in))
    return connection

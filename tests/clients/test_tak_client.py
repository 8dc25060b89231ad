"""A TAK client (pytak) on the CoT port of a running PeaceWatch is sent the positions another client posted over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.live import LiveServer
from tests.tak import auth_message, listen, run, uids


def test_pytak_receives_positions_posted_over_http_in_its_users_scope(server: LiveServer) -> None:
    def token(username: str) -> str:
        signed = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": username, "password": "demo"}).json()
        return str(signed["access_token"])

    ops = {"Authorization": f"Bearer {token('ops')}"}
    for code, visibility in (("MP-71", "public"), ("MP-72", "internal")):
        made = httpx.post(f"{server.url}/api/v1/trackers", json={"code": code, "name": f"Patrol {code}", "kind": "vehicle",
                                                                 "visibility": visibility, "bound_users": ["patrol"]}, headers=ops)
        assert made.status_code == 201, made.text
    key = httpx.post(f"{server.url}/api/v1/api-tokens", json={"name": "ATAK test", "username": "observer"},
                     headers={"Authorization": f"Bearer {token('admin')}"}).json()["token"]
    # another client (a vehicle tracker) posts over HTTP while the TAK client listens
    at = datetime.now(UTC) - timedelta(seconds=10)
    batch = {"positions": [{"tracker": code, "t": at.isoformat(), "lat": 40.11, "lon": 46.71} for code in ("MP-71", "MP-72")]}

    async def scenario() -> tuple[list, list]:  # type: ignore[type-arg]
        pictured = asyncio.Event()

        def both_positions(events: list) -> bool:  # type: ignore[type-arg]
            if events:
                pictured.set()  # the snapshot (the posts open today) has arrived: signed in and subscribed
            return {"PeaceWatch.tracker.MP-71", "PeaceWatch.tracker.MP-72"} <= uids(events)

        staff = asyncio.create_task(listen(server.cot_port, sign_in=auth_message("observer", key), seconds=15.0,
                                           until=both_positions))
        await asyncio.wait_for(pictured.wait(), 10)
        async with httpx.AsyncClient() as http:
            posted = await http.post(f"{server.url}/api/v1/positions", json=batch,
                                     headers={"Authorization": f"Bearer {token('patrol')}"})
            assert posted.status_code in (200, 201), posted.text
        public = await listen(server.cot_port, seconds=4.0, until=lambda e: "PeaceWatch.tracker.MP-71" in uids(e))
        return await staff, public

    staff, public = run(scenario())
    assert {"PeaceWatch.tracker.MP-71", "PeaceWatch.tracker.MP-72"} <= uids(staff)
    position = next(e for e in staff if e.get("uid") == "PeaceWatch.tracker.MP-72")
    assert position.get("type") == "a-f-G-U-C-I" and float(position.find("point").get("lat")) == 40.11
    assert "PeaceWatch.tracker.MP-71" in uids(public) and "PeaceWatch.tracker.MP-72" not in uids(public)

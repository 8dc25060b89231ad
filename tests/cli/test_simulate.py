"""`peacewatch simulate` drives live patrols against a running server, over HTTP and over CoT."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from peacewatch.cli import app
from tests.conftest import PG_URL
from tests.helpers import wait_for
from tests.live import live_server


@pytest.mark.skipif(bool(PG_URL), reason="runs a server on its own SQLite data directory")
@pytest.mark.parametrize("via", ["http", "cot"])
def test_simulate_feeds_live_positions(tmp_path: Path, via: str) -> None:
    with live_server(tmp_path) as server:
        result = CliRunner().invoke(app, [
            "simulate", "--url", server.url, "--via", via, "--cot", f"tcp://127.0.0.1:{server.cot_port}",
            "--minutes", "0.1", "--speed", "600", "--interval", "0.5",
        ])
        assert result.exit_code == 0, result.output
        assert "positions sent" in result.output
        with httpx.Client(base_url=server.url) as client:
            token = client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            live = [p for p in client.get("/api/v1/patrols", params={"status": "under_way"}, headers=headers).json()
                    if "(live" in p["name"]]
            assert len(live) == 4
            tracker = next(t for t in client.get("/api/v1/trackers", headers=headers).json() if t["code"] == "MP-S1")
            def track_length() -> int:  # the CoT listener commits every half second: wait for it
                track = client.get(f"/api/v1/trackers/{tracker['id']}/track", params={"since": live[0]["planned_start"]},
                                   headers=headers).json()
                return int(track["properties"]["count"])

            wait_for(lambda: track_length() > 10, 10, "more than ten fixes on MP-S1's track")


def test_simulate_says_in_one_line_when_the_server_is_not_there() -> None:
    result = CliRunner().invoke(app, ["simulate", "--url", "http://127.0.0.1:9", "--minutes", "0.05"])
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:9" in result.output

"""No single client takes the server's stream slots: live streams and CoT connections are bounded per address
(anonymous) and per user, anonymous readers have a share, and the operations centre a reserve nobody else fills."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from peacewatch.alerts.models import Alert, AlertKind
from peacewatch.app import create_app
from peacewatch.core.admission import StreamCaller, StreamLimits, StreamSlots
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.settings import Settings
from tests.helpers import wait_for
from tests.tak import auth_message


def test_the_rule_of_stream_slots() -> None:
    slots = StreamSlots(StreamLimits(total=10, reserve=2, anonymous=5, anonymous_per_address=3, per_identity=2,
                                     per_reserved_identity=2))
    taken: list[StreamCaller] = []

    def open_(caller: StreamCaller) -> str | None:
        refused = slots.refusal(caller)
        if refused is None:
            slots.take(caller)
            taken.append(caller)
        return None if refused is None else refused[1]

    first, second = StreamCaller(address="10.0.0.1"), StreamCaller(address="10.0.0.2")
    assert [open_(first) for _ in range(4)] == [None, None, None, "anonymous streams per address"]
    assert [open_(second) for _ in range(3)] == [None, None, "anonymous streams"]  # the anonymous share is 5
    liaison = StreamCaller("liaison-b", "10.0.0.1")
    assert [open_(liaison) for _ in range(3)] == [None, None, "streams per user"]
    assert [open_(StreamCaller(name, "10.0.0.3")) for name in ("patrol", "press")] == [None, "streams"]  # 8 open: the reserve
    ops = StreamCaller("ops", "10.0.0.1", reserved=True)
    assert [open_(ops) for _ in range(3)] == [None, None, "streams per user"]  # the reserve is the operations centre's
    assert open_(StreamCaller("observer", reserved=True)) == "streams"  # 10 of 10
    slots.give_back(taken.pop(0))
    assert open_(first) == "streams" and open_(StreamCaller("observer", reserved=True)) is None
    for caller in taken:
        slots.give_back(caller)
    assert (slots.open, slots.anonymous, dict(slots.by_address), dict(slots.by_identity)) == (0, 0, {}, {})


@pytest.fixture
def small(settings: Settings, scenario: None) -> Iterator[Any]:
    """A server on a loopback port whose stream slots are few: 40 in all, 5 of them for the operations centre, 25 for
    anonymous readers (10 per address), 3 per user (5 per operations centre account); and its CoT listener: 5
    anonymous connections per address."""
    import uvicorn

    from tests.live import free_port

    app = create_app(settings.model_copy(update={
        "max_streams": 40, "operations_stream_reserve": 5, "anonymous_streams": 25, "anonymous_streams_per_address": 10,
        "streams_per_user": 3, "operations_streams_per_user": 5, "cot_port": 0, "cot_udp": False, "cot_flush_ms": 50,
        "cot_connections_per_address": 5}),
        listeners=True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the server to start")
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    app.state.engine.dispose()


def client_from(address: str, url: str) -> httpx.Client:
    """A client whose connections come from ``address`` (any of 127.0.0.0/8 reaches the server)."""
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), timeout=20)


class Holder:
    """Opens streams in threads and keeps them open; notes each one's status and what it received."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.events: list[dict[str, Any]] = []
        self.answered = threading.Semaphore(0)

    def hold(self, client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> None:
        def run() -> None:
            with contextlib.suppress(Exception), client.stream("GET", path, headers=headers or {}) as stream:
                self.statuses[stream.status_code] += 1
                self.answered.release()
                if stream.status_code == 200:
                    for line in stream.iter_lines():
                        if line.startswith("data:"):
                            self.events.append(json.loads(line[5:]))

        threading.Thread(target=run, daemon=True).start()

    def wait(self, count: int) -> None:
        for _ in range(count):
            assert self.answered.acquire(timeout=20), "a stream was not answered"


def test_a_flood_of_streams_leaves_the_operations_centres_alert_stream_working(small: Any, auth: Any) -> None:
    app, url = small
    first = client_from("127.0.0.1", url)
    flood = Holder()
    began = time.monotonic()
    for _ in range(60):  # anonymous, from one address
        flood.hold(first, "/api/v1/alerts/stream")
    flood.wait(60)
    assert flood.statuses == {200: 10, 429: 50} and time.monotonic() - began < 15
    refused = first.get("/api/v1/alerts/stream")
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert "from this address" in refused.json()["detail"] and refused.headers["retry-after"]

    others = Holder()  # anonymous from two other addresses: the anonymous share (25) runs out
    for address in ("127.0.0.2", "127.0.0.3"):
        elsewhere = client_from(address, url)
        for _ in range(10):
            others.hold(elsewhere, "/api/v1/positions/stream")
        others.wait(10)
    assert others.statuses == {200: 15, 503: 5}

    signed_in = Holder()
    for who in ("liaison-b",) * 4 + ("patrol",) * 3 + ("humanitarian",) * 3:
        signed_in.hold(first, "/api/v1/alerts/stream", auth(who))
    signed_in.wait(10)
    assert signed_in.statuses == {200: 9, 429: 1}  # liaison-b's fourth; 25 + 9 = 34 open
    beyond = Holder()
    for who in ("press", "air"):  # the 35th fits outside the reserve; the 36th does not
        beyond.hold(first, "/api/v1/alerts/stream", auth(who))
        beyond.wait(1)
    assert beyond.statuses == {200: 1, 503: 1}

    duty = Holder()
    for who in ("ops", "observer"):  # the reserve is the operations centre's
        duty.hold(first, "/api/v1/alerts/stream", auth(who))
    duty.wait(2)
    assert duty.statuses == {200: 2}
    with app.state.sessionmaker() as session, transaction(session, "test"):
        session.add(Alert(kind=AlertKind.left_area, message="MP-N1 left the North area", started_at=utcnow(), raised_at=utcnow(),
                          lat=40.6, lon=45.3))
    wait_for(lambda: sum(e.get("message") == "MP-N1 left the North area" for e in duty.events) == 2, 30, "the alert on both streams")
    screens = Holder()  # the operations centre's account on more screens than another user may hold: up to the total
    for _ in range(4):
        screens.hold(first, "/api/v1/positions/stream", auth("ops"))
        screens.wait(1)
    assert screens.statuses == {200: 3, 503: 1}  # ops holds 4 (more than the 3 of another user); 40 of 40 open
    shed = app.state.admission.by_reason
    assert shed == {"anonymous streams per address": 51, "anonymous streams": 5, "streams per user": 1, "streams": 2}


def test_cot_connections_are_bounded_per_address_and_per_user(small: Any, auth: Any) -> None:
    app, url = small
    client = client_from("127.0.0.9", url)
    port = client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]["tcp"]
    key = client.post("/api/v1/api-tokens", json={"name": "ATAK", "username": "patrol"}, headers=auth("admin")).json()["token"]

    def connect(source: str, sign_in: bytes = b"") -> socket.socket:
        conn = socket.create_connection(("127.0.0.1", port), source_address=(source, 0), timeout=5)
        if sign_in:
            conn.sendall(sign_in)
        return conn

    def closed_by_server(conn: socket.socket) -> bool:
        conn.settimeout(2)
        try:
            while chunk := conn.recv(65536):  # the feed's picture, then the end
                del chunk
            return True
        except TimeoutError:
            return False

    held = [connect("127.0.0.1") for _ in range(5)]
    extra = [connect("127.0.0.1") for _ in range(3)]
    assert all(closed_by_server(conn) for conn in extra)
    signed = [connect("127.0.0.4", auth_message("patrol", key)) for _ in range(4)]
    wait_for(lambda: client.get("/api/v1/cot/status", headers=auth("ops")).json()["connections_refused"].get("streams per user") == 1)
    assert sorted(closed_by_server(conn) for conn in signed) == [False, False, False, True]  # whichever signed in last
    counted = client.get("/api/v1/cot/status", headers=auth("ops")).json()["connections_refused"]
    assert counted == {"anonymous streams per address": 3, "streams per user": 1}
    for conn in held + extra + signed:
        conn.close()

"""The Cursor-on-Target listeners, fed by a real TAK client library (pytak) and by hostile peers."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from configparser import ConfigParser
from typing import Any

import pytak
import pytest
from fastapi.testclient import TestClient

from peacewatch.app import create_app
from peacewatch.core.settings import Settings
from tests.helpers import wait_for
from tests.tak import CHAT, DRONE, DRONE_NO_GPS, FILE_ACK, MARKER, SHAPE


@pytest.fixture
def live(settings: Settings, scenario: None, auth: Any) -> Iterator[tuple[TestClient, dict[str, int]]]:
    """The app with its CoT listeners on free loopback ports, committing every 50 ms."""
    app = create_app(settings.model_copy(update={"cot_port": 0, "cot_flush_ms": 50}), listeners=True)
    with TestClient(app) as client:
        ports = client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]
        yield client, ports
    app.state.engine.dispose()


def status(client: TestClient, auth: Any) -> dict[str, Any]:
    return client.get("/api/v1/cot/status", headers=auth("ops")).json()


async def pytak_send(port: int, events: list[bytes]) -> None:
    config = ConfigParser()
    config["peacewatch-test"] = {"COT_URL": f"tcp://127.0.0.1:{port}"}
    _reader, writer = await pytak.protocol_factory(config["peacewatch-test"])
    for event in events:
        writer.write(event)
    await writer.drain()
    writer.close()


def test_pytak_positions_land_on_the_tracker_track(live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    client, ports = live
    tracker = client.post(
        "/api/v1/trackers", json={"code": "TAK-7", "kind": "tak_client", "cot_uid": "ANDROID-mp07", "anonymous_input": True}, headers=auth("ops")
    ).json()
    for i in range(3):  # gen_cot stamps the current time: keep the fixes milliseconds apart, or they are one fix
        event = pytak.gen_cot(lat=40.1 + i / 1000, lon=46.7, uid="ANDROID-mp07", cot_type="a-f-G-U-U-L-M")
        asyncio.run(pytak_send(ports["tcp"], [event]))
        time.sleep(0.01)  # spacing, not waiting: the next event gets a later stamp
    asyncio.run(pytak_send(ports["tcp"], [pytak.gen_cot(lat=40.0, lon=46.6, uid="ANDROID-stranger", cot_type="a-f-G")]))
    wait_for(lambda: status(client, auth)["stored"] >= 3 and status(client, auth)["unregistered"] >= 1)
    track = client.get(f"/api/v1/trackers/{tracker['id']}/track", headers=auth("ops")).json()
    assert track["properties"]["count"] == 3
    strangers = client.get("/api/v1/cot/unregistered", headers=auth("ops")).json()
    assert [s["uid"] for s in strangers] == ["ANDROID-stranger"] and strangers[0]["last_lat"] == 40.0


def test_hostile_and_broken_input_is_counted_and_the_listener_lives_on(
    live: tuple[TestClient, dict[str, int]], auth: Any
) -> None:
    client, ports = live
    client.post("/api/v1/trackers", json={"code": "TAK-8", "cot_uid": "ANDROID-mp08", "anonymous_input": True}, headers=auth("ops"))
    bomb = b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><event uid="&b;"/>'
    xxe = b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><event uid="&x;"></event>'
    with socket.create_connection(("127.0.0.1", ports["tcp"])) as conn:
        conn.sendall(bomb.replace(b"/>", b"></event>") + xxe + b"<event uid='x'><point lat='nope'/></event>")
        conn.sendall(b"<event>" + b"A" * 200_000 + b"</event>")
        conn.sendall(pytak.gen_cot(lat=40.1, lon=46.7, uid="ANDROID-mp08", cot_type="a-f-G"))
    wait_for(lambda: status(client, auth)["stored"] >= 1)
    counters = status(client, auth)
    assert counters["hostile"] == 2 and counters["malformed"] == 1 and counters["oversized"] == 1


def test_udp_datagrams_are_read_too(live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    client, ports = live
    client.post("/api/v1/trackers", json={"code": "TAK-9", "cot_uid": "ANDROID-mp09", "anonymous_input": True}, headers=auth("ops"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(pytak.gen_cot(lat=40.1, lon=46.7, uid="ANDROID-mp09", cot_type="a-f-G"), ("127.0.0.1", ports["udp"]))
    wait_for(lambda: status(client, auth)["stored"] >= 1)


def test_without_listeners_the_status_says_so(client: TestClient, auth: Any, scenario: None) -> None:
    assert client.get("/api/v1/cot/status", headers=auth("ops")).json()["running"] is False
    assert client.get("/api/v1/cot/status", headers=auth("press")).status_code == 403


@pytest.fixture
def live_tls(settings: Settings, scenario: None, auth: Any, tmp_path: Any) -> Iterator[tuple[TestClient, dict[str, int], dict[str, Any]]]:
    """Plain TCP switched off; TLS with client certificates only, as for use beyond loopback."""
    from tests.certs import make_pki

    pki = make_pki(tmp_path)
    tuned = settings.model_copy(update={
        "cot_port": 0, "cot_tls_port": 0, "cot_flush_ms": 50, "cot_tcp": False, "cot_udp": False,
        "cot_tls_cert": pki["server_cert"], "cot_tls_key": pki["server_key"], "cot_tls_ca": pki["ca"],
    })
    app = create_app(tuned, listeners=True)
    with TestClient(app) as client:
        yield client, client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"], pki
    app.state.engine.dispose()


def test_tls_needs_a_client_certificate_and_plain_tcp_can_be_off(live_tls: Any, auth: Any) -> None:
    import ssl

    client, ports, pki = live_tls
    assert set(ports) == {"tls"}
    from tests.certs import fingerprint_of

    # the certificate names no user: the tracker is bound to the certificate itself; anonymous input is not enough
    client.post("/api/v1/trackers", json={"code": "TAK-T", "cot_uid": "ANDROID-tls",
                                          "bound_certificates": [fingerprint_of(pki["client_cert"])]}, headers=auth("ops"))

    anonymous = ssl.create_default_context(cafile=str(pki["ca"]))
    try:
        with socket.create_connection(("127.0.0.1", ports["tls"])) as raw, anonymous.wrap_socket(raw, server_hostname="localhost") as conn:
            conn.sendall(pytak.gen_cot(lat=40.1, lon=46.7, uid="ANDROID-tls", cot_type="a-f-G"))
            assert conn.recv(1) == b""  # TLS 1.3: the refusal arrives after the handshake, as an alert or a close
    except (ssl.SSLError, ConnectionError):
        pass
    # the refused connection is closed before the trusted one opens: its event was never read, so nothing of it
    # can still be on its way to the table when the trusted client's fix has been stored

    trusted = ssl.create_default_context(cafile=str(pki["ca"]))
    trusted.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))
    with socket.create_connection(("127.0.0.1", ports["tls"])) as raw, trusted.wrap_socket(raw, server_hostname="localhost") as conn:
        conn.sendall(pytak.gen_cot(lat=40.2, lon=46.7, uid="ANDROID-tls", cot_type="a-f-G"))
        # connected until it is stored, as a TAK client stays: closing at once, with TLS 1.3's session tickets
        # unread, makes the kernel reset the connection, which may throw the event away before it is read
        wait_for(lambda: status(client, auth)["stored"] >= 1)
    assert status(client, auth)["stored"] == 1  # only the certified client's fix
    tracker = client.get("/api/v1/trackers", headers=auth("ops")).json()[0]
    track = client.get(f"/api/v1/trackers/{tracker['id']}/track", headers=auth("ops")).json()
    assert track["geometry"]["coordinates"] == [46.7, 40.2]


def test_out_of_range_values_are_dropped_and_counted_not_stored(live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    client, ports = live
    client.post("/api/v1/trackers", json={"code": "TAK-R", "cot_uid": "ANDROID-range", "anonymous_input": True}, headers=auth("ops"))
    bad = (b'<event version="2.0" uid="ANDROID-range" type="a-f-G" how="m-g" time="2020-11-14T08:00:00Z" '
           b'start="2020-11-14T08:00:00Z" stale="2020-11-14T08:05:00Z"><point lat="40.1" lon="46.7" hae="0" ce="5" le="0"/>'
           b'<detail><track speed="-3" course="720"/></detail></event>')
    with socket.create_connection(("127.0.0.1", ports["tcp"])) as conn:
        conn.sendall(bad + pytak.gen_cot(lat=40.1, lon=46.7, uid="ANDROID-range", cot_type="a-f-G"))
    wait_for(lambda: status(client, auth)["stored"] >= 1)
    counters = status(client, auth)
    assert counters["stored"] == 1 and counters["malformed"] == 1


def atak_report(n: int, k: int) -> bytes:
    """An ATAK-CIV position report (PLI) as the app sends it, with its XML declaration and its <detail>."""
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1605340800 + 5 * k)) + ".000Z"
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><event version="2.0" uid="ANDROID-{n:04d}" '
            f'type="a-f-G-U-C" time="{t}" start="{t}" stale="{t}" how="h-e"><point lat="{40.1 + (k % 50) * 1e-4:.6f}" '
            f'lon="{46.7 + n * 1e-3:.6f}" hae="245.3" ce="9.9" le="9999999.0"/><detail><takv os="33" '
            f'version="4.10.0.7 (a5e7d5d4).1693238234-CIV" device="SAMSUNG SM-G991B" platform="ATAK-CIV"/>'
            f'<contact endpoint="*:-1:stcp" callsign="MP-{n:02d}"/><uid Droid="MP-{n:02d}"/>'
            f'<precisionlocation altsrc="GPS" geopointsrc="GPS"/><__group role="Team Member" name="Cyan"/>'
            f'<status battery="88"/><track course="87.5" speed="8.3"/></detail></event>').encode()


def test_clients_that_hang_up_without_reading_the_feed_lose_no_event(
    live: tuple[TestClient, dict[str, int]], auth: Any, session: Any,
) -> None:
    """Eight TAK clients send 100,000 position reports and close at once, never reading: had the server
    sent them anything meanwhile, their kernels would reset the connections and lose what the server
    had not read yet."""
    from sqlalchemy import func, select

    from peacewatch.tracking.models import Position

    client, ports = live
    devices = 40
    for n in range(devices):
        made = client.post("/api/v1/trackers", json={"code": f"MP-{n:02d}", "kind": "tak_client",
                                                     "cot_uid": f"ANDROID-{n:04d}", "anonymous_input": True}, headers=auth("ops"))
        assert made.status_code == 201, made.text
    total, clients = 100_000, 8
    reports = [atak_report(i % devices, i // devices) for i in range(total)]
    shares = [b"".join(reports[c::clients]) for c in range(clients)]

    def hang_up_after_sending(data: bytes) -> None:
        with socket.create_connection(("127.0.0.1", ports["tcp"])) as connection:
            connection.sendall(data)  # and close, with the feed's events unread

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(hang_up_after_sending, shares))

    def stored() -> int:
        count = session.scalar(select(func.count()).select_from(Position))
        session.rollback()
        return int(count or 0)

    wait_for(lambda: stored() >= total, seconds=120)
    assert stored() == total
    wait_for(lambda: status(client, auth)["stored"] == total)
    assert status(client, auth)["malformed"] == 0


def test_events_that_are_not_positions_are_counted_by_type_and_never_stored_as_fixes(
    live: tuple[TestClient, dict[str, int]], auth: Any,
) -> None:
    """A file-transfer acknowledgement and a drone without GPS from registered uids (both at 0,0), chat, a
    marker and a shape from a registered device: none is a fix; the drone's negative course is kept as 0-360."""

    client, ports = live
    for code, uid in (("TAK-MP07", "ANDROID-589520ccfcd20f01"), ("UAS-3", "UAS-ORLAN-3")):
        client.post("/api/v1/trackers", json={"code": code, "kind": "tak_client", "cot_uid": uid, "anonymous_input": True}, headers=auth("ops"))
    asyncio.run(pytak_send(ports["tcp"], [FILE_ACK, DRONE_NO_GPS, CHAT, MARKER, SHAPE, DRONE]))
    wait_for(lambda: status(client, auth)["stored"] == 1 and status(client, auth)["ignored"] == 5)
    counted = status(client, auth)
    assert counted["by_type"] == {"b-f-t-a": 1, "a-f-A-M-F-Q": 1, "b-t-f": 1, "a-h-G-U-C-A": 1, "u-d-f": 1}
    assert counted["unregistered"] == 0 and counted["malformed"] == 0
    trackers = {t["code"]: t["id"] for t in client.get("/api/v1/trackers", headers=auth("ops")).json()}
    assert client.get(f"/api/v1/trackers/{trackers['TAK-MP07']}/track", headers=auth("ops")).json()["geometry"] is None
    drone = client.get(f"/api/v1/trackers/{trackers['UAS-3']}/track", headers=auth("ops")).json()
    assert drone["geometry"]["coordinates"] == [46.7602, 39.8201]
    assert client.get("/api/v1/cot/unregistered", headers=auth("ops")).json() == []

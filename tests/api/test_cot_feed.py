"""Cursor-on-Target out: a TAK client (pytak) is sent the posts, the positions and the alerts its user may see."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytak
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from peacewatch.alerts.models import Alert, AlertKind
from peacewatch.app import create_app
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Visibility
from peacewatch.live.feed import AuthRefused, read_auth
from peacewatch.tracking.cot import EventSplitter, StreamCounters
from tests.helpers import wait_for
from tests.tak import MARKER, auth_message, cot_event, listen, run, uids


@pytest.fixture
def live(settings: Settings, scenario: None, auth: Any) -> Iterator[tuple[TestClient, int]]:
    app = create_app(settings.model_copy(update={"cot_port": 0, "cot_udp": False, "cot_flush_ms": 50}), listeners=True)
    with TestClient(app) as client:
        yield client, client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]["tcp"]
    app.state.engine.dispose()


def token(client: TestClient, auth: Any, username: str) -> str:
    made = client.post("/api/v1/api-tokens", json={"name": f"ATAK of {username}", "username": username}, headers=auth("admin"))
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def test_a_client_gets_the_posts_and_the_positions_another_client_posted_over_http(live: tuple[TestClient, int], auth: Any) -> None:
    client, port = live
    for code, visibility in (("MP-31", "public"), ("MP-32", "internal")):
        assert client.post("/api/v1/trackers", json={"code": code, "name": f"Patrol {code}", "kind": "vehicle", "bound_users": ["patrol"],
                                                     "visibility": visibility}, headers=auth("ops")).status_code == 201
    at = utcnow() - timedelta(seconds=30)
    batch = {"positions": [{"tracker": code, "t": (at + timedelta(seconds=i)).isoformat(), "lat": 40.05 + i / 1000, "lon": 46.70}
                           for code in ("MP-31", "MP-32") for i in range(3)]}
    assert client.post("/api/v1/positions", json=batch, headers=auth("patrol")).status_code in (200, 201)
    key = token(client, auth, "observer")

    def seen_both(events: list[etree._Element]) -> bool:
        return {"PeaceWatch.tracker.MP-31", "PeaceWatch.tracker.MP-32"} <= uids(events)

    staff = run(listen(port, sign_in=auth_message("observer", key), until=seen_both))
    assert seen_both(staff), uids(staff)
    patrol = next(e for e in staff if e.get("uid") == "PeaceWatch.tracker.MP-31")
    assert patrol.get("type") == "a-f-G-U-C-I" and float(patrol.find("point").get("lat")) == pytest.approx(40.052)
    assert patrol.find("detail/contact").get("callsign") == "Patrol MP-31"
    posts = [e for e in staff if e.get("uid", "").startswith("PeaceWatch.post.")]
    assert posts and all(e.get("type") == "a-f-G-U-U-L-M" for e in posts)

    public = run(listen(port, until=lambda events: "PeaceWatch.tracker.MP-31" in uids(events)))
    assert "PeaceWatch.tracker.MP-31" in uids(public) and "PeaceWatch.tracker.MP-32" not in uids(public)  # anonymous: public only


def test_alerts_reach_the_clients_that_may_see_them(live: tuple[TestClient, int], auth: Any) -> None:
    client, port = live
    with client.app.state.sessionmaker() as session, transaction(session, "test"):  # type: ignore[attr-defined]
        for kind, visibility in ((AlertKind.left_area, Visibility.internal), (AlertKind.silent, Visibility.public)):
            session.add(Alert(kind=kind, message=f"MP-41 {kind.value}", started_at=utcnow(), raised_at=utcnow(),
                              lat=40.6, lon=45.3, visibility=visibility))
    key = token(client, auth, "ops")
    staff = run(listen(port, sign_in=auth_message("ops", key),
                               until=lambda e: len([x for x in e if x.get("type", "").startswith("b-a-")]) >= 2))
    alarms = {e.get("type"): e for e in staff if e.get("type", "").startswith("b-a-")}
    assert set(alarms) == {"b-a-g", "b-a-o-tbl"}  # a geofence broken; trouble
    assert alarms["b-a-g"].find("detail/remarks").text == "MP-41 left_area"
    public = run(listen(port, seconds=3.0))
    assert [e.get("type") for e in public if e.get("type", "").startswith("b-a-")] == ["b-a-o-tbl"]


def test_a_client_is_not_sent_its_own_positions_back(live: tuple[TestClient, int], auth: Any) -> None:
    client, port = live
    assert client.post("/api/v1/trackers", json={"code": "TAK-9", "kind": "tak_client", "cot_uid": "ANDROID-mp09",
                                                 "visibility": "public", "anonymous_input": True}, headers=auth("ops")).status_code == 201
    mine = pytak.gen_cot(lat=40.1, lon=46.7, uid="ANDROID-mp09", cot_type="a-f-G-U-C-I")
    events = run(listen(port, send=[mine], seconds=3.0))
    assert "ANDROID-mp09" not in uids(events) and any(u.startswith("PeaceWatch.post.") for u in uids(events))


def test_a_wrong_token_closes_the_connection(live: tuple[TestClient, int], auth: Any) -> None:
    client, port = live
    events = run(listen(port, sign_in=auth_message("observer", "pwk_not-a-token"), seconds=3.0))
    # the snapshot may have started before the message was read; after it, nothing: the server hung up
    assert len(events) <= len([u for u in uids(events) if u.startswith("PeaceWatch.post.")])
    wrong_user = token(client, auth, "press")
    events = run(listen(port, sign_in=auth_message("observer", wrong_user), seconds=3.0))
    assert all(e.get("uid", "").startswith("PeaceWatch.post.") for e in events)


def test_the_sign_in_message_is_read_safely() -> None:
    assert read_auth(b'<auth><cot username="ops" password="pwk_x"/></auth>') == ("ops", "pwk_x", "")
    for bad in (b"<auth/>", b"<event/>", b'<!DOCTYPE a [<!ENTITY x "y">]><auth><cot password="&x;"/></auth>', b"<auth><cot"):
        with pytest.raises(AuthRefused):
            read_auth(bad)
    splitter = EventSplitter()
    parts = splitter.feed(b'<auth><cot username="a" password="b"/></auth><event uid="x"><point lat="1" lon="2"/></eve', StreamCounters())
    assert parts == [b'<auth><cot username="a" password="b"/></auth>']
    assert splitter.feed(b"nt>", StreamCounters()) == [b'<event uid="x"><point lat="1" lon="2"/></event>']


def test_over_tls_a_client_certificate_named_after_a_user_gives_that_users_view(settings: Settings, scenario: None, auth: Any,
                                                                                tmp_path: Any) -> None:
    import ssl

    from tests.certs import make_pki

    pki = make_pki(tmp_path, client_name="observer")
    app = create_app(settings.model_copy(update={
        "cot_port": 0, "cot_tls_port": 0, "cot_flush_ms": 50, "cot_tcp": False, "cot_udp": False,
        "cot_tls_cert": pki["server_cert"], "cot_tls_key": pki["server_key"], "cot_tls_ca": pki["ca"]}), listeners=True)
    with TestClient(app) as client:
        port = client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]["tls"]
        made = client.post("/api/v1/trackers", json={"code": "MP-51", "kind": "vehicle", "bound_users": ["patrol"]}, headers=auth("ops"))
        assert made.status_code == 201
        at = (utcnow() - timedelta(seconds=5)).isoformat()
        assert client.post("/api/v1/positions", json={"positions": [{"tracker": "MP-51", "t": at, "lat": 40.2, "lon": 46.8}]},
                           headers=auth("patrol")).status_code in (200, 201)
        context = ssl.create_default_context(cafile=str(pki["ca"]))
        context.load_cert_chain(str(pki["client_cert"]), str(pki["client_key"]))

        async def read_over_tls() -> set[str]:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="localhost")
            splitter, seen = EventSplitter(), set()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 8
            while loop.time() < deadline and "PeaceWatch.tracker.MP-51" not in seen:
                try:
                    chunk = await asyncio.wait_for(reader.read(65536), deadline - loop.time())
                except TimeoutError:
                    break
                if not chunk:
                    break
                seen |= {etree.fromstring(e).get("uid") for e in splitter.feed(chunk, StreamCounters())}
            writer.close()
            return seen

        assert "PeaceWatch.tracker.MP-51" in run(read_over_tls())  # an internal tracker: the observer may see it
    app.state.engine.dispose()


def test_a_sign_in_while_a_round_is_noted_still_gets_its_whole_picture(app: Any, scenario: None) -> None:
    """The round collected for the anonymous view finishes just as the client's <auth> is taken: the new
    scope's posts must still be due, not marked as sent by the round of the old scope."""
    import threading

    from sqlalchemy import select

    from peacewatch.core.auth import User
    from peacewatch.live.feed import Subscriber, collect

    with app.state.sessionmaker() as session:
        observer = session.scalars(select(User).where(User.username == "observer")).one()
        signing_in: list[threading.Thread] = []

        class SignsInAsTheRoundIsNoted(Subscriber):
            """Signs in, from another thread, when the round (whose scope was still current) notes what it sent."""

            def __getattribute__(self, name: str) -> Any:
                if name == "sent_fixes" and not signing_in:  # the scenario has no fixes: read only to note the round
                    thread = threading.Thread(target=self.rescope, args=(observer,))
                    signing_in.append(thread)
                    thread.start()
                    thread.join(0.2)  # with the notes taken under the lock, the sign-in waits for them
                return object.__getattribute__(self, name)

        subscriber = SignsInAsTheRoundIsNoted()
        collect(session, subscriber)
        signing_in[0].join(5)
        assert subscriber.who == "observer"
        assert subscriber.posts_at is None  # due again: the next round sends the observer's whole picture


def test_a_client_that_signs_in_at_once_gets_every_post_its_user_may_see(live: tuple[TestClient, int], auth: Any) -> None:
    client, port = live
    today = {"on": utcnow().date().isoformat()}  # the feed sends the posts open today
    for post in client.get("/api/v1/posts", params=today).json()["features"][:8]:  # some for the mission's staff only
        patch = {"properties": {"visibility": "internal"}}
        assert client.patch(f"/api/v1/posts/{post['id']}", json=patch, headers=auth("ops")).status_code == 200
    everything = len(client.get("/api/v1/posts", params=today, headers=auth("ops")).json()["features"])
    public = len(client.get("/api/v1/posts", params=today).json()["features"])
    assert everything == public + 8
    key = token(client, auth, "ops")

    def all_posts(events: list[etree._Element]) -> bool:
        return len({u for u in uids(events) if u.startswith("PeaceWatch.post.")}) >= everything

    for _ in range(3):  # ATAK sends <auth> first: each time, the whole picture within the first rounds
        events = run(listen(port, sign_in=auth_message("ops", key), until=all_posts, seconds=8))
        assert all_posts(events), len({u for u in uids(events) if u.startswith("PeaceWatch.post.")})


def test_markers_and_spot_reports_of_signed_in_tak_users_become_incident_reports_once(live: tuple[TestClient, int], auth: Any) -> None:
    """A patrol's ATAK places a hostile vehicle, moves it, and sends a spot report: operations list them and make an
    incident report of the marker, once. An anonymous client's marker is counted, not kept."""

    client, port = live
    key = token(client, auth, "patrol")
    moved = MARKER.replace(b'lat="39.905" lon="46.79"', b'lat="39.907" lon="46.792"')
    spot = cot_event("S.9b1f0a", "b-m-p-s-m", '<point lat="39.88" lon="46.77" hae="0" ce="9999999.0" le="9999999.0"/>',
                  '<contact callsign="Crater"/><remarks>fresh 120 mm impact, 20 m from the road</remarks>', how="h-g-i-g-o")
    stranger = cot_event("anon-marker-1", "a-h-G", '<point lat="39.9" lon="46.8" hae="0" ce="9999999.0" le="9999999.0"/>',
                      '<archive/><contact callsign="X"/>', how="h-g-i-g-o")
    run(listen(port, sign_in=auth_message("patrol", key), send=[MARKER, spot, moved], seconds=1))
    run(listen(port, send=[stranger], seconds=1))

    def kept() -> list[dict[str, Any]]:
        return client.get("/api/v1/cot/reports", headers=auth("ops")).json()

    wait_for(lambda: len(kept()) >= 2, 10, "two reports kept")
    reports = {r["what"]: r for r in kept()}
    assert set(reports) == {"marker", "spot report"}  # the anonymous client's marker is not among them
    marker = reports["marker"]
    assert (marker["lat"], marker["lon"], marker["callsign"], marker["sent_by"]) == (39.907, 46.792, "H.1 BMP", "patrol")
    assert reports["spot report"]["remarks"] == "fresh 120 mm impact, 20 m from the road"
    assert client.get("/api/v1/cot/reports", headers=auth("liaison-a")).status_code == 403

    body = {"type": "movement_of_forces", "source": "joint_monitoring_centre"}
    made = client.post(f"/api/v1/incidents/from-tak/{marker['id']}", json=body, headers=auth("ops"))
    assert made.status_code == 201, made.text
    incident = made.json()
    assert (incident["lat"], incident["lon"]) == (39.907, 46.792)
    assert incident["narrative"] == "H.1 BMP - tracked vehicle moving south"
    again = client.post(f"/api/v1/incidents/from-tak/{marker['id']}", json=body, headers=auth("ops"))
    assert again.status_code == 409 and str(incident["id"]) in again.json()["detail"]
    assert client.post(f"/api/v1/incidents/from-tak/{marker['id']}", json=body, headers=auth("patrol")).status_code == 403
    assert [r["incident_id"] for r in client.get("/api/v1/cot/reports", params={"open_only": "false"}, headers=auth("ops")).json()
            if r["id"] == marker["id"]] == [incident["id"]]
    assert [r["what"] for r in client.get("/api/v1/cot/reports", params={"open_only": "true"}, headers=auth("ops")).json()] == ["spot report"]

"""Alerts reach people: the duty roster, an escalation chain run with a fake clock, e-mail through a real SMTP server
that refuses then accepts, acknowledgement from an e-mail's link, each alert's history and how long alerts waited."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from configparser import ConfigParser
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytak
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree
from standardwebhooks.webhooks import Webhook as Verifier

from peacewatch.app import create_app
from peacewatch.core.settings import Settings
from peacewatch.duty.delivery import deliver_due
from peacewatch.duty.service import escalate
from peacewatch.tracking.cot import EventSplitter, StreamCounters
from tests.helpers import problem, wait_for
from tests.mail import smtp_server
from tests.tak import auth_message, cot_event, run

EMERGENCY_CHAIN = {"name": "Emergencies", "rank": 10, "kinds": ["emergency", "casevac"], "max_priority": 1, "repeat_every_s": 600,
                   "steps": [{"after_s": 0, "duties": ["duty_officer"]},
                             {"after_s": 120, "duties": ["deputy_duty_officer", "chief_of_operations"]},
                             {"after_s": 300, "everyone_on_duty": True}]}


def user_id(client: TestClient, auth: Any, username: str) -> int:
    return next(u["id"] for u in client.get("/api/v1/users", headers=auth("admin")).json() if u["username"] == username)


def on_duty(client: TestClient, auth: Any, username: str, duty: str, **more: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    made = client.post("/api/v1/duty/shifts", headers=auth("ops"), json={
        "username": username, "duty": duty, "starts_at": (now - timedelta(hours=2)).isoformat(),
        "ends_at": (now + timedelta(hours=10)).isoformat(), **more})
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def test_an_emergency_escalates_by_the_roster_until_someone_acknowledges_from_an_email(
        app: FastAPI, client: TestClient, browser: TestClient, auth: Any, scenario: None, settings: Settings) -> None:
    for username in ("ops", "observer"):
        assert client.patch(f"/api/v1/users/{user_id(client, auth, username)}", headers=auth("admin"),
                            json={"email": f"{username}@mission.test"}).status_code == 200
    on_duty(client, auth, "ops", "duty_officer")
    on_duty(client, auth, "observer", "deputy_duty_officer")
    on_duty(client, auth, "admin", "chief_of_operations")  # no e-mail: TAK only
    assert client.post("/api/v1/escalation-policies", json=EMERGENCY_CHAIN, headers=auth("ops")).status_code == 201
    alert = client.post("/api/v1/emergencies", json={"client_id": "em-escalate-1", "lat": 39.84, "lon": 46.77},
                        headers=auth("patrol")).json()
    raised = datetime.fromisoformat(alert["raised_at"])

    def history() -> dict[str, Any]:
        return client.get(f"/api/v1/alerts/{alert['id']}/history", headers=auth("ops")).json()  # type: ignore[no-any-return]

    with smtp_server(refuse_first=1) as (mailbox, port):
        mailing = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "public_url": "https://pw.mission.test"})
        with app.state.sessionmaker() as session:
            assert escalate(session, raised) == 1
            assert escalate(session, raised + timedelta(seconds=1)) == 0  # taken once
            assert deliver_due(session, mailing, raised) == {"sent": 0, "failed": 1}  # the server refused: tried again later
            assert deliver_due(session, mailing, raised + timedelta(seconds=2)) == {"sent": 0, "failed": 0}  # not yet due
            assert deliver_due(session, mailing, raised + timedelta(seconds=6)) == {"sent": 1, "failed": 0}
        told = history()
        assert [(s["step"], s["round"], s["told"]) for s in told["steps"]] == [(0, 0, ["ops"])]
        email = next(n for n in told["notices"] if n["channel"] == "email")
        assert (email["recipient"], email["address"], email["status"], email["attempts"]) == ("ops", "ops@mission.test", "sent", 2)
        assert {n["channel"]: n["status"] for n in told["notices"]} == {"email": "sent", "tak": "pending"}  # TAK: nobody connected
        assert told["stage"] == "notified" and told["notified_at"] is not None and told["policy"] == "Emergencies"
        assert len(mailbox.to("ops@mission.test")) == 1  # refused once, delivered once
        message = mailbox.to("ops@mission.test")[0]
        subject = re.sub(r"\s+", " ", message["Subject"])
        assert subject == f"[PeaceWatch] EMERGENCY alert {alert['id']}: Emergency from patrol: Emergency button (field page)"
        body = message.get_payload(decode=True).decode()
        assert "39.84000, 46.77000 (MGRS 38S" in body and f"https://pw.mission.test/alerts/{alert['id']}" in body

        with app.state.sessionmaker() as session:
            assert escalate(session, raised + timedelta(seconds=119)) == 0
            assert escalate(session, raised + timedelta(seconds=121)) == 1
            deliver_due(session, mailing, raised + timedelta(seconds=122))
        assert [s["told"] for s in history()["steps"]] == [["ops"], ["admin", "observer"]]
        assert len(mailbox.to("observer@mission.test")) == 1

    # acknowledged from the e-mail's link: the page asks first (a mail scanner's GET changes nothing), its button acknowledges
    link = re.search(r"https://pw\.mission\.test(/alerts/acknowledge/\S+)", body)
    assert link is not None
    page = browser.get(link[1])  # a browser on HTTPS, with no sign-in: the link is the credential
    assert page.status_code == 200 and f"alert {alert['id']}" in page.text.lower() and history()["stage"] == "notified"
    token = link[1].rsplit("/", 1)[1]
    forged = browser.post(link[1], data={"csrf_token": "not the page's"})  # a form posted from elsewhere acknowledges nothing
    assert forged.status_code == 200 and history()["stage"] == "notified"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    done = browser.post(link[1], data={"csrf_token": csrf[1]})  # the page's button
    assert done.status_code == 200 and "Acknowledged by you" in done.text
    assert (history()["acknowledged_by"], history()["stage"]) == ("ops", "acknowledged")
    again = client.post("/api/v1/alerts/acknowledge-by-link", json={"token": token})  # the same link through the API
    assert again.status_code == 200 and again.json()["acknowledged_now"] is False
    assert again.json()["alert"]["acknowledged_by"] == "ops"

    with app.state.sessionmaker() as session:  # nothing more for an acknowledged alert; what waited is cancelled
        assert escalate(session, raised + timedelta(seconds=301)) == 0
        deliver_due(session, settings, raised + timedelta(seconds=302))
    final = history()
    assert [s["step"] for s in final["steps"]] == [0, 1]
    assert {n["status"] for n in final["notices"] if n["channel"] == "tak"} == {"cancelled"}
    assert final["acknowledged_by"] == "ops"

    day = raised.astimezone(settings.zone).date().isoformat()
    waited = client.get("/api/v1/alerts/response-times", params={"since": day}, headers=auth("ops")).json()
    emergency = next(w for w in waited if w["kind"] == "emergency")
    assert (emergency["raised"], emergency["acknowledged"], emergency["unacknowledged"]) == (1, 1, 0)
    assert emergency["median_s"] is not None and emergency["median_s"] >= 0


def test_the_roster_refuses_what_cannot_be_and_the_chain_is_the_operations_centres_to_read(
        client: TestClient, auth: Any, scenario: None) -> None:
    now = datetime.now(UTC)
    shift = {"username": "liaison-a", "duty": "duty_officer", "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=8)).isoformat()}
    assert problem(client.post("/api/v1/duty/shifts", json=shift, headers=auth("ops")))[:2] == (422, "body.username")
    assert problem(client.post("/api/v1/duty/shifts", json={**shift, "username": "nobody"}, headers=auth("ops")))[:2] == (422, "body.username")
    assert client.post("/api/v1/duty/shifts", json={**shift, "username": "ops", "duty": "post_commander"},
                       headers=auth("ops")).status_code == 422  # a post commander names the post
    assert client.post("/api/v1/duty/shifts", json={**shift, "username": "ops", "ends_at": shift["starts_at"]},
                       headers=auth("ops")).status_code == 422
    assert client.post("/api/v1/duty/shifts", json={**shift, "username": "ops"}, headers=auth("patrol")).status_code == 403
    assert client.post("/api/v1/escalation-policies", headers=auth("ops"), json={**EMERGENCY_CHAIN, "steps": [
        {"after_s": 120, "duties": ["duty_officer"]}, {"after_s": 0, "duties": ["deputy_duty_officer"]}]}).status_code == 422
    assert client.post("/api/v1/escalation-policies", headers=auth("ops"), json={**EMERGENCY_CHAIN, "steps": [
        {"after_s": 0}]}).status_code == 422  # a step tells someone
    alert = client.post("/api/v1/emergencies", json={"client_id": "em-roster-1"}, headers=auth("patrol")).json()
    assert client.get(f"/api/v1/alerts/{alert['id']}/history", headers=auth("liaison-a")).status_code == 403
    assert client.get("/api/v1/duty/now", headers=auth("liaison-a")).status_code == 403
    bad = client.post("/api/v1/alerts/acknowledge-by-link", json={"token": "x" * 40})
    assert bad.status_code == 404 and "not valid" in bad.json()["detail"]


def test_a_duty_officer_on_tak_is_sent_a_geochat_and_acknowledges_by_reading_it_or_replying(
        settings: Settings, scenario: None, auth: Any) -> None:
    """The leader's chain tells the duty officer through the CoT feed (GeoChat from PeaceWatch, addressed to the uid
    their ATAK signed in with); ATAK's delivered receipt is noted, its read receipt acknowledges; a reply "ACK n" too."""
    app = create_app(settings.model_copy(update={"cot_port": 0, "cot_flush_ms": 50, "notify_seconds": 0.2}), listeners=True)
    with TestClient(app) as client:
        port = client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]["tcp"]
        key = client.post("/api/v1/api-tokens", json={"name": "ATAK of ops", "username": "ops"}, headers=auth("admin")).json()["token"]
        on_duty(client, auth, "ops", "duty_officer")
        chain = {**EMERGENCY_CHAIN, "steps": [{"after_s": 0, "duties": ["duty_officer"], "channels": ["tak"]}]}
        assert client.post("/api/v1/escalation-policies", json=chain, headers=auth("ops")).status_code == 201

        def receipt(kind: str, message_id: str) -> bytes:
            return cot_event(f"{message_id}-{kind}", kind, '<point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/>',
                             f'<__chatreceipt messageId="{message_id}" chatroom="PeaceWatch" senderCallsign="OPS-1"/>'
                             '<link uid="ANDROID-ops-1" type="a-f-G-U-C" relation="p-p"/>', how="h-g-i-g-o")

        async def duty_officer(answer: bytes | None) -> list[etree._Element]:
            """ATAK signed in as ops: wait for PeaceWatch's GeoChat, answer it (receipts, or a reply), see it acknowledged."""
            config = ConfigParser()
            config["tak"] = {"COT_URL": f"tcp://127.0.0.1:{port}", "PYTAK_NO_HELLO": "1"}
            reader, writer = await pytak.protocol_factory(config["tak"])
            writer.write(auth_message("ops", key).replace(b'uid="ANDROID-ops"', b'uid="ANDROID-ops-1"'))
            await writer.drain()
            splitter, chats = EventSplitter(), []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while not chats and loop.time() < deadline:
                chunk = await asyncio.wait_for(reader.read(65536), deadline - loop.time())
                chats += [e for e in (etree.fromstring(x) for x in splitter.feed(chunk, StreamCounters())) if e.get("type") == "b-t-f"]
            message_id = chats[0].find("detail/__chat").get("messageId")
            writer.write(answer or receipt("b-t-f-d", message_id) + receipt("b-t-f-r", message_id))
            await writer.drain()
            await asyncio.sleep(0.3)  # let the server read it before the connection closes
            writer.close()
            return chats

        alert = client.post("/api/v1/emergencies", json={"client_id": "em-tak-ack-1", "lat": 39.84, "lon": 46.77},
                            headers=auth("patrol")).json()
        chats = run(duty_officer(None))
        chat = chats[0]
        assert chat.find("detail/__chat").get("senderCallsign") == "PeaceWatch"
        assert chat.find("detail/__chat/chatgrp").get("uid1") == "ANDROID-ops-1"  # to the device ops signed in from
        text = chat.find("detail/remarks").text
        assert f"EMERGENCY alert {alert['id']}" in text and f"Reply ACK {alert['id']}" in text
        wait_for(lambda: client.get(f"/api/v1/alerts/{alert['id']}", headers=auth("ops")).json()["stage"] == "acknowledged", 15)
        story = client.get(f"/api/v1/alerts/{alert['id']}/history", headers=auth("ops")).json()
        assert story["acknowledged_by"] == "ops"
        assert [(n["channel"], n["status"]) for n in story["notices"]] == [("tak", "read")]
        assert story["notices"][0]["delivered_at"] and story["notices"][0]["read_at"]
        assert client.get(f"/api/v1/alerts/{alert['id']}", headers=auth("ops")).json()["note"] == "acknowledged by reading it on TAK"

        second = client.post("/api/v1/emergencies", json={"client_id": "em-tak-ack-2"}, headers=auth("patrol")).json()
        reply = cot_event("GeoChat.ANDROID-ops-1.PeaceWatch.r1", "b-t-f", '<point lat="0" lon="0" hae="0" ce="9999999" le="9999999"/>',
                          '<__chat chatroom="PeaceWatch" id="PeaceWatch-HQ" senderCallsign="OPS-1" messageId="r1"/>'
                          f'<link uid="ANDROID-ops-1" type="a-f-G-U-C" relation="p-p"/><remarks>ack {second["id"]}</remarks>',
                          how="h-g-i-g-o")
        run(duty_officer(reply))
        wait_for(lambda: client.get(f"/api/v1/alerts/{second['id']}", headers=auth("ops")).json()["stage"] == "acknowledged", 15)
        assert client.get(f"/api/v1/alerts/{second['id']}", headers=auth("ops")).json()["note"] == "acknowledged by a GeoChat reply"
    app.state.engine.dispose()


def test_a_webhook_is_sent_each_new_alert_signed_and_retried_until_its_receiver_answers(
        app: FastAPI, client: TestClient, auth: Any, scenario: None, settings: Settings) -> None:
    """A system of the mission (a chat bridge, an Apprise API server) told by a signed POST: verified with the Standard
    Webhooks library, as a receiver would; a receiver that fails is tried again and its failure is on the notice."""
    received: list[tuple[dict[str, str], bytes]] = []
    answers = [503, 200]

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        made = client.post("/api/v1/webhooks", json={"name": "chat bridge", "url": f"http://127.0.0.1:{server.server_port}/hook",
                                                     "kinds": ["emergency"]}, headers=auth("admin"))
        assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
        assert "secret" not in client.get("/api/v1/webhooks", headers=auth("admin")).json()[0]  # shown once
        assert client.post("/api/v1/webhooks", json={"name": "x", "url": "http://127.0.0.1/"}, headers=auth("ops")).status_code == 403
        on_duty(client, auth, "ops", "duty_officer")
        assert client.post("/api/v1/escalation-policies", json=EMERGENCY_CHAIN, headers=auth("ops")).status_code == 201
        alert = client.post("/api/v1/emergencies", json={"client_id": "em-hook-1", "lat": 39.84, "lon": 46.77},
                            headers=auth("patrol")).json()
        raised = datetime.fromisoformat(alert["raised_at"])
        with app.state.sessionmaker() as session:
            escalate(session, raised)
            assert deliver_due(session, settings, raised) == {"sent": 0, "failed": 1}  # 503: again later
            failed = next(n for n in client.get(f"/api/v1/alerts/{alert['id']}/history", headers=auth("ops")).json()["notices"]
                          if n["channel"] == "webhook")
            assert failed["status"] == "pending" and "HTTP 503" in failed["last_error"]
            assert deliver_due(session, settings, raised + timedelta(seconds=6)) == {"sent": 1, "failed": 0}
    finally:
        server.shutdown()
    assert len(received) == 2
    headers, body = received[1]
    assert headers["webhook-id"] == received[0][0]["webhook-id"]  # the same message both times: a receiver drops a copy
    payload = Verifier(made.json()["secret"]).verify(body, headers)  # raises unless the signature is right
    assert payload["type"] == "alert.raised" and payload["data"]["id"] == alert["id"] and payload["data"]["kind"] == "emergency"
    assert json.loads(body)["data"]["priority"] == 1


def test_the_demo_watch_loaded_after_midnight_has_someone_on_duty_now(app: FastAPI, scenario: None, settings: Settings,
                                                                       client: TestClient, auth: Any, monkeypatch: Any) -> None:
    """The watch's day runs 08:00 to 08:00: loaded at 00:30 in Baku, the night shift under way is on the roster."""
    from peacewatch.scenario import duty_demo

    half_past_midnight = datetime(2026, 12, 8, 0, 30, tzinfo=settings.zone).astimezone(UTC)
    monkeypatch.setattr(duty_demo, "utcnow", lambda: half_past_midnight)
    with app.state.sessionmaker() as session:
        assert duty_demo.load(session, settings)["shifts"] > 0
    on_duty = client.get("/api/v1/duty/now", params={"at": half_past_midnight.isoformat()}, headers=auth("ops")).json()
    assert {s["duty"] for s in on_duty["shifts"]} >= {"duty_officer", "deputy_duty_officer"}

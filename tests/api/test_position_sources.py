"""Only the sources bound to a tracker move it: hostile CoT over TCP, TLS and UDP, and HTTP batches, tried as an
attacker would (a side's liaison, an anonymous client, another user's device), and a drone's controller accepted."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from peacewatch.app import create_app
from peacewatch.core.db import utcnow
from peacewatch.core.settings import Settings
from tests.helpers import problem, wait_for
from tests.tak import MARKER, auth_message, cot_event, listen, run


@pytest.fixture
def live(settings: Settings, scenario: None, auth: Any) -> Iterator[tuple[TestClient, dict[str, int]]]:
    app = create_app(settings.model_copy(update={"cot_port": 0, "cot_flush_ms": 50}), listeners=True)
    with TestClient(app) as client:
        yield client, client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]
    app.state.engine.dispose()


def tracker(client: TestClient, auth: Any, code: str, **sources: Any) -> dict[str, Any]:
    made = client.post("/api/v1/trackers", json={"code": code, "name": code, "cot_uid": f"ANDROID-{code}", **sources},
                       headers=auth("ops"))
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def api_token(client: TestClient, auth: Any, username: str, name: str = "") -> dict[str, Any]:
    made = client.post("/api/v1/api-tokens", json={"name": name or f"ATAK of {username}", "username": username},
                       headers=auth("admin"))
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def fixes_of(client: TestClient, auth: Any, tracker_id: int) -> int:
    return int(client.get(f"/api/v1/trackers/{tracker_id}/track", headers=auth("ops")).json()["properties"]["count"])


def pli(uid: str, second: int, lat: float = 40.0953) -> bytes:
    """An ATAK position report (PLI) of ``uid``, ``second`` seconds after 08:00 on 14 November 2020."""
    t = f"2020-11-14T08:00:{second:02d}.000Z"
    return (f'<event version="2.0" uid="{uid}" type="a-f-G-U-C" how="m-g" time="{t}" start="{t}" stale="{t}">'
            f'<point lat="{lat}" lon="46.7521" hae="722.3" ce="4.9" le="9999999.0"/><detail><takv platform="ATAK-CIV" '
            f'version="4.10.0.7"/><contact endpoint="*:-1:stcp" callsign="{uid[-5:]}"/><track course="93.3" speed="4.1"/>'
            f'</detail></event>').encode()


def uas_tool(drone_uid: str, controller_uid: str, second: int) -> bytes:
    """A drone's own position as the UAS Tool sends it from the controlling ATAK: machine-made, with a parent link."""
    t = f"2020-11-14T08:01:{second:02d}.000Z"
    return (f'<event version="2.0" uid="{drone_uid}" type="a-f-A-M-H-Q" how="m-g" time="{t}" start="{t}" stale="{t}">'
            f'<point lat="39.8201" lon="46.7602" hae="1450.0" ce="8.0" le="12.0"/><detail><track course="-90.5" speed="12.1"/>'
            f'<link uid="{controller_uid}" type="a-f-G-U-C" relation="p-p" parent_callsign="MP-N1"/>'
            f'<__uastool activeRoute="false" extendedCot="true"/><sensor fov="45" range="1500"/></detail></event>').encode()


def test_http_batches_move_only_the_trackers_their_sender_is_bound_to(client: TestClient, auth: Any, scenario: None) -> None:
    bound = tracker(client, auth, "MP-N1", bound_users=["patrol"])
    other = tracker(client, auth, "MP-X")  # nobody bound: operations only
    at = utcnow() - timedelta(minutes=5)

    def batch(*codes: str, start: int = 0) -> dict[str, Any]:
        return {"positions": [{"tracker": code, "t": (at + timedelta(seconds=start + i)).isoformat(), "lat": 40.1, "lon": 46.7}
                              for i, code in enumerate(codes)]}

    assert client.post("/api/v1/positions", json=batch("MP-N1"), headers=auth("patrol")).status_code == 200
    refused = client.post("/api/v1/positions", json=batch("MP-N1", "MP-X", start=10), headers=auth("patrol"))
    status, field, detail = problem(refused)
    assert (status, field) == (403, "body.positions[1].tracker") and "MP-X" in detail and "nothing stored" in detail
    assert refused.headers["content-type"] == "application/problem+json"
    assert fixes_of(client, auth, bound["id"]) == 1 and fixes_of(client, auth, other["id"]) == 0  # all or nothing
    assert client.post("/api/v1/positions", json=batch("MP-X", start=20), headers=auth("ops")).status_code == 200

    # one device's token, not its user: another device of the same user is refused
    box_a, box_b = api_token(client, auth, "patrol", "box A"), api_token(client, auth, "patrol", "box B")
    tracker(client, auth, "MP-T", bound_tokens=[box_a["id"]])
    assert client.post("/api/v1/positions", json=batch("MP-T"), headers={"X-API-Key": box_a["token"]}).status_code == 200
    assert client.post("/api/v1/positions", json=batch("MP-T", start=1),
                       headers={"Authorization": f"Bearer {box_b['token']}"}).status_code == 403
    assert client.post("/api/v1/positions", json=batch("MP-T", start=2), headers=auth("patrol")).status_code == 403

    # roles the mission allows: patrol for one tracker
    roles = tracker(client, auth, "MP-R", report_roles=["operations", "patrol"])
    assert client.post("/api/v1/positions", json=batch("MP-R"), headers=auth("patrol")).status_code == 200
    assert fixes_of(client, auth, roles["id"]) == 1


def test_a_side_is_never_bound_and_who_may_move_a_tracker_is_the_operations_centres_to_know(
        client: TestClient, auth: Any, scenario: None) -> None:
    refused = client.post("/api/v1/trackers", json={"code": "MP-L", "bound_users": ["patrol", "liaison-b"]}, headers=auth("ops"))
    assert problem(refused)[:2] == (422, "body.bound_users[1]")
    assert problem(client.post("/api/v1/trackers", json={"code": "MP-L", "report_roles": ["liaison"]}, headers=auth("ops")))[0] == 422
    side_token = api_token(client, auth, "liaison-b")
    assert problem(client.post("/api/v1/trackers", json={"code": "MP-L", "bound_tokens": [side_token["id"]]},
                               headers=auth("ops")))[:2] == (422, "body.bound_tokens[0]")
    assert problem(client.post("/api/v1/trackers", json={"code": "MP-L", "bound_users": ["nobody"]}, headers=auth("ops")))[0] == 422
    made = tracker(client, auth, "MP-P", bound_users=["patrol"], bound_certificates=["AB:" * 31 + "AB"], visibility="public")
    assert made["bound_certificates"] == ["ab" * 32]  # one spelling, whatever openssl printed
    assert client.patch(f"/api/v1/trackers/{made['id']}", json={"controller_id": made["id"]}, headers=auth("ops")).status_code == 422
    assert client.get(f"/api/v1/trackers/{made['id']}", headers=auth("ops")).json()["bound_users"] == ["patrol"]
    for reader in ({}, auth("patrol"), auth("liaison-a")):
        seen = client.get(f"/api/v1/trackers/{made['id']}", headers=reader).json()
        assert seen["bound_users"] is None and seen["report_roles"] is None and seen["bound_certificates"] is None


def test_operations_choose_device_tokens_by_name_never_a_sides_nor_a_revoked_one(client: TestClient, auth: Any, scenario: None) -> None:
    """The tracker form's list of device tokens: operations see the tokens in force a tracker may be bound to, by
    name and holder (never the secret), without the token administration that is the admins' alone."""
    handheld, side, lost = (api_token(client, auth, user, name) for user, name in
                            (("patrol", "handheld 3"), ("liaison-b", "side B's box"), ("patrol", "lost handheld")))
    assert client.post(f"/api/v1/api-tokens/{lost['id']}/revoke", headers=auth("admin")).status_code == 200
    offered = client.get("/api/v1/trackers/device-tokens", headers=auth("ops"))
    assert offered.status_code == 200, offered.text
    assert {"id": handheld["id"], "name": "handheld 3", "username": "patrol"} in offered.json()
    assert not {side["id"], lost["id"]} & {t["id"] for t in offered.json()}
    assert all(set(t) == {"id", "name", "username"} for t in offered.json())
    for reader in ({}, auth("patrol"), auth("liaison-a"), auth("observer")):
        assert client.get("/api/v1/trackers/device-tokens", headers=reader).status_code in (401, 403)
    assert client.get("/api/v1/api-tokens", headers=auth("ops")).status_code == 403


def test_operations_name_the_missions_people_never_a_sides_nor_someone_gone(client: TestClient, auth: Any, scenario: None) -> None:
    """Who may be put on duty or bound to a tracker, as the forms offer them: the mission's active people for
    operations; an administrator sees everyone active (a liaison's device token is theirs to issue)."""
    admin = auth("admin")
    made = client.post("/api/v1/users", json={"username": "gone", "password": "a-long-password-9", "role": "patrol"}, headers=admin)
    assert made.status_code == 201, made.text
    assert client.patch(f"/api/v1/users/{made.json()['id']}", json={"active": False}, headers=admin).status_code == 200
    named = client.get("/api/v1/staff", headers=auth("ops"))
    assert named.status_code == 200, named.text
    people = {p["username"]: p for p in named.json()}
    assert {"ops", "patrol", "humanitarian"} <= set(people) and "gone" not in people
    assert not [p for p in people.values() if p["role"] == "liaison"] and set(people["patrol"]) == {"username", "full_name", "role"}
    assert {"liaison-a", "liaison-b"} <= {p["username"] for p in client.get("/api/v1/staff", headers=admin).json()}
    for reader in ({}, auth("patrol"), auth("liaison-a"), auth("observer"), auth("press")):
        assert client.get("/api/v1/staff", headers=reader).status_code in (401, 403)


def test_hostile_cot_over_tcp_and_udp_moves_no_mission_tracker_and_a_controller_moves_its_drone(
        live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    client, ports = live
    admin = auth("admin")
    assert client.post("/api/v1/users", json={"username": "patrol2", "password": "a-long-password-2", "role": "patrol"},
                       headers=admin).status_code == 201
    north = tracker(client, auth, "MP-N1", bound_users=["patrol"])
    south = tracker(client, auth, "MP-S1")
    drone = tracker(client, auth, "UAS-7", controller_id=north["id"])
    beacon = tracker(client, auth, "BEACON-1", anonymous_input=True)
    liaison, other, patrol = (api_token(client, auth, name)["token"] for name in ("liaison-b", "patrol2", "patrol"))

    run(listen(ports["tcp"], sign_in=auth_message("liaison-b", liaison), send=[pli("ANDROID-MP-N1", s) for s in range(5)],
               seconds=0.5))
    run(listen(ports["tcp"], sign_in=auth_message("patrol2", other), send=[pli("ANDROID-MP-N1", 10 + s) for s in range(5)],
               seconds=0.5))
    run(listen(ports["tcp"], send=[pli("ANDROID-MP-S1", 20 + s) for s in range(5)] + [pli("ANDROID-BEACON-1", 30)], seconds=0.5))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(pli("ANDROID-MP-N1", 40, lat=41.0), ("127.0.0.1", ports["udp"]))
    run(listen(ports["tcp"], sign_in=auth_message("patrol", patrol),
               send=[pli("ANDROID-MP-N1", 50), uas_tool("ANDROID-UAS-7", "ANDROID-MP-N1", 1)], seconds=0.5))

    def counted() -> dict[str, Any]:
        return client.get("/api/v1/cot/status", headers=auth("ops")).json()  # type: ignore[no-any-return]

    wait_for(lambda: counted()["stored"] == 3 and sum(counted()["refused"].values()) == 16, what="3 stored, 16 refused")
    assert counted()["refused"] == {"liaison": 5, "not bound": 5, "anonymous": 6}
    assert [fixes_of(client, auth, t["id"]) for t in (north, south, drone, beacon)] == [1, 0, 1, 1]
    track = client.get(f"/api/v1/trackers/{north['id']}/track", headers=auth("ops")).json()
    assert track["properties"]["times"] == ["2020-11-14T08:00:50Z"]  # the patrol's own report, nobody else's

    audit = client.get("/api/v1/audit", params={"entity": "cot_refusals"}, headers=auth("ops")).json()
    reasons = sorted((entry["after"]["reason"], entry["after"]["sender"], entry["after"]["transport"]) for entry in audit)
    assert reasons == [("anonymous", "anonymous", "tcp"), ("anonymous", "anonymous", "udp"),
                       ("liaison", "liaison-b (token 1)", "tcp"), ("not bound", "patrol2 (token 2)", "tcp")]


def test_a_revoked_token_moves_nothing_more_even_without_the_feed(settings: Settings, scenario: None, auth: Any) -> None:
    app = create_app(settings.model_copy(update={"cot_port": 0, "cot_flush_ms": 50, "cot_feed": False, "cot_udp": False}),
                     listeners=True)
    with TestClient(app) as client:
        port = client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]["tcp"]
        north = tracker(client, auth, "MP-N1", bound_users=["patrol"])
        key = api_token(client, auth, "patrol")

        async def report_revoke_report() -> bool:
            import asyncio

            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(auth_message("patrol", key["token"]) + pli("ANDROID-MP-N1", 1))
            await writer.drain()
            await asyncio.to_thread(wait_for, lambda: fixes_of(client, auth, north["id"]) == 1)
            assert client.post(f"/api/v1/api-tokens/{key['id']}/revoke", headers=auth("admin")).status_code == 200
            writer.write(pli("ANDROID-MP-N1", 2))
            await writer.drain()
            closed = await asyncio.wait_for(reader.read(), 10)  # the server hangs up on a sign-in that ended
            writer.close()
            return closed == b""

        assert run(report_revoke_report())
        wait_for(lambda: client.get("/api/v1/cot/status", headers=auth("ops")).json()["refused"].get("anonymous") == 1)
        assert fixes_of(client, auth, north["id"]) == 1
    app.state.engine.dispose()


def test_over_tls_a_liaisons_certificate_moves_nothing_and_a_bound_certificate_moves_its_tracker(
        settings: Settings, scenario: None, auth: Any, tmp_path: Any) -> None:
    from tests.certs import fingerprint_of, make_pki

    pki = make_pki(tmp_path, "liaison-b", others=("uas-box-7",))
    tuned = settings.model_copy(update={"cot_port": 0, "cot_tls_port": 0, "cot_flush_ms": 50, "cot_tcp": False, "cot_udp": False,
                                        "cot_tls_cert": pki["server_cert"], "cot_tls_key": pki["server_key"], "cot_tls_ca": pki["ca"]})
    app = create_app(tuned, listeners=True)
    with TestClient(app) as client:
        port = client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]["tls"]
        south = tracker(client, auth, "MP-S2", bound_users=["patrol"])
        box = tracker(client, auth, "UAS-BOX", bound_certificates=[fingerprint_of(pki["client_cert:uas-box-7"])])

        def send_over_tls(cert: str, key: str, events: bytes) -> None:
            context = ssl.create_default_context(cafile=str(pki["ca"]))
            context.load_cert_chain(cert, key)
            with socket.create_connection(("127.0.0.1", port)) as raw, context.wrap_socket(raw, server_hostname="localhost") as conn:
                conn.sendall(events)
                wait_for(lambda: sum(client.get("/api/v1/cot/status", headers=auth("ops")).json()["refused"].values())
                         + client.get("/api/v1/cot/status", headers=auth("ops")).json()["stored"] >= 1)

        send_over_tls(str(pki["client_cert"]), str(pki["client_key"]), pli("ANDROID-MP-S2", 1))  # liaison-b's own certificate
        send_over_tls(str(pki["client_cert:uas-box-7"]), str(pki["client_key:uas-box-7"]), pli("ANDROID-UAS-BOX", 2))
        wait_for(lambda: client.get("/api/v1/cot/status", headers=auth("ops")).json()["stored"] == 1)
        assert client.get("/api/v1/cot/status", headers=auth("ops")).json()["refused"] == {"liaison": 1}
        assert fixes_of(client, auth, south["id"]) == 0 and fixes_of(client, auth, box["id"]) == 1
    app.state.engine.dispose()


def test_markers_are_kept_by_sender_and_an_icon_set_marker_is_no_fix(live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    """Two users' ATAKs send a marker with the same uid: each keeps its own. A marker placed from ATAK's icon sets
    (``how="h-g-i-g-o"``, an empty detail) under a registered uid is not that device's position."""
    client, ports = live
    north = tracker(client, auth, "MP-N1", bound_users=["patrol"])
    for user in ("patrol", "ops"):
        key = api_token(client, auth, user)["token"]
        mine = MARKER.replace(b"tracked vehicle moving south", f"seen by {user}".encode())
        run(listen(ports["tcp"], sign_in=auth_message(user, key), send=[mine], seconds=0.5))
    icon = cot_event("ANDROID-MP-N1", "a-u-G", '<point lat="39.9" lon="46.8" hae="0" ce="9999999.0" le="9999999.0"/>',
                     how="h-g-i-g-o")
    run(listen(ports["tcp"], send=[icon], seconds=0.5))

    def reports() -> list[dict[str, Any]]:
        return client.get("/api/v1/cot/reports", headers=auth("ops")).json()  # type: ignore[no-any-return]

    wait_for(lambda: len(reports()) == 2 and client.get("/api/v1/cot/status", headers=auth("ops")).json()["ignored"] == 3)
    assert sorted((r["sent_by"], r["remarks"]) for r in reports()) == [("ops", "seen by ops"), ("patrol", "seen by patrol")]
    assert fixes_of(client, auth, north["id"]) == 0
    assert client.get("/api/v1/cot/status", headers=auth("ops")).json()["refused"] == {}

"""A TAK client for the tests: pytak's connection, TAK Server's sign-in message, and the events it is sent."""

from __future__ import annotations

import asyncio
from configparser import ConfigParser
from typing import Any

import pytak
from lxml import etree

from peacewatch.tracking.cot import EventSplitter, StreamCounters


async def listen(port: int, *, sign_in: bytes = b"", send: list[bytes] | None = None, until: Any = None,
                 seconds: float = 8.0) -> list[etree._Element]:
    """Connect as pytak does, sign in, send, and read events until ``until(events)`` holds or time runs out."""
    config = ConfigParser()
    config["feed-test"] = {"COT_URL": f"tcp://127.0.0.1:{port}", "PYTAK_NO_HELLO": "1"}
    reader, writer = await pytak.protocol_factory(config["feed-test"])
    if sign_in:
        writer.write(sign_in)
    for event in send or []:
        writer.write(event)
    await writer.drain()
    splitter, events = EventSplitter(), []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    try:
        while loop.time() < deadline and not (until and until(events)):
            try:
                chunk = await asyncio.wait_for(reader.read(65536), max(0.05, deadline - loop.time()))
            except TimeoutError:
                break
            if not chunk:
                break
            events += [etree.fromstring(e) for e in splitter.feed(chunk, StreamCounters())]
    finally:
        writer.close()
    return events


def uids(events: list[etree._Element]) -> set[str]:
    return {e.get("uid") for e in events}


def auth_message(username: str, key: str) -> bytes:
    return f'<auth><cot username="{username}" password="{key}" uid="ANDROID-{username}"/></auth>'.encode()


def run(coroutine: Any) -> Any:
    """``asyncio.run`` in a thread of its own: Playwright's sync API keeps a loop running in the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def cot_event(uid: str, cot_type: str, point: str, detail: str = "", how: str = "m-g") -> bytes:
    """An event as a TAK client writes it, stamped 14 November 2020 08:00:05.123Z."""
    return (f'<event version="2.0" uid="{uid}" type="{cot_type}" how="{how}" time="2020-11-14T08:00:05.123Z" '
            f'start="2020-11-14T08:00:05.123Z" stale="2020-11-14T08:05:05.123Z">{point}<detail>{detail}</detail></event>').encode()


# shaped as ATAK-CIV 4.x and UAS tools write them (written for these tests)
ATAK_SELF = cot_event(
    "ANDROID-589520ccfcd20f01", "a-f-G-U-C", '<point lat="40.0953" lon="46.7521" hae="722.3" ce="4.9" le="9999999.0"/>',
    '<takv device="SAMSUNG SM-G781U" platform="ATAK-CIV" os="31" version="4.8.1.5"/><contact endpoint="*:-1:stcp" '
    'callsign="MP-07"/><uid Droid="MP-07"/><precisionlocation altsrc="GPS" geopointsrc="GPS"/><__group role="Team Member" '
    'name="Cyan"/><status battery="78"/><track course="93.3" speed="4.1"/>')
FILE_ACK = cot_event("ANDROID-589520ccfcd20f01", "b-f-t-a", '<point lat="0.0" lon="0.0" hae="0.0" ce="9999999.0" le="9999999.0"/>',
                  '<fileshare filename="route.kmz" senderCallsign="OPS" sha256="ab12" sizeInBytes="2048"/>', how="h-e")
DRONE_NO_GPS = cot_event("UAS-ORLAN-3", "a-f-A-M-F-Q", '<point lat="0.0" lon="0.0" hae="9999999.0" ce="9999999.0" le="9999999.0"/>',
                      '<track course="-45.0" speed="0.0"/>')
DRONE = cot_event("UAS-ORLAN-3", "a-f-A-M-F-Q", '<point lat="39.8201" lon="46.7602" hae="1450.0" ce="8.0" le="12.0"/>',
               '<track course="-90.5" speed="27.8"/><sensor fov="45" range="1500"/>')
MARKER = cot_event("2f1c2b8e-61d5-4b0f-a3d1-7b7c4e9c0a11", "a-h-G-U-C-A", '<point lat="39.905" lon="46.79" hae="0" ce="9999999.0" le="9999999.0"/>',
                '<contact callsign="H.1 BMP"/><link uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" relation="p-p" '
                'parent_callsign="MP-07" production_time="2020-11-14T08:00:05.123Z"/><archive/><remarks>tracked vehicle moving south</remarks>',
                how="h-g-i-g-o")
CHAT = cot_event("GeoChat.ANDROID-589520ccfcd20f01.All Chat Rooms.4b1e", "b-t-f",
              '<point lat="40.0953" lon="46.7521" hae="0" ce="9999999.0" le="9999999.0"/>',
              '<__chat chatroom="All Chat Rooms" senderCallsign="MP-07"/><remarks source="BAO.F.ATAK.ANDROID-589520ccfcd20f01">at OP 3</remarks>',
              how="h-g-i-g-o")
SHAPE = cot_event("d3f5b7a0-0c1e-4d0a-9b71-0f2e3c4d5e6f", "u-d-f", '<point lat="39.9" lon="46.8" hae="0" ce="9999999.0" le="9999999.0"/>',
               '<link point="39.9,46.8"/><link point="39.91,46.81"/><archive/>', how="h-e")


# emergencies and CASEVAC as ATAK's emergency tool, node-CoT's samples and ATAK's MEDEVAC tool write them (written for these tests)
_ALARM_POINT = '<point lat="39.8410" lon="46.7712" hae="610.0" ce="6.5" le="9999999.0"/>'
_ALARM_LINK = '<link uid="ANDROID-589520ccfcd20f01" type="a-f-G-U-C" relation="p-p"/>'


def emergency(cot_type: str, label: str, *, device: str = "ANDROID-589520ccfcd20f01", callsign: str = "MP-07",
              point: str = _ALARM_POINT, cancel: bool = False) -> bytes:
    """ATAK's emergency button: the device's uid with -9-1-1, a link to the device, <emergency> naming the sender."""
    flag = ' cancel="true"' if cancel else ""
    return cot_event(f"{device}-9-1-1", cot_type, point,
                     f'<link uid="{device}" type="a-f-G-U-C" relation="p-p"/><contact callsign="{callsign}-Alert"/>'
                     f'<emergency type="{label}"{flag}>{callsign}</emergency>', how="h-e")


EMERGENCY_911 = emergency("b-a-o-tbl", "911 Alert")
EMERGENCY_RING_THE_BELL = emergency("b-a-o-pan", "Ring The Bell")
EMERGENCY_IN_CONTACT = emergency("b-a-o-opn", "In Contact")
EMERGENCY_CUSTOM = emergency("b-a-o-c", "Custom")
EMERGENCY_GEOFENCE = emergency("b-a-g", "Geo-fence Breached")
EMERGENCY_CANCEL = emergency("b-a-o-can", "911 Alert", cancel=True)
EMERGENCY_CANCEL_FLAG = emergency("b-a-o-tbl", "911 Alert", cancel=True)  # cancelled by the flag on the element alone
# node-CoT's sample: the plain alert type with ATAK's words for the kind, and no link
GUNSHOT = cot_event("ANDROID-589520ccfcd20f01-9-1-1", "b-a-o", _ALARM_POINT,
                    '<emergency type="Manual Alert: Gunshot">MP-07</emergency>', how="h-e")
CASEVAC = cot_event(
    "b8a7f5e2-0c6d-4e38-9a1f-2d3c4b5a6978", "b-r-f-h-c", '<point lat="39.8122" lon="46.7530" hae="590.0" ce="9999999.0" le="9999999.0"/>',
    f'<contact callsign="MEDEVAC.07.081500"/>{_ALARM_LINK}<archive/>'
    '<_medevac_ title="MEDEVAC.07.081500" casevac="true" freq="38.90" urgent="1" urgent_surgical="0" priority="1" routine="0" '
    'equipment_none="false" hoist="false" extraction_equipment="true" ventilator="false" litter="1" ambulatory="1" security="1" '
    'hlz_marking="2" us_military="0" nonus_military="2" nonus_civilian="0" terrain_none="true" '
    'medline_remarks="two wounded at the checkpoint, one on a stretcher"/>', how="h-g-i-g-o")

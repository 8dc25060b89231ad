"""GeoChat, as ATAK writes it: a message to one TAK user, a user's reply, and the receipts a client sends back.

ATAK's chat is a ``b-t-f`` event: ``<__chat>`` names the chat room and the sender, carries the message's
``messageId`` and, in ``<chatgrp>``, the two parties' uids; ``<remarks>`` holds the text. A client that
receives a message answers ``b-t-f-d`` (delivered) and, once a person opened it, ``b-t-f-r`` (read), naming
the message by its ``messageId``. Pure functions: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

DELIVERED, READ = "b-t-f-d", "b-t-f-r"
HQ_UID = "PeaceWatch-HQ"  # the uid PeaceWatch speaks under on TAK
HQ_CALLSIGN = "PeaceWatch"
MAX_TEXT = 2000


@dataclass
class ChatLine:
    """A chat message or a receipt a TAK client sent."""

    uid: str
    cot_type: str
    message_id: str  # the message it is, or for a receipt, the message it is about
    receipt: str = ""  # "" for a message, "delivered" or "read" for a receipt
    sender_uid: str = ""
    sender_callsign: str = ""
    chatroom: str = ""
    text: str = ""

    def names(self) -> set[str]:
        """The ids a receipt may name our message by: its messageId, its event uid, the uid's last part."""
        return {name for name in (self.message_id, self.uid, self.uid.rsplit(".", 1)[-1]) if name}


def read_chat(root: etree._Element, uid: str, cot_type: str) -> ChatLine:
    chat = root.find("detail/__chat")
    receipt_element = root.find("detail/__chatreceipt")
    about = receipt_element if receipt_element is not None else chat
    receipt = "delivered" if cot_type.startswith(DELIVERED) else "read" if cot_type.startswith(READ) else ""
    link = root.find("detail/link")
    group = chat.find("chatgrp") if chat is not None else None
    remarks = root.find("detail/remarks")
    sender = ((link.get("uid", "") if link is not None else "") or (group.get("uid0", "") if group is not None else "")
              or (remarks.get("source", "") if remarks is not None else "").removeprefix("BAO.F.ATAK."))
    return ChatLine(
        uid=uid, cot_type=cot_type, message_id=(about.get("messageId", "") if about is not None else "")[:200], receipt=receipt,
        sender_uid=sender[:200],
        sender_callsign=(about.get("senderCallsign", "") if about is not None else "")[:200],
        chatroom=(about.get("chatroom", "") if about is not None else "")[:200],
        text=((remarks.text or "") if remarks is not None else "").strip()[:MAX_TEXT])


def _time(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def chat_message(message_id: str, to_uid: str, to_callsign: str, text: str, *, now_ms: int, lat: float = 0.0, lon: float = 0.0,
                 stale_s: int = 86_400) -> bytes:
    """A GeoChat message from PeaceWatch to one TAK user (their device's uid), as ATAK writes a direct message."""
    stamp = _time(now_ms)
    root = etree.Element("event", version="2.0", uid=f"GeoChat.{HQ_UID}.{to_uid}.{message_id}", type="b-t-f", how="h-g-i-g-o",
                         time=stamp, start=stamp, stale=_time(now_ms + stale_s * 1000))
    etree.SubElement(root, "point", lat=f"{lat:.7f}", lon=f"{lon:.7f}", hae="9999999.0", ce="9999999.0", le="9999999.0")
    detail = etree.SubElement(root, "detail")
    chat = etree.SubElement(detail, "__chat", parent="RootContactGroup", groupOwner="false", messageId=message_id,
                            chatroom=to_callsign or to_uid, id=to_uid, senderCallsign=HQ_CALLSIGN)
    etree.SubElement(chat, "chatgrp", uid0=HQ_UID, uid1=to_uid, id=to_uid)
    etree.SubElement(detail, "link", uid=HQ_UID, type="a-f-G-U-C", relation="p-p")
    etree.SubElement(detail, "remarks", source=f"BAO.F.ATAK.{HQ_UID}", to=to_uid, time=stamp).text = text[:MAX_TEXT]
    marti = etree.SubElement(detail, "marti")
    etree.SubElement(marti, "dest", callsign=to_callsign or to_uid)
    return etree.tostring(root)

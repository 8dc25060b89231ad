"""How a notice is worded and handed over, channel by channel: an e-mail through SMTP, a signed webhook, the text
of a TAK GeoChat message. What to send and when is :mod:`duty.delivery`'s; this module only speaks.

E-mail goes through the standard library's SMTP client to the mission's server; a webhook is signed as the
Standard Webhooks specification says (its library computes the signature), so a receiver verifies it with
any of that specification's libraries. Further channels (Matrix, Telegram, ntfy...) are best reached through
Apprise by pointing a webhook at an Apprise API server, which fans one alert out to them.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook as Signer

from peacewatch.core.geo import to_mgrs
from peacewatch.core.i18n import N_, Sentence, translations
from peacewatch.core.settings import Settings

TIMEOUT_S = 10.0
PRIORITY_WORDS = {1: N_("EMERGENCY"), 2: N_("URGENT"), 3: N_("ROUTINE")}


@dataclass(frozen=True)
class Outgoing:
    """A notice claimed for sending, with what its message says of the alert."""

    notice_id: int
    alert_id: int
    recipient: str
    channel: str
    address: str
    attempts: int
    language: str
    kind: str
    priority: int
    message: str
    raised_at: datetime
    lat: float | None
    lon: float | None
    details: dict[str, Any]


def _say(language: str, template: str, **values: object) -> str:
    return Sentence(template, values).said_in(translations(language).gettext)


def what_happened(out: Outgoing) -> str:
    """The alert in the person's language: a call for help said again from its parts (who called, what ATAK or the
    page said), any other alert in the words it was raised with."""
    gettext = translations(out.language).gettext
    details = out.details
    who = details.get("callsign") or details.get("device_uid") or "?"
    if out.kind == "casevac":
        return _say(out.language, N_("CASEVAC request from {who}"), who=who)
    if out.kind == "emergency":
        label = details.get("label") or details.get("emergency_type") or "emergency"
        return _say(out.language, N_("Emergency from {who}: {what}"), who=who, what=gettext(label))
    return out.message


def headline(out: Outgoing) -> str:
    """One line: priority, number, what happened."""
    priority = translations(out.language).gettext(PRIORITY_WORDS.get(out.priority, PRIORITY_WORDS[2]))
    return _say(out.language, N_("{priority} alert {id}: {message}"), priority=priority, id=out.alert_id, message=what_happened(out))


def where(out: Outgoing) -> str:
    if out.lat is None or out.lon is None:
        return _say(out.language, N_("place not known"))
    grid = to_mgrs(out.lat, out.lon) or ""
    return f"{out.lat:.5f}, {out.lon:.5f}" + (f" (MGRS {grid})" if grid else "")


def tak_text(out: Outgoing) -> str:
    """A GeoChat line: the headline, the place, and how to acknowledge from the TAK client."""
    return " · ".join((headline(out), where(out),
                       _say(out.language, N_("Reply ACK {id} to acknowledge."), id=out.alert_id)))


def alert_email(settings: Settings, out: Outgoing, acknowledge_url: str, alert_url: str) -> EmailMessage:
    """The e-mail of a notice: the headline as subject, the place and time, the alert's page, the acknowledgement's link.
    Its Message-ID is the notice's, so a receiving server that saw it once drops a copy sent again after a crash."""
    message = EmailMessage()
    message["Subject"] = "[PeaceWatch] " + headline(out)
    message["From"] = settings.smtp_from
    message["To"] = out.address
    message["Date"] = format_datetime(datetime.now(UTC))
    host = urlsplit(settings.public_url).hostname or "peacewatch"
    message["Message-ID"] = f"<notice-{out.notice_id}.alert-{out.alert_id}@{host}>"  # the same at every attempt
    message["X-PeaceWatch-Alert"] = str(out.alert_id)
    raised = out.raised_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S %Z")
    lines = [headline(out), "",
             _say(out.language, N_("Raised: {when}"), when=raised),
             _say(out.language, N_("Where: {place}"), place=where(out)), "",
             _say(out.language, N_("Acknowledge (stops the escalation): {url}"), url=acknowledge_url),
             _say(out.language, N_("The alert: {url}"), url=alert_url)]
    message.set_content("\n".join(lines))
    return message


def send_email(settings: Settings, message: EmailMessage) -> str:
    """Hand the e-mail to the SMTP server; its Message-ID. Raises on any refusal (the notice is tried again)."""
    if not settings.smtp_host:
        raise RuntimeError("no SMTP server configured (PEACEWATCH_SMTP_HOST)")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        refused = smtp.send_message(message)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
    return str(message["Message-ID"])


def webhook_body(out: Outgoing) -> dict[str, Any]:
    return {"type": "alert.raised", "timestamp": datetime.now(UTC).isoformat(),
            "data": {"id": out.alert_id, "kind": out.kind, "priority": out.priority, "message": out.message,
                     "raised_at": out.raised_at.isoformat(), "lat": out.lat, "lon": out.lon}}


def post_webhook(out: Outgoing, secret: str) -> str:
    """POST the alert, signed (``webhook-id`` is the notice's, so a receiver drops a copy); raises unless 2xx."""
    body = json.dumps(webhook_body(out), separators=(",", ":"))
    message_id = f"msg_pw_notice_{out.notice_id}"
    stamp = datetime.now(UTC)
    signature = Signer(secret).sign(message_id, stamp, body)
    answer = httpx.post(out.address, content=body, timeout=TIMEOUT_S, headers={
        "content-type": "application/json", "webhook-id": message_id, "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature})
    if not answer.is_success:
        raise RuntimeError(f"webhook answered HTTP {answer.status_code}")
    return message_id

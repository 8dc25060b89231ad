"""The delivery outbox: each notice claimed by one process before it is handed over, tried again with back-off,
its failures kept on it, its receipts and the acknowledgements it brings back recorded.

A notice moves pending → sending (claimed by a conditional update: of two processes, one wins) → sent, and for
TAK on to delivered and read as the client's receipts say. A failed attempt puts it back to pending with its
next attempt later (5 s doubling, at most five minutes) until ``notice_attempts`` have failed. A claim held past
CLAIM_S (its process died while sending) is released: the notice goes again, which is the one way it can reach
someone twice, and its e-mail's Message-ID and webhook-id are the same both times so a receiver can drop the copy.
Notices of an alert someone acknowledged or closed are cancelled, never sent.

E-mail and webhooks are sent by the cluster's leader. TAK notices are sent by the process holding one of the
person's TAK connections (:mod:`live.feed` claims them), since only that process can write to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from peacewatch.alerts.models import Alert, AlertStatus
from peacewatch.alerts.service import acknowledge
from peacewatch.core.auth import JWT_ALGORITHM, User
from peacewatch.core.db import utcnow
from peacewatch.core.problems import Conflict, NotFound
from peacewatch.core.settings import Settings
from peacewatch.duty import channels
from peacewatch.duty.chain import retry_delay_s
from peacewatch.duty.channels import Outgoing
from peacewatch.duty.models import OPEN_NOTICE, Channel, Notice, NoticeStatus, Webhook
from peacewatch.tracking.geochat import ChatLine

CLAIM_S = 60.0
BATCH = 200
ACK_LINK_HOURS = 24
ACK_PURPOSE = "acknowledge-alert"
# a GeoChat reply that acknowledges: "ACK", "ack 12", "Roger #12", "Принял 12", "ok"
_ACK_REPLY = re.compile(r"^\s*(ack(nowledged?)?|ok|roger|copy|wilco|принял|принято|понял|ок)\b[\s#:.,-]*(?P<alert>\d+)?",
                        re.IGNORECASE)


def reply_acknowledges(text: str) -> tuple[bool, int | None]:
    """Whether a chat reply acknowledges, and the alert it names (None: the latest the person was told of)."""
    match = _ACK_REPLY.match(text)
    if match is None:
        return False, None
    return True, int(match["alert"]) if match["alert"] else None


# --- claiming --------------------------------------------------------------------------------------------------------

def _claim(session: Session, notice_id: int, now: datetime) -> bool:
    claimed = session.execute(update(Notice).where(Notice.id == notice_id, Notice.status == NoticeStatus.pending)
                              .values(status=NoticeStatus.sending, claimed_until=now + timedelta(seconds=CLAIM_S),
                                      attempts=Notice.attempts + 1))
    return claimed.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE's Result is a CursorResult


def tidy(session: Session, settings: Settings, now: datetime) -> None:
    """Release claims whose process died, cancel notices of alerts no longer waiting, fail TAK notices nobody's
    client came to take and e-mails with no server to take them. One transaction, and none at all while no notice
    waits (the round runs every second: on SQLite an idle round takes no write lock from the writers)."""
    if session.scalar(select(Notice.id).where(Notice.status.in_(OPEN_NOTICE)).limit(1)) is None:
        session.rollback()
        return
    session.execute(update(Notice).where(Notice.status == NoticeStatus.sending, Notice.claimed_until < now)
                    .values(status=NoticeStatus.pending, claimed_until=None))
    answered = select(Alert.id).where(Alert.status != AlertStatus.open).scalar_subquery()
    session.execute(update(Notice).where(Notice.status == NoticeStatus.pending, Notice.alert_id.in_(answered))
                    .values(status=NoticeStatus.cancelled), execution_options={"synchronize_session": False})
    session.execute(update(Notice).where(Notice.status == NoticeStatus.pending, Notice.channel == Channel.tak,
                                         Notice.created_at < now - timedelta(seconds=settings.tak_notice_wait_s))
                    .values(status=NoticeStatus.failed, last_error="no TAK client of this person connected in time"))
    if not settings.smtp_host:  # said on the alert's page, not left waiting for ever
        session.execute(update(Notice).where(Notice.status == NoticeStatus.pending, Notice.channel == Channel.email)
                        .values(status=NoticeStatus.failed, last_error="no SMTP server configured (PEACEWATCH_SMTP_HOST)"))
    session.commit()


def _outgoing(session: Session, notices: Iterable[Notice]) -> list[Outgoing]:
    notices = list(notices)
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_({n.alert_id for n in notices})))}
    languages = {username: language for username, language in
                 session.execute(select(User.username, User.language).where(User.username.in_({n.recipient for n in notices})))}
    out = []
    for notice in notices:
        alert = alerts[notice.alert_id]
        out.append(Outgoing(notice.id, alert.id, notice.recipient, notice.channel.value, notice.address, notice.attempts,
                            languages.get(notice.recipient) or "en", alert.kind.value, alert.priority, alert.message, alert.raised_at,
                            alert.lat, alert.lon, dict(alert.details or {})))
    return out


def claim_due(session: Session, kinds: Iterable[Channel], now: datetime, *, recipient: str | None = None,
              limit: int = BATCH) -> list[Outgoing]:
    """Claim the due pending notices of these channels (of one person, for TAK), whose alerts still wait for
    someone, oldest first."""
    query = (select(Notice.id).join(Alert, Alert.id == Notice.alert_id)
             .where(Notice.status == NoticeStatus.pending, Notice.channel.in_(list(kinds)), Notice.next_attempt_at <= now,
                    Alert.status == AlertStatus.open).order_by(Notice.id).limit(limit))
    if recipient is not None:
        query = query.where(Notice.recipient == recipient)
    claimed = [notice_id for notice_id in session.scalars(query).all() if _claim(session, notice_id, now)]
    session.commit()
    if not claimed:
        return []
    found = list(session.scalars(select(Notice).where(Notice.id.in_(claimed)).order_by(Notice.id)))
    out = _outgoing(session, found)
    session.commit()
    return out


def mark_sent(session: Session, notice_id: int, message_uid: str, now: datetime | None = None) -> None:
    """The notice was handed over; its alert is "notified" from the first notice handed over."""
    now = now or utcnow()
    # a TAK client's receipt may have come back before this is written: the notice says so, not "sent"
    reached = case((Notice.read_at.is_not(None), NoticeStatus.read.value), (Notice.delivered_at.is_not(None), NoticeStatus.delivered.value),
                   else_=NoticeStatus.sent.value)
    done = session.execute(update(Notice).where(Notice.id == notice_id, Notice.status == NoticeStatus.sending)
                           .values(status=reached, sent_at=now, claimed_until=None, message_uid=message_uid[:200],
                                   last_error="").returning(Notice.alert_id)).scalar()
    if done is not None:
        session.execute(update(Alert).where(Alert.id == done, Alert.notified_at.is_(None)).values(notified_at=now))
    session.commit()


def mark_failed(session: Session, notice_id: int, error: str, max_attempts: int, now: datetime | None = None) -> None:
    """The attempt failed: again later, or failed for good after ``max_attempts``; the reason kept on the notice."""
    now = now or utcnow()
    notice = session.get(Notice, notice_id)
    if notice is None or notice.status is not NoticeStatus.sending:
        session.rollback()
        return
    final = notice.attempts >= max_attempts
    session.execute(update(Notice).where(Notice.id == notice_id, Notice.status == NoticeStatus.sending).values(
        status=NoticeStatus.failed if final else NoticeStatus.pending, claimed_until=None, last_error=error[:2000],
        next_attempt_at=now + timedelta(seconds=retry_delay_s(notice.attempts))))
    session.commit()


# --- the leader's round: e-mail and webhooks ----------------------------------------------------------------------

def acknowledge_token(settings: Settings, notice_id: int, recipient: str, now: datetime | None = None) -> str:
    """The credential in an e-mail's acknowledgement link: this notice, this person, for a day."""
    now = now or utcnow()
    return jwt.encode({"sub": recipient, "notice": notice_id, "purpose": ACK_PURPOSE, "iat": now,
                       "exp": now + timedelta(hours=ACK_LINK_HOURS)}, settings.resolved_secret_key, algorithm=JWT_ALGORITHM)


def deliver_due(session: Session, settings: Settings, now: datetime | None = None, *,
                send_email: Callable[[Settings, Any], str] = channels.send_email,
                post_webhook: Callable[[Outgoing, str], str] = channels.post_webhook) -> dict[str, int]:
    """One round of the leader's delivery: tidy, then claim and send the due e-mails and webhooks."""
    now = now or utcnow()
    tidy(session, settings, now)
    wanted = [Channel.webhook] + ([Channel.email] if settings.smtp_host else [])
    counts = {"sent": 0, "failed": 0}
    secrets_of = {hook.name: hook.secret for hook in session.scalars(select(Webhook))}
    session.commit()
    for out in claim_due(session, wanted, now):
        try:
            if out.channel == Channel.email.value:
                link = f"{settings.public_url.rstrip('/')}/alerts/acknowledge/{acknowledge_token(settings, out.notice_id, out.recipient)}"
                message = channels.alert_email(settings, out, link, f"{settings.public_url.rstrip('/')}/alerts/{out.alert_id}")
                uid = send_email(settings, message)
            else:
                uid = post_webhook(out, secrets_of.get(out.recipient, ""))
        except Exception as exc:  # a refusal, a timeout, a server away: tried again later, and said on the notice
            mark_failed(session, out.notice_id, f"{type(exc).__name__}: {exc}", settings.notice_attempts)
            counts["failed"] += 1
            continue
        mark_sent(session, out.notice_id, uid)
        counts["sent"] += 1
    return counts


# --- what comes back: receipts, replies, links ------------------------------------------------------------------------

def acknowledge_as(session: Session, username: str, alert_id: int, how: str) -> Alert | None:
    """Acknowledge for a person told of the alert; None if it was already acknowledged or closed (by anyone)."""
    try:
        return acknowledge(session, username, alert_id, f"acknowledged {how}")
    except (Conflict, NotFound):
        session.rollback()
        return None


def take_chat(session: Session, lines: Iterable[tuple[ChatLine, str]], now: datetime | None = None) -> int:
    """Receipts and replies from signed-in TAK users: a delivered or read receipt of one of our messages is noted on
    its notice, and a read receipt or an "ACK" reply acknowledges the alert for its reader. Returns how many alerts
    were acknowledged."""
    now = now or utcnow()
    acknowledged = 0
    for line, username in lines:
        if line.receipt:
            notice = session.scalar(select(Notice).where(Notice.message_uid.in_(line.names()), Notice.recipient == username,
                                                         Notice.channel == Channel.tak))
            if notice is None:
                continue
            if notice.delivered_at is None:
                notice.delivered_at = now
            if line.receipt == "read" and notice.read_at is None:
                notice.read_at = now
            if notice.status in (NoticeStatus.sent, NoticeStatus.delivered):
                notice.status = NoticeStatus.read if line.receipt == "read" else NoticeStatus.delivered
            alert_id = notice.alert_id
            session.commit()
            if line.receipt == "read" and acknowledge_as(session, username, alert_id, "by reading it on TAK"):
                acknowledged += 1
            continue
        yes, named = reply_acknowledges(line.text)
        if not yes:
            continue
        told = select(Notice.alert_id).where(Notice.recipient == username, Notice.status.in_(
            (NoticeStatus.sent, NoticeStatus.delivered, NoticeStatus.read)))
        if named is not None:
            told = told.where(Notice.alert_id == named)
        alert_id = session.scalar(told.order_by(Notice.id.desc()).limit(1))
        session.rollback()
        if alert_id is not None and acknowledge_as(session, username, alert_id, "by a GeoChat reply"):
            acknowledged += 1
    return acknowledged


def notice_of_link(session: Session, settings: Settings, token: str) -> tuple[Notice, Alert, User]:
    """The notice, alert and person an acknowledgement link stands for; 404 for a link that is not one (or expired,
    or its person disabled): it says nothing of any alert."""
    try:
        claims = jwt.decode(token, settings.resolved_secret_key, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        raise NotFound("this acknowledgement link is not valid, or has expired") from None
    notice = session.get(Notice, int(claims.get("notice", 0))) if claims.get("purpose") == ACK_PURPOSE else None
    user = session.scalar(select(User).where(User.username == claims["sub"], User.active.is_(True)))
    if notice is None or user is None or notice.recipient != user.username:
        raise NotFound("this acknowledgement link is not valid, or has expired")
    alert = session.get(Alert, notice.alert_id)
    if alert is None:
        raise NotFound("this acknowledgement link is not valid, or has expired")
    return notice, alert, user


def acknowledge_by_link(session: Session, settings: Settings, token: str) -> tuple[Alert, bool]:
    """Acknowledge from an e-mail's link (the page's button, never the GET a mail scanner may fetch): the alert, and
    whether this acknowledged it (False: someone had already)."""
    _notice, alert, user = notice_of_link(session, settings, token)
    done = acknowledge_as(session, user.username, alert.id, "from an e-mail link")
    if done is not None:
        return done, True
    session.refresh(alert)
    return alert, False

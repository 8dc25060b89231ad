"""Who is on duty when, who is told of an alert in what order, and each notice sent: the duty roster, the
escalation policies, the steps taken for each alert and the delivery outbox.

The database holds the chain to exactly once: a step of an alert's chain is a row unique by (alert, step,
round), inserted with its notices in one transaction by the one process leading the cluster; a notice is
unique by (step, person, channel) and is claimed by a conditional update before it is sent, so a retry, a
second process or a new leader after a crash never sends it twice from here.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned
from peacewatch.core.db import Base, IdMixin, UTCDateTime, utcnow


class Duty(str, enum.Enum):
    """The posts of the headquarters' watch, as a Joint Operations Centre names them."""

    duty_officer = "duty_officer"
    deputy_duty_officer = "deputy_duty_officer"
    chief_of_operations = "chief_of_operations"
    medical_officer = "medical_officer"
    watchkeeper = "watchkeeper"
    post_commander = "post_commander"  # the commander on duty at an observation post (the shift names the post)


class Channel(str, enum.Enum):
    tak = "tak"  # a GeoChat message and an alert marker to the person's TAK clients, through the CoT feed
    email = "email"
    webhook = "webhook"  # a signed POST to a system of the mission (Standard Webhooks)


class NoticeStatus(str, enum.Enum):
    pending = "pending"  # waiting for its (next) attempt
    sending = "sending"  # claimed by one process, being sent
    sent = "sent"  # handed over: to a TAK client's connection, to the SMTP server, the webhook answered 2xx
    delivered = "delivered"  # the TAK client said it received it (GeoChat's delivered receipt)
    read = "read"  # the TAK client said it was read
    failed = "failed"  # every attempt failed: visible on the alert
    cancelled = "cancelled"  # the alert was acknowledged or closed before it went


OPEN_NOTICE = (NoticeStatus.pending, NoticeStatus.sending)


def tak_message_id(notice_id: int) -> str:
    """The GeoChat messageId of a notice: ATAK's receipts name it."""
    return f"pw-notice-{notice_id}"


class DutyShift(IdMixin, Audited, Versioned, Base):
    """One person on one duty, from one moment to another (stored in UTC, entered and shown in mission time)."""

    __tablename__ = "duty_shifts"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="shift_ends_after_it_starts"),
        CheckConstraint("(duty = 'post_commander') = (post_id IS NOT NULL)", name="post_commander_has_post"),
        Index("ix_duty_shifts_when", "starts_at", "ends_at"),
    )

    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"), index=True)
    duty: Mapped[Duty] = mapped_column(SAEnum(Duty, native_enum=False, length=32, validate_strings=True))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")


class EscalationPolicy(IdMixin, Audited, Versioned, Base):
    """Who is told of which alerts, in what order: its steps (after how long, which duties, by which channels), and
    how often the last step is repeated until someone acknowledges. The first active policy (by rank) that matches
    an alert's kind and priority is its chain."""

    __tablename__ = "escalation_policies"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    rank: Mapped[int] = mapped_column(Integer, default=100, comment="The lower, the sooner it is tried against an alert")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list, comment="Alert kinds it covers; none: every kind")
    max_priority: Mapped[int] = mapped_column(Integer, default=3, comment="Alerts of this priority or more urgent (1 is the most)")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    repeat_every_s: Mapped[int | None] = mapped_column(Integer, nullable=True, comment="The last step again, this often, until acknowledged")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AlertStep(IdMixin, Base):
    """One step of an alert's chain, taken once: the row is the proof it was taken."""

    __tablename__ = "alert_steps"
    __table_args__ = (UniqueConstraint("alert_id", "step", "round", name="uq_alert_steps_once"),)

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("escalation_policies.id", ondelete="SET NULL"), nullable=True)
    step: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer, default=0, comment="0 the first time; 1, 2... each repeat of the last step")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    told: Mapped[list[str]] = mapped_column(JSON, default=list, comment="Who this step told (usernames), as the roster said then")


class Notice(IdMixin, Base):
    """One message to one person (or system) by one channel: the delivery outbox's row, and its history."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("step_id", "recipient", "channel", name="uq_notices_once"),
        Index("ix_notices_due", "status", "channel", "next_attempt_at"),
    )

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("alert_steps.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(120), comment="A username, or a webhook's name")
    channel: Mapped[Channel] = mapped_column(SAEnum(Channel, native_enum=False, length=16, validate_strings=True))
    address: Mapped[str] = mapped_column(String(500), default="", comment="The e-mail address or webhook URL it went to")
    status: Mapped[NoticeStatus] = mapped_column(SAEnum(NoticeStatus, native_enum=False, length=16, validate_strings=True),
                                                 default=NoticeStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_uid: Mapped[str] = mapped_column(String(200), default="", index=True,
                                             comment="The message's own id: GeoChat's messageId (its receipts name it), the e-mail's Message-ID")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Webhook(IdMixin, Audited, Versioned, Base):
    """A system of the mission told of alerts by a signed POST (Standard Webhooks: ``webhook-id``, ``-timestamp``,
    ``-signature``); its secret is shown once when it is made."""

    __tablename__ = "webhooks"
    __audit_exclude__ = frozenset({"secret"})

    name: Mapped[str] = mapped_column(String(120), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list, comment="Alert kinds it is sent; none: every kind")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

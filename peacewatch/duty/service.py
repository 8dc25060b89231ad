"""The duty roster, the escalation policies and the escalation itself: each due step of an alert's chain taken
once, with its notices, by the process leading the cluster.

A step is taken in one transaction that locks the alert's row (PostgreSQL), checks it is still waiting for
someone (open, not acknowledged), inserts the step's row (unique by alert, step and round) and its notices.
An acknowledgement updates the same row, so of an acknowledgement and a step at the same instant one waits
for the other: a step taken after it sees the alert acknowledged and tells nobody. A leader that dies
mid-step leaves no half step (the transaction is rolled back); the next leader takes it, and the unique row
means a step never taken twice, whichever leader ran when.
"""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peacewatch.alerts.models import Alert, AlertStatus
from peacewatch.core.auth import Role, User
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.duty.chain import Policy, Shift, Step, due_steps, policy_for, told_by
from peacewatch.duty.models import AlertStep, Channel, DutyShift, EscalationPolicy, Notice, Webhook, tak_message_id
from peacewatch.duty.schemas import PolicyIn, ShiftIn, WebhookIn
from peacewatch.geography.models import Post

ESCALATOR = "system:escalation"
LOOK_BACK = timedelta(days=7)  # alerts older than this, still open, are no longer escalated (they are a backlog, not news)
NEAR_POST_M = 30_000.0  # a post's commander is the nearest post's, if it is this close


# --- the roster -----------------------------------------------------------------------------------------------

def add_shift(session: Session, actor: str, data: ShiftIn) -> DutyShift:
    """Put someone on duty: an active user of the mission (never a side's liaison), on a post that exists."""
    with transaction(session, actor):
        user = session.scalar(select(User).where(User.username == data.username))
        if user is None or not user.active:
            raise Invalid("no active user '{username}'", field="body.username", username=data.username)
        if user.role is Role.liaison:
            raise Invalid("a side's liaison officer is not on the mission's duty roster", field="body.username")
        if data.post_id is not None and session.get(Post, data.post_id) is None:
            raise Invalid("no post {post_id}", field="body.post_id", post_id=data.post_id)
        shift = DutyShift(username=data.username, duty=data.duty, post_id=data.post_id, starts_at=data.starts_at,
                          ends_at=data.ends_at, note=data.note)
        session.add(shift)
    return shift


def list_shifts(session: Session, *, since: datetime | None = None, until: datetime | None = None, username: str | None = None,
                limit: int = 100, offset: int = 0) -> Paged[DutyShift]:
    """Shifts that overlap [since, until), earliest first."""
    query = select(DutyShift).order_by(DutyShift.starts_at, DutyShift.id)
    if since is not None:
        query = query.where(DutyShift.ends_at > since)
    if until is not None:
        query = query.where(DutyShift.starts_at < until)
    if username is not None:
        query = query.where(DutyShift.username == username)
    return paged(session, query, limit=limit, offset=offset)


def remove_shift(session: Session, actor: str, shift_id: int) -> None:
    with transaction(session, actor):
        shift = session.get(DutyShift, shift_id)
        if shift is None:
            raise NotFound("shift {shift_id} not found", shift_id=shift_id)
        session.delete(shift)


def shifts_at(session: Session, at: datetime) -> list[Shift]:
    """Who is on duty at ``at``, as the pure chain functions read it (active users only)."""
    rows = session.execute(select(DutyShift.username, DutyShift.duty, DutyShift.starts_at, DutyShift.ends_at, DutyShift.post_id)
                           .join(User, User.username == DutyShift.username)
                           .where(DutyShift.starts_at <= at, DutyShift.ends_at > at, User.active.is_(True)))
    return [Shift(r.username, r.duty.value, r.starts_at, r.ends_at, r.post_id) for r in rows]


# --- policies and webhooks ---------------------------------------------------------------------------------------

def _policy_values(data: PolicyIn) -> dict[str, object]:
    return {"name": data.name, "rank": data.rank, "kinds": [kind.value for kind in data.kinds], "max_priority": data.max_priority,
            "steps": [step.model_dump(mode="json") for step in data.steps], "repeat_every_s": data.repeat_every_s,
            "active": data.active}


def create_policy(session: Session, actor: str, data: PolicyIn) -> EscalationPolicy:
    with transaction(session, actor):
        if session.scalar(select(EscalationPolicy.id).where(EscalationPolicy.name == data.name)) is not None:
            raise Conflict("a policy named '{name}' exists", field="body.name", name=data.name)
        policy = EscalationPolicy(**_policy_values(data))
        session.add(policy)
    return policy


def replace_policy(session: Session, actor: str, policy_id: int, data: PolicyIn) -> EscalationPolicy:
    """A policy changed applies to the steps still to come of alerts already raised, and to every new one."""
    with transaction(session, actor):
        policy = get_policy(session, policy_id)
        for name, value in _policy_values(data).items():
            setattr(policy, name, value)
    return policy


def get_policy(session: Session, policy_id: int) -> EscalationPolicy:
    policy = session.get(EscalationPolicy, policy_id)
    if policy is None:
        raise NotFound("escalation policy {policy_id} not found", policy_id=policy_id)
    return policy


def list_policies(session: Session) -> list[EscalationPolicy]:
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.rank, EscalationPolicy.id)))


def as_policy(row: EscalationPolicy) -> Policy:
    steps = tuple(Step(int(s["after_s"]), tuple(s.get("duties", ())), bool(s.get("everyone_on_duty")),
                       tuple(s.get("channels", ("tak", "email")))) for s in row.steps)
    return Policy(row.id, row.rank, frozenset(row.kinds or ()), row.max_priority, steps, row.repeat_every_s)


def create_webhook(session: Session, actor: str, data: WebhookIn) -> tuple[Webhook, str]:
    """A webhook and its secret (Standard Webhooks' ``whsec_`` and 24 random bytes in base64), shown once."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with transaction(session, actor):
        if session.scalar(select(Webhook.id).where(Webhook.name == data.name)) is not None:
            raise Conflict("a webhook named '{name}' exists", field="body.name", name=data.name)
        hook = Webhook(name=data.name, url=data.url, secret=secret, kinds=[kind.value for kind in data.kinds])
        session.add(hook)
    return hook, secret


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def set_webhook_active(session: Session, actor: str, webhook_id: int, active: bool) -> Webhook:
    with transaction(session, actor):
        hook = session.get(Webhook, webhook_id)
        if hook is None:
            raise NotFound("webhook {webhook_id} not found", webhook_id=webhook_id)
        hook.active = active
    return hook


# --- escalation ---------------------------------------------------------------------------------------------------

def _nearest_post(session: Session, alert: Alert, on: date) -> int | None:
    """The open post nearest the alert's place, within NEAR_POST_M: whose commander a step for post commanders tells."""
    if alert.lat is None or alert.lon is None:
        return None
    best: tuple[float, int] | None = None
    for post in session.scalars(select(Post).where(Post.opened_on <= on, (Post.closed_on.is_(None)) | (Post.closed_on > on))):
        point = post.geometry
        metres = _metres(alert.lat, alert.lon, point.y, point.x)
        if metres <= NEAR_POST_M and (best is None or metres < best[0]):
            best = (metres, post.id)
    return best[1] if best else None


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; plenty for "which post is nearest" at a mission's scale."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(a))


def escalate(session: Session, now: datetime | None = None) -> int:
    """Take every step due now of every alert still waiting for someone: the steps' rows and their notices. Returns
    how many steps were taken. Run by the cluster's leader every ``notify_seconds``."""
    now = now or utcnow()
    policies = [as_policy(row) for row in session.scalars(select(EscalationPolicy).where(EscalationPolicy.active.is_(True)))]
    if not policies:
        return 0
    waiting = list(session.execute(select(Alert.id, Alert.kind, Alert.priority, Alert.raised_at)
                                   .where(Alert.status == AlertStatus.open, Alert.raised_at >= now - LOOK_BACK,
                                          Alert.started_at >= now - LOOK_BACK)))  # a replay of 2020 is history, not news
    if not waiting:
        return 0
    taken: dict[int, set[tuple[int, int]]] = {}
    for start in range(0, len(waiting), 500):
        ids = [row.id for row in waiting[start:start + 500]]
        for alert_id, step, round_ in session.execute(select(AlertStep.alert_id, AlertStep.step, AlertStep.round)
                                                      .where(AlertStep.alert_id.in_(ids))):
            taken.setdefault(alert_id, set()).add((step, round_))
    session.rollback()  # nothing held while the steps are taken, one transaction each
    hooks = [(hook.name, hook.url, frozenset(hook.kinds or ())) for hook in
             session.scalars(select(Webhook).where(Webhook.active.is_(True)))]
    session.rollback()
    shifts: list[Shift] | None = None
    count = 0
    for row in waiting:
        policy = policy_for(policies, row.kind.value, row.priority)
        if policy is None:
            continue
        for step_index, round_, after_s in due_steps(policy, (now - row.raised_at).total_seconds(), taken.get(row.id, set())):
            if shifts is None:
                shifts = shifts_at(session, now)
            if _take_step(session, row.id, policy, step_index, round_, row.raised_at + timedelta(seconds=after_s), now, shifts, hooks):
                count += 1
    return count


def _take_step(session: Session, alert_id: int, policy: Policy, step_index: int, round_: int, due_at: datetime, now: datetime,
               shifts: Sequence[Shift], hooks: Sequence[tuple[str, str, frozenset[str]]]) -> bool:
    step = policy.steps[step_index]
    with transaction(session, ESCALATOR):
        query = select(Alert).where(Alert.id == alert_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()  # an acknowledgement of this alert waits for this step, or this step for it
        alert = session.scalar(query)
        if alert is None or alert.status is not AlertStatus.open:
            return False
        told = told_by(step, shifts, _nearest_post(session, alert, now.date()) if "post_commander" in step.duties else None)
        record = AlertStep(alert_id=alert_id, policy_id=policy.id, step=step_index, round=round_, due_at=due_at, taken_at=now,
                           told=told)
        try:
            with session.begin_nested():
                session.add(record)
        except IntegrityError:
            return False  # another leader took it a moment ago
        emails = {username: email for username, email in session.execute(
            select(User.username, User.email).where(User.username.in_(told), User.email.is_not(None)))} if told else {}
        for username in told:
            for channel in step.channels:
                if channel == Channel.email.value and username not in emails:
                    continue  # no address: the roster's other channels reach them
                if channel == Channel.webhook.value:
                    continue  # webhooks are systems, told once per alert below
                notice = Notice(alert_id=alert_id, step_id=record.id, recipient=username, channel=Channel(channel),
                                address=emails.get(username, "") if channel == Channel.email.value else username,
                                next_attempt_at=now, created_at=now)
                session.add(notice)
                if notice.channel is Channel.tak:  # named before it is sent: a receipt may come back before "sent" is written
                    session.flush()
                    notice.message_uid = tak_message_id(notice.id)
        if step_index == 0 and round_ == 0:
            for name, url, kinds in hooks:
                if not kinds or alert.kind.value in kinds:
                    session.add(Notice(alert_id=alert_id, step_id=record.id, recipient=name, channel=Channel.webhook, address=url,
                                       next_attempt_at=now, created_at=now))
    return True

"""Taking in a field device's outbox carried to the headquarters as a file.

The operations centre takes the file in; each item is opened with its maker's key (peacewatch/access/outbox_keys)
and stored as its maker's, through the same service functions and role rules as the API the device would have
called, in the device's order: an item that follows one not stored is held, as on the device. Each item is its
own transaction, so one refused item does not undo the others, and a file taken in twice, or sent later by the
phone itself, stores nothing twice (the client ids, the step's moment, a file's SHA-256, a fix's tracker and
time). The answer says per item what was stored and what was not, and why, in the reader's language; the audit
log says who carried which file.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.access import outbox_keys
from peacewatch.core import audit
from peacewatch.core.auth import (
    EVIDENCE_ADDER_ROLES,
    HUMANITARIAN_ROLES,
    INCIDENT_REPORTER_ROLES,
    OPERATIONS_OR_PATROL_ROLES,
    PERSONAL_DATA_ROLES,
    Role,
    User,
)
from peacewatch.core.blobs import BlobStore
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.i18n import N_
from peacewatch.core.plain_words import plain_message
from peacewatch.core.problems import STORED_NOT_SHARED, Problem
from peacewatch.core.settings import Settings
from peacewatch.courier.outbox_file import CarriedItem, Reading, blocker_of, read_lines, unb64
from peacewatch.evidence import media
from peacewatch.evidence import service as evidence
from peacewatch.evidence.models import RecordKind
from peacewatch.incidents import report_records
from peacewatch.incidents.models import Channel
from peacewatch.incidents.schemas import IncidentIn
from peacewatch.live.ingest import Ingest
from peacewatch.patrols import service as patrols
from peacewatch.patrols.models import CheckIn
from peacewatch.patrols.schemas import CheckInIn, Transition
from peacewatch.remains import recovering, registry
from peacewatch.remains.models import Recovery
from peacewatch.remains.schemas import RecoveryIn
from peacewatch.tracking import columns
from peacewatch.tracking.sources import Sender

Translate = Callable[[str], str]
WHO_MAY = {"incident": INCIDENT_REPORTER_ROLES, "recovery": HUMANITARIAN_ROLES, "checkin": OPERATIONS_OR_PATROL_ROLES,
           "step": OPERATIONS_OR_PATROL_ROLES, "positions": OPERATIONS_OR_PATROL_ROLES, "file": EVIDENCE_ADDER_ROLES}
PERSONAL_KINDS = frozenset({"recovery"})  # what a recovery's refusal says may name the remains: not for every carrier


@dataclass(frozen=True)
class Outcome:
    """What became of one item: stored, already_stored (by the device or an earlier import), refused, or held."""

    line: int
    item: int
    kind: str
    user: str
    outcome: str
    record: str | None = None
    reason: str | None = None


@dataclass
class TakenIn:
    """The whole file's account."""

    file_sha256: str
    whole: bool
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


@dataclass(frozen=True)
class Desk:
    """What storing an item needs besides the database: the settings, the positions' ingest, the file store."""

    settings: Settings
    ingest: Ingest
    blobs: BlobStore
    work: media.MediaWork


class NotTaken(Exception):
    """An item is not stored; ``reason`` says why in the reader's language."""

    def __init__(self, reason: str, outcome: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


def _reason(failure: Problem | ValidationError, said: Translate) -> str:
    if isinstance(failure, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {plain_message(e, said)}" for e in failure.errors())
    detail = failure.said_in(said)
    fields = [f"{e.field.removeprefix('body.')}: {e.said_in(said)}" for e in failure.errors if e.said_in(said) != detail]
    return "; ".join([detail, *fields])


def _opened(session: Session, secret: str, item: CarriedItem, said: Translate) -> User:
    """The item's maker, with what the item says opened with the maker's key."""
    maker = session.scalar(select(User).where(User.username == item.user))
    if maker is None or not maker.active:
        raise NotTaken(said(N_("its maker %(user)s has no active account here: nothing of theirs is taken in")) % {"user": item.user})
    if item.kind not in WHO_MAY or maker.role not in WHO_MAY[item.kind] | {Role.admin}:
        raise NotTaken(said(N_("its maker's role may not make this record")))
    box = item.kept.get("sealed")
    if box is None:  # kept before the device had its user's key: in clear
        item.said = {k: v for k, v in item.kept.items() if k in ("body", "fixes", "filename", "caption", "record_key", "file_b64")}
        return maker
    try:
        key = outbox_keys.outbox_key(secret, maker.id)
        item.said = orjson.loads(outbox_keys.open_sealed(key, box["epk"], unb64(box["iv"]), unb64(box["data"])))
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError):
        raise NotTaken(said(N_("it does not open with its maker's key: changed on the way, or not made for this server"))) from None
    return maker


def _instant(value: Any) -> datetime | None:
    """A time the device kept (ISO 8601), or None when it kept none or none readable."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _file_bytes(session: Session, secret: str, maker: User, item: CarriedItem, said: Translate) -> bytes:
    box = item.kept.get("sealed_file")
    try:
        if box is None:
            return unb64(item.said.get("file_b64") or item.kept.get("file_b64"))
        return outbox_keys.open_sealed(outbox_keys.outbox_key(secret, maker.id), box["epk"], unb64(box["iv"]), unb64(box["data"]))
    except (KeyError, TypeError, ValueError):
        raise NotTaken(said(N_("its file does not open with its maker's key: changed on the way"))) from None


def _store(session: Session, desk: Desk, maker: User, item: CarriedItem, stored: dict[int, str], said: Translate) -> Outcome:
    """Store one opened item as its maker's; the outcome (stored or already stored) and the record's id."""
    settings = desk.settings

    def done(record: Any, created: bool) -> Outcome:
        return Outcome(item.line, item.device_id, item.kind, item.user, "stored" if created else "already_stored", str(record))

    body = item.said.get("body") or {}
    if item.kind == "incident":
        incident, created = report_records.create_incident(session, report_records.Rules.of(settings), maker, IncidentIn.model_validate(body),
                                                           door=Channel.courier_file)
        return done(incident.id, created)
    if item.kind == "recovery":
        data = RecoveryIn.model_validate(body)
        before = data.client_id and session.scalar(select(Recovery.id).where(Recovery.recorded_by == maker.username,
                                                                              Recovery.client_id == data.client_id))
        recovery = recovering.record_recovery(session, registry.Context.of(settings), maker, data)
        return done(recovery.id, not before)
    if item.kind == "checkin":
        check_in = CheckInIn.model_validate(body)
        before = check_in.client_id and session.scalar(select(CheckIn.id).where(CheckIn.by == maker.username,
                                                                                  CheckIn.client_id == check_in.client_id))
        entry = patrols.check_in(session, maker.username, int(item.kept["patrol_id"]), check_in, settings.clock_skew)
        return done(entry.id, not before)
    if item.kind == "step":
        step = Transition.model_validate(body)
        patrol_id, action = int(item.kept["patrol_id"]), str(item.kept.get("action"))
        if action not in patrols.RESULT_OF:
            raise NotTaken(said(N_("not a step of a patrol")))
        was = patrols.get_patrol(session, patrol_id, None).status
        patrol = patrols.transition(session, maker.username, patrol_id, action, step, settings.clock_skew)
        return done(patrol.id, was is not patrols.RESULT_OF[action])
    if item.kind == "positions":
        batch = columns.from_rows(item.said.get("fixes") or [], where="fixes", now_ms=int(utcnow().timestamp() * 1000))
        report = desk.ingest.record(session, maker.username, "courier", batch,
                                    sender=Sender(username=maker.username, role=maker.role, address="courier"))
        return Outcome(item.line, item.device_id, item.kind, item.user, "stored" if report.stored else "already_stored",
                       f"{report.stored}/{report.received}")
    # a file: its report's number from this import, or from the device when the report had reached the server
    key = item.value("record_key") or stored.get(item.kept.get("after", 0)) or item.kept.get("after_record_key")
    if not key:
        raise NotTaken(said(N_("its record is not on the server")), "held")
    content = _file_bytes(session, settings.resolved_secret_key, maker, item, said)
    arriving = evidence.Arriving(stream=io.BytesIO(content), filename=str(item.value("filename") or ""),
                                 sha256=item.kept.get("sha256"), caption=str(item.value("caption") or ""),
                                 captured_at=_instant(item.kept.get("captured_at")), kept_at=_instant(item.kept.get("kept_at")),
                                 copy_of=item.kept.get("copy_of"), client_id=item.kept.get("client_id"))
    attachment, created = evidence.attach(session, desk.blobs, desk.work, registry.Context.of(settings), maker,
                                          RecordKind(str(item.kept.get("record_kind", "incident"))), str(key), arriving)
    return done(attachment.id, created)


def take_in(session: Session, desk: Desk, carrier: User, lines: Iterable[bytes], said: Translate) -> TakenIn:
    """Every item of an outbox file stored as its maker's, in the device's order; raises NotAnOutbox when the file
    is not one."""
    digest = hashlib.sha256()

    def hashed() -> Iterable[bytes]:
        for line in lines:
            digest.update(line)
            yield line

    reading = Reading()
    outcomes: list[Outcome] = []
    unsent: list[CarriedItem] = []
    stored: dict[int, str] = {}  # a device's item id -> the record it became
    for item in read_lines(hashed(), reading):
        if item.broken:
            outcomes.append(Outcome(item.line, item.device_id, item.kind, item.user, "refused", reason=said(item.broken)))
            continue
        try:
            maker = _opened(session, desk.settings.resolved_secret_key, item, said)
            blocker = blocker_of(item, unsent)
            if blocker is not None:
                raise NotTaken(said(N_("it follows item %(item)s, not stored")) % {"item": blocker.device_id}, "held")
            outcome = _store(session, desk, maker, item, stored, said)
        except NotTaken as failure:
            outcome = Outcome(item.line, item.device_id, item.kind, item.user, failure.outcome, reason=failure.reason)
        except (Problem, ValidationError) as failure:
            session.rollback()
            if isinstance(failure, Problem) and failure.kind == STORED_NOT_SHARED:
                outcome = Outcome(item.line, item.device_id, item.kind, item.user, "already_stored")
            else:
                private = item.kind in PERSONAL_KINDS and carrier.role not in PERSONAL_DATA_ROLES
                outcome = Outcome(item.line, item.device_id, item.kind, item.user, "refused",
                                  reason=said(N_("refused: its reason is for the humanitarian cell")) if private else _reason(failure, said))
        except (KeyError, TypeError, ValueError):  # after pydantic's (a ValueError too): a number or time of the wrong kind
            session.rollback()
            outcome = Outcome(item.line, item.device_id, item.kind, item.user, "refused",
                              reason=said(N_("not an outbox item (its id, kind and user)")))
        if outcome.outcome in ("stored", "already_stored"):
            if outcome.record is not None:
                stored[item.device_id] = outcome.record
        else:
            unsent.append(item)
        outcomes.append(outcome)
    result = TakenIn(digest.hexdigest(), reading.whole, outcomes)
    with transaction(session, carrier.username):
        audit.record(session, carrier.username, "field_outbox", result.file_sha256[:64], {
            "carried_by": carrier.username, "makers": sorted({o.user for o in outcomes if o.user}),
            "device_exported_at": reading.header.get("exported_at"), "whole": result.whole,
            **{name: result.count(name) for name in ("stored", "already_stored", "refused", "held")}})
    return result

"""The casualty figures per side and day, from the records: bodies recovered, identified, handed over."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.problems import Invalid
from peacewatch.remains.figures import BodyStep, Fact, SpanTooLong, attribution_facts, casualty_series
from peacewatch.remains.models import (
    Body,
    BodyKind,
    Handover,
    HandoverBody,
    Identification,
    MissingPerson,
    Recovery,
)
from peacewatch.remains.registry import Context


def casualty_figures(session: Session, ctx: Context, since: date | None, until: date | None) -> dict[str, Any]:
    """Per side and day: missing reported, recovered, identified, handed over, deaths confirmed; never counting a part."""
    if since is not None and until is not None and until < since:
        raise Invalid("until is before since", field="query.until")
    try:
        return casualty_series(casualty_facts(session, ctx), since, until)
    except SpanTooLong as exc:
        raise Invalid(str(exc), field="query.since") from None


def casualty_facts(session: Session, ctx: Context) -> list[Fact]:
    """Every change to the casualty figures, dated by reporting day: the figures of any day are sums of these."""
    facts: list[Fact] = [Fact(day, side.value, "missing_reported") for day, side in session.execute(
        select(MissingPerson.reported_on, MissingPerson.side))]
    facts += [Fact(ctx.day(at), side.value, "recovered") for at, side in session.execute(
        select(Recovery.recovered_at, Recovery.side).join(Body, Body.recovery_id == Recovery.id).where(Body.kind == BodyKind.body))]
    steps: list[BodyStep] = []
    for body_id, side, at in session.execute(
            select(Body.id, Handover.to_side, Handover.at).join(HandoverBody, HandoverBody.body_id == Body.id)
            .join(Handover).where(Body.kind == BodyKind.body)):
        facts.append(Fact(ctx.day(at), side.value, "handed_over"))
        steps.append(BodyStep(ctx.day(at), 0, body_id, "handed_over", side.value))
    for body_id, side, confirmed_at, revoked_at in session.execute(
            select(Body.id, MissingPerson.side, Identification.confirmed_at, Identification.revoked_at)
            .join(Identification, Identification.body_id == Body.id).join(MissingPerson, MissingPerson.id == Identification.missing_person_id)
            .where(Body.kind == BodyKind.body, Identification.confirmed_at.is_not(None))):
        facts.append(Fact(ctx.day(confirmed_at), side.value, "identified"))
        steps.append(BodyStep(ctx.day(confirmed_at), 1, body_id, "identified", side.value))
        if revoked_at is not None:
            facts.append(Fact(ctx.day(revoked_at), side.value, "identified", -1))
            steps.append(BodyStep(ctx.day(revoked_at), 2, body_id, "revoked", None))
    return facts + attribution_facts(steps)

"""The build-up: strength in theatre at a moment, against the ceilings and the minimum, and the airlift's
figures at any moment, read from a book of every movement kept until a flight or a convoy changes."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime
from threading import Lock
from typing import Any

from sqlalchemy.orm import Session

from peacewatch.airlift.figures import (
    AirliftBook,
    Movement,
    Strength,
    airlift_figures,
    strength_at,
    strength_series,
)
from peacewatch.airlift.flight_rules import Context
from peacewatch.airlift.models import (
    StrengthMinimum,
)
from peacewatch.airlift.schemas import (
    AirliftFigures,
    MinimumIn,
    StrengthAt,
)
from peacewatch.airlift.strength_ledger import Ledger, as_strength, ceilings, minimum
from peacewatch.core.calendar import days_between, reporting_day_ends_at
from peacewatch.core.changes import versions
from peacewatch.core.db import transaction
from peacewatch.core.tabular import table_csv
from peacewatch.core.visibility import Scope


def set_minimum(session: Session, actor: str, data: MinimumIn) -> StrengthMinimum:
    with transaction(session, actor):
        row = minimum(session)
        if row is None:
            row = StrengthMinimum()
            session.add(row)
        for key, value in data.model_dump().items():
            setattr(row, key, value)
    return row


def strength(session: Session, ctx: Context, at: datetime | None, readable: Scope) -> StrengthAt:
    moment = ctx.moment(at)
    movements = Ledger.load(session, until=moment, readable=readable, planning=False).movements(planning=False)
    return _strength_at(session, movements, moment, internal=readable is None)


def _strength_at(session: Session, movements: list[Movement], moment: datetime, *, internal: bool) -> StrengthAt:
    """Strength at ``moment``; the minimum is the operations centre's own figure, shown to the mission's staff only."""
    return _strength(session, moment, strength_at(movements, moment, towards_ceiling=False),
                     strength_at(movements, moment, towards_ceiling=True), internal=internal)


def _strength(session: Session, moment: datetime, in_theatre: Strength, towards_ceiling: Strength, *, internal: bool) -> StrengthAt:
    limits, floor = ceilings(session), as_strength(minimum(session)) if internal else None
    return StrengthAt(at=moment, in_theatre=vars(in_theatre), towards_ceiling=vars(towards_ceiling),
                      ceilings=None if limits is None else vars(limits), minimum=None if floor is None else vars(floor))


_BOOKS: OrderedDict[tuple[Any, ...], AirliftBook] = OrderedDict()
_BOOKS_LOCK = Lock()


def _book(session: Session, ctx: Context, readable: Scope) -> AirliftBook:
    """The movements ``readable`` admits, arranged for figures at any moment; kept until a flight or a convoy
    changes (their versions in the database, so a change through any process counts)."""
    key = (str(session.get_bind().url), readable, ctx.zone, ctx.day_end, versions(session, "flights", "convoys"))
    with _BOOKS_LOCK:
        book = _BOOKS.get(key)
        if book is not None:
            _BOOKS.move_to_end(key)
            return book
    book = AirliftBook(Ledger.load(session, readable=readable, planning=False).movements(planning=False), ctx.day)
    with _BOOKS_LOCK:
        _BOOKS[key] = book
        while len(_BOOKS) > 8:
            _BOOKS.popitem(last=False)
    return book


def figures(session: Session, ctx: Context, at: datetime | None, readable: Scope) -> AirliftFigures:
    """The airlift's figures and the build-up at a moment, from the movement records ``readable`` admits.

    Read from the book of every movement (a few binary searches); summed from the movements left by the
    moment only when a record lands before it leaves, which the book cannot place."""
    moment = ctx.moment(at)
    book = _book(session, ctx, readable)
    if not book.regular:
        return _figures_summed(session, ctx, moment, readable)
    counted = book.figures(moment)
    by_day = {d.pop("day"): d for d in counted.pop("by_day")}
    days = [] if book.first_left is None or book.first_left > moment else days_between(ctx.day(book.first_left), ctx.day(moment))
    ends = [min(reporting_day_ends_at(d, ctx.zone, ctx.day_end), moment) for d in days]
    counted["by_day"] = [{"day": d, **by_day.get(d, _EMPTY_DAY), "strength": vars(s)}
                         for d, s in zip(days, book.strength_series(ends, towards_ceiling=False))]
    return AirliftFigures(**counted, local_time=ctx.local(moment), strength=_strength(
        session, moment, book.strength_at(moment, towards_ceiling=False), book.strength_at(moment, towards_ceiling=True),
        internal=readable is None))


_EMPTY_DAY = {"flights": 0, "personnel": 0, "vehicles": 0, "tonnes": 0.0, "convoys": 0, "convoy_personnel": 0,
              "returnees": 0, "convoy_tonnes": 0.0}


def _figures_summed(session: Session, ctx: Context, moment: datetime, readable: Scope) -> AirliftFigures:
    movements = Ledger.load(session, until=moment, readable=readable, planning=False).movements(planning=False)
    counted = airlift_figures(movements, moment, ctx.day)
    by_day = {d.pop("day"): d for d in counted.pop("by_day")}
    days = _days(ctx, movements, moment)
    ends = [min(reporting_day_ends_at(d, ctx.zone, ctx.day_end), moment) for d in days]
    build_up = strength_series(movements, ends, towards_ceiling=False)
    counted["by_day"] = [{"day": d, **by_day.get(d, _EMPTY_DAY), "strength": vars(s)} for d, s in zip(days, build_up)]
    return AirliftFigures(**counted, local_time=ctx.local(moment),
                          strength=_strength_at(session, movements, moment, internal=readable is None))


def _days(ctx: Context, movements: Sequence[Movement], moment: datetime) -> list[date]:
    starts = [m.left_at for m in movements if m.left_at <= moment]
    if not starts:
        return []
    first, last = ctx.day(min(starts)), ctx.day(moment)
    return days_between(first, last)


FIGURES_CSV_COLUMNS = ("day", "flights", "personnel", "vehicles", "tonnes", "convoys", "convoy_personnel", "returnees",
                       "convoy_tonnes", "strength_personnel", "strength_armoured", "strength_vehicles")


def figures_csv(result: AirliftFigures) -> str:
    return table_csv(FIGURES_CSV_COLUMNS, ([
        d.day.isoformat(), d.flights, d.personnel, d.vehicles, d.tonnes, d.convoys, d.convoy_personnel, d.returnees,
        d.convoy_tonnes, d.strength.personnel, d.strength.armoured, d.strength.vehicles] for d in result.by_day))

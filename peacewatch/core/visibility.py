"""Who may see a record: every record carries a visibility, every reader a scope.

A liaison officer of one side must never learn that the other side's restricted
records exist, so a record out of scope is answered 404, never 403.
"""

from __future__ import annotations

import enum
from typing import TypeAlias, TypeVar

from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import ColumnElement

T = TypeVar("T")
Q = TypeVar("Q")


class Visibility(str, enum.Enum):
    internal = "internal"
    side_a = "side_a"
    side_b = "side_b"
    public = "public"


class Side(str, enum.Enum):
    A = "A"
    B = "B"


SIDE_VISIBILITY = {Side.A: Visibility.side_a, Side.B: Visibility.side_b}

Scope: TypeAlias = frozenset[Visibility] | None
"""What a reader may see: the visibilities they may read, or None for the mission's own staff, who read every record.

No service function takes a default scope: a caller that means "everything" says so with :data:`STAFF`."""
STAFF: Scope = None


def readable_visibilities(*, internal: bool, side: Side | None) -> Scope:
    """The visibilities a reader may see; ``None`` means all of them."""
    if internal:
        return None
    if side is not None:
        return frozenset({Visibility.public, SIDE_VISIBILITY[side]})
    return frozenset({Visibility.public})


class VisibilityMixin:
    visibility: Mapped[Visibility] = mapped_column(
        SAEnum(Visibility, native_enum=False, length=16, validate_strings=True),
        default=Visibility.internal,
        index=True,
    )


def visibility_clause(column: ColumnElement[Visibility] | Mapped[Visibility], allowed: Scope) -> ColumnElement[bool] | None:
    if allowed is None:
        return None
    return column.in_(sorted(allowed, key=lambda v: v.value))


def where_visible(query: Q, column: ColumnElement[Visibility] | Mapped[Visibility], readable: Scope) -> Q:
    """``query`` limited to the records ``readable`` admits (all of them when None)."""
    clause = visibility_clause(column, readable)
    return query if clause is None else query.where(clause)  # type: ignore[attr-defined]  # Q is a Select, Update or Delete, each with .where; a TypeVar cannot say so


def get_visible(session: Session, model: type[T], record_id: int, readable: Scope, what: str) -> T:
    """The record, or "not found" when it does not exist or lies outside the reader's scope (the same answer)."""
    from peacewatch.core.problems import NotFound

    record = session.get(model, record_id)
    if record is None or (readable is not None and record.visibility not in readable):  # type: ignore[attr-defined]  # only models with VisibilityMixin are read by scope
        raise NotFound("{what} {record_id} not found", what=what, record_id=record_id)
    return record


__all__ = ["Visibility", "Side", "VisibilityMixin", "get_visible", "readable_visibilities", "visibility_clause", "where_visible"]

"""Pages of a list: the records of one page, and how many the whole list holds in the reader's scope.

Every list the API pages says its whole length in ``X-Total-Count``, so that a page knows how many pages
follow. The count runs the list's own query (its filters and the reader's scope, without order or paging),
so it can never count a record the reader may not see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

TOTAL_COUNT = "X-Total-Count"
COUNTED: dict[int | str, dict[str, Any]] = {200: {"headers": {TOTAL_COUNT: {
    "description": "How many records the whole list holds (its filters, in the reader's scope); the page is a part of it",
    "schema": {"type": "integer", "minimum": 0}}}}}


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list and the length of the whole list."""

    items: list[T]
    total: int


def paged(session: Session, query: Select[Any], *, limit: int, offset: int) -> Paged[Any]:
    """The page ``query`` selects at ``offset`` and the count of all it selects (``query`` has no LIMIT yet)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return Paged(list(session.scalars(query.limit(limit).offset(offset))), total)


def counted_responses(responses: dict[int | str, dict[str, Any]] | None = None) -> dict[int | str, dict[str, Any]]:
    """A list route's documented answers with its ``X-Total-Count`` header added to the 200 answer."""
    merged = dict(responses or {})
    merged[200] = {**merged.get(200, {}), **COUNTED[200]}
    return merged


def with_total(answer: Response, total: int) -> Response:
    """An answer built whole (JSON or CSV, perhaps cached) with the list's length in its header."""
    answer.headers[TOTAL_COUNT] = str(total)
    return answer


def counted(response: Response, page: Paged[T]) -> list[T]:
    """Put the list's length in the answer's header; the page's records, for the router to shape."""
    response.headers[TOTAL_COUNT] = str(page.total)
    return page.items

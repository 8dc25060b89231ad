"""Answers to the reads every screen of an operations centre repeats, kept until the database says
the tables they read changed.

Two hundred open maps ask for the posts, the areas, the alerts and the latest reports every few
seconds, and between two changes they all get the same bytes. A router builds its answer once per
(request, reader's scope, versions of the tables read) and the process replays it: the versions are
the tokens :mod:`peacewatch.core.changes` keeps in the database, so a change committed by any server
process is seen at the next request of every process. One small query replaces the reads, the
models and the serialisation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from peacewatch.core.changes import versions
from peacewatch.core.db import utcnow

KEPT = 512
_HOP_BY_HOP = {"content-length", "date", "server"}


@dataclass(frozen=True)
class _Answer:
    body: bytes
    status: int
    media_type: str | None
    headers: tuple[tuple[str, str], ...]

    def response(self) -> Response:
        return Response(self.body, self.status, dict(self.headers), self.media_type)


class Answers:
    """A bounded, least-recently-used set of answers; one per process."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._answers: OrderedDict[Any, _Answer] = OrderedDict()
        self._lock = Lock()
        self._building: dict[Any, Lock] = {}
        self.hits = 0
        self.misses = 0

    def reply(self, request: Request, session: Session, readable: Any, tables: tuple[str, ...],
              build: Callable[[], Response], variant: Any = None) -> Response:
        """The answer ``build`` would give, built again only when one of ``tables`` changed (or the day did,
        for answers that default to today); ``variant`` is whatever else chose the answer (a format the
        Accept header asked for). When many ask at once after a change, one builds and the others wait for it."""
        key = (request.url.path, request.url.query, variant, readable, utcnow().date(), versions(session, *tables))
        with self._lock:
            kept = self._answers.get(key)
            if kept is not None:
                self._answers.move_to_end(key)
                self.hits += 1
                return kept.response()
            building = self._building.setdefault(key, Lock())
        with building:
            with self._lock:
                kept = self._answers.get(key)
            if kept is not None:  # built by another request meanwhile
                self.hits += 1
                return kept.response()
            try:
                response = build()
            finally:
                with self._lock:
                    self._building.pop(key, None)
            self.misses += 1
            body = getattr(response, "body", None)
            if response.status_code == 200 and isinstance(body, bytes):  # not a stream
                answer = _Answer(body, response.status_code, response.media_type,
                                 tuple((k, v) for k, v in response.headers.items() if k not in _HOP_BY_HOP))
                with self._lock:
                    self._answers[key] = answer
                    while len(self._answers) > self.kept:
                        self._answers.popitem(last=False)
            return response


def model_answer(model: Any, content: Any, media_type: str = "application/json", headers: dict[str, str] | None = None) -> Response:
    """``content`` checked and written as its response model, as FastAPI would answer it: a cached answer
    and a fresh one are the same bytes."""
    adapter = _adapter(model)
    return Response(adapter.dump_json(adapter.validate_python(content), by_alias=True), 200, headers, media_type)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(model)
    return _ADAPTERS[model]

"""What every ``peacewatch`` command shares: one-line refusals, settings, a session, records read from files.

The capabilities' commands (``incidents/cli.py``, ``airlift/cli.py`` ...) and the root command use
these; the root command registers the capabilities' commands, so none of them imports it.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import BaseModel, TypeAdapter, ValidationError
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from peacewatch.core.auth import Role, User
from peacewatch.core.db import engine_for, make_sessionmaker
from peacewatch.core.problems import Problem
from peacewatch.core.settings import KeyNotConfigured, Settings

console = Console()
err = Console(stderr=True)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise fail(settings_error(exc), 2) from None


def settings_error(exc: ValidationError) -> str:
    """The first thing wrong with the settings, in one line naming the variable."""
    first = exc.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not first["loc"]:  # settings that contradict each other: the message names the variable
        return f"bad settings: {message}"
    return f"bad setting PEACEWATCH_{str(first['loc'][0]).upper()}: {message}"


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@contextmanager
def open_session(settings: Settings, *, require_schema: bool = True) -> Iterator[Session]:
    from peacewatch.core.migrate import is_up_to_date

    engine = engine_for(settings, "cli")
    try:
        try:
            current = not require_schema or is_up_to_date(engine)
        except SQLAlchemyError as exc:
            raise fail(f"cannot open the database: {str(exc).splitlines()[0]}") from None
        if not current:
            raise fail("the database schema is not up to date: run 'peacewatch db upgrade' first")
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def guarded(action: Callable[[], T], context: str = "") -> T:
    """Turn a service's refusal into one line on stderr and a non-zero exit; ``context`` leads the line."""
    try:
        return action()
    except Problem as exc:
        where = f" ({exc.errors[0].field})" if exc.errors else ""
        raise fail(f"{context}{exc.detail}{where}") from None
    except SQLAlchemyError as exc:
        raise fail(f"{context}database error: {str(exc).splitlines()[0]}") from None
    except KeyNotConfigured as exc:
        raise fail(str(exc), 2) from None


def first_error(exc: ValidationError, what: str = "") -> str:
    """A validation error as one line: the first offending field and what is wrong with it."""
    first = exc.errors()[0]
    return f"{'.'.join(map(str, first['loc'])) or what}: {first['msg']}"


def checked(model: type[M], what: str = "", /, **values: Any) -> M:
    """A command's options as the API's schema, or a one-line refusal naming the option (or ``what``)."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise fail(first_error(exc, what or model.__name__)) from None


def read_models(file: str, model: type[M]) -> list[M]:
    """One record or a list of them from a JSON file ('-': stdin), each checked as the API checks it."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = json.loads(text)
        return TypeAdapter(list[model]).validate_python(raw if isinstance(raw, list) else [raw])  # type: ignore[valid-type]  # model is a Pydantic class given at run time
    except json.JSONDecodeError as exc:
        raise fail(f"{file} is not JSON: {exc}") from None
    except ValidationError as exc:
        raise fail(first_error(exc)) from None


def store_each(records: list[M], what: str, store: Callable[[M], T]) -> Iterator[T]:
    """Store records one at a time, each in its own transaction; the first refused stops the run with 'what N: reason'."""
    for number, data in enumerate(records, start=1):
        yield guarded(partial(store, data), f"{what} {number}: " if len(records) > 1 else "")


def operator() -> User:
    """The shell's operator: whoever can open the database has the administrator's rights."""
    return User(username=cli_actor(), role=Role.admin)


def day_option(text: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise fail(f"--{option} must be a date as YYYY-MM-DD, not '{text}'") from None


def write_out(data: bytes, output: Path | None, what: str) -> None:
    """To stdout, or to ``output`` with a note on stderr."""
    if output is None:
        sys.stdout.buffer.write(data if data.endswith(b"\n") else data + b"\n")
    else:
        output.write_bytes(data)
        err.print(f"{what} written to {output}")

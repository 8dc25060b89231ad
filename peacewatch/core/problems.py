"""RFC 9457 problem details: every error the API returns says what is wrong and where.

Services raise :class:`Problem` subclasses without knowing about HTTP; the
handlers here turn them, FastAPI's validation errors and stray HTTP errors
into ``application/problem+json`` bodies with a list of offending fields.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, PrivateAttr, TypeAdapter, ValidationError
from sqlalchemy.exc import DataError, InterfaceError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from peacewatch.core.i18n import Sentence, request_language, translations
from peacewatch.core.plain_words import plain_message

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="Where the error is, as a dotted path such as body.geometry.coordinates")
    message: str
    _said: Any = PrivateAttr(default=None)  # the message to say in the reader's language: has said_in(gettext)

    @classmethod
    def of(cls, field: str, message: str | Sentence, **values: Any) -> FieldError:
        """An error whose message is a template filled with ``values``, so it can be said in the reader's language."""
        sentence = message if isinstance(message, Sentence) else Sentence(message, values)
        error = cls(field=field, message=str(sentence))
        error._said = sentence
        return error

    def said_in(self, gettext: Callable[[str], str]) -> str:
        return self._said.said_in(gettext) if self._said is not None else gettext(self.message)


class _Plain:
    """A validation error of pydantic, to be said in plain words of any language."""

    def __init__(self, error: Any) -> None:
        self.error = error

    def said_in(self, gettext: Callable[[str], str]) -> str:
        return plain_message(self.error, gettext)


class ProblemDetails(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class Problem(Exception):
    """A refusal in a sentence: ``detail`` is a template and ``values`` fill it (``str.format``).

    Keeping the template apart from its values lets the answer be said in the reader's language: the
    template is looked up in the catalog (the constructors are extraction keywords) and filled afterwards.
    """

    status = 400
    title = "Bad request"
    kind = "about:blank"  # the problem's ``type``: a URI a client may act on, where the status alone does not say enough

    def __init__(self, detail: str | Sentence, *, field: str | None = None, errors: list[FieldError] | None = None,
                 problem_type: str | None = None, **values: Any):
        self.sentence = detail if isinstance(detail, Sentence) else Sentence(detail, values)
        self.detail = str(self.sentence)
        super().__init__(self.detail)
        self.errors = list(errors or [])
        if problem_type is not None:
            self.kind = problem_type
        if field is not None:
            self.errors.append(FieldError.of(field, self.sentence))

    def said_in(self, gettext: Callable[[str], str]) -> str:
        """The detail in the language of ``gettext``."""
        return self.sentence.said_in(gettext)


class Invalid(Problem):
    status = 422
    title = "Invalid input"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class Unauthorized(Problem):
    status = 401
    title = "Not authenticated"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


# problem types a client acts on (RFC 9457's ``type``): a field device's outbox tells a stale page from a refusal,
# and a report stored already from one its id cannot take
ANTI_FORGERY = "urn:peacewatch:problem:anti-forgery"
STORED_NOT_SHARED = "urn:peacewatch:problem:stored-not-shared"
CLIENT_ID_TAKEN = "urn:peacewatch:problem:client-id-taken"


class AntiForgeryRefused(Forbidden):
    """A request signed in by cookie without the current CSRF token: the caller is who it says, its page is stale.
    Nothing is refused about the request itself: with the current token (GET /api/v1/auth/session) it goes."""

    kind = ANTI_FORGERY


class InsufficientStorage(Problem):
    """The server's disk is full: nothing of the request was stored (RFC 4918's 507)."""

    status = 507
    title = "Insufficient storage"


RETRY_AFTER_S = 2


class Unavailable(Problem):
    """The server cannot answer now (database away, too busy); the client should try again shortly."""

    status = 503
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after_s: int = RETRY_AFTER_S, **values: Any) -> None:
        super().__init__(detail, **values)
        self.retry_after_s = retry_after_s


class TooManyRequests(Unavailable):
    """Too many attempts (wrong passwords): the client may try again after ``retry_after_s``."""

    status = 429
    title = "Too many requests"


def _problem_response(problem: ProblemDetails, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(problem, exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def reader_gettext(request: Request) -> Callable[[str], str]:
    """The translation of the caller's language: the pages' cookie, else the browser's preference, else English."""
    gettext = translations(request_language(request)).gettext
    return lambda text: gettext(text) if text else text  # gettext("") is the catalog's header


async def _on_problem(request: Request, exc: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if isinstance(exc, Unavailable):
        headers = {"Retry-After": str(exc.retry_after_s)}
    _ = reader_gettext(request)
    detail = exc.said_in(_)
    errors = [FieldError(field=e.field, message=e.said_in(_)) for e in exc.errors]
    return _problem_response(
        ProblemDetails(type=exc.kind, title=exc.title, status=exc.status, detail=detail, instance=request.url.path, errors=errors),
        headers,
    )


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    _ = reader_gettext(request)
    errors = [FieldError(field=_dotted(err.get("loc", ())), message=plain_message(err, _)) for err in exc.errors()]
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5]) or "invalid request"
    return _problem_response(
        ProblemDetails(title="Invalid input", status=422, detail=detail, instance=request.url.path, errors=errors)
    )


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return _problem_response(
        ProblemDetails(
            title=_TITLES.get(exc.status_code, "Error"),
            status=exc.status_code,
            detail=str(exc.detail),
            instance=request.url.path,
        ),
        dict(exc.headers) if exc.headers else None,
    )


async def _on_os_error(request: Request, exc: OSError) -> JSONResponse:
    """A full disk anywhere in a request (a spooled upload, a file written): 507, never a traceback. Any other
    operating system error is the server's own (500). The connection is closed after the answer, so a request
    whose body was not read to its end cannot leave bytes in the way of the next one."""
    if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
        raise exc
    response = await _on_problem(request, InsufficientStorage("the server's disk is full: nothing was stored; tell the "
                                                              "administrator, then send it again"))
    response.headers["Connection"] = "close"
    return response


async def _on_data_error(request: Request, exc: DataError) -> JSONResponse:
    """A value the database refuses though validation let it through (PostgreSQL: a NUL character in text).

    The transaction was rolled back, so nothing is stored; the caller gets 422, not 500.
    """
    reason = "a text contains a NUL (0x00) character, which cannot be stored" if "NUL" in str(exc.orig) \
        else "a value was refused by the database"
    return _problem_response(ProblemDetails(title="Invalid input", status=422, detail=reason, instance=request.url.path))


def problem_response(problem: Problem, instance: str) -> JSONResponse:
    """A problem answered outside a route (by a middleware), as the handlers would answer it."""
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else None
    if isinstance(problem, Unavailable):
        headers = {"Retry-After": str(problem.retry_after_s)}
    return _problem_response(ProblemDetails(type=problem.kind, title=problem.title, status=problem.status, detail=problem.detail,
                                            instance=instance, errors=problem.errors), headers)


def too_large(limit: int) -> str:
    return f"the request body is over this endpoint's limit of {limit:,} bytes"


class BodyTooLarge(Problem):
    """A request body declared larger than its endpoint takes: answered before a byte of it is read."""

    status = 413
    title = "Payload too large"


class PayloadTooLarge(StarletteHTTPException):
    """A body found larger than its endpoint takes while it is read; an HTTP exception, so FastAPI's body
    parsing (which turns other exceptions into 400) lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def unavailable_response(detail: str, instance: str, retry_after_s: int = RETRY_AFTER_S) -> JSONResponse:
    """503 problem+json with Retry-After: what every endpoint answers while it cannot serve."""
    return _problem_response(ProblemDetails(title="Service unavailable", status=503, detail=detail, instance=instance),
                             {"Retry-After": str(retry_after_s)})


def too_many_response(detail: str, instance: str, retry_after_s: int = RETRY_AFTER_S) -> JSONResponse:
    """429 problem+json with Retry-After: a client over its own bound (its streams, its guesses), not the server's."""
    return _problem_response(ProblemDetails(title="Too many requests", status=429, detail=detail, instance=instance),
                             {"Retry-After": str(retry_after_s)})


DATABASE_AWAY = (OperationalError, InterfaceError, PoolTimeout)


async def _on_database_away(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached or is restarting, or every connection is busy: nothing was stored.

    The pool checks a connection before lending it again, so service resumes by itself once the
    database answers; the client is told when to retry.
    """
    return database_away_response(exc, request.url.path)


def database_away_response(exc: Exception, instance: str) -> JSONResponse:
    """503 with Retry-After for a database error that passes (see _on_database_away); a middleware answers it too."""
    if isinstance(exc, PoolTimeout):
        reason = "the server is busy: no database connection became free in time; try again shortly"
    elif isinstance(exc, OperationalError) and "synchronous replica" in str(exc.orig):
        reason = ("the database's replica did not confirm the write in time, so it is not acknowledged; "
                  "try again shortly (a resend with the same client id is not stored twice)")
    elif isinstance(exc, OperationalError) and "statement timeout" in str(exc.orig):
        reason = "the request took too long and was cancelled; try again shortly"
    else:
        reason = "the database is unavailable; try again shortly"
    return unavailable_response(reason, instance)


async def _on_internal_error(request: Request, exc: InternalError) -> JSONResponse:
    """A connection cut mid-answer (a pooler closing it while its server fails over) is the database away;
    any other internal error of the database is a fault, logged."""
    if exc.connection_invalidated or "results from command" in str(exc.orig):
        return database_away_response(exc, request.url.path)
    log.error("database internal error on %s", request.url.path, exc_info=exc)
    return await _on_unexpected(request, exc)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A fault of ours: logged with its trace by the server, answered as problem+json without internals."""
    return _problem_response(ProblemDetails(title="Internal server error", status=500,
                                            detail="an unexpected error occurred; it has been logged", instance=request.url.path))


_TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 413: "Payload too large", 415: "Unsupported media type", 422: "Invalid input", 429: "Too many requests",
           500: "Internal server error", 503: "Service unavailable", 507: "Insufficient storage"}


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each of these takes its own subclass
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each of these takes its own subclass
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each of these takes its own subclass
    app.add_exception_handler(DataError, _on_data_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each of these takes its own subclass
    app.add_exception_handler(OSError, _on_os_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each of these takes its own subclass
    for away in DATABASE_AWAY:
        app.add_exception_handler(away, _on_database_away)
    app.add_exception_handler(InternalError, _on_internal_error)  # type: ignore[arg-type]  # Starlette types a handler as taking Exception; each of these takes its own subclass
    app.add_exception_handler(Exception, _on_unexpected)


# a request the HTTP server cannot parse (a request line or headers past its 64 KiB) never reaches the
# application: the server itself answers 400 in plain text, so the API says so
_UNREADABLE = {"text/plain": {"schema": {"type": "string"}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries so clients (and schemathesis) know every error is problem+json (and a 400 from the HTTP
    server itself, for a request it cannot read, plain text)."""
    return {
        status: {
            "model": ProblemDetails,
            "description": _TITLES.get(status, "Error") + (
                "; plain text when the HTTP server cannot read the request (request line or headers over 64 KiB)"
                if status == 400 else ""),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}},
                        **(_UNREADABLE if status == 400 else {})},
        }
        for status in statuses
    }


def validated(model: type[BaseModel], data: Any, where: str) -> Any:
    """``data`` checked against ``model`` outside a request's own parsing (a file's feature, a merged body);
    a refusal names every bad field under ``where`` (``features[3].properties.code``, ``body.type``)."""
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            error = FieldError(field=".".join([where, *(str(p) for p in err["loc"])]), message=plain_message(err, str))
            error._said = _Plain(err)
            errors.append(error)
        raise Invalid("{where}: {message}", errors=errors, where=errors[0].field, message=errors[0]._said) from None

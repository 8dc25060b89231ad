"""Request bodies: who sends one is known before it is read, and none is read past its endpoint's limit.

A body costs memory to read and more to parse (a JSON document takes several times its size as Python
objects), so an anonymous caller could otherwise make the server parse 50 MB before it learns the answer
is 401. Here, a write to the API is authenticated from its headers first (bearer token, API key, or session
cookie with the page's CSRF token) and answered 401 or 403 without reading a byte of the body; a body
declared larger than its endpoint's limit is answered 413 at once, and one that turns out larger while it
is read (chunked) stops being read at the limit.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peacewatch.core.problems import (
    DATABASE_AWAY,
    BodyTooLarge,
    PayloadTooLarge,
    Problem,
    Unauthorized,
    database_away_response,
    problem_response,
    too_large,
)
from peacewatch.core.web import caller_before_body

READS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGE_FORM_BYTES = 64 * 1024  # the pages' own forms: sign-in, sign-out, language


class RequestBodies:
    """ASGI middleware: authenticate API writes before their body, and bound every body by its endpoint."""

    def __init__(self, app: ASGIApp, *, default_bytes: int, limits: Mapping[str, int], anonymous: frozenset[str]) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.limits = sorted(limits.items(), key=lambda item: -len(item[0]))  # the longest prefix first
        self.anonymous = anonymous  # API paths anyone may write to (signing in)

    def limit_for(self, path: str) -> int:
        if not path.startswith("/api/"):
            return PAGE_FORM_BYTES
        if path in self.anonymous:
            return PAGE_FORM_BYTES
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit_for(path)
        request = Request(scope)
        if path.startswith("/api/") and path not in self.anonymous:
            try:
                if await caller_before_body(request) is None:
                    raise Unauthorized("sign in first: POST /api/v1/auth/token, then send 'Authorization: Bearer <token>'")
            except Problem as problem:
                await problem_response(problem, path)(scope, receive, send)
                return
            except DATABASE_AWAY as away:  # outside the app's handlers here: answered as they would
                await database_away_response(away, path)(scope, receive, send)
                return
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await problem_response(BodyTooLarge(too_large(limit), field="body"), path)(scope, receive, send)
            return
        read = 0

        async def bounded() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, bounded, send)


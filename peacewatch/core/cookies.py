"""Browser sessions: the same signed access token as the API, carried in an HTTP-only cookie.

A cookie is sent by the browser on any request, including one forged by another site, so every
unsafe request authenticated by cookie must also carry a CSRF token. The token is an HMAC of a
random nonce kept in a second HTTP-only cookie: a page embeds it, another site can neither read
the page nor compute it without the server's secret.

The nonce's cookie lives as long as the session's: a field device's page, kept by its service worker,
is opened again after a restart of the browser, and its token must still be good for the reports waiting
in its outbox. A token gone stale (a sign-out and a new sign-in in another tab) is refused with the
problem type ``ANTI_FORGERY``, which a script tells from a refusal of its request: it asks for the
current token (``GET /api/v1/auth/session``) and sends again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "pw_session"
NONCE_COOKIE = "pw_csrf"
LANGUAGE_COOKIE = "pw_lang"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, request: Request, submitted: str | None) -> bool:
    nonce = request.cookies.get(NONCE_COOKIE)
    if not nonce or not submitted:
        return False
    return hmac.compare_digest(csrf_token(secret, nonce), submitted)


def request_nonce(request: Request) -> tuple[str, bool]:
    """The browser's CSRF nonce, or a fresh one (True: set it with ``set_nonce`` on the response)."""
    nonce = request.cookies.get(NONCE_COOKIE)
    if nonce and len(nonce) <= 100:
        return nonce, False
    return secrets.token_urlsafe(24), True


def set_nonce(response: Response, nonce: str, secure: bool) -> None:
    """Keep the browser's CSRF nonce for as long as any session cookie may live (it is no credential)."""
    response.set_cookie(NONCE_COOKIE, nonce, max_age=NONCE_MAX_AGE_S, httponly=True, secure=secure, samesite="strict", path="/")


# the session cookie outlives its token by this much: a browser then still sends an expired token, and the server,
# seeing it, can tell the device its session ended (SessionEnd) instead of taking it for a stranger
SESSION_COOKIE_GRACE_S = 30 * 86400
NONCE_MAX_AGE_S = 90 * 86400  # longer than any session cookie (its token's life and the grace)
CLEAR_KEPT_COPIES = '"cache"'  # Clear-Site-Data: copies kept by the browser; never "storage", which holds the outbox


def set_session(response: Response, token: str, minutes: int, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=minutes * 60 + SESSION_COOKIE_GRACE_S, httponly=True, secure=secure,
                        samesite="strict", path="/")


def clear_session(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=secure, samesite="strict")
    response.delete_cookie(NONCE_COOKIE, path="/", httponly=True, secure=secure, samesite="strict")


def session_ended(request: Request) -> None:
    """Note that this request's session cookie stands for no session now (SessionEnd tells the device)."""
    request.state.session_ended = True


class SessionEnd:
    """ASGI middleware: however a session ended (sign-out on any device, disabling, a new password, expiry), the next
    request the device makes with its cookie is answered with ``Clear-Site-Data: "cache"`` and the cookie deleted.

    The browser drops its HTTP cache; the field application's service worker, seeing the header, drops the pages
    and lists it kept for offline use. Its outbox of unsent reports is IndexedDB, which "cache" does not touch: the
    reports wait for their user to sign in again. A request's session counts as ended when the cookie was read and
    found to stand for no one (``session_ended``, by the API's dependencies and the pages alike)."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        cleared = Response()
        clear_session(cleared, secure)
        self.clearing = [(b"clear-site-data", CLEAR_KEPT_COPIES.encode())] + [
            (name, value) for name, value in cleared.raw_headers if name == b"set-cookie"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(name == b"cookie" and SESSION_COOKIE.encode() in value
                                               for name, value in scope.get("headers", ())):
            await self.app(scope, receive, send)
            return

        async def tell(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("state", {}).get("session_ended"):
                message["headers"] = [*message.get("headers", []), *self.clearing]
            await send(message)

        await self.app(scope, receive, tell)

"""Browser sessions: the same signed access token as the API, carried in an HTTP-only cookie.

A cookie is sent by the browser on any request, including one forged by another site, so every
unsafe request authenticated by cookie must also carry a CSRF token. The token is an HMAC of a
random nonce kept in a second HTTP-only cookie: a page embeds it, another site can neither read
the page nor compute it without the server's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

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
    response.set_cookie(NONCE_COOKIE, nonce, httponly=True, secure=secure, samesite="strict", path="/")


def set_session(response: Response, token: str, minutes: int, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=minutes * 60, httponly=True, secure=secure,
                        samesite="strict", path="/")


def clear_session(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=secure, samesite="strict")
    response.delete_cookie(NONCE_COOKIE, path="/", httponly=True, secure=secure, samesite="strict")

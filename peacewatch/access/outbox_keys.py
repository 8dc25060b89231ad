"""The key that seals a user's outbox on a field device.

A phone keeps a day of reports in its browser's storage, which another user of the same device, or anyone who
takes the device, can read. The field page therefore seals what it keeps (narratives, file names, photos,
positions) to its user's key: each page derives an AES-GCM key by ECDH between a pair of its own (made when it
opens, its private half never stored) and the user's public key, which the device keeps. The user's private key
is never kept on the device: the server gives it to the signed-in user (``GET /api/v1/auth/session``), so what a
page kept before a restart is opened only once its user is signed in again, and a disabled user's outbox stays
sealed. The server derives each user's pair from its secret key and the user's id, and needs no table: the same
pair on every server process, and a courier's export opened at the headquarters (peacewatch/courier).

The scheme is ECDH on P-256, HKDF-SHA-256 (no salt, ``INFO``) to a 256-bit AES-GCM key, as WebCrypto does it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"peacewatch outbox"
CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256's n


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def outbox_key(secret: str, user_id: int) -> ec.EllipticCurvePrivateKey:
    """The user's outbox key pair: the same on every process of the server, for as long as the secret key lasts."""
    seed = hmac.new(secret.encode(), b"peacewatch outbox key\0" + str(user_id).encode(), hashlib.sha512).digest()
    scalar = int.from_bytes(seed, "big") % (CURVE_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def jwk(key: ec.EllipticCurvePrivateKey, *, private: bool) -> dict[str, Any]:
    """The key as WebCrypto imports it (RFC 7518 §6.2): its public half, and the private scalar when asked."""
    numbers = key.public_key().public_numbers()
    out: dict[str, Any] = {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x.to_bytes(32, "big")),
                           "y": _b64url(numbers.y.to_bytes(32, "big")), "ext": True}
    if private:
        out["d"] = _b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    return out


def _page_key(jwk_of_page: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    x = int.from_bytes(_unb64url(str(jwk_of_page["x"])), "big")
    y = int.from_bytes(_unb64url(str(jwk_of_page["y"])), "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def open_sealed(key: ec.EllipticCurvePrivateKey, epk: dict[str, Any], iv: bytes, data: bytes) -> bytes:
    """What a page sealed with its pair whose public half is ``epk``; raises ValueError when it was changed or sealed
    to another key (AES-GCM's tag)."""
    try:
        shared = key.exchange(ec.ECDH(), _page_key(epk))
    except (KeyError, TypeError, ValueError) as failure:
        raise ValueError("not a P-256 public key") from failure
    aes = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(shared)
    try:
        return AESGCM(aes).decrypt(iv, data, None)
    except Exception as failure:  # cryptography's InvalidTag: changed, truncated, or not sealed to this user
        raise ValueError("does not open with its user's key") from failure


def seal(key_jwk: dict[str, Any], data: bytes, *, page: ec.EllipticCurvePrivateKey | None = None,
         iv: bytes | None = None) -> tuple[dict[str, Any], bytes, bytes]:
    """``data`` sealed to a user's public key as a page seals it: (the page's public key, iv, sealed bytes). For tests
    and tools that write what a device would."""
    page = page or ec.generate_private_key(ec.SECP256R1())
    shared = page.exchange(ec.ECDH(), _page_key(key_jwk))
    aes = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(shared)
    iv = iv or os.urandom(12)
    return jwk(page, private=False), iv, AESGCM(aes).encrypt(iv, data, None)

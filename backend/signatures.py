"""Signed partner requests (the hospitals, the city 12345 platform): HMAC-SHA256 under the
partner's own secret, a timestamp window and a one-time nonce.

The signed text is five lines: the method, the path with its query string (as sent on the
request line, percent-encoded; ``agent_desk/signed_requests.py``), the Unix
timestamp (seconds), the nonce and the SHA-256 hex digest of the body::

    POST
    /api/hospital/schedules
    1764550800
    4f1c0b6a2e9d4c7b8a5e3f2d1c0b9a87
    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

The signature is the hex HMAC of that text. A request is refused when its timestamp is
outside the window (a captured request cannot be sent later) or its nonce was seen within
the window (nor again now: ``backend/nonces.py``). The nonce is 16 to 64 letters, digits,
``-`` or ``_``, new for every request (a random UUID's hex will do); it is signed, so a
replay cannot swap it. docs/partner-api-signing.md is the integrators' description.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from backend.errors import CallCenterError

NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class SignatureRejected(CallCenterError):
    code = "bad-signature"
    http_status = 401


@dataclass(frozen=True)
class SignedRequest:
    key_id: str  # the key id header (X-Hospital-Key, X-Platform-Key)
    timestamp: str  # X-Timestamp, Unix seconds
    nonce: str  # X-Nonce
    signature: str  # X-Signature, hex
    method: str
    path: str  # with its query string, as signed
    body: bytes


def signing_text(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    text = signing_text(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def signed_headers(
    key_header: str, key_id: str, secret: str, method: str, path: str, body: bytes, *, now: float
) -> dict[str, str]:
    """The headers a partner sends (what the demo and test clients use): the key id under
    ``key_header``, the timestamp, a new nonce and the signature."""
    timestamp, nonce = str(int(now)), secrets.token_hex(16)
    return {
        key_header: key_id,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": sign(secret, method, path, timestamp, nonce, body),
    }


def check_timestamp(timestamp: str, now: float, window_seconds: int) -> None:
    try:
        moment = int(timestamp)
    except ValueError:
        raise SignatureRejected("X-Timestamp 须为Unix秒数") from None
    if abs(now - moment) > window_seconds:
        raise SignatureRejected(f"X-Timestamp 与服务器时间相差超过{window_seconds}秒")


def check_nonce(nonce: str) -> None:
    if not NONCE.fullmatch(nonce):
        raise SignatureRejected("X-Nonce 须为16至64位字母、数字、- 或 _，每个请求不同")


def verify(secret: str, request: SignedRequest, *, now: float, window_seconds: int) -> None:
    """Raise ``SignatureRejected`` naming the reason, or return quietly (the nonce's first
    use is the caller's to claim, once the signature holds)."""
    check_timestamp(request.timestamp, now, window_seconds)
    check_nonce(request.nonce)
    expected = sign(
        secret, request.method, request.path, request.timestamp, request.nonce, request.body
    )
    if not hmac.compare_digest(expected, request.signature.strip().lower()):
        raise SignatureRejected(
            "签名不正确（HMAC-SHA256，签名内容为方法、路径、时间戳、随机串和请求体摘要）"
        )

"""Signed hospital requests: HMAC-SHA256 under the hospital's own secret.

The signed text is four lines: the method, the path with its query string, the Unix timestamp
(seconds) and the SHA-256 hex digest of the body::

    POST
    /api/hospital/schedules
    1764550800
    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

The signature is the hex HMAC of that text; requests outside the timestamp window are refused
so that a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

from backend.errors import CallCenterError


class SignatureRejected(CallCenterError):
    code = "bad-signature"
    http_status = 401


def signing_text(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{digest}".encode()


def sign(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    text = signing_text(method, path, timestamp, body)
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def check_timestamp(timestamp: str, now: float, window_seconds: int) -> None:
    try:
        moment = int(timestamp)
    except ValueError:
        raise SignatureRejected("X-Timestamp 须为Unix秒数") from None
    if abs(now - moment) > window_seconds:
        raise SignatureRejected(f"X-Timestamp 与服务器时间相差超过{window_seconds}秒")


def verify(
    secret: str,
    *,
    method: str,
    path: str,
    timestamp: str,
    signature: str,
    body: bytes,
    now: float,
    window_seconds: int,
) -> None:
    """Raise ``SignatureRejected`` naming the reason, or return quietly."""
    check_timestamp(timestamp, now, window_seconds)
    expected = sign(secret, method, path, timestamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureRejected(
            "签名不正确（HMAC-SHA256，签名内容为方法、路径、时间戳和请求体摘要）"
        )

"""Hospital request signatures: what is signed, and each reason a request is refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from backend.booking.signatures import SignatureRejected, sign, signing_text, verify

BODY = b'{"schedules": []}'
NOW = 1_764_550_800


def _verify(signature: str, *, timestamp: str = str(NOW), body: bytes = BODY) -> None:
    verify(
        "secret",
        method="POST",
        path="/api/hospital/schedules",
        timestamp=timestamp,
        signature=signature,
        body=body,
        now=NOW,
        window_seconds=300,
    )


def test_the_signed_text_is_method_path_timestamp_and_body_digest() -> None:
    text = signing_text("post", "/api/hospital/bookings?cursor=5", "1764550800", b"")
    assert text.decode().splitlines() == [
        "POST",
        "/api/hospital/bookings?cursor=5",
        "1764550800",
        hashlib.sha256(b"").hexdigest(),
    ]
    expected = hmac.new(b"k", text, hashlib.sha256).hexdigest()
    assert sign("k", "POST", "/api/hospital/bookings?cursor=5", "1764550800", b"") == expected


def test_a_correct_signature_passes_and_any_change_fails() -> None:
    good = sign("secret", "POST", "/api/hospital/schedules", str(NOW), BODY)
    _verify(good)
    _verify(good.upper())  # hex case does not matter
    with pytest.raises(SignatureRejected, match="签名不正确"):
        _verify(good, body=BODY + b" ")
    with pytest.raises(SignatureRejected, match="签名不正确"):
        _verify(sign("other", "POST", "/api/hospital/schedules", str(NOW), BODY))


def test_old_or_malformed_timestamps_are_refused() -> None:
    old = str(NOW - 301)
    with pytest.raises(SignatureRejected, match="300秒"):
        _verify(sign("secret", "POST", "/api/hospital/schedules", old, BODY), timestamp=old)
    with pytest.raises(SignatureRejected, match="Unix"):
        _verify("00", timestamp="yesterday")

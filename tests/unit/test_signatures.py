"""Partner request signatures: what is signed, and each reason a request is refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from backend.signatures import SignatureRejected, SignedRequest, sign, signing_text, verify

BODY = b'{"schedules": []}'
NOW = 1_764_550_800
NONCE = "4f1c0b6a2e9d4c7b8a5e3f2d1c0b9a87"
PATH = "/api/hospital/schedules"


def _verify(
    signature: str, *, timestamp: str = str(NOW), nonce: str = NONCE, body: bytes = BODY
) -> None:
    request = SignedRequest("hosp-1", timestamp, nonce, signature, "POST", PATH, body)
    verify("secret", request, now=NOW, window_seconds=300)


def test_the_signed_text_is_method_path_timestamp_nonce_and_body_digest() -> None:
    text = signing_text("post", "/api/hospital/bookings?cursor=5", "1764550800", NONCE, b"")
    assert text.decode().splitlines() == [
        "POST",
        "/api/hospital/bookings?cursor=5",
        "1764550800",
        NONCE,
        hashlib.sha256(b"").hexdigest(),
    ]
    expected = hmac.new(b"k", text, hashlib.sha256).hexdigest()
    assert sign("k", "POST", "/api/hospital/bookings?cursor=5", "1764550800", NONCE, b"") == (
        expected
    )


def test_a_correct_signature_passes_and_any_change_fails() -> None:
    good = sign("secret", "POST", PATH, str(NOW), NONCE, BODY)
    _verify(good)
    _verify(good.upper())  # hex case does not matter
    with pytest.raises(SignatureRejected, match="签名不正确"):
        _verify(good, body=BODY + b" ")
    with pytest.raises(SignatureRejected, match="签名不正确"):
        _verify(good, nonce=NONCE[::-1])  # the nonce is signed: it cannot be swapped
    with pytest.raises(SignatureRejected, match="签名不正确"):
        _verify(sign("other", "POST", PATH, str(NOW), NONCE, BODY))


def test_old_or_malformed_timestamps_and_nonces_are_refused() -> None:
    old = str(NOW - 301)
    with pytest.raises(SignatureRejected, match="300秒"):
        _verify(sign("secret", "POST", PATH, old, NONCE, BODY), timestamp=old)
    with pytest.raises(SignatureRejected, match="Unix"):
        _verify("00", timestamp="yesterday")
    for nonce in (
        "",
        "short",
        "x" * 65,
        "has space in it 0123",
        "中文随机串中文随机串中文随机串中文",
    ):
        with pytest.raises(SignatureRejected, match="X-Nonce"):
            _verify(sign("secret", "POST", PATH, str(NOW), nonce, BODY), nonce=nonce)

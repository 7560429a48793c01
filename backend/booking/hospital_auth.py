"""Which hospital signed a request to the hospital integration API.

Each hospital has a key id and a secret (stored encrypted). A request names the key and
carries a timestamp, a nonce and an HMAC signature (``backend/signatures.py``); it is the
hospital's when the key belongs to an active hospital and the signature checks under that
hospital's secret. The nonce's one use is claimed afterwards (``backend/nonces.py``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.models.booking import Hospital
from backend.signatures import SignatureRejected, SignedRequest, verify


def signed_hospital(
    session: Session, ctx: BookingContext, request: SignedRequest, *, now: float
) -> Hospital:
    """The active hospital whose key signed ``request``; ``SignatureRejected`` saying why not."""
    if not (request.key_id and request.timestamp and request.nonce and request.signature):
        raise SignatureRejected("缺少 X-Hospital-Key、X-Timestamp、X-Nonce 或 X-Signature 请求头")
    hospital = session.execute(
        select(Hospital).where(Hospital.api_key_id == request.key_id, Hospital.active.is_(True))
    ).scalar_one_or_none()
    if hospital is None or hospital.api_secret_enc is None:
        raise SignatureRejected("未知的医院接口密钥编号")
    secret = ctx.cipher.decrypt(hospital.api_secret_enc)
    verify(secret, request, now=now, window_seconds=ctx.rules.signature_window_seconds)
    return hospital

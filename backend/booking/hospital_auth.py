"""Which hospital signed a request to the hospital integration API.

Each hospital has a key id and a secret (stored encrypted). A request names the key and
carries a timestamp and an HMAC signature (``signatures``); it is the hospital's when the key
belongs to an active hospital and the signature checks under that hospital's secret.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.signatures import SignatureRejected, verify
from backend.models.booking import Hospital


@dataclass(frozen=True)
class SignedRequest:
    key_id: str  # X-Hospital-Key
    timestamp: str  # X-Timestamp, Unix seconds
    signature: str  # X-Signature, hex
    method: str
    path: str  # with its query string, as signed
    body: bytes


def signed_hospital(
    session: Session, ctx: BookingContext, request: SignedRequest, *, now: float
) -> Hospital:
    """The active hospital whose key signed ``request``; ``SignatureRejected`` saying why not."""
    if not (request.key_id and request.timestamp and request.signature):
        raise SignatureRejected("缺少 X-Hospital-Key、X-Timestamp 或 X-Signature 请求头")
    hospital = session.execute(
        select(Hospital).where(Hospital.api_key_id == request.key_id, Hospital.active.is_(True))
    ).scalar_one_or_none()
    if hospital is None or hospital.api_secret_enc is None:
        raise SignatureRejected("未知的医院接口密钥编号")
    verify(
        ctx.cipher.decrypt(hospital.api_secret_enc),
        method=request.method,
        path=request.path,
        timestamp=request.timestamp,
        signature=request.signature,
        body=request.body,
        now=now,
        window_seconds=ctx.rules.signature_window_seconds,
    )
    return hospital

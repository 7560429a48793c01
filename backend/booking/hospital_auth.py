"""Which hospital signed a request to the hospital integration API.

Each hospital has a key id and a secret (stored encrypted). A request names the key and
carries a timestamp, a nonce and an HMAC signature (``backend/signatures.py``); it is the
hospital's when the key belongs to an active hospital and the signature checks under that
hospital's secret. The nonce's one use is claimed afterwards (``backend/nonces.py``).

Everything but the signature can be checked from the headers alone (``presented_hospital``):
the desk does so before it reads the body (``agent_desk/hospital_gate.py``), so an unsigned
or stale request, or one with an unknown key, is refused without its body being read.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.models.booking import Hospital
from backend.signatures import (
    SignatureRejected,
    SignedRequest,
    check_nonce,
    check_timestamp,
    verify,
)


def presented_hospital(
    session: Session,
    ctx: BookingContext,
    key_id: str,
    timestamp: str,
    nonce: str,
    signature: str,
    *,
    now: float,
) -> Hospital:
    """The active hospital the headers name, if they could be a valid signed request (all
    present, the timestamp within the window, the nonce well-formed); ``SignatureRejected``
    saying why not."""
    if not (key_id and timestamp and nonce and signature):
        raise SignatureRejected("缺少 X-Hospital-Key、X-Timestamp、X-Nonce 或 X-Signature 请求头")
    check_timestamp(timestamp, now, ctx.rules.signature_window_seconds)
    check_nonce(nonce)
    hospital = session.execute(
        select(Hospital).where(Hospital.api_key_id == key_id, Hospital.active.is_(True))
    ).scalar_one_or_none()
    if hospital is None or hospital.api_secret_enc is None:
        raise SignatureRejected("未知的医院接口密钥编号")
    return hospital


def signed_hospital(
    session: Session, ctx: BookingContext, request: SignedRequest, *, now: float
) -> Hospital:
    """The active hospital whose key signed ``request``; ``SignatureRejected`` saying why not."""
    hospital = presented_hospital(
        session, ctx, request.key_id, request.timestamp, request.nonce, request.signature,
        now=now,
    )  # fmt: skip
    secret = ctx.cipher.decrypt(hospital.api_secret_enc or "")  # never None: see above
    verify(secret, request, now=now, window_seconds=ctx.rules.signature_window_seconds)
    return hospital

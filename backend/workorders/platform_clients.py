"""Signing keys of the city 12345 platform: a key id and a secret, the secret kept encrypted.

The platform signs every request as the hospitals do (``backend/signatures.py``: HMAC-SHA256
of method, path, timestamp, nonce and body digest), naming its key in ``X-Platform-Key``; the
nonce's one use is claimed by the caller once the signature holds (``backend/nonces.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models.workorders import CityPlatformClient
from backend.personal_data import PersonalDataCipher
from backend.signatures import SignatureRejected, SignedRequest, verify


@dataclass(frozen=True)
class PlatformKey:
    key_id: str
    secret: str  # shown once, to be handed to the platform; stored only encrypted


def issue_platform_key(session: Session, cipher: PersonalDataCipher, name: str) -> PlatformKey:
    """A new signing key for the client ``name`` (made if new); the client's earlier key, if
    any, stops working."""
    key = PlatformKey("cp-" + secrets.token_hex(8), secrets.token_urlsafe(32))
    client = session.scalar(select(CityPlatformClient).where(CityPlatformClient.name == name))
    if client is None:
        client = CityPlatformClient(name=name)
        session.add(client)
    client.key_id = key.key_id
    client.secret_enc = cipher.encrypt(key.secret)
    session.flush()
    return key


def signed_platform_client(
    session: Session,
    cipher: PersonalDataCipher,
    request: SignedRequest,
    *,
    now: float,
    window_seconds: int,
) -> CityPlatformClient:
    """The active client whose key signed ``request``; ``SignatureRejected`` saying why not."""
    if not (request.key_id and request.timestamp and request.nonce and request.signature):
        raise SignatureRejected("缺少 X-Platform-Key、X-Timestamp、X-Nonce 或 X-Signature 请求头")
    client = session.scalar(
        select(CityPlatformClient).where(
            CityPlatformClient.key_id == request.key_id, CityPlatformClient.active.is_(True)
        )
    )
    if client is None or client.secret_enc is None:
        raise SignatureRejected("接口密钥编号无效或已停用")
    secret = cipher.decrypt(client.secret_enc)
    verify(secret, request, now=now, window_seconds=window_seconds)
    return client

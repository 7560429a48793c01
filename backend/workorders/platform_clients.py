"""Signing keys of the city 12345 platform: a key id and a secret, the secret kept encrypted.

The platform signs every request as the hospitals do (``backend/signatures.py``: HMAC-SHA256
of method, path, timestamp, nonce and body digest), naming its key in ``X-Platform-Key``; the
nonce's one use is claimed by the caller once the signature holds (``backend/nonces.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api_keys import ApiKey, check_key_change, new_key
from backend.audit import Actor, record_audit
from backend.models.workorders import CityPlatformClient
from backend.personal_data import PersonalDataCipher
from backend.signatures import SignatureRejected, SignedRequest, verify


def platform_key(
    session: Session,
    cipher: PersonalDataCipher,
    name: str,
    actor: Actor,
    now: datetime,
    *,
    rotate: bool,
) -> ApiKey:
    """Issue the first signing key of the client ``name`` (made if new), or (``rotate``)
    replace its key: the old one stops working when this commits. Audited."""
    client = session.scalar(
        select(CityPlatformClient).where(CityPlatformClient.name == name).with_for_update()
    )
    previous = client.key_id if client is not None else None
    check_key_change(f"city platform client {name}", previous, rotate=rotate)
    if client is None:
        client = CityPlatformClient(name=name)
        session.add(client)
    key = new_key("cp")
    client.key_id, client.secret_enc = key.key_id, cipher.encrypt(key.secret)
    session.flush()
    action = "city_platform.key_rotate" if rotate else "city_platform.key_issue"
    record_audit(session, actor, action, f"city_platform:{client.id}", now,
                 {"key_id": key.key_id, "previous_key_id": previous})  # fmt: skip
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

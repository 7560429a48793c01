"""API keys of the city 12345 platform: issued once, stored only as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import CallCenterError
from backend.models.workorders import CityPlatformClient


class BadApiKey(CallCenterError):
    code = "bad-api-key"
    http_status = 401


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_platform_key(session: Session, name: str) -> str:
    """A new client and its key; the key is shown this once and never stored in clear."""
    key = "cp_" + secrets.token_urlsafe(32)
    session.add(CityPlatformClient(name=name, key_hash=_digest(key)))
    session.flush()
    return key


def authenticate_platform(session: Session, key: str) -> CityPlatformClient:
    if not key:
        raise BadApiKey("缺少 X-Api-Key 请求头")
    # The digest is looked up by an index; comparing digests leaks nothing about the key.
    client = session.scalar(
        select(CityPlatformClient).where(CityPlatformClient.key_hash == _digest(key))
    )
    if client is None or not client.active:
        raise BadApiKey("接口密钥无效或已停用")
    return client

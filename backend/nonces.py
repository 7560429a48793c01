"""One-time nonces of signed partner requests (``backend/signatures.py``), kept in Redis.

A request's timestamp may lie up to the signature window before or after the server's clock,
so a captured request stays acceptable for at most twice the window after it was first seen:
its nonce is kept that long (SET NX EX). The same nonce again within that time is a replay:
refused (``replayed-request``) and audited, whoever sends it.

Keys: ``<prefix>:nonce:<partner kind>:<key id>:<nonce>``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis
from sqlalchemy.orm import Session, sessionmaker

from backend.audit import Actor, record_audit
from backend.db import transaction
from backend.errors import CallCenterError
from backend.signatures import SignedRequest


class RequestReplayed(CallCenterError):
    code = "replayed-request"
    http_status = 401


class NonceStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = f"{prefix}:nonce"

    def first_use(self, kind: str, key_id: str, nonce: str, window_seconds: int) -> bool:
        """True the first time the key sends ``nonce`` within twice the window."""
        key = f"{self._prefix}:{kind}:{key_id}:{nonce}"
        return bool(self._redis.set(key, "1", nx=True, ex=2 * window_seconds + 1))


def claim_nonce(
    nonces: NonceStore,
    factory: sessionmaker[Session],
    request: SignedRequest,
    *,
    kind: str,
    actor: Actor,
    window_seconds: int,
) -> None:
    """Accept the signed request's nonce once; RequestReplayed (audited as
    ``<kind>.replay_refused``) when it was used already."""
    if nonces.first_use(kind, request.key_id, request.nonce, window_seconds):
        return
    details = {"nonce": request.nonce, "method": request.method, "path": request.path[:256]}
    with transaction(factory) as db:
        target = f"{kind}_key:{request.key_id}"
        record_audit(db, actor, f"{kind}.replay_refused", target, datetime.now(UTC), details)
    raise RequestReplayed(
        "该请求已受理过（X-Nonce 重复），重放的请求不予处理；请用新的随机串和时间戳重新签名"
    )

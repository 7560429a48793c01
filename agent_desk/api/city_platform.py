"""The city 12345 platform's API: import orders, export replies (format: backend.workorders.exchange).

Every request is signed as the hospitals sign theirs (``backend/signatures.py``): the key id
in ``X-Platform-Key``, ``X-Timestamp``, ``X-Nonce`` and ``X-Signature``; a key issued by
``callcenter city-platform key issue|rotate`` (``platform_key``). A wrong key or signature
gets 401 ``bad-signature`` with the reason, a nonce used again within the window 401
``replayed-request`` (audited). Every import is audited under ``city:<client name>``
(``platform_sync``), every pull of the replies too.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

import time as clock
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel

from agent_desk.auth.audit import audit_now
from agent_desk.deps import ClientIp, SessionDep, StateDep
from agent_desk.errors import error_responses
from agent_desk.signed_requests import SignatureDep, signed_request
from backend.audit import Actor as AuditActor
from backend.models.workorders import CityPlatformClient
from backend.nonces import NonceStore, claim_nonce
from backend.workorders.exchange import ImportResult, PlatformBatch, PlatformReply, ReplyCursor
from backend.workorders.platform_clients import signed_platform_client
from backend.workorders.platform_sync import import_batch, replies_since
from backend.workorders.service import Actor

SIGNING = (
    "签名认证（与医院接口相同）：请求头 X-Platform-Key（密钥编号）、X-Timestamp（Unix秒）、"
    "X-Nonce（16至64位字母、数字、- 或 _，每个请求不同）、X-Signature = hex(HMAC-SHA256("
    "secret, METHOD + '\\n' + PATH?QUERY + '\\n' + TIMESTAMP + '\\n' + NONCE + '\\n' + "
    "hex(SHA256(BODY))))。签名错误返回401 bad-signature；重复的 X-Nonce 返回401 "
    "replayed-request。"
)

router = APIRouter(
    prefix="/api/city-platform",
    tags=["12345平台接口"],
    responses=error_responses(400, 401, 413, 422),
)


class ImportResponse(BaseModel):
    results: list[ImportResult]


class RepliesResponse(BaseModel):
    replies: list[PlatformReply]
    # Pass its since and since_id to get the next page; null when there was nothing new.
    next: ReplyCursor | None = None


def platform_client(
    request: Request,
    state: StateDep,
    session: SessionDep,
    address: ClientIp,
    signature: SignatureDep,
    x_platform_key: Annotated[str, Header(description="平台的接口密钥编号")] = "",
) -> CityPlatformClient:
    """The client whose key signed the request; 401 ``bad-signature`` or
    ``replayed-request`` otherwise."""
    signed = signed_request(request, x_platform_key, signature)
    window = state.booking_api.rules.signature_window_seconds  # the partner APIs' window
    client = signed_platform_client(
        session, state.cipher, signed, now=clock.time(), window_seconds=window
    )
    claim_nonce(
        NonceStore(state.redis, state.prefix), state.session_factory, signed,
        kind="city_platform", actor=AuditActor(f"city:{client.name}", address),
        window_seconds=window,
    )  # fmt: skip
    return client


Client = Annotated[CityPlatformClient, Depends(platform_client)]


@router.post("/orders", summary="推送工单（按平台工单号幂等）", description=SIGNING)
def import_orders(
    body: PlatformBatch, client: Client, state: StateDep, session: SessionDep, ip: ClientIp
) -> ImportResponse:
    service = state.workorders.service(session)
    results = import_batch(service, body, Actor(f"city:{client.name}", ip), datetime.now(UTC))
    session.commit()
    return ImportResponse(results=results)


@router.get("/replies", summary="拉取办理结果与回复（按更新时间增量）", description=SIGNING)
def replies(
    client: Client,
    session: SessionDep,
    state: StateDep,
    ip: ClientIp,
    since: Annotated[datetime, Query(description="ISO 时间，带时区")],
    since_id: Annotated[
        int | None, Query(ge=0, description="上一页 next.since_id（与 next.since 一起传）")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> RepliesResponse:
    moment = since if since.tzinfo else since.replace(tzinfo=UTC)
    found, cursor = replies_since(session, moment, limit, since_id=since_id)
    audit_now(
        state.session_factory, f"city:{client.name}", "city_platform.replies_pull",
        target=f"city:{client.name}", source_ip=ip,
        details={"since": moment.isoformat(), "since_id": since_id, "replies": len(found)},
    )  # fmt: skip
    return RepliesResponse(replies=found, next=cursor)

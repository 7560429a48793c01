"""The city 12345 platform's API: import orders, export replies (format: backend.workorders.exchange).

Authenticated by ``X-Api-Key`` (issued by ``issue_platform_key``); a wrong or missing key gets
401 ``bad-api-key``. Every import is audited under ``city:<client name>``.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel

from agent_desk.deps import ClientIp, SessionDep, StateDep
from agent_desk.errors import error_responses
from backend.models.workorders import CityPlatformClient
from backend.workorders.exchange import ImportResult, PlatformBatch, PlatformReply, ReplyCursor
from backend.workorders.platform_clients import authenticate_platform
from backend.workorders.platform_sync import import_batch, replies_since
from backend.workorders.service import Actor

router = APIRouter(
    prefix="/api/city-platform",
    tags=["12345平台接口"],
    responses=error_responses(400, 401, 422),
)


class ImportResponse(BaseModel):
    results: list[ImportResult]


class RepliesResponse(BaseModel):
    replies: list[PlatformReply]
    # Pass its since and since_id to get the next page; null when there was nothing new.
    next: ReplyCursor | None = None


def platform_client(
    session: SessionDep, x_api_key: Annotated[str, Header()] = ""
) -> CityPlatformClient:
    """The client the key was issued to; 401 ``bad-api-key`` otherwise."""
    return authenticate_platform(session, x_api_key)


Client = Annotated[CityPlatformClient, Depends(platform_client)]


@router.post("/orders", summary="推送工单（按平台工单号幂等）")
def import_orders(
    body: PlatformBatch, client: Client, state: StateDep, session: SessionDep, ip: ClientIp
) -> ImportResponse:
    service = state.workorders.service(session)
    results = import_batch(service, body, Actor(f"city:{client.name}", ip), datetime.now(UTC))
    session.commit()
    return ImportResponse(results=results)


@router.get("/replies", summary="拉取办理结果与回复（按更新时间增量）")
def replies(
    client: Client,
    session: SessionDep,
    since: Annotated[datetime, Query(description="ISO 时间，带时区")],
    since_id: Annotated[
        int | None, Query(ge=0, description="上一页 next.since_id（与 next.since 一起传）")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> RepliesResponse:
    moment = since if since.tzinfo else since.replace(tzinfo=UTC)
    found, cursor = replies_since(session, moment, limit, since_id=since_id)
    return RepliesResponse(replies=found, next=cursor)

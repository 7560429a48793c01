"""Public booking API for the online channel (what the WeChat mini-program calls).

Accounts and the patients they manage are opened and added by SMS code
(``agent_desk.api.public_accounts``); every call about patients and bookings sends the
account's token as ``Authorization: Bearer <token>``. The account is the phone owner, who may
manage several patients (就诊人); it sees and cancels only the bookings it made.

Every route is rate limited per client address (429 with ``Retry-After``); bodies above the
configured size get 413 (``agent_desk.body_limit``); ID and phone numbers are always masked in
responses. ``POST /bookings`` and ``POST /bookings/{code}/cancel`` take an
``Idempotency-Key`` header. The pieces the routes are made of (``count_request``,
``bearer_token_of``, ``book_unkeyed``) also make ``agent_desk.performance.booking_fast_path``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.concurrency import run_in_threadpool

from agent_desk.aio import loop_clients
from agent_desk.api.booking_schemas import (
    AnnouncementPublic,
    BookingCreate,
    BookingPublic,
    DepartmentPublic,
    HospitalPublic,
    PatientPublic,
    SchedulePublic,
    SlotPublic,
    booking_public,
)
from agent_desk.deps import ClientIp, StateDep
from agent_desk.errors import error_responses
from agent_desk.state import AppState
from backend.booking.errors import Unauthorized
from backend.booking.online import OnlineBooking
from backend.booking.rate_limit import RateLimiter
from backend.booking.reservations import BookRequest, CancelRequest, online_request
from backend.booking.rules import Channel
from backend.booking.service import BookingService
from backend.booking.views import BookingReceipt
from backend.errors import ServiceUnavailable
from backend.redis_commands import RedisUnavailable

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------------
# The pieces of a request, shared with the fast path


async def count_request(state: AppState, address: str) -> None:
    """The per-address rate limit every public route counts against (429 when over)."""
    config = state.booking_api
    limiter = RateLimiter(
        loop_clients(state).redis,
        prefix=config.redis_prefix,
        limit=config.rules.rate_limit_requests,
        window_seconds=config.rules.rate_limit_window_seconds,
    )
    try:
        await limiter.hit(address or "unknown")
    except RedisUnavailable as exc:
        # The limit cannot be checked, so the request is not served; the cause goes to the log,
        # not to the public.
        log.warning("public API refused a request: %s", exc)
        raise ServiceUnavailable("服务暂时不可用，请稍后再试") from exc


def bearer_token_of(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise Unauthorized("请先登录：请求头须带 Authorization: Bearer <账户令牌>")
    return token.strip()


async def book_unkeyed(
    state: AppState, token: str, body: BookingCreate, address: str
) -> BookingReceipt:
    """An online booking without an ``Idempotency-Key``: on the event loop, on the loop's
    asyncpg pool. The route below and the fast path both answer with this."""
    online = OnlineBooking(loop_clients(state).pool, state.online_booking.ctx)
    return await online.book(token, online_request_for(body, address))


def online_request_for(body: BookingCreate, address: str) -> Callable[[int], BookRequest]:
    """The booking request, once the token has named the account."""
    return partial(
        online_request,
        patient_id=body.patient_id,
        schedule_id=body.schedule_id,
        slot_id=body.slot_id,
        source_ip=address,
    )


# ----------------------------------------------------------------------------------------
# Dependencies


async def rate_limit(state: StateDep, address: ClientIp) -> None:
    await count_request(state, address)


async def online_service(state: StateDep) -> BookingService:
    return state.online_booking


async def bearer_token(authorization: Annotated[str, Header()] = "") -> str:
    return bearer_token_of(authorization)


OnlineService = Annotated[BookingService, Depends(online_service)]
BearerToken = Annotated[str, Depends(bearer_token)]


def current_account(service: OnlineService, token: BearerToken) -> int:
    return service.signed_in_account(token)


AccountId = Annotated[int, Depends(current_account)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]

ERRORS = error_responses(400, 401, 404, 409, 413, 422, 429)

router = APIRouter(
    prefix="/api/public",
    tags=["public booking"],
    dependencies=[Depends(rate_limit)],
    responses=ERRORS,
)

# ----------------------------------------------------------------------------------------
# Routes


@router.get("/hospitals", summary="搜索医院（名称或科室关键词、区、等级）")
def hospitals(
    service: OnlineService, q: str = "", district: str = "", level: str = ""
) -> list[HospitalPublic]:
    found = service.search_hospitals(q, district=district, level=level)
    return [HospitalPublic.model_validate(h) for h in found]


@router.get("/hospitals/{hospital_id}/departments", summary="医院的科室")
def departments(hospital_id: int, service: OnlineService, q: str = "") -> list[DepartmentPublic]:
    return [DepartmentPublic.model_validate(d) for d in service.list_departments(hospital_id, q)]


@router.get("/schedules", summary="出诊安排及网上可约号源数")
def schedules(
    service: OnlineService,
    hospital_id: int | None = None,
    department_id: int | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> list[SchedulePublic]:
    found = service.list_schedules(
        channel=Channel.ONLINE,
        hospital_id=hospital_id,
        department_id=department_id,
        day_from=day_from,
        day_to=day_to,
    )
    return [SchedulePublic.model_validate(s) for s in found]


@router.get("/schedules/{schedule_id}/slots", summary="出诊的网上号源")
def slots(schedule_id: int, service: OnlineService) -> list[SlotPublic]:
    return [SlotPublic.model_validate(s) for s in service.list_slots(schedule_id, Channel.ONLINE)]


@router.get("/announcements", summary="公告（全平台的及该医院的，撤下或过期的除外）")
def announcements(
    service: OnlineService, hospital_id: int | None = None
) -> list[AnnouncementPublic]:
    return [AnnouncementPublic.model_validate(a) for a in service.announcements(hospital_id)]


@router.get("/patients", summary="本账户管理的就诊人")
def my_patients(service: OnlineService, account_id: AccountId) -> list[PatientPublic]:
    return [PatientPublic.model_validate(p) for p in service.patients_of_account(account_id)]


@router.post("/bookings", status_code=201, summary="预约（支持 Idempotency-Key）")
async def book(
    body: BookingCreate,
    state: StateDep,
    token: BearerToken,
    address: ClientIp,
    idempotency_key: IdempotencyKey = None,
) -> BookingPublic:
    if idempotency_key is None:
        return booking_public(await book_unkeyed(state, token, body, address))
    # The key store is synchronous: a rarer path, in the thread pool.
    receipt = await run_in_threadpool(
        state.online_booking.book_for_account,
        token,
        online_request_for(body, address),
        idempotency_key,
    )
    return booking_public(receipt)


@router.post("/bookings/{code}/cancel", summary="取消预约（支持 Idempotency-Key）")
def cancel(
    code: str,
    service: OnlineService,
    account_id: AccountId,
    address: ClientIp,
    idempotency_key: IdempotencyKey = None,
) -> BookingPublic:
    request = CancelRequest(
        booking_code=code,
        channel=Channel.ONLINE,
        actor=f"account:{account_id}",
        account_id=account_id,
        source_ip=address,
    )
    return booking_public(service.cancel(request, idempotency_key))


@router.get("/bookings", summary="我的预约")
def my_bookings(service: OnlineService, account_id: AccountId) -> list[BookingPublic]:
    return [booking_public(r) for r in service.bookings_of_account(account_id)]

"""Public booking API for the online channel (what the WeChat mini-program calls).

Accounts: ``POST /api/public/accounts`` with a phone number returns an account token; every
call about patients and bookings sends it as ``Authorization: Bearer <token>``. The account is
the phone owner, who may manage several patients (就诊人). In production the SMS code check of
the platform's gateway sits in front of account creation.

Every route is rate limited per client address (429 with ``Retry-After``); bodies above the
configured size get 413; ID and phone numbers are always masked in responses. ``POST
/bookings`` and ``POST /bookings/{code}/cancel`` take an ``Idempotency-Key`` header.

This module also holds the HTTP plumbing the hospital API shares: the service provider.
"""

# No ``from __future__ import annotations`` here: FastAPI must evaluate the dependency
# aliases built inside ``build_router`` (closures), which string annotations would hide.

import json
import logging
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from agent_desk.aio import loop_clients
from agent_desk.deps import ClientIp, StateDep
from agent_desk.errors import error_responses
from agent_desk.state import AppState
from backend.booking.api_config import BookingApiConfig
from backend.booking.context import BookingContext
from backend.booking.errors import Unauthorized
from backend.booking.online import OnlineBooking
from backend.booking.rate_limit import RateLimiter
from backend.booking.reservations import BookRequest, CancelRequest, online_request
from backend.booking.rules import BookingRules, Channel
from backend.booking.service import BookingService
from backend.booking.views import BookingReceipt
from backend.errors import ServiceUnavailable
from backend.models.booking import Announcement
from backend.redis_commands import RedisUnavailable

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------------
# Shared HTTP plumbing


class ServiceCache:
    """One BookingService per app context, built on first use (the calendar is read once).

    A FastAPI dependency (``Depends(cache)``), and callable directly where there is no
    dependency solver (``agent_desk.performance.booking_fast_path``)."""

    def __init__(self, rules: BookingRules) -> None:
        self._rules = rules
        self._built: dict[int, BookingService] = {}

    def of(self, ctx: AppState) -> BookingService:
        service = self._built.get(id(ctx))
        if service is None:
            booking_ctx = BookingContext.from_settings(ctx.settings, self._rules)
            service = self._built[id(ctx)] = BookingService(ctx.session_factory, booking_ctx)
        return service

    async def __call__(self, ctx: StateDep) -> BookingService:  # no I/O after the first call
        return self.of(ctx)


async def count_request(ctx: AppState, config: BookingApiConfig, address: str) -> None:
    """The per-address rate limit every public route counts against (429 when over)."""
    rules = config.rules
    limiter = RateLimiter(
        loop_clients(ctx).redis,
        prefix=config.redis_prefix,
        limit=rules.rate_limit_requests,
        window_seconds=rules.rate_limit_window_seconds,
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


# ----------------------------------------------------------------------------------------
# Schemas: create (what clients send) and public (what they get, masked)


class AccountCreate(BaseModel):
    phone: str = Field(min_length=7, max_length=20, examples=["13900001111"])


class AccountToken(BaseModel):
    account_id: int
    token: str


class PatientCreate(BaseModel):
    id_number: str = Field(min_length=1, max_length=32, description="居民身份证号码（18位）")
    name: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=7, max_length=20)


class PatientPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    id_number: str
    phone: str


class HospitalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    level: str
    district: str
    address: str
    phone: str
    booking_notes: str


class DepartmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    hospital_id: int
    code: str
    name: str


class SchedulePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    hospital_id: int
    hospital_name: str
    department_id: int
    department_name: str
    doctor_name: str
    doctor_title: str
    day: str
    session: str
    session_label: str
    starts_at: str
    fee: str
    status: str
    capacity: int
    available: int


class SlotPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    seq: int
    time: str
    channel: str
    available: bool


# Row ids are PostgreSQL integers: a number beyond them is refused as a bad request here,
# rather than left for the database driver to choke on.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class BookingCreate(BaseModel):
    patient_id: RowId
    schedule_id: RowId
    slot_id: RowId | None = Field(default=None, description="不填则预约该出诊下一个可用号源")


class BookingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    status: str
    status_label: str
    channel: str
    hospital_name: str
    department_name: str
    doctor_name: str
    doctor_title: str
    day: str
    session: str
    session_label: str
    slot_seq: int
    slot_time: str
    fee: str
    patient_name: str
    id_number: str
    phone: str
    booked_at: str
    cancel_deadline: str


class AnnouncementPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    hospital_id: int | None
    title: str
    body: str
    published_at: Any


def booking_public(receipt: BookingReceipt) -> BookingPublic:
    return BookingPublic.model_validate(receipt, from_attributes=True)


def booking_public_json(receipt: BookingReceipt) -> bytes:
    """``booking_public(receipt)`` as JSON, written without building the model: the fields
    are the receipt's own (strings and numbers made by the service), and the model's
    validation and dump showed in a web worker's profile (bench/README.md). The same bytes
    as the model's ``model_dump_json`` (tested)."""
    fields = {name: getattr(receipt, name) for name in _PUBLIC_FIELDS}
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


_PUBLIC_FIELDS = tuple(BookingPublic.model_fields)


async def book_unkeyed(
    ctx: AppState, service: BookingService, token: str, body: BookingCreate, address: str
) -> BookingReceipt:
    """An online booking without an ``Idempotency-Key``: on the event loop, on the asyncpg
    pool. The route below and ``booking_fast_path`` both answer with this."""
    online = OnlineBooking(loop_clients(ctx).pool, service.ctx)
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


ERRORS = error_responses(400, 401, 404, 409, 413, 422, 429)


# ----------------------------------------------------------------------------------------
# The router


def build_router(config: BookingApiConfig, services: ServiceCache | None = None) -> APIRouter:
    get_service = services or ServiceCache(config.rules)

    async def rate_limit(ctx: StateDep, address: ClientIp) -> None:
        await count_request(ctx, config, address)

    Service = Annotated[BookingService, Depends(get_service)]

    async def bearer_token(authorization: Annotated[str, Header()] = "") -> str:
        return bearer_token_of(authorization)

    BearerToken = Annotated[str, Depends(bearer_token)]

    def current_account(service: Service, token: BearerToken) -> int:
        return service.signed_in_account(token)

    AccountId = Annotated[int, Depends(current_account)]
    IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]

    router = APIRouter(
        prefix="/api/public",
        tags=["public booking"],
        dependencies=[Depends(rate_limit)],
        responses=ERRORS,
    )

    @router.post("/accounts", status_code=201, summary="开通账户（手机号），返回账户令牌")
    def open_account(body: AccountCreate, service: Service) -> AccountToken:
        account_id, token = service.open_account(body.phone)
        return AccountToken(account_id=account_id, token=token)

    @router.get("/hospitals", summary="搜索医院（名称或科室关键词、区、等级）")
    def hospitals(
        service: Service, q: str = "", district: str = "", level: str = ""
    ) -> list[HospitalPublic]:
        found = service.search_hospitals(q, district=district, level=level)
        return [HospitalPublic.model_validate(h) for h in found]

    @router.get("/hospitals/{hospital_id}/departments", summary="医院的科室")
    def departments(hospital_id: int, service: Service, q: str = "") -> list[DepartmentPublic]:
        return [
            DepartmentPublic.model_validate(d) for d in service.list_departments(hospital_id, q)
        ]

    @router.get("/schedules", summary="出诊安排及网上可约号源数")
    def schedules(
        service: Service,
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
    def slots(schedule_id: int, service: Service) -> list[SlotPublic]:
        return [
            SlotPublic.model_validate(s) for s in service.list_slots(schedule_id, Channel.ONLINE)
        ]

    @router.get("/announcements", summary="公告")
    def announcements(ctx: StateDep, hospital_id: int | None = None) -> list[AnnouncementPublic]:
        with ctx.session_factory() as session:
            query = (
                select(Announcement)
                .order_by(Announcement.published_at.desc(), Announcement.id.desc())
                .limit(50)
            )
            if hospital_id is not None:
                query = query.where(
                    or_(Announcement.hospital_id == hospital_id, Announcement.hospital_id.is_(None))
                )
            return [AnnouncementPublic.model_validate(a) for a in session.execute(query).scalars()]

    @router.get("/patients", summary="本账户管理的就诊人")
    def my_patients(service: Service, account_id: AccountId) -> list[PatientPublic]:
        return [PatientPublic.model_validate(p) for p in service.patients_of_account(account_id)]

    @router.post("/patients", status_code=201, summary="登记就诊人（实名，身份证号校验）")
    def register_patient(
        body: PatientCreate, service: Service, account_id: AccountId, address: ClientIp
    ) -> PatientPublic:
        patient = service.register_patient(
            id_number=body.id_number,
            name=body.name,
            phone=body.phone,
            actor=f"account:{account_id}",
            account_id=account_id,
            source_ip=address,
        )
        return PatientPublic.model_validate(patient)

    @router.post("/bookings", status_code=201, summary="预约（支持 Idempotency-Key）")
    async def book(
        body: BookingCreate,
        ctx: StateDep,
        service: Service,
        token: BearerToken,
        address: ClientIp,
        idempotency_key: IdemKey = None,
    ) -> BookingPublic:
        if idempotency_key is None:
            return booking_public(await book_unkeyed(ctx, service, token, body, address))
        # The key store is synchronous: a rarer path, in the thread pool.
        receipt = await run_in_threadpool(
            service.book_for_account, token, online_request_for(body, address), idempotency_key
        )
        return booking_public(receipt)

    @router.post("/bookings/{code}/cancel", summary="取消预约（支持 Idempotency-Key）")
    def cancel(
        code: str,
        service: Service,
        account_id: AccountId,
        address: ClientIp,
        idempotency_key: IdemKey = None,
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
    def my_bookings(service: Service, account_id: AccountId) -> list[BookingPublic]:
        return [booking_public(r) for r in service.bookings_of_account(account_id)]

    return router


__all__ = ["BookingApiConfig", "build_router"]

"""The hospital integration API: the standard interface every hospital implements against.

Authentication: each hospital has a key id and a secret. Every request carries

- ``X-Hospital-Key``: the key id,
- ``X-Timestamp``: Unix seconds (within the configured window of the server's clock),
- ``X-Nonce``: 16-64 letters, digits, ``-`` or ``_``, new for every request,
- ``X-Signature``: hex HMAC-SHA256 under the secret of
  ``METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nSHA256_HEX(BODY)``.

A wrong key, stale timestamp or wrong signature gets 401 ``bad-signature`` with the reason; a
nonce used again within the window gets 401 ``replayed-request`` and is audited
(``backend/nonces.py``). Every pull of the booking feed is audited. Hospitals see patient ID
and phone numbers in full: they check the real name at the counter and notify patients when
a session stops. docs/partner-api-signing.md describes the signing for integrators.
"""

from __future__ import annotations

import time as clock
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from agent_desk.api.booking_schemas import BookingPublic, booking_public
from agent_desk.deps import ClientIp, StateDep
from agent_desk.errors import error_responses
from agent_desk.signed_requests import SignatureDep, signed_request
from backend.booking.hospital_feed import SchedulePush, SlotPush
from backend.booking.rules import SessionOfDay
from backend.booking.service import BookingService
from backend.models.booking import Hospital
from backend.nonces import NonceStore

SIGNING = (
    "签名认证：请求头 X-Hospital-Key（密钥编号）、X-Timestamp（Unix秒，允许误差见配置）、"
    "X-Nonce（16至64位字母、数字、- 或 _，每个请求不同）、"
    "X-Signature = hex(HMAC-SHA256(secret, METHOD + '\\n' + PATH?QUERY + '\\n' + TIMESTAMP"
    " + '\\n' + NONCE + '\\n' + hex(SHA256(BODY))))。签名错误返回401 bad-signature 及原因；"
    "窗口内重复使用的 X-Nonce 返回401 replayed-request（重放，记入审计）。"
)


# Schemas: what a hospital sends (``...Create``; the two actions' payloads ``SessionStop`` and
# ``AttendanceReport``) and what it gets back (``...Public``, patients' numbers in full).


class SlotCreate(BaseModel):
    seq: int = Field(ge=1, le=10000)
    time: time
    channel: Literal["any", "phone", "online"] = "any"


class ScheduleCreate(BaseModel):
    external_id: str = Field(min_length=1, max_length=64, description="医院自己的出诊编号")
    department_code: str = Field(min_length=1, max_length=32)
    department_name: str = Field(min_length=1, max_length=64)
    doctor_code: str = Field(default="", max_length=32)
    doctor_name: str = Field(default="", max_length=64)
    doctor_title: str = Field(default="", max_length=32)
    day: date
    session: Literal["morning", "afternoon", "evening"]
    starts: time
    ends: time
    fee: Decimal = Field(ge=0, le=100000, decimal_places=2)
    slots: list[SlotCreate] = Field(min_length=1, max_length=500)


class ScheduleBatchCreate(BaseModel):
    schedules: list[ScheduleCreate] = Field(min_length=1, max_length=200)


class ScheduleBatchPublic(BaseModel):
    created: int
    updated: int
    slots_added: int
    schedule_ids: dict[str, int]


class SessionStop(BaseModel):
    reason: str = Field(min_length=1, max_length=256, examples=["医生临时出差"])


class AffectedBookingPublic(BaseModel):
    code: str
    patient_name: str
    phone: str


class SessionStopPublic(BaseModel):
    cancelled: int
    affected: list[AffectedBookingPublic]


class FeedItemPublic(BaseModel):
    cursor: int
    kind: str
    booking: BookingPublic


class FeedPublic(BaseModel):
    items: list[FeedItemPublic]
    next_cursor: int


class AttendanceReport(BaseModel):
    attended: bool = Field(description="true: 已就诊；false: 爽约")


def _push(item: ScheduleCreate) -> SchedulePush:
    return SchedulePush(
        external_id=item.external_id,
        department_code=item.department_code,
        department_name=item.department_name,
        day=item.day,
        session=SessionOfDay(item.session),
        starts=item.starts,
        ends=item.ends,
        fee=item.fee,
        slots=tuple(SlotPush(s.seq, s.time, s.channel) for s in item.slots),
        doctor_code=item.doctor_code,
        doctor_name=item.doctor_name,
        doctor_title=item.doctor_title,
    )


async def booking_service(state: StateDep) -> BookingService:
    # The hospitals' API runs under the online channel's CC_BOOKING_* configuration (its
    # signature window and body limit).
    return state.online_booking


Service = Annotated[BookingService, Depends(booking_service)]


def current_hospital(
    request: Request,
    service: Service,
    state: StateDep,
    address: ClientIp,
    signature: SignatureDep,
    x_hospital_key: Annotated[str, Header(description="医院的接口密钥编号")] = "",
) -> Hospital:
    signed = signed_request(request, x_hospital_key, signature)
    nonces = NonceStore(state.redis, state.prefix)
    return service.signed_hospital(signed, now=clock.time(), nonces=nonces, source_ip=address)


CurrentHospital = Annotated[Hospital, Depends(current_hospital)]

router = APIRouter(
    prefix="/api/hospital",
    tags=["hospital integration"],
    responses=error_responses(400, 401, 404, 409, 413, 422, 429),
)


@router.post(
    "/schedules",
    summary="上传出诊安排和号源（按医院出诊编号新增或更新）",
    description=SIGNING,
)
def push_schedules(
    body: ScheduleBatchCreate, service: Service, hospital: CurrentHospital
) -> ScheduleBatchPublic:
    result = service.push_schedules(hospital, [_push(s) for s in body.schedules])
    return ScheduleBatchPublic(
        created=result.created,
        updated=result.updated,
        slots_added=result.slots_added,
        schedule_ids=result.schedule_ids,
    )


@router.post(
    "/schedules/{external_id}/stop",
    summary="停诊：取消该出诊的预约，并列出需通知的患者",
    description=SIGNING,
)
def stop_session(
    external_id: str,
    body: SessionStop,
    service: Service,
    hospital: CurrentHospital,
    address: ClientIp,
) -> SessionStopPublic:
    affected = service.stop_session(hospital, external_id, body.reason, source_ip=address)
    return SessionStopPublic(
        cancelled=len(affected),
        affected=[
            AffectedBookingPublic(code=a.code, patient_name=a.patient_name, phone=a.phone)
            for a in affected
        ],
    )


@router.get(
    "/bookings",
    summary="拉取游标之后的预约变化（预约、取消、就诊、爽约）",
    description=SIGNING,
)
def bookings_since(
    service: Service,
    hospital: CurrentHospital,
    address: ClientIp,
    cursor: int = 0,
    limit: int = 100,
) -> FeedPublic:
    items, next_cursor = service.bookings_since(hospital, cursor, limit, source_ip=address)
    return FeedPublic(
        items=[
            FeedItemPublic(cursor=i.cursor, kind=i.kind, booking=booking_public(i.booking))
            for i in items
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/bookings/{code}/attendance",
    summary="报告就诊或爽约",
    description=SIGNING,
)
def attendance(
    code: str,
    body: AttendanceReport,
    service: Service,
    hospital: CurrentHospital,
    address: ClientIp,
) -> BookingPublic:
    receipt = service.report_attendance(hospital, code, body.attended, source_ip=address)
    return booking_public(receipt)

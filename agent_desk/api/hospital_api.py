"""The hospital integration API: the standard interface every hospital implements against.

Authentication: each hospital has a key id and a secret. Every request carries

- ``X-Hospital-Key``: the key id,
- ``X-Timestamp``: Unix seconds (within the configured window of the server's clock),
- ``X-Nonce``: 16-64 letters, digits, ``-`` or ``_``, new for every request,
- ``X-Signature``: hex HMAC-SHA256 under the secret of
  ``METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nSHA256_HEX(BODY)``, the path and query exactly as
  sent on the request line (percent-encoded: an id with ``/`` is stopped as ``A%2F1``).

A wrong key, stale timestamp or wrong signature gets 401 ``bad-signature`` with the reason; a
nonce used again within the window gets 401 ``replayed-request`` and is audited
(``backend/nonces.py``). Every pull of the booking feed is audited. Hospitals see patient ID
and phone numbers in full: they check the real name at the counter and notify patients when
a session stops. docs/partner-api-signing.md describes the signing for integrators, with a
worked example; ``backend/booking/hospital_client.py`` is a reference client.

The headers are checked before the body is read (``agent_desk/hospital_gate.py``): a request
without them, with a stale timestamp or an unknown key is refused without reading its body;
the body is limited to ``CC_HOSPITAL_API_MAX_BODY_BYTES`` as it arrives. Every error, a
malformed body included, answers ``{error, message}``.
"""

from __future__ import annotations

import time as clock
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request

from agent_desk.api.booking_schemas import BookingPublic, booking_public
from agent_desk.api.hospital_schemas import (
    AffectedBookingPublic,
    AttendanceReport,
    FeedItemPublic,
    FeedPublic,
    ScheduleBatchCreate,
    ScheduleBatchPublic,
    ScheduleCreate,
    SessionStop,
    SessionStopPublic,
)
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
    " + '\\n' + NONCE + '\\n' + hex(SHA256(BODY))))，PATH?QUERY 为请求行中原样发送的路径和查询串"
    "（已百分号编码，如 /api/hospital/schedules/A%2F1/stop）。签名错误返回401 bad-signature 及原因；"
    "窗口内重复使用的 X-Nonce 返回401 replayed-request（重放，记入审计）。"
    "所有错误的格式均为 {error, message}。详见 docs/partner-api-signing.md。"
)


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
    responses=error_responses(400, 401, 404, 405, 409, 413, 422, 429),
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
    # ``:path``: an id may hold ``/`` (sent as %2F, decoded by the server before routing).
    "/schedules/{external_id:path}/stop",
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
    cursor: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
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

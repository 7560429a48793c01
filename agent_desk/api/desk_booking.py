"""Booking from the desk (phone channel): hospital → department → schedule → slot, register
or find the patient by real name and ID number, book, cancel. Refusals keep the rule's code
so the agent can tell the caller which rule refused. A booking registers the caller and books
in one transaction and takes the page's ``Idempotency-Key`` (see ``book``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from agent_desk.deps import BookingDeskUser, StateDep
from agent_desk.errors import error_responses
from backend.booking.patients import NewPatient
from backend.booking.reservations import BookRequest, CancelRequest
from backend.booking.rules import Channel
from backend.booking.service import BookingService
from backend.booking.views import (
    BookingReceipt,
    DepartmentView,
    HospitalView,
    ScheduleView,
    SlotView,
)
from backend.personal_data import mask_id_number, mask_name, mask_phone

# Schemas: what the agent sends for the caller (``PhoneBookingCreate``, the cancel's check
# ``PhoneBookingCancel``) and what the desk shows (``PhoneBookingPublic``, masked).


class PhoneBookingCreate(BaseModel):
    schedule_id: int = Field(ge=1)
    slot_id: int | None = Field(default=None, ge=1)
    id_number: str = Field(min_length=15, max_length=18)
    name: str = Field(min_length=1, max_length=32)
    phone: str = Field(min_length=7, max_length=20)
    call_id: str | None = Field(default=None, max_length=64)


class PhoneBookingCancel(BaseModel):
    id_number: str = Field(min_length=15, max_length=18)


class PhoneBookingPublic(BaseModel):
    code: str
    status: str
    hospital_name: str
    department_name: str
    doctor_name: str
    day: str
    session: str
    slot_seq: int
    slot_time: str
    fee: str
    patient_name: str  # masked
    id_number: str  # masked
    phone: str  # masked
    cancel_deadline: str


def _receipt(r: BookingReceipt) -> PhoneBookingPublic:
    return PhoneBookingPublic(
        code=r.code,
        status=r.status,
        hospital_name=r.hospital_name,
        department_name=r.department_name,
        doctor_name=r.doctor_name,
        day=r.day,
        session=r.session,
        slot_seq=r.slot_seq,
        slot_time=r.slot_time,
        fee=r.fee,
        patient_name=mask_name(r.patient_name),
        id_number=mask_id_number(r.id_number),
        phone=mask_phone(r.phone),
        cancel_deadline=r.cancel_deadline,
    )


async def phone_booking(state: StateDep) -> BookingService:
    return state.phone_booking


Service = Annotated[BookingService, Depends(phone_booking)]

router = APIRouter(
    prefix="/api/desk/booking",
    tags=["坐席预约"],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)


@router.get("/hospitals", summary="查医院")
def hospitals(
    service: Service, caller: BookingDeskUser, q: Annotated[str, Query(max_length=64)] = ""
) -> list[HospitalView]:
    return service.search_hospitals(q)[:50]


@router.get("/hospitals/{hospital_id}/departments", summary="医院的科室")
def departments(
    hospital_id: int, service: Service, caller: BookingDeskUser
) -> list[DepartmentView]:
    return service.list_departments(hospital_id)


@router.get("/schedules", summary="科室出诊（可约号源）")
def schedules(
    service: Service, caller: BookingDeskUser, department_id: Annotated[int, Query(ge=1)]
) -> list[ScheduleView]:
    return service.list_schedules(channel=Channel.PHONE, department_id=department_id)


@router.get("/schedules/{schedule_id}/slots", summary="出诊的号序")
def slots(schedule_id: int, service: Service, caller: BookingDeskUser) -> list[SlotView]:
    return service.list_slots(schedule_id, Channel.PHONE)


@router.post("/bookings", status_code=201, summary="为来电人预约（实名，支持 Idempotency-Key）")
def book(
    body: PhoneBookingCreate,
    service: Service,
    caller: BookingDeskUser,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> PhoneBookingPublic:
    """Registers the caller as a patient and books, in one transaction. The page sends one
    key per booking attempt and keeps it across its retries, so a retry after a lost answer
    gets the first booking back instead of a second one."""
    request = BookRequest(
        schedule_id=body.schedule_id,
        channel=Channel.PHONE,
        actor=f"agent:{caller.username}",
        id_number=body.id_number,
        slot_id=body.slot_id,
        agent_id=caller.session.agent_id,
        source_ip=caller.ip,
    )
    patient = NewPatient(id_number=body.id_number, name=body.name, phone=body.phone)
    return _receipt(service.register_and_book(patient, request, idempotency_key))


@router.post("/bookings/{code}/cancel", summary="取消预约（须核对身份证号）")
def cancel(
    code: str, body: PhoneBookingCancel, service: Service, caller: BookingDeskUser
) -> PhoneBookingPublic:
    request = CancelRequest(
        booking_code=code,
        channel=Channel.PHONE,
        actor=f"agent:{caller.username}",
        id_number=body.id_number,
        source_ip=caller.ip,
    )
    return _receipt(service.cancel(request))

"""The booking APIs' schemas: what clients send (``...Create``) and what they get back
(``...Public``). The online channel gets personal data masked; the hospitals' API reuses
``BookingPublic`` with the numbers in full (the service decides, by who asks)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backend.booking.views import BookingReceipt


class CodeAsked(BaseModel):
    phone: str = Field(min_length=7, max_length=20, examples=["13900001111"])


class AccountCreate(BaseModel):
    phone: str = Field(min_length=7, max_length=20, examples=["13900001111"])
    code: str = Field(min_length=1, max_length=12, description="短信验证码（6位数字）")


class CodeSent(BaseModel):
    expires_in: int = Field(description="验证码有效秒数")


class PatientConfirm(BaseModel):
    id_number: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=12, description="短信验证码（6位数字）")


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
    published_at: datetime


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

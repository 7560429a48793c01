"""What the booking service hands back: plain dataclasses, personal data already masked
(unless the caller asked to reveal it), ready for an API, a desk page or the IVR's voice."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.booking.rules import CHANNEL_LABELS, SESSION_LABELS, STATUS_LABELS
from backend.models.users import Role

# Roles that see ID and phone numbers in full: hospitals check real names at the counter and
# call patients when a session stops; administrators handle disputes. Everyone else (agents,
# supervisors, the online channel) sees them masked.
REVEALING_ROLES = frozenset({Role.HOSPITAL, Role.ADMIN})


def may_reveal(role: Role | None) -> bool:
    return role in REVEALING_ROLES


@dataclass(frozen=True)
class HospitalView:
    id: int
    code: str
    name: str
    level: str
    district: str
    address: str
    phone: str
    booking_notes: str


@dataclass(frozen=True)
class DepartmentView:
    id: int
    hospital_id: int
    code: str
    name: str


@dataclass(frozen=True)
class ScheduleView:
    id: int
    hospital_id: int
    hospital_name: str
    department_id: int
    department_name: str
    doctor_name: str  # "" for a department's general clinic (普通门诊)
    doctor_title: str
    day: str  # ISO date
    session: str
    session_label: str
    starts_at: str  # local "HH:MM"
    fee: str
    status: str
    capacity: int
    available: int  # free slots the asking channel may take now


@dataclass(frozen=True)
class SlotView:
    id: int
    seq: int
    time: str  # local "HH:MM"
    channel: str
    available: bool


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    hospital_id: int | None  # None: platform-wide
    title: str
    body: str
    published_at: datetime


@dataclass(frozen=True)
class PatientView:
    id: int
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class BookingReceipt:
    """One booking as the citizen hears it: where, when, which number, which status."""

    code: str
    status: str
    channel: str
    hospital_name: str
    department_name: str
    doctor_name: str
    doctor_title: str
    day: str  # ISO date
    session: str
    slot_seq: int
    slot_time: str  # local "HH:MM"
    fee: str
    patient_name: str
    id_number: str
    phone: str
    booked_at: str  # ISO, UTC
    cancel_deadline: str  # ISO, local time
    hospital_code: str = ""  # the IVR plays the hospital's emergency message by it

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def session_label(self) -> str:
        return SESSION_LABELS.get(self.session, self.session)

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, self.channel)

    def speech(self) -> str:
        """The sentence the IVR reads out (TTS) and an agent may read to the caller."""
        y, m, d = self.day.split("-")
        doctor = f"{self.doctor_name}{self.doctor_title}" if self.doctor_name else "普通门诊"
        return (
            f"您预约的是{self.hospital_name}{self.department_name}，{doctor}，"
            f"{int(y)}年{int(m)}月{int(d)}日{self.session_label}{self.slot_time}，"
            f"第{self.slot_seq}号，预约状态：{self.status_label}。"
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BookingReceipt:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class AffectedBooking:
    """A booking cancelled because its session stopped: whom to notify."""

    code: str
    patient_name: str
    phone: str


@dataclass(frozen=True)
class ConfirmationSheet:
    """The monthly confirmation sheet the health commission pays by."""

    year: int
    month: int
    total: int
    online: int
    phone: int  # agents and the IVR's self-service together
    price_online: str
    price_phone: str
    amount_online: str
    amount_phone: str
    amount_total: str

"""What a hospital sends to the integration API (``...Create``, ``SessionStop``,
``AttendanceReport``) and what it gets back (``...Public``, patients' numbers in full).

Every model a hospital sends is strict: an unknown field (a typo of a field's name) is
refused with 422 ``invalid-request`` naming it, instead of being dropped. The push's size is
bounded: at most ``MAX_SCHEDULES_PER_PUSH`` schedules and ``MAX_SLOTS_PER_PUSH`` slots
(``MAX_SLOTS_PER_SCHEDULE`` each), e.g. a week of 35 departments' morning and afternoon
sessions of 40 numbers each (490 schedules, 19 600 slots) in one push; the body limit of
the API (``CC_HOSPITAL_API_MAX_BODY_BYTES``) is sized so that the largest such push fits
(tests/integration/test_hospital_contract.py builds it). The checks against the calendar
and the clock (days, sessions, slots inside their session) are the service's
(``backend/booking/schedule_checks.py``): they hold for every caller, not only this API.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from agent_desk.api.booking_schemas import BookingPublic

MAX_SCHEDULES_PER_PUSH = 500
MAX_SLOTS_PER_SCHEDULE = 200
MAX_SLOTS_PER_PUSH = 20_000
# Ids and codes: printable, no control characters. ``/`` and non-ASCII are allowed
# (percent-encode them in a URL: docs/partner-api-signing.md).
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

STRICT = ConfigDict(extra="forbid")

SCHEDULE_EXAMPLE: dict[str, JsonValue] = {
    "external_id": "NK-D001-20261207-am",
    "department_code": "NK",
    "department_name": "内科",
    "doctor_code": "D001",
    "doctor_name": "王晓梅",
    "doctor_title": "主任医师",
    "day": "2026-12-07",
    "session": "morning",
    "starts": "08:00",
    "ends": "11:30",
    "fee": "50.00",
    "slots": [
        {"seq": 1, "time": "08:00", "channel": "online"},
        {"seq": 2, "time": "08:10", "channel": "phone"},
        {"seq": 3, "time": "08:20", "channel": "any"},
    ],
}


class SlotCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"seq": 1, "time": "08:00"}]}
    )
    seq: int = Field(ge=1, le=10000, description="号序，同一出诊内唯一")
    time: dt.time = Field(description="就诊时间（北京时间，不带时区），在出诊时间之内")
    channel: Literal["any", "phone", "online"] = Field(
        default="any", description="哪些渠道可约：any 任意，phone 电话，online 网上"
    )


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SCHEDULE_EXAMPLE]})
    external_id: str = Field(
        min_length=1, max_length=64, pattern=PRINTABLE, description="医院自己的出诊编号"
    )
    department_code: str = Field(min_length=1, max_length=32, pattern=PRINTABLE)
    department_name: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    doctor_code: str = Field(
        default="", max_length=32, description="与 doctor_name 同时给出，或都不给（普通门诊）"
    )
    doctor_name: str = Field(default="", max_length=64)
    doctor_title: str = Field(default="", max_length=32, examples=["主任医师"])
    day: dt.date = Field(description="出诊日期：今天至90天后")
    session: Literal["morning", "afternoon", "evening"] = Field(
        description="上午（12:00前开始）、下午（12:00至17:59开始）、晚间（17:00起开始）"
    )
    starts: dt.time = Field(description="开始时间（北京时间）")
    ends: dt.time = Field(description="结束时间，晚于开始时间")
    fee: Decimal = Field(ge=0, le=100000, decimal_places=2, description="挂号费（元）")
    slots: list[SlotCreate] = Field(min_length=1, max_length=MAX_SLOTS_PER_SCHEDULE)


class ScheduleBatchCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"schedules": [SCHEDULE_EXAMPLE]}]}
    )
    schedules: list[ScheduleCreate] = Field(min_length=1, max_length=MAX_SCHEDULES_PER_PUSH)

    @model_validator(mode="after")
    def _bounded(self) -> "ScheduleBatchCreate":
        slots = sum(len(s.slots) for s in self.schedules)
        if slots > MAX_SLOTS_PER_PUSH:
            raise ValueError(f"一次最多上传{MAX_SLOTS_PER_PUSH}个号源（本次{slots}个），请分批")
        return self


class ScheduleBatchPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": 1,
                    "updated": 0,
                    "slots_added": 3,
                    "schedule_ids": {"NK-D001-20261207-am": 4711},
                }
            ]
        }
    )
    created: int
    updated: int
    slots_added: int
    schedule_ids: dict[str, int]


class SessionStop(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "医生临时出差"}]}
    )
    reason: str = Field(min_length=1, max_length=256, examples=["医生临时出差"])

    @model_validator(mode="after")
    def _not_blank(self) -> "SessionStop":
        if not self.reason.strip():  # str.strip removes the full-width space too
            raise ValueError("停诊原因不能为空或只含空格")
        return self


class AffectedBookingPublic(BaseModel):
    code: str
    patient_name: str
    phone: str


class SessionStopPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cancelled": 1,
                    "affected": [{"code": "K7Q2M9", "patient_name": "张*", "phone": "13912345678"}],
                }
            ]
        }
    )
    cancelled: int
    affected: list[AffectedBookingPublic]


class FeedItemPublic(BaseModel):
    cursor: int
    kind: str
    booking: BookingPublic


FEED_EXAMPLE: dict[str, JsonValue] = {
    "items": [
        {
            "cursor": 1042,
            "kind": "booked",
            "booking": {
                "code": "K7Q2M9",
                "status": "booked",
                "status_label": "已预约",
                "channel": "online",
                "hospital_name": "北京协和医院",
                "department_name": "内科",
                "doctor_name": "王晓梅",
                "doctor_title": "主任医师",
                "day": "2026-12-07",
                "session": "morning",
                "session_label": "上午",
                "slot_seq": 3,
                "slot_time": "08:20",
                "fee": "50.00",
                "patient_name": "张三",
                "id_number": "110101199001011234",
                "phone": "13912345678",
                "booked_at": "2026-12-03T09:15:02+08:00",
                "cancel_deadline": "2026-12-04T15:00:00+08:00",
            },
        }
    ],
    "next_cursor": 1042,
}


class FeedPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [FEED_EXAMPLE]})
    items: list[FeedItemPublic]
    next_cursor: int


class AttendanceReport(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"attended": True}]})
    attended: bool = Field(description="true: 已就诊；false: 爽约")

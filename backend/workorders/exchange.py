"""The exchange format with the city 12345 platform (the contract's "virtual seat / API").

Every request is signed (headers ``X-Platform-Key``, ``X-Timestamp``, ``X-Nonce``,
``X-Signature``: ``backend/signatures.py``, docs/partner-api-signing.md).

Import — ``POST /api/city-platform/orders``, body::

    {"orders": [{
        "platform_order_id": "BJ12345-20261125-000123",   # required, unique on the platform
        "received_at": "2026-11-25T09:12:00+08:00",       # when the platform took the call
        "title": "门诊报销比例咨询",                          # required
        "content": "市民反映……",                              # the citizen's words
        "category": "医疗保障/医保报销/门诊报销",
        "caller": {"name": "张三", "phone": "13800138000"},
        "address": "朝阳区某街道1号", "district": "朝阳区",
        "urgency": "normal" | "urgent", "complex": false,
        "deadline": "2026-12-04T18:00:00+08:00",          # the platform's final deadline
        "industry": "医疗保障",
        "attachments": [{"name": "照片.jpg", "url": "https://..."}]
    }]}

Importing the same ``platform_order_id`` again changes nothing and answers ``"duplicate"``
with the existing order number.

Export — ``GET /api/city-platform/replies?since=<ISO time>&since_id=<int>`` answers
``{"replies": [...], "next": {"since": ..., "since_id": ...}}``, one reply per platform order
changed after the cursor, oldest change first: ``platform_order_id``, ``order_number``,
``state`` and its Chinese label, ``department``, the reply parts (``background``, ``process``,
``result``, ``follow_up``), ``resolved``, ``satisfied``, ``returned_reason``, ``closed_at``,
``updated_at``. To page, pass ``next``'s two values as ``since`` and ``since_id``: many orders
can share one ``updated_at`` (a batch is stamped with one time), and ``since_id`` is what tells
which of them were already sent. ``next`` is null when nothing changed after the cursor (ask
again later with the same one). Without ``since_id`` the cursor is the time alone and orders
changed exactly at ``since`` are not sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing on INSERT.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


CleanStr = Annotated[str, AfterValidator(_no_nul)]


class PlatformCaller(BaseModel):
    name: CleanStr = Field(default="", max_length=64)
    phone: CleanStr = Field(default="", max_length=32)


class PlatformAttachment(BaseModel):
    name: CleanStr = Field(max_length=200)
    url: CleanStr = Field(max_length=1000)


class PlatformOrder(BaseModel):
    platform_order_id: CleanStr = Field(min_length=1, max_length=64)
    received_at: datetime | None = None
    title: CleanStr = Field(min_length=1, max_length=200)
    content: CleanStr = Field(default="", max_length=20000)
    category: CleanStr = Field(default="", max_length=200)
    caller: PlatformCaller = PlatformCaller()
    address: CleanStr = Field(default="", max_length=300)
    district: CleanStr = Field(default="", max_length=50)
    urgency: Literal["normal", "urgent"] = "normal"
    complex: bool = False
    deadline: datetime | None = None
    industry: CleanStr = Field(default="", max_length=100)
    attachments: list[PlatformAttachment] = Field(default_factory=list, max_length=50)

    @field_validator("received_at", "deadline")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2026-11-25T09:12:00+08:00")
        return value

    def full_address(self) -> str:
        if self.district and not self.address.startswith(self.district):
            return self.district + self.address
        return self.address


class PlatformBatch(BaseModel):
    orders: list[PlatformOrder] = Field(min_length=1, max_length=500)


class ImportResult(BaseModel):
    platform_order_id: str
    order_number: str
    status: Literal["created", "duplicate"]


class PlatformReply(BaseModel):
    platform_order_id: str
    order_number: str
    state: str
    state_label: str
    department: str
    background: str = ""
    process: str = ""
    result: str = ""
    follow_up: str = ""
    resolved: bool | None = None
    satisfied: bool | None = None
    returned_reason: str = ""
    closed_at: datetime | None = None
    updated_at: datetime


class ReplyCursor(BaseModel):
    """Where the next page of replies starts: after this (``updated_at``, order id)."""

    since: datetime
    since_id: int


def as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)

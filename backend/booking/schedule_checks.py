"""What a hospital's schedule push must be before anything of it is written.

Every check names the schedule (the hospital's own ``external_id``) and what is wrong, and
the whole push is refused (``bad-schedule``, HTTP 400) when one schedule fails, so nothing of
it is half-written. The rules, where the standard interface left them open:

- **Days**: from today (local) up to ``PUSH_HORIZON_DAYS`` ahead. Slots go on sale
  ``days_ahead`` days before (``BookingRules``); hospitals publish further ahead than that,
  but not years (a year 9999 is a typing mistake). A session of today that has ended is past.
- **Sessions of the day** by their start: morning before 12:00, afternoon 12:00-17:59,
  evening from 17:00 (evening clinics start at 17:00 or 17:30 in Beijing). A session ends
  after it starts, on the same day.
- **Slots** lie inside their session: ``starts <= time < ends``; numbers unique.
- **Names and ids** are not blank: spaces alone (ASCII or the full-width U+3000) are refused.
- **A doctor** comes with both ``doctor_code`` and ``doctor_name`` or with neither (a name
  without a code cannot be kept; a code without a name would blank the doctor).
- **One push names each ``external_id`` once**: two versions of one session in one push
  cannot both be meant.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from backend.booking.errors import BadBookingInput
from backend.booking.rules import SessionOfDay

if TYPE_CHECKING:
    from backend.booking.hospital_feed import SchedulePush

PUSH_HORIZON_DAYS = 90
SLOT_CHANNELS = ("any", "phone", "online")
NOON, EVENING_FROM, EVENING_CLOSES = time(12, 0), time(17, 0), time(18, 0)


class BadSchedule(BadBookingInput):
    code = "bad-schedule"


def is_blank(text: str) -> bool:
    """Empty or spaces only; ``str.strip`` removes the full-width space U+3000 too."""
    return not text.strip()


def check_push(items: list[SchedulePush], today: date, now_local: datetime) -> None:
    """Raise ``BadSchedule`` naming the first schedule that cannot be accepted."""
    repeated = sorted(ext for ext, n in Counter(i.external_id for i in items).items() if n > 1)
    if repeated:
        raise BadSchedule(f"同一次上传中出诊编号重复：{'、'.join(repeated[:10])}")
    for item in items:
        _check_texts(item)
        _check_day(item, today, now_local)
        _check_session(item)
        _check_slots(item)


def _check_texts(item: SchedulePush) -> None:
    ext = item.external_id
    if is_blank(ext):
        raise BadSchedule("出诊编号不能为空或只含空格")
    for label, value in (("科室编号", item.department_code), ("科室名称", item.department_name)):
        if is_blank(value):
            raise BadSchedule(f"出诊{ext}的{label}不能为空或只含空格")
    named = {"doctor_code": item.doctor_code, "doctor_name": item.doctor_name}
    if any(named.values()) and any(is_blank(v) for v in named.values()):
        raise BadSchedule(f"出诊{ext}的医生须同时给出 doctor_code 和 doctor_name（不能只含空格）")
    if item.doctor_title and is_blank(item.doctor_title):
        raise BadSchedule(f"出诊{ext}的医生职称不能只含空格")


def _check_day(item: SchedulePush, today: date, now_local: datetime) -> None:
    last = today + timedelta(days=PUSH_HORIZON_DAYS)
    if item.day < today or item.day > last:
        raise BadSchedule(
            f"出诊{item.external_id}的日期{item.day.isoformat()}须在今天至"
            f"{last.isoformat()}之间（最多提前{PUSH_HORIZON_DAYS}天）"
        )
    if item.day == today and item.ends <= now_local.time():
        raise BadSchedule(f"出诊{item.external_id}今天已结束，不能再上传")


def _check_session(item: SchedulePush) -> None:
    ext, starts, ends = item.external_id, item.starts, item.ends
    if starts.tzinfo is not None or ends.tzinfo is not None:
        raise BadSchedule(f"出诊{ext}的时间须为北京时间，不带时区")
    if ends <= starts:
        raise BadSchedule(f"出诊{ext}的结束时间须晚于开始时间")
    fits = {
        SessionOfDay.MORNING: starts < NOON,
        SessionOfDay.AFTERNOON: NOON <= starts < EVENING_CLOSES,
        SessionOfDay.EVENING: starts >= EVENING_FROM,
    }[SessionOfDay(item.session)]
    if not fits:
        raise BadSchedule(
            f"出诊{ext}的时段{item.session}与开始时间{starts:%H:%M}不符"
            "（上午12:00前开始，下午12:00至17:59，晚间17:00起）"
        )


def _check_slots(item: SchedulePush) -> None:
    ext = item.external_id
    if not item.slots:
        raise BadSchedule(f"出诊{ext}没有号源")
    seqs = [s.seq for s in item.slots]
    if len(set(seqs)) != len(seqs) or min(seqs) < 1:
        raise BadSchedule(f"出诊{ext}的号序重复或小于1")
    for slot in item.slots:
        if slot.channel not in SLOT_CHANNELS:
            raise BadSchedule(f"号源渠道须为{'/'.join(SLOT_CHANNELS)}")
        if slot.time.tzinfo is not None or not item.starts <= slot.time < item.ends:
            raise BadSchedule(
                f"出诊{ext}的第{slot.seq}号时间{slot.time:%H:%M}不在出诊时间"
                f"{item.starts:%H:%M}-{item.ends:%H:%M}之内"
            )

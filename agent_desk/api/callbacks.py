"""The day's callbacks booked for a half-hour window (``backend/telephony/callback_bookings.py``),
for the agents who make them and their team leaders. Numbers are masked: the callback
itself is dialled by the system, never typed from this list."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel

from agent_desk.deps import CipherDep, DeskUser, StateDep
from agent_desk.errors import error_responses
from backend.lines import is_line, line_spec
from backend.personal_data import mask_phone
from backend.telephony.callback_bookings import scheduled_on

router = APIRouter(prefix="/api/callbacks", tags=["回电"], responses=error_responses(401, 403, 422))

STATUS_LABELS = {
    "pending": "待回电",
    "done": "已回电",
    "failed": "未接通，已停止",
    "missed": "时段内未联系上",
}


class ScheduledOut(BaseModel):
    task_id: int
    line: str
    line_label: str
    skill: str
    window_start: datetime
    window_end: datetime
    window: str  # "16:30–17:00", local time
    number: str  # masked
    status: str
    status_label: str
    attempts: int


@router.get("/scheduled", summary="某日（默认今天）预约时段回电")
def get_scheduled(
    state: StateDep, user: DeskUser, cipher: CipherDep, day: date | None = None
) -> list[ScheduledOut]:
    tz = state.tz
    with state.session_factory() as db:
        booked = scheduled_on(db, day or datetime.now(tz).date(), tz)
    return [
        ScheduledOut(
            task_id=b.task_id,
            line=b.line,
            line_label=line_spec(b.line).short_label if is_line(b.line) else b.line,
            skill=b.skill,
            window_start=b.window_start,
            window_end=b.window_end,
            window=f"{b.window_start.astimezone(tz):%H:%M}–{b.window_end.astimezone(tz):%H:%M}",
            number=mask_phone(cipher.decrypt(b.phone_enc)),
            status=b.status,
            status_label=STATUS_LABELS.get(b.status, b.status),
            attempts=b.attempts,
        )
        for b in booked
    ]

"""How many calls' recordings were indexed complete since local midnight, per line: the
worker's figure after each sweep (a recording that never completes shows as missing)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models.calls import Recording, RecordingStatus


def complete_today(session: Session, now: datetime, tz: ZoneInfo) -> dict[str, int]:
    midnight = datetime.combine(now.astimezone(tz).date(), time(), tz)
    rows = session.execute(
        select(Recording.line, func.count())
        .where(
            Recording.started_at >= midnight,
            Recording.status.in_([RecordingStatus.COMPLETE, RecordingStatus.REPAIRED]),
        )
        .group_by(Recording.line)
    )
    return {line: count for line, count in rows}

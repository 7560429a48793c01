"""From 1 November, warn when next year's holidays have not been entered.

The State Council publishes the next year's 放假安排 in late October or November; until the
administrator enters it, every date of that year says "calendar missing" (hours open by weekday
hours, deadlines by Monday–Friday). So the daily check raises a wallboard alert
(``backend/alerts.py``, shown to supervisors and administrators) and logs a warning from
1 November; a missing *current* year is critical. Entering the year clears the alert at the
next check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.alerts import AlertLevel, SystemAlerts
from backend.models.calendar import HolidayYear

log = logging.getLogger(__name__)

ALERT_CODE = "calendar:holidays"
WARN_FROM = (11, 1)  # month, day


@dataclass(frozen=True)
class MissingYear:
    year: int
    level: AlertLevel
    message: str


def missing_year(today: date, entered: set[int]) -> MissingYear | None:
    """The year whose absence must be told on ``today``, if any."""
    if today.year not in entered:
        message = f"{today.year}年节假日安排尚未录入：工作时间和办理时限按周一至周五计算，请管理员立即录入"
        return MissingYear(today.year, AlertLevel.CRITICAL, message)
    nxt = today.year + 1
    if (today.month, today.day) >= WARN_FROM and nxt not in entered:
        message = f"{nxt}年节假日安排尚未录入：请管理员在“系统管理”页录入国务院放假安排"
        return MissingYear(nxt, AlertLevel.WARNING, message)
    return None


def check_calendar_years(db: Session, alerts: SystemAlerts, today: date) -> MissingYear | None:
    """Raise or clear the alert for ``today``; the missing year it found, if any."""
    entered = set(db.scalars(select(HolidayYear.year)))
    missing = missing_year(today, entered)
    if missing is None:
        alerts.clear(ALERT_CODE)
        return None
    log.warning("holiday calendar missing for %d: %s", missing.year, missing.message)
    alerts.raise_alert(ALERT_CODE, missing.level, missing.message)
    return missing

"""The date ranges a report form offers by name: today, yesterday, this week, this month, last
month, this half-year and the last one (weeks run Monday to Sunday, the Beijing calendar).

A range that has not ended yet stops at today: a report of "this month" reads up to now.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

from reports.periods import ReportInputError, half_year


class Preset(enum.StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    THIS_WEEK = "this_week"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_HALF = "this_half"
    LAST_HALF = "last_half"


PRESET_LABELS = {
    Preset.TODAY: "今天",
    Preset.YESTERDAY: "昨天",
    Preset.THIS_WEEK: "本周",
    Preset.THIS_MONTH: "本月",
    Preset.LAST_MONTH: "上月",
    Preset.THIS_HALF: "本半年度",
    Preset.LAST_HALF: "上半年度（已结束的半年）",
}


def preset_range(preset: Preset | str, today: date) -> tuple[date, date]:
    """``first``, ``last`` (inclusive) of the named range as seen on ``today``."""
    try:
        preset = Preset(preset)
    except ValueError:
        raise ReportInputError(f"未知的日期范围：{preset}") from None
    if preset is Preset.TODAY:
        return today, today
    if preset is Preset.YESTERDAY:
        return today - timedelta(days=1), today - timedelta(days=1)
    if preset is Preset.THIS_WEEK:
        return today - timedelta(days=today.weekday()), today
    if preset is Preset.THIS_MONTH:
        return today.replace(day=1), today
    if preset is Preset.LAST_MONTH:
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    half = 1 if today.month <= 6 else 2
    if preset is Preset.THIS_HALF:
        return half_year(today.year, half)[0], today
    return half_year(today.year - 1, 2) if half == 1 else half_year(today.year, 1)

"""The forecast page: offered calls forecast per half hour beside what actually came.

The forecast of a day uses only the history before the page's first day, so for days already
past the two columns compare the forecast with its outcome; for days to come the actual
column stays empty.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.orm import Session

from backend.lines import LINE_LABELS
from backend.workcalendar import WorkCalendar
from reports.document import Cell, Chart, ReportDocument, Section, Table
from reports.workforce.forecast import HOLIDAY, actual_offered, forecast, pattern_of

PATTERN_LABELS = {HOLIDAY: "节假日", **{str(i): f"周{'一二三四五六日'[i]}" for i in range(7)}}
DAY_COLUMNS = ["日期", "模式", "预测来电", "实际来电", "偏差"]
HALF_COLUMNS = ["时段", "模式", "预测来电", "实际来电", "平均处理时长(秒)"]
FOOTNOTES = [
    "预测 = 之前6周同一星期几、同一半小时进入队列来电的平均数（节假日与调休工作日不计入）。",
    "法定节假日（国务院办公厅通知，backend/data/cn_holidays.yaml）单独成一类，按最近6个节假日预测。",
    "只用开始日期之前的记录预测，已过去的日期可与实际来电对照。",
]


def build_forecast_report(
    session: Session,
    line: str,
    skill: str | None,
    first: date,
    days: int,
    *,
    calendar: WorkCalendar,
    tz_name: str,
    today: date,
) -> ReportDocument:
    predicted = forecast(session, line, skill, first, days, calendar=calendar, tz_name=tz_name)
    past_days = min(days, max(0, (today - first).days + 1))  # today's calls so far included
    came = actual_offered(session, line, skill, first, past_days, tz_name) if past_days else {}
    seen_until = first + timedelta(days=past_days)
    by_day: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    half_rows: list[list[Cell]] = []
    for p in predicted:
        actual = came.get(p.at, 0) if p.at.date() < seen_until else None
        by_day[p.at.date()][0] += p.calls
        by_day[p.at.date()][1] += actual or 0
        if p.calls or actual:
            half_rows.append(
                [f"{p.at:%m-%d %H:%M}", PATTERN_LABELS[p.pattern], round(p.calls, 1),
                 "" if actual is None else actual, round(p.aht)]
            )  # fmt: skip
    day_rows = [
        _day_row(day, expected, actual if day < seen_until else None, calendar)
        for day, (expected, actual) in sorted(by_day.items())
    ]
    chart = Chart(
        "每半小时预测与实际来电",
        [f"{p.at:%m-%d %H:%M}" for p in predicted],
        {"预测": [round(p.calls, 2) for p in predicted],
         "实际": [float(came.get(p.at, 0)) for p in predicted]},
        kind="line",
    )  # fmt: skip
    scope = f"技能组 {skill}" if skill else "全部技能组"
    return ReportDocument(
        "来电预测",
        f"{first.isoformat()} 起 {days} 天，{LINE_LABELS.get(line, line)}，{scope}",
        sections=[
            Section(
                "每日", tables=[Table("每日预测与实际", DAY_COLUMNS, day_rows)], charts=[chart]
            ),
            Section("每半小时", tables=[Table("每半小时预测与实际", HALF_COLUMNS, half_rows)]),
        ],
        footnotes=FOOTNOTES,
    )


def _day_row(
    day: date, expected: float, actual: float | None, calendar: WorkCalendar
) -> list[Cell]:
    pattern = PATTERN_LABELS[pattern_of(day, calendar)]
    if actual is None:
        return [day.isoformat(), pattern, round(expected, 1), "", ""]
    return [
        day.isoformat(),
        pattern,
        round(expected, 1),
        round(actual),
        round(actual - expected, 1),
    ]

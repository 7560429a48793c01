"""The 114 half-year statistics report, with exactly the contents its contract lists
(000 §3.2.7): inbound call volume, calls accepted by booking seats, average wait time,
average talk time, daily average successful bookings and success rate, night-shift data,
and call-arrival cycle analysis."""

from __future__ import annotations

import calendar
from collections.abc import Hashable
from datetime import date, datetime

from sqlalchemy.orm import Session

from reports import kpi
from reports.booking_stats import BookingCounts, bookings_by_month
from reports.document import Cell, ReportDocument, Section, Table, pct, secs
from reports.kpi import CallTotals
from reports.periods import Grain, GroupBy, ReportFilter, half_year
from reports.query import Source, call_totals
from reports.service_report import arrival_cycle_section

LINE = "114"
SECTION_TITLES = (
    "一、呼入量",
    "二、预约坐席接听量",
    "三、平均等待时长",
    "四、平均通话时长",
    "五、日均成功预约量与预约成功率",
    "六、夜班数据",
    "七、来电到达周期分析",
)


def _month_days(month: datetime, f: ReportFilter) -> int:
    first = max(date(month.year, month.month, 1), f.first)
    last_day = calendar.monthrange(month.year, month.month)[1]
    last = min(date(month.year, month.month, last_day), f.last)
    return (last - first).days + 1


def success_rate(phone_bookings: int, t: CallTotals) -> float | None:
    """Phone bookings over the booking calls served (answered by seats or self-served in IVR)."""
    return kpi.ratio(phone_bookings, t.answered + t.self_service)


def build_halfyear_114(
    session: Session, year: int, half: int, *, source: Source = Source.AUTO
) -> ReportDocument:
    first, last = half_year(year, half)
    f = ReportFilter(first=first, last=last, line=LINE, grain=Grain.MONTH)
    by_month: dict[Hashable, CallTotals] = call_totals(session, f, GroupBy.PERIOD, source=source)
    bookings = bookings_by_month(session, f)
    months = [datetime(year, m, 1) for m in range(first.month, last.month + 1)]
    totals = {m: by_month.get(m, CallTotals()) for m in months}
    night = _night_by_month(session, f, months, source)
    whole = sum(totals.values(), CallTotals())
    whole_bookings = BookingCounts(
        *(
            sum(getattr(b, field) for b in bookings.values())
            for field in ("total", "online", "phone", "phone_night")
        )
    )
    label = {m: f"{m:%Y年%m月}" for m in months}
    rows: dict[str, list[list[Cell]]] = {title: [] for title in SECTION_TITLES[:6]}
    for m in [*months, None]:
        t = totals[m] if m else whole
        b = bookings.get(m, BookingCounts()) if m else whole_bookings
        n = night[m] if m else sum(night.values(), CallTotals())
        days = _month_days(m, f) if m else f.days
        name = label[m] if m else "合计"
        rows[SECTION_TITLES[0]].append([name, t.inbound, round(t.inbound / days, 1)])
        rows[SECTION_TITLES[1]].append([name, t.answered, pct(kpi.answer_rate(t))])
        rows[SECTION_TITLES[2]].append([name, secs(kpi.average_wait(t)), secs(kpi.asa(t))])
        rows[SECTION_TITLES[3]].append([name, secs(kpi.average_talk(t)), secs(kpi.aht(t))])
        rows[SECTION_TITLES[4]].append(
            [name, b.phone, days, round(b.phone / days, 1), pct(success_rate(b.phone, t))]
        )
        rows[SECTION_TITLES[5]].append(
            [
                name,
                n.inbound,
                n.answered,
                secs(kpi.average_wait(n)),
                secs(kpi.average_talk(n)),
                b.phone_night,
            ]
        )
    columns = (
        ["月份", "呼入量", "日均呼入量"],
        ["月份", "预约坐席接听量", "接通率"],
        ["月份", "平均等待时长(秒)", "平均应答速度(秒)"],
        ["月份", "平均通话时长(秒)", "平均处理时长(秒)"],
        ["月份", "成功预约量(电话)", "天数", "日均成功预约量", "预约成功率"],
        [
            "月份",
            "夜班呼入量",
            "夜班接听量",
            "夜班平均等待(秒)",
            "夜班平均通话(秒)",
            "夜班成功预约量",
        ],
    )
    doc = ReportDocument(
        "北京114预约挂号服务半年度统计报表",
        f"{year}年{'上' if half == 1 else '下'}半年（{first.isoformat()} 至 {last.isoformat()}）",
    )
    for title, cols in zip(SECTION_TITLES[:6], columns, strict=True):
        doc.sections.append(Section(title, tables=[Table(title, cols, rows[title])]))
    cycle = arrival_cycle_section(session, f, source=source)
    cycle.title = SECTION_TITLES[6]
    doc.sections.append(cycle)
    doc.footnotes = [
        kpi.FOOTNOTES["time"],
        kpi.FOOTNOTES["inbound"],
        "预约坐席接听量 = 114线路进入人工队列并由坐席接听的呼入通话数；接通率 = 接听数 ÷ 进入队列数。",
        kpi.FOOTNOTES["average_wait"],
        kpi.FOOTNOTES["asa"],
        "平均通话时长 = 坐席通话时长之和 ÷ 坐席处理通话数（不含保持与话后处理）。",
        "成功预约量(电话) = 坐席与IVR办理成功的预约数（此后取消的仍计入）；日均 = 成功预约量 ÷ 天数。",
        "预约成功率 = 成功预约量(电话) ÷（坐席接听量 + IVR自助办结量）。",
        kpi.FOOTNOTES["night"],
    ]
    return doc


def _night_by_month(
    session: Session, f: ReportFilter, months: list[datetime], source: Source
) -> dict[datetime, CallTotals]:
    """Night-shift totals per month: one NIGHT query per month keeps the SQL simple."""
    result: dict[datetime, CallTotals] = {}
    for m in months:
        last_day = calendar.monthrange(m.year, m.month)[1]
        month_f = ReportFilter(
            first=max(f.first, m.date()),
            last=min(f.last, date(m.year, m.month, last_day)),
            line=f.line,
            grain=f.grain,
        )
        result[m] = call_totals(session, month_f, GroupBy.NIGHT, source=source).get(
            True, CallTotals()
        )
    return result

"""The 114 half-year statistics report, with exactly the contents its contract lists
(000 §3.2.7): inbound call volume, calls accepted by booking seats, average wait time,
average talk time, daily average successful bookings and success rate, night-shift data,
and call-arrival cycle analysis."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from backend.localtime import DEFAULT_TIMEZONE
from reports import kpi
from reports.booking_stats import BookingCounts, bookings_by_month
from reports.document import Cell, Chart, ReportDocument, Section, Table, pct, secs
from reports.kpi import CallTotals
from reports.periods import Grain, GroupBy, ReportFilter, half_year
from reports.query import Source, call_totals
from reports.service_report import arrival_cycle_section

LINE = "114"


@dataclass(frozen=True)
class Figures:
    """One row of the report: a month, or the whole half year."""

    name: str
    calls: CallTotals
    bookings: BookingCounts
    night: CallTotals
    days: int


def success_rate(phone_bookings: int, t: CallTotals) -> float | None:
    """Phone bookings over the booking calls served (answered by seats or self-served in IVR)."""
    return kpi.ratio(phone_bookings, t.answered + t.self_service)


def _bookings_row(m: Figures) -> list[Cell]:
    phone = m.bookings.phone
    return [phone, m.days, round(phone / m.days, 1), pct(success_rate(phone, m.calls))]


def _night_row(m: Figures) -> list[Cell]:
    n = m.night
    inbound, answered = n.inbound, n.answered
    wait, talk = secs(kpi.average_wait(n)), secs(kpi.average_talk(n))
    return [inbound, answered, wait, talk, m.bookings.phone_night]


# The six tabled sections: title, columns after "月份", the cells of one row.
TABLED_SECTIONS: tuple[tuple[str, list[str], Callable[[Figures], list[Cell]]], ...] = (
    (
        "一、呼入量",
        ["呼入量", "日均呼入量"],
        lambda m: [m.calls.inbound, round(m.calls.inbound / m.days, 1)],
    ),
    (
        "二、预约坐席接听量",
        ["预约坐席接听量", "接通率"],
        lambda m: [m.calls.answered, pct(kpi.answer_rate(m.calls))],
    ),
    (
        "三、平均等待时长",
        ["平均等待时长(秒)", "平均应答速度(秒)"],
        lambda m: [secs(kpi.average_wait(m.calls)), secs(kpi.asa(m.calls))],
    ),
    (
        "四、平均通话时长",
        ["平均通话时长(秒)", "平均处理时长(秒)"],
        lambda m: [secs(kpi.average_talk(m.calls)), secs(kpi.aht(m.calls))],
    ),
    (
        "五、日均成功预约量与预约成功率",
        ["成功预约量(电话)", "天数", "日均成功预约量", "预约成功率"],
        _bookings_row,
    ),
    (
        "六、夜班数据",
        ["夜班呼入量", "夜班接听量", "夜班平均等待(秒)", "夜班平均通话(秒)", "夜班成功预约量"],
        _night_row,
    ),
)
CYCLE_TITLE = "七、来电到达周期分析"
SECTION_TITLES = (*(title for title, _, _ in TABLED_SECTIONS), CYCLE_TITLE)

FOOTNOTES = [
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


def _month_days(month: datetime, f: ReportFilter) -> int:
    first = max(date(month.year, month.month, 1), f.first)
    last_day = calendar.monthrange(month.year, month.month)[1]
    last = min(date(month.year, month.month, last_day), f.last)
    return (last - first).days + 1


def build_halfyear_114(
    session: Session,
    year: int,
    half: int,
    *,
    source: Source = Source.AUTO,
    tz_name: str = DEFAULT_TIMEZONE,
) -> ReportDocument:
    first, last = half_year(year, half)
    f = ReportFilter(first=first, last=last, line=LINE, grain=Grain.MONTH, tz_name=tz_name)
    doc = ReportDocument(
        "北京114预约挂号服务半年度统计报表",
        f"{year}年{'上' if half == 1 else '下'}半年（{first.isoformat()} 至 {last.isoformat()}）",
        footnotes=list(FOOTNOTES),
    )
    figures = _figures(session, f, source)
    for title, columns, cells in TABLED_SECTIONS:
        rows = [[m.name, *cells(m)] for m in figures]
        doc.sections.append(Section(title, tables=[Table(title, ["月份", *columns], rows)]))
    doc.sections[0].charts.append(_monthly_chart(figures[:-1]))  # the months, not the total
    cycle = arrival_cycle_section(session, f, source=source)
    cycle.title = CYCLE_TITLE
    doc.sections.append(cycle)
    return doc


def _monthly_chart(months: list[Figures]) -> Chart:
    return Chart(
        "月度呼入量、坐席接听量与成功预约量(电话)",
        [m.name for m in months],
        {
            "呼入量": [float(m.calls.inbound) for m in months],
            "预约坐席接听量": [float(m.calls.answered) for m in months],
            "成功预约量(电话)": [float(m.bookings.phone) for m in months],
        },
        unit="次",
    )


def _figures(session: Session, f: ReportFilter, source: Source) -> list[Figures]:
    """One row per month of the half year, then the whole half year ("合计")."""
    by_month: dict[Hashable, CallTotals] = call_totals(session, f, GroupBy.PERIOD, source=source)
    bookings = bookings_by_month(session, f)
    months = [datetime(f.first.year, m, 1) for m in range(f.first.month, f.last.month + 1)]
    night = _night_by_month(session, f, months, source)
    rows = [
        Figures(
            f"{m:%Y年%m月}",
            by_month.get(m, CallTotals()),
            bookings.get(m, BookingCounts()),
            night[m],
            _month_days(m, f),
        )
        for m in months
    ]
    whole = Figures(
        "合计",
        sum((r.calls for r in rows), CallTotals()),
        sum((r.bookings for r in rows), BookingCounts()),
        sum((r.night for r in rows), CallTotals()),
        f.days,
    )
    return [*rows, whole]


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
            tz_name=f.tz_name,
        )
        result[m] = call_totals(session, month_f, GroupBy.NIGHT, source=source).get(
            True, CallTotals()
        )
    return result

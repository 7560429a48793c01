"""The priced monthly confirmation sheet (月度确认单): a month's successful bookings by channel,
their unit prices (0.46 CNY online, 3.94 CNY by phone; ``BookingRules``) and amounts, with
the day-by-day counts behind them and their chart.

The totals and amounts come from ``backend.booking.sheet`` (the booking service's own sheet),
the daily counts from ``reports.booking_stats``; both count every booking in the Beijing-time
month it was made, cancelled later or not, so the days add up to the month."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from backend.booking.rules import BookingRules
from backend.booking.sheet import confirmation_sheet
from reports.booking_stats import BookingCounts, bookings_by_day
from reports.document import Cell, Chart, ReportDocument, Section, Table
from reports.periods import ReportFilter, ReportInputError

TITLE = "114预约挂号服务月度确认单"
PRICED_TABLE = "计费确认"
DAILY_TABLE = "每日成功预约量"
CHART_TITLE = "每日成功预约量（按渠道）"

FOOTNOTES = [
    "按北京时间的预约办理时间统计；每条预约在办理成功时计入，此后取消或停诊的仍计入。",
    "电话渠道 = 坐席办理 + IVR自助办理；网络渠道 = 公众号、小程序等线上渠道。",
    "金额 = 成功预约量 × 单价，按渠道分别计算后合计，四舍五入到分。",
]


def month_range(year: int, month: int) -> tuple[date, date]:
    if not 1 <= month <= 12:
        raise ReportInputError("月份须为1至12")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def previous_month(today: date) -> tuple[int, int]:
    """The last month that has ended on ``today``."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.year, last.month


def build_confirmation_sheet(
    session: Session, rules: BookingRules, year: int, month: int, tz_name: str
) -> ReportDocument:
    first, last = month_range(year, month)
    priced = confirmation_sheet(session, rules, year, month)
    priced_rows: list[list[Cell]] = [
        ["网络渠道", priced.online, priced.price_online, priced.amount_online],
        ["电话渠道", priced.phone, priced.price_phone, priced.amount_phone],
        ["合计", priced.total, "", priced.amount_total],
    ]
    days = bookings_by_day(session, ReportFilter(first=first, last=last, tz_name=tz_name))
    labels: list[str] = []
    online: list[float] = []
    phone: list[float] = []
    daily_rows: list[list[Cell]] = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        counts = days.get(datetime.combine(day, datetime.min.time()), BookingCounts())
        labels.append(f"{day.day}日")
        online.append(counts.online)
        phone.append(counts.phone)
        daily_rows.append([day.isoformat(), counts.total, counts.online, counts.phone])
    return ReportDocument(
        TITLE,
        f"{year}年{month:02d}月（{first.isoformat()} 至 {last.isoformat()}）",
        sections=[
            Section(
                "成功预约量与金额",
                tables=[
                    Table(PRICED_TABLE, ["渠道", "成功预约量", "单价(元)", "金额(元)"], priced_rows)
                ],
            ),
            Section(
                "每日明细",
                tables=[Table(DAILY_TABLE, ["日期", "合计", "网络渠道", "电话渠道"], daily_rows)],
                charts=[
                    Chart(CHART_TITLE, labels, {"网络渠道": online, "电话渠道": phone}, unit="笔")
                ],
            ),
        ],
        footnotes=list(FOOTNOTES),
    )

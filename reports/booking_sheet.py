"""A year of bookings month by month, total / online / phone (the annual edition). The priced
sheet of one month, what the contract bills by, is ``reports.confirmation_sheet``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from backend.localtime import DEFAULT_TIMEZONE
from reports.booking_stats import BookingCounts, bookings_by_month
from reports.document import Cell, Chart, ReportDocument, Section, Table
from reports.periods import Grain, ReportFilter


def build_booking_sheet(
    session: Session, year: int, tz_name: str = DEFAULT_TIMEZONE
) -> ReportDocument:
    first, last = date(year, 1, 1), date(year, 12, 31)
    f = ReportFilter(first=first, last=last, grain=Grain.MONTH, tz_name=tz_name)
    counts = bookings_by_month(session, f)
    rows: list[list[Cell]] = []
    total = BookingCounts()
    months = [counts.get(datetime(year, month, 1), BookingCounts()) for month in range(1, 13)]
    for month, c in enumerate(months, start=1):
        total += c
        rows.append([f"{year}年{month:02d}月", c.total, c.online, c.phone])
    chart = Chart(
        "每月成功预约量（按渠道）",
        [f"{month}月" for month in range(1, 13)],
        {
            "网络渠道": [float(c.online) for c in months],
            "电话渠道": [float(c.phone) for c in months],
        },
        unit="笔",
    )
    rows.append(["合计", total.total, total.online, total.phone])
    return ReportDocument(
        "114预约挂号年度预约量汇总",
        f"{year}年",
        sections=[
            Section(
                "成功预约量",
                tables=[Table("月度确认单", ["月份", "合计", "网络渠道", "电话渠道"], rows)],
                charts=[chart],
            )
        ],
        footnotes=[
            "按北京时间的预约办理时间统计；每条预约在办理成功时计入，此后取消的仍计入。",
            "电话渠道 = 坐席办理 + IVR自助办理；网络渠道 = 公众号、小程序等线上渠道。",
        ],
    )

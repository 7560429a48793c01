"""The priced monthly confirmation sheet as a report: its figures against the bookings made
through the booking service (online, agent and IVR; one cancelled later), its page, its PDF
and XLSX editions with their chart, and the beat job that stores one edition per month.

May 2034 (a month no other test books in): 3 May 2 online + 3 phone, 15 May 1 + 2,
31 May 3 + 1: 6 online × 0.46 = 2.76 CNY, 6 phone × 3.94 = 23.64 CNY, 26.40 CNY in all.
"""

from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest
from celery import Celery
from fastapi.testclient import TestClient
from openpyxl.chart import BarChart
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.rules import BookingRules
from backend.models.users import Role
from backend.settings import Settings
from backend.worker_resources import WorkerResources
from reports.confirmation_sheet import CHART_TITLE, DAILY_TABLE, PRICED_TABLE
from reports.render_svg import PALETTE
from reports.tasks import GENERATE, generate_due_reports, register_report_tasks
from tests.billing_support import TZ, SeededMonth, seed_month
from tests.desk_support import login, make_user

PLAN = {3: (2, 3), 15: (1, 2), 31: (3, 1)}
URL = "/reports/confirmation-sheet?year=2034&month=5"


@pytest.fixture(scope="module")
def may(settings: Settings, session_factory: sessionmaker[Session]) -> SeededMonth:
    return seed_month(settings, session_factory, 2034, 5, PLAN)


def raw_counts(factory: sessionmaker[Session], year: int, month: int) -> tuple[int, int]:
    """Online and phone bookings of the month straight from the bookings table."""
    start = datetime(year, month, 1, tzinfo=TZ)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=TZ)
    with factory() as session:
        online, phone = session.execute(
            text(
                "SELECT count(*) FILTER (WHERE channel = 'online'), "
                "count(*) FILTER (WHERE channel IN ('phone', 'ivr')) FROM bookings "
                "WHERE booked_at >= :s AND booked_at < :e"
            ),
            {"s": start, "e": end},
        ).one()
    return int(online), int(phone)


def test_the_sheet_prices_the_bookings_made_through_the_service(
    desk_client: TestClient, session_factory: sessionmaker[Session], may: SeededMonth
) -> None:
    assert raw_counts(session_factory, 2034, 5) == (may.online, may.phone) == (6, 6)
    login(desk_client, make_user(session_factory, Role.MANAGER))
    book = openpyxl.load_workbook(io.BytesIO(desk_client.get(URL + "&format=xlsx").content))
    priced = list(book[PRICED_TABLE].iter_rows(min_row=4, values_only=True))
    amount_online, amount_phone, amount_total = may.amounts(BookingRules())
    assert priced[0][:2] == ("网络渠道", may.online)
    assert (Decimal(priced[0][2]), Decimal(priced[0][3])) == (Decimal("0.46"), amount_online)
    assert priced[1][:2] == ("电话渠道", may.phone)
    assert (Decimal(priced[1][2]), Decimal(priced[1][3])) == (Decimal("3.94"), amount_phone)
    assert priced[2][1] == may.online + may.phone and Decimal(priced[2][3]) == amount_total
    assert amount_total == Decimal("26.40")
    daily = {row[0]: row[1:] for row in book[DAILY_TABLE].iter_rows(min_row=4, values_only=True)}
    assert len(daily) == 31
    for day, (online, phone) in may.by_day.items():
        assert daily[day.isoformat()] == (online + phone, online, phone)
    assert sum(row[0] for row in daily.values()) == may.online + may.phone

    page = desk_client.get(URL)
    assert page.status_code == 200
    assert "<svg" in page.text and "26.40" in page.text and "月度确认单" in page.text


def test_the_xlsx_and_pdf_editions_carry_the_chart(
    desk_client: TestClient, session_factory: sessionmaker[Session], may: SeededMonth
) -> None:
    login(desk_client, make_user(session_factory, Role.MANAGER))
    book = openpyxl.load_workbook(io.BytesIO(desk_client.get(URL + "&format=xlsx").content))
    chart_sheet = book["图_" + CHART_TITLE]
    charts = chart_sheet._charts  # openpyxl reads the drawings back into this list
    assert len(charts) == 1 and isinstance(charts[0], BarChart)
    # The chart's figures: day labels down column A, online and phone beside them.
    figures = list(chart_sheet.iter_rows(min_row=2, max_col=3, values_only=True))
    assert figures[2] == ("3日", 2, 3) and figures[14] == ("15日", 1, 2)
    assert sum(r[1] for r in figures) == may.online and sum(r[2] for r in figures) == may.phone

    pdf = PdfReader(io.BytesIO(desk_client.get(URL + "&format=pdf").content))
    bars = _filled_rectangles(pdf)
    # A bar per day with bookings in each channel, in the series' colours of the page's
    # chart, plus the legend's swatch.
    online_days = sum(1 for online, _ in may.by_day.values() if online)
    phone_days = sum(1 for _, phone in may.by_day.values() if phone)
    assert bars.get(_rgb(PALETTE[0])) == online_days + 1
    assert bars.get(_rgb(PALETTE[1])) == phone_days + 1


def test_only_report_readers_see_the_sheet(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    login(desk_client, make_user(session_factory, Role.AGENT))
    assert desk_client.get(URL).status_code == 403
    login(desk_client, make_user(session_factory, Role.MANAGER))
    index = desk_client.get("/reports")
    assert 'href="/reports/confirmation-sheet"' in index.text
    assert desk_client.get("/reports/confirmation-sheet?month=13").status_code == 422


def test_beat_stores_one_edition_per_month_however_often_it_runs(
    desk_client: TestClient,
    settings: Settings,
    session_factory: sessionmaker[Session],
    may: SeededMonth,
) -> None:
    # The beat job on 1 June 2034, 01:30 Beijing time, delivered twice.
    at = datetime(2034, 6, 1, 1, 30, tzinfo=TZ).timestamp()
    app = Celery("billing-test", set_as_current=False)
    app.conf.beat_schedule = {}
    register_report_tasks(app, WorkerResources(settings, session_factory, now=lambda: at))
    app.conf.task_always_eager = True
    first = app.tasks[GENERATE].run()
    again = app.tasks[GENERATE].run()
    assert "114预约挂号服务月度确认单_2034-05-01_2034-05-31.pdf" in first and again == []
    # Two workers at once for the next month: still one edition per format.
    _at_once(session_factory, date(2034, 7, 1))
    editions = _editions(session_factory)
    assert editions == {(date(2034, 5, 1), "pdf"), (date(2034, 5, 1), "xlsx"),
                        (date(2034, 6, 1), "pdf"), (date(2034, 6, 1), "xlsx")}  # fmt: skip

    login(desk_client, make_user(session_factory, Role.MANAGER))
    listing = desk_client.get("/reports/archive?kind=confirmation_sheet")
    assert "114预约挂号服务月度确认单_2034-05-01_2034-05-31.xlsx" in listing.text
    with session_factory() as session:
        archive_id = session.execute(
            text(
                "SELECT id FROM report_archives WHERE kind = 'confirmation_sheet' "
                "AND fmt = 'xlsx' AND period_start = :s"
            ),
            {"s": datetime(2034, 5, 1, tzinfo=TZ)},
        ).scalar_one()
    kept = openpyxl.load_workbook(
        io.BytesIO(desk_client.get(f"/reports/archive/{archive_id}").content)
    )
    rows = list(kept[PRICED_TABLE].iter_rows(min_row=4, values_only=True))
    assert (rows[0][1], rows[1][1]) == (may.online, may.phone)


def _at_once(factory: sessionmaker[Session], today: date) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            with factory() as session:
                generate_due_reports(session, today, BookingRules())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and not any(t.is_alive() for t in threads)


def _editions(factory: sessionmaker[Session]) -> set[tuple[date, str]]:
    with factory() as session:
        rows = session.execute(
            text(
                "SELECT (period_start AT TIME ZONE :tz)::date, fmt FROM report_archives "
                "WHERE kind = 'confirmation_sheet' AND period_start >= :s AND period_start < :e"
            ),
            {"tz": "Asia/Shanghai", "s": datetime(2034, 1, 1, tzinfo=UTC),
             "e": datetime(2035, 1, 1, tzinfo=UTC)},
        ).all()  # fmt: skip
    assert len(rows) == len(set(rows))
    return {(day, fmt) for day, fmt in rows}


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(round(int(colour[i : i + 2], 16) / 255, 3) for i in (1, 3, 5))  # type: ignore[return-value]


def _filled_rectangles(pdf: PdfReader) -> dict[tuple[float, float, float], int]:
    """How many rectangles each fill colour paints, over every page's content stream."""
    counts: dict[tuple[float, float, float], int] = {}
    for page in pdf.pages:
        fill: tuple[float, float, float] = (0.0, 0.0, 0.0)
        stream = ContentStream(page.get_contents(), pdf)
        for operands, operator in stream.operations:
            if operator == b"rg":
                fill = tuple(round(float(v), 3) for v in operands)  # type: ignore[assignment]
            elif operator == b"re":
                counts[fill] = counts.get(fill, 0) + 1
    return counts

"""The 114 half-year report (2024 H2) over hand-built calls and bookings, read back from the
PDF and XLSX files a manager downloads.

Calls (Beijing time, line 114):
  2024-07-01 14:00 answered, waited 10 s, talked 100 s
  2024-07-01 23:00 answered, waited 30 s, talked 200 s  (night shift)
  2024-07-02 15:00 abandoned after 40 s
  2024-09-03 09:00 served by the IVR alone
  2024-09-04 02:00 answered, waited 20 s, talked 60 s   (night shift)
Bookings: July: phone 10:00, phone 23:10 (night), online; September: IVR 09:01, online
(cancelled later: still a successful booking).

By hand:
  July: inbound 3, answered 2, average wait (10+30+40)/3 = 26.7 s, ASA 20.0 s, average talk
  150.0 s, phone bookings 2 → daily 2/31 = 0.1, success 2/(2 answered + 0 IVR) = 100.0 %;
  night: 1 call, 1 answered, wait 30.0, talk 200.0, 1 night booking.
  September: inbound 2, answered 1, success 1/(1 + 1 IVR) = 50.0 %.
  Half year: inbound 5, answered 3, average wait (10+30+40+20)/4 = 25.0 s, ASA 20.0 s,
  average talk (100+200+60)/3 = 120.0 s, phone bookings 3 over 184 days → 0.0,
  success 3/(3+1) = 75.0 %; night 2 calls, 1 night booking.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from backend.models.agents import Agent
from backend.models.booking import Booking, Department, Hospital, Patient, Schedule, Slot
from backend.models.calls import CallRecord, Disposition, Line
from reports.booking_sheet import build_booking_sheet
from reports.halfyear_114 import SECTION_TITLES, build_halfyear_114
from reports.render_files import render_pdf, render_xlsx
from reports.render_html import render_html
from reports.summaries import refresh_summaries

BJ = ZoneInfo("Asia/Shanghai")


def bj(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=BJ).astimezone(UTC)


CALLS = [  # start, wait, talk, disposition
    (bj(7, 1, 14), 10, 100, Disposition.ANSWERED),
    (bj(7, 1, 23), 30, 200, Disposition.ANSWERED),
    (bj(7, 2, 15), 40, 0, Disposition.ABANDONED_QUEUE),
    (bj(9, 3, 9), None, 0, Disposition.SELF_SERVICE),
    (bj(9, 4, 2), 20, 60, Disposition.ANSWERED),
]
BOOKINGS = [  # booked at, channel, status
    (bj(7, 1, 10), "phone", "booked"),
    (bj(7, 1, 23, 10), "phone", "attended"),
    (bj(7, 5, 12), "online", "booked"),
    (bj(9, 3, 9, 1), "ivr", "booked"),
    (bj(9, 8, 8), "online", "cancelled"),
]


@pytest.fixture(scope="module")
def half_year_data(session_factory) -> None:  # type: ignore[no-untyped-def]
    with session_factory() as s:
        agent = Agent(number="r8101", name="丙三", interface="Local/r3@sim", team="rpt丙")
        s.add(agent)
        s.flush()
        for n, (start, wait, talk, disposition) in enumerate(CALLS):
            answered = disposition is Disposition.ANSWERED
            queued = start + timedelta(seconds=5) if wait is not None else None
            s.add(
                CallRecord(
                    call_id=f"rpt-hy-{n}",
                    line=Line.APPOINTMENT_114,
                    started_at=start,
                    queued_at=queued,
                    wait_seconds=wait or 0.0,
                    talk_seconds=talk,
                    answered_at=queued + timedelta(seconds=wait)
                    if answered and queued and wait
                    else None,
                    agent_id=agent.id if answered else None,
                    disposition=disposition,
                    skill="rpt_hy",
                )
            )
        _bookings(s)
        s.commit()
        # Other test modules may have left a refresh mark after these days: summarise them.
        refresh_summaries(s, datetime(2024, 7, 1, tzinfo=UTC))


def _bookings(s: Session) -> None:
    hospital = Hospital(code="rpt-h1", name="报表测试医院", level="三级", district="东城区")
    s.add(hospital)
    s.flush()
    dept = Department(hospital_id=hospital.id, code="rpt-d1", name="内科")
    s.add(dept)
    s.flush()
    for n, (at, channel, status) in enumerate(BOOKINGS):
        schedule = Schedule(
            hospital_id=hospital.id,
            department_id=dept.id,
            external_id=f"rpt-s{n}",
            day=date(2024, 12, 1),
            session="morning",
            starts_at=at,
            ends_at=at,
            fee=Decimal("50.00"),
            capacity=1,
        )
        s.add(schedule)
        s.flush()
        slot = Slot(schedule_id=schedule.id, seq=1, starts_at=at, taken=True)
        patient = Patient(
            id_hash=f"rpt-id-{n}", id_enc="x", name_enc="x", phone_hash=f"rpt-ph-{n}", phone_enc="x"
        )
        s.add_all([slot, patient])
        s.flush()
        s.add(
            Booking(
                code=f"RPT{n}",
                slot_id=slot.id,
                schedule_id=schedule.id,
                hospital_id=hospital.id,
                department_id=dept.id,
                patient_id=patient.id,
                visit_day=date(2024, 12, 1),
                status=status,
                channel=channel,
                actor="test",
                booked_at=at,
            )
        )


def test_half_year_report_has_exactly_the_contracted_contents(
    db: Session, half_year_data: None
) -> None:
    doc = build_halfyear_114(db, 2024, 2)
    assert [s.title for s in doc.sections] == list(SECTION_TITLES)
    rows = {title: {r[0]: r[1:] for r in doc.table(title).rows} for title in SECTION_TITLES[:6]}
    assert rows["一、呼入量"]["2024年07月"][0] == 3
    assert rows["一、呼入量"]["合计"][0] == 5
    assert rows["二、预约坐席接听量"]["合计"][0] == 3
    assert rows["三、平均等待时长"]["2024年07月"] == ["26.7", "20.0"]
    assert rows["三、平均等待时长"]["合计"] == ["25.0", "20.0"]
    assert rows["四、平均通话时长"]["合计"][0] == "120.0"
    assert rows["五、日均成功预约量与预约成功率"]["2024年07月"] == [2, 31, 0.1, "100.0%"]
    assert rows["五、日均成功预约量与预约成功率"]["2024年09月"][-1] == "50.0%"
    assert rows["五、日均成功预约量与预约成功率"]["合计"] == [3, 184, 0.0, "75.0%"]
    assert rows["六、夜班数据"]["2024年07月"] == [1, 1, "30.0", "200.0", 1]
    assert rows["六、夜班数据"]["合计"][:2] == [2, 2]
    by_hour = {r[0]: r[1] for r in doc.table("按小时到达分布").rows}
    assert {h: n for h, n in by_hour.items() if n} == {
        "02:00": 1,
        "09:00": 1,
        "14:00": 1,
        "15:00": 1,
        "23:00": 1,
    }


def test_half_year_report_pdf_and_xlsx_open_with_the_figures(
    db: Session, half_year_data: None
) -> None:
    doc = build_halfyear_114(db, 2024, 2)
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(doc))).pages)
    for figure in ("26.7", "120.0", "75.0%", "184"):
        assert figure in pdf_text
    assert "半年度统计报表" in pdf_text and "夜班数据" in pdf_text

    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(doc)))
    sheet = book[SECTION_TITLES[4]]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[2] == ["月份", "成功预约量(电话)", "天数", "日均成功预约量", "预约成功率"]
    assert ["合计", 3, 184, 0.0, "75.0%"] in values
    assert "口径说明" in book.sheetnames

    page = render_html(doc)
    assert "<svg" in page and "预约成功率 = 成功预约量(电话)" in page


def test_monthly_booking_confirmation_sheet(db: Session, half_year_data: None) -> None:
    doc = build_booking_sheet(db, 2024)
    rows = {r[0]: r[1:] for r in doc.table("月度确认单").rows}
    assert rows["2024年07月"] == [3, 1, 2]  # total, online, phone (agents and IVR)
    assert rows["2024年09月"] == [2, 1, 1]  # the cancelled online booking still counts
    assert rows["合计"] == [5, 2, 3]

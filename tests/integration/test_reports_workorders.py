"""Work-order report (weekly edition, 2022-03-07 … 03-13) and the booking confirmation sheet.

Orders, by hand:
  w1 医疗保障/医保报销  医保中心  closed, resolved, satisfied, never supervised   caller A
  w2 医疗保障/医保报销  医保中心  closed, resolved, NOT satisfied, supervised once  caller A
  w3 药品/目录          药监局    handling, overdue                                 caller B
  w4 医疗保障/异地就医  医保中心  just created (not yet signed), repeat of w2       caller C
  Hot spot "门诊报销慢": w1, w2, w3 (callers A and B).
Response 3/4 = 75.0 %; resolution 2/2 = 100.0 %; satisfaction 1/2 = 50.0 %; first-contact
resolution: w1 only (w2 was supervised and repeated) = 1/2 = 50.0 %; overdue 1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.models.workorders import WorkOrder
from reports.periods import Edition
from reports.workorder_report import build_workorder_report

BJ = ZoneInfo("Asia/Shanghai")
A, B, C = "a" * 64, "b" * 64, "c" * 64


@pytest.fixture(scope="module")
def week_of_orders(session_factory: sessionmaker[Session]) -> None:
    specs = [  # number, category, department, state, resolved, satisfied, round, overdue, caller
        ("RPT-W1", "医疗保障/医保报销", "医保中心", "closed", True, True, 0, False, A),
        ("RPT-W2", "医疗保障/医保报销", "医保中心", "closed", True, False, 1, False, A),
        ("RPT-W3", "药品/目录", "药监局", "handling", None, None, 0, True, B),
        ("RPT-W4", "医疗保障/异地就医", "医保中心", "created", None, None, 0, False, C),
    ]
    with session_factory() as s:
        orders = {}
        for day, (number, category, dept, state, resolved, satisfied, rnd, late, who) in enumerate(
            specs, start=7
        ):
            order = WorkOrder(
                number=number,
                source="hotline_call",
                state=state,
                title="报表测试",
                category=category,
                department=dept,
                industry="医疗",
                resolved=resolved,
                satisfied=satisfied,
                supervision_round=rnd,
                overdue=late,
                caller_phone_hash=who,
                hotspot_key="门诊报销慢" if number != "RPT-W4" else "",
                created_at=datetime(2022, 3, day, 10, tzinfo=BJ).astimezone(UTC),
            )
            s.add(order)
            s.flush()
            orders[number] = order
        orders["RPT-W4"].repeat_of_id = orders["RPT-W2"].id
        s.commit()


def test_weekly_edition_counts_rates_hot_spots_and_repeat_callers(
    db: Session, week_of_orders: None
) -> None:
    doc = build_workorder_report(db, Edition.WEEKLY, date(2022, 3, 9))
    assert doc.subtitle == "2022-03-07 至 2022-03-13"
    rates = dict(doc.table("三率").rows)  # type: ignore[arg-type]
    assert rates == {
        "响应率": "75.0%",
        "解决率": "100.0%",
        "满意率": "50.0%",
        "来电满意率": "—",  # no order here came with a surveyed call (acceptance: survey)
        "首次解决率": "50.0%",
        "超期工单": 1,
        "工单总数": 4,
    }
    by_category = {r[0]: r[1:] for r in doc.table("按问题类别").rows}
    assert by_category["医疗保障"] == [3, 2, "100.0%", "50.0%", 0]
    assert by_category["药品"] == [1, 0, "—", "—", 1]
    assert doc.table("按承办部门（排名）").rows[0][:2] == ["医保中心", 3]
    hot = doc.table("热点问题（多人反映同一问题）").rows
    assert hot[0][:3] == ["门诊报销慢", 3, 2]
    repeaters = doc.table("重复来电人（一人多次反映）").rows
    assert repeaters == [["#aaaaaaaa", 2, "医疗保障"]]


def test_the_following_week_is_empty(db: Session, week_of_orders: None) -> None:
    doc = build_workorder_report(db, Edition.WEEKLY, date(2022, 3, 14))
    assert dict(doc.table("三率").rows)["工单总数"] == 0  # type: ignore[arg-type]

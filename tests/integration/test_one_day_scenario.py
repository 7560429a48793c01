"""One day across a holiday, end to end: the demo data set, about 200 calls over both lines
written through the controller's own writers with a simulated clock (the demo history's
writer, limited to these days), out-of-hours messages that become work orders with callback
tasks, callbacks of callers who left the queue, bookings through the booking service and work
orders through the work-order service; then the daily, half-year, 接诉即办 (work-order) and
confirmation-sheet reports, each against counts taken straight from the raw rows, and against
each other where they overlap.

The days: Thursday 30 April 2026, the last working day before 劳动节, and Friday 1 May, the
holiday itself (the hotline closed all day: every hotline call leaves a message). They are the
only days in this database with calls, bookings or orders, each alone in its month, so the
half-year's April and May rows are these days.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from backend.audit.records import Actor
from backend.booking.rules import BookingRules
from backend.db import transaction
from backend.demo import seed_demo
from backend.models.calls import CallRecord, Direction, Disposition, Line
from backend.models.workorders import CallbackTask, WorkOrder
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from backend.workorders.composition import workorder_service
from backend.workorders.service import OrderDraft
from backend.workorders.workflow import Source as OrderSource
from ivr.acd.callbacks import CallbackReport
from ivr.acd.queue import QueueReport
from ivr.acd.records import SqlQueueRecorder
from ivr.call_lifecycle import CallLifecycle
from ivr.demo_history.writer import SimClock, write_history
from ivr.flows.ports import CallInfo, IvrExit, IvrSummary
from ivr.journal import SqlCallJournal
from recordings.index import RecordingIndex
from reports.confirmation_sheet import DAILY_TABLE, PRICED_TABLE, build_confirmation_sheet
from reports.document import ReportDocument, Table
from reports.halfyear_114 import build_halfyear_114
from reports.periods import Edition, ReportFilter
from reports.service_report import build_service_report
from reports.summaries import refresh_summaries
from reports.workorder_report import build_workorder_report
from tests.billing_support import SeededMonth, seed_month
from tests.db_support import ScratchDatabase, scratch_database

WORKING_DAY = date(2026, 4, 30)
HOLIDAY = date(2026, 5, 1)  # 劳动节
DAYS = (WORKING_DAY, HOLIDAY)
# Out-of-hours hotline messages: (day, how many, first and last local hour they arrive in).
MESSAGES = ((WORKING_DAY, 4, 18, 22), (HOLIDAY, 12, 8, 20))
# Bookings per day: (online, phone incl. IVR).
BOOKINGS = {WORKING_DAY: (5, 7), HOLIDAY: (4, 3)}
CATEGORIES = ("医疗保障/医保报销/门诊", "医疗保障/异地就医", "医药服务/定点药店")
# Hotline callers of the working day who ask for a callback in the queue (besides any the
# demo day has).
CALLBACKS_ASKED = 5
ORDERS_FILED = 9  # work orders agents file during answered hotline calls on the working day


@dataclass
class Scenario:
    db: ScratchDatabase
    tz: ZoneInfo
    history_calls: int
    messages: list[str] = field(default_factory=list)  # the message calls' ids
    callbacks: list[str] = field(default_factory=list)  # the calls called back
    bookings: dict[date, SeededMonth] = field(default_factory=dict)

    def local_range(self, first: date, last: date) -> dict[str, datetime]:
        start = datetime.combine(first, time.min, tzinfo=self.tz)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=self.tz)
        return {"s": start, "e": end}


@pytest.fixture(scope="module")
def scenario(settings: Settings) -> Iterator[Scenario]:
    with scratch_database(settings, "oneday") as db:
        tz = ZoneInfo(db.settings.timezone)
        assert not WorkCalendar.load().is_working_day(HOLIDAY)
        assert WorkCalendar.load().is_working_day(WORKING_DAY)
        with transaction(db.factory) as session:
            seed_demo(session, db.settings)  # as `callcenter demo-data` does
        until = datetime.combine(HOLIDAY + timedelta(days=1), time.min, tzinfo=tz)
        history = write_history(db.engine, db.settings, list(DAYS), now=until)
        found = Scenario(db, tz, history.calls)
        asyncio.run(_write_extra_calls(db, found))
        asyncio.run(_call_back(db, found))
        _file_orders(db)
        for day, plan in BOOKINGS.items():
            # On the holiday the visits' cancel deadline (the working day before) has
            # passed: nobody cancels then.
            found.bookings[day] = seed_month(
                db.settings, db.factory, day.year, day.month, {day.day: plan},
                cancel_first=day == WORKING_DAY,
            )  # fmt: skip
        with db.factory() as session:
            refresh_summaries(
                session, datetime.combine(WORKING_DAY, time.min, tzinfo=tz),
                tz_name=db.settings.timezone,
            )  # fmt: skip
        yield found


class ExtraCalls:
    """Calls the demo history's day does not have, written as the controller writes them:
    the record opened by the call lifecycle, the IVR's exit in the call journal, the queue's
    report in the queue recorder."""

    def __init__(self, db: ScratchDatabase, lifecycle_spool: Path) -> None:
        self.db = db
        self.clock = SimClock()
        self.journal = SqlCallJournal(db.factory, now=self.clock)
        self.recorder = SqlQueueRecorder(db.factory)
        self.lifecycle = CallLifecycle(
            db.factory, RecordingIndex(db.factory, db.settings),
            PersonalDataCipher.of(db.settings), lifecycle_spool, now=self.clock,
        )  # fmt: skip

    async def message(self, call_id: str, caller: str, at: datetime) -> None:
        """An out-of-hours hotline call that leaves a message: disposition voicemail, and the
        message sink's work order with its callback task (``WorkOrderMessageSink``; the
        recorded file and the callback gate's Redis counter are other tests' business)."""
        info = CallInfo(call_id, call_id, "hotline", caller, "12393")
        self.clock.at = at
        self.lifecycle.open_record(info)
        self.clock.at = at + timedelta(seconds=45)
        await self.journal.ivr_left(info, IvrSummary(IvrExit.MESSAGE, "message", False, 45, []))
        with transaction(self.db.factory) as session:
            workorder_service(session, self.db.settings).create_from_message(
                call_id, "hotline", caller, f"messages/{at:%Y/%m/%d}/{call_id}.wav",
                received_at=self.clock(),
            )  # fmt: skip

    async def asks_callback(self, call_id: str, caller: str, at: datetime) -> None:
        """A hotline caller who waits 90 s in the policy queue, then asks to be called back."""
        info = CallInfo(call_id, call_id, "hotline", caller, "12393")
        self.clock.at = at
        self.lifecycle.open_record(info)
        self.clock.at = queued = at + timedelta(seconds=20)
        summary = IvrSummary(IvrExit.QUEUE, "policy", False, 20, [], skill="policy")
        await self.journal.ivr_left(info, summary)
        report = QueueReport(
            call_id=call_id, line="hotline", caller_number=caller, skill="policy", priority=0,
            queued_at=queued.timestamp(), left_at=queued.timestamp() + 90, status="callback",
        )  # fmt: skip
        await self.recorder.queue_left(report)


async def _write_extra_calls(db: ScratchDatabase, found: Scenario) -> None:
    rng = random.Random("one-day-extra-calls")

    def moment(day: date, first_hour: int, last_hour: int) -> datetime:
        start = datetime.combine(day, time(first_hour), tzinfo=found.tz)
        return start + timedelta(seconds=rng.uniform(0, 3600 * (last_hour - first_hour)))

    with tempfile.TemporaryDirectory() as spool:
        calls = ExtraCalls(db, Path(spool) / "spool.jsonl")
        for day, count, first_hour, last_hour in MESSAGES:
            for n in range(count):
                call_id = f"msg-{day:%Y%m%d}-{n:03d}"
                caller = f"139{rng.randrange(10**8):08d}"
                await calls.message(call_id, caller, moment(day, first_hour, last_hour))
                found.messages.append(call_id)
        for n in range(CALLBACKS_ASKED):
            call_id = f"cbq-{WORKING_DAY:%Y%m%d}-{n:03d}"
            caller = f"138{rng.randrange(10**8):08d}"
            await calls.asks_callback(call_id, caller, moment(WORKING_DAY, 10, 16))


async def _call_back(db: ScratchDatabase, found: Scenario) -> None:
    """Each caller who left the queue for a callback is called back the next hour by the
    agent of the skill, as the ACD's callback observer reports it (an outbound record linked
    to the call); every other one is reached."""
    recorder = SqlQueueRecorder(db.factory)
    with db.factory() as session:
        asked = session.execute(
            select(CallRecord.call_id, CallRecord.ended_at, CallRecord.agent_id)
            .where(CallRecord.disposition == Disposition.CALLBACK)
            .order_by(CallRecord.call_id)
        ).all()
        agent_ids = [a for (a,) in session.execute(text("SELECT id FROM agents ORDER BY id"))]
    for nth, (call_id, ended, _agent) in enumerate(asked):
        start = (ended + timedelta(hours=1)).timestamp()
        reached = nth % 2 == 0
        report = CallbackReport(
            parent_call_id=call_id, unique_id=f"cb-{call_id}", attempt_key=f"{call_id}-1",
            agent_id=agent_ids[nth % len(agent_ids)],
            status="answered" if reached else "unreached", started_at=start,
            answered_at=start + 12 if reached else None, talk_seconds=95.0 if reached else 0.0,
            recording="", ended_at=start + (107 if reached else 30),
        )  # fmt: skip
        await recorder.callback_done(report)
        found.callbacks.append(call_id)


def _file_orders(db: ScratchDatabase) -> None:
    """Agents file work orders during answered hotline calls of the working day."""
    with db.factory() as session:
        calls = session.execute(
            select(CallRecord.call_id, CallRecord.ended_at)
            .where(
                CallRecord.line == Line("hotline"),
                CallRecord.disposition == Disposition.ANSWERED,
                CallRecord.direction == Direction.INBOUND,
            )
            .order_by(CallRecord.started_at)
            .limit(ORDERS_FILED)
        ).all()
    assert len(calls) == ORDERS_FILED
    for nth, (call_id, ended) in enumerate(calls):
        draft = OrderDraft(
            title=f"来电咨询{nth}", category=CATEGORIES[nth % len(CATEGORIES)],
            caller_phone=f"1370000{nth:04d}", call_id=call_id,
        )  # fmt: skip
        with transaction(db.factory) as session:
            workorder_service(session, db.settings).create(draft, Actor("a2001"), ended)


# -- raw counts ------------------------------------------------------------------------------


def raw_calls(
    db: ScratchDatabase, s: Scenario, day: date, line: str | None = None
) -> dict[str, int]:
    """Inbound calls of a local day by outcome, straight from call_records."""
    where = [
        CallRecord.direction == Direction.INBOUND,
        CallRecord.started_at >= s.local_range(day, day)["s"],
        CallRecord.started_at < s.local_range(day, day)["e"],
    ]
    if line is not None:
        where.append(CallRecord.line == Line(line))
    with db.factory() as session:
        rows = session.execute(
            select(CallRecord.disposition, func.count())
            .where(*where)
            .group_by(CallRecord.disposition)
        ).all()
        queued = session.scalar(
            select(func.count()).where(*where, CallRecord.queued_at.is_not(None))
        )
    by = {d.value: n for d, n in rows}
    return {
        "inbound": sum(by.values()),
        "queued": int(queued or 0),
        "answered": by.get("answered", 0),
        "abandoned": by.get("abandoned_queue", 0) + by.get("short_abandon", 0),
        "voicemail": by.get("voicemail", 0),
        "callback": by.get("callback", 0),
    }


def raw_bookings(db: ScratchDatabase, s: Scenario, first: date, last: date) -> tuple[int, int]:
    with db.factory() as session:
        online, phone = session.execute(
            text(
                "SELECT count(*) FILTER (WHERE channel = 'online'), "
                "count(*) FILTER (WHERE channel IN ('phone', 'ivr')) FROM bookings "
                "WHERE booked_at >= :s AND booked_at < :e"
            ),
            s.local_range(first, last),
        ).one()
    return int(online), int(phone)


def raw_orders(db: ScratchDatabase, s: Scenario, first: date, last: date) -> dict[str, int]:
    with db.factory() as session:
        rows = session.execute(
            text("SELECT category FROM work_orders WHERE created_at >= :s AND created_at < :e"),
            s.local_range(first, last),
        ).all()
    # The report groups by the category's first level; no category: 未分类.
    return dict(Counter(category.split("/")[0] or "未分类" for (category,) in rows))


# -- reading the reports ---------------------------------------------------------------------


def table(doc: ReportDocument, title: str) -> Table:
    found = [t for section in doc.sections for t in section.tables if t.title == title]
    assert len(found) == 1, f"{title} in {doc.title}"
    return found[0]


def row_of(t: Table, label: str) -> dict[str, object]:
    rows = [r for r in t.rows if r[0] == label]
    assert len(rows) == 1, f"{label} in {t.title}: {[r[0] for r in t.rows]}"
    return dict(zip(t.columns, rows[0], strict=True))


def daily(db: ScratchDatabase, day: date, line: str | None = None) -> dict[str, object]:
    with db.factory() as session:
        doc = build_service_report(
            session, ReportFilter(first=day, last=day, line=line, tz_name=db.settings.timezone)
        )
    return row_of(table(doc, "总体指标"), "合计")


def money(cell: object) -> Decimal:
    return Decimal(str(cell))


# -- the tests -------------------------------------------------------------------------------


def test_the_day_has_its_calls_messages_and_callbacks(scenario: Scenario) -> None:
    db = scenario.db
    both = [raw_calls(db, scenario, day) for day in DAYS]
    written = scenario.history_calls + len(scenario.messages) + CALLBACKS_ASKED
    assert sum(c["inbound"] for c in both) == written
    assert 180 <= written <= 260  # about 200 calls
    hotline_on_holiday = raw_calls(db, scenario, HOLIDAY, "hotline")
    # The hotline is closed on the holiday: its only calls are the messages left.
    assert hotline_on_holiday["inbound"] == hotline_on_holiday["voicemail"] == 12
    assert raw_calls(db, scenario, WORKING_DAY, "hotline")["voicemail"] == 4
    for day in DAYS:
        assert raw_calls(db, scenario, day, "114")["answered"] > 0
        assert raw_calls(db, scenario, day, "114")["abandoned"] > 0
    assert raw_calls(db, scenario, WORKING_DAY, "hotline")["answered"] >= ORDERS_FILED
    with db.factory() as session:
        # Every message is an order with its callback task.
        tasks = session.scalars(
            select(CallbackTask.call_id).where(CallbackTask.call_id.in_(scenario.messages))
        ).all()
        assert sorted(tasks) == sorted(scenario.messages)
        sources = session.scalars(
            select(WorkOrder.source).where(WorkOrder.call_id.in_(scenario.messages))
        ).all()
        assert sources == [OrderSource.HOTLINE_MESSAGE.value] * len(scenario.messages)
        # Every callback asked for in the queue has its outbound attempt linked to it.
        linked = session.scalars(
            select(CallRecord.parent_call_id).where(CallRecord.direction == Direction.OUTBOUND)
        ).all()
    callbacks_asked = sum(c["callback"] for c in both)
    assert callbacks_asked >= CALLBACKS_ASKED and sorted(linked) == sorted(scenario.callbacks)
    assert len(linked) == callbacks_asked


def test_the_daily_report_counts_the_raw_calls(scenario: Scenario) -> None:
    db = scenario.db
    for day in DAYS:
        for line in (None, "114", "hotline"):
            raw = raw_calls(db, scenario, day, line)
            report = daily(db, day, line)
            assert report["呼入量"] == raw["inbound"], (day, line)
            assert report["进入队列"] == raw["queued"], (day, line)
            assert report["接听"] == raw["answered"], (day, line)
            assert report["放弃"] == raw["abandoned"], (day, line)
        # The whole is its lines.
        whole, lines = daily(db, day), [daily(db, day, line) for line in ("114", "hotline")]
        for column in ("呼入量", "进入队列", "接听", "放弃"):
            assert whole[column] == sum(int(str(r[column])) for r in lines)


def test_the_half_year_report_agrees_with_the_daily_and_the_sheet(scenario: Scenario) -> None:
    db = scenario.db
    with db.factory() as session:
        doc = build_halfyear_114(session, 2026, 1, tz_name=db.settings.timezone)
        sheets = {
            day: build_confirmation_sheet(
                session, BookingRules(), day.year, day.month, db.settings.timezone
            )
            for day in DAYS
        }
    inbound, answered = table(doc, "一、呼入量"), table(doc, "二、预约坐席接听量")
    phone = table(doc, "五、日均成功预约量与预约成功率")
    for day in DAYS:
        month = f"{day:%Y年%m月}"
        the_day = daily(db, day, "114")
        raw = raw_calls(db, scenario, day, "114")
        assert row_of(inbound, month)["呼入量"] == the_day["呼入量"] == raw["inbound"]
        assert row_of(answered, month)["预约坐席接听量"] == the_day["接听"] == raw["answered"]
        sheet_phone = row_of(table(sheets[day], PRICED_TABLE), "电话渠道")["成功预约量"]
        _, raw_phone = raw_bookings(db, scenario, day, day)
        assert row_of(phone, month)["成功预约量(电话)"] == sheet_phone == raw_phone
        assert raw_phone == BOOKINGS[day][1]
    # Months with nothing in them are zero, and the total is the two days.
    assert row_of(inbound, "2026年01月")["呼入量"] == 0
    assert row_of(inbound, "合计")["呼入量"] == sum(
        raw_calls(db, scenario, day, "114")["inbound"] for day in DAYS
    )


def test_the_confirmation_sheet_prices_the_raw_bookings(scenario: Scenario) -> None:
    db = scenario.db
    rules = BookingRules()
    for day in DAYS:
        with db.factory() as session:
            sheet = build_confirmation_sheet(
                session, rules, day.year, day.month, db.settings.timezone
            )
        online, phone = raw_bookings(db, scenario, day, day)
        assert (
            (online, phone)
            == BOOKINGS[day]
            == (scenario.bookings[day].online, scenario.bookings[day].phone)
        )
        priced = table(sheet, PRICED_TABLE)
        assert row_of(priced, "网络渠道")["成功预约量"] == online
        assert row_of(priced, "电话渠道")["成功预约量"] == phone
        assert row_of(priced, "合计")["成功预约量"] == online + phone
        amounts = [
            money(row_of(priced, label)["金额(元)"]) for label in ("网络渠道", "电话渠道", "合计")
        ]
        expected = [rules.price_online * online, rules.price_phone * phone]
        assert amounts == [*expected, sum(expected)]
        the_day = row_of(table(sheet, DAILY_TABLE), day.isoformat())
        assert (the_day["合计"], the_day["网络渠道"], the_day["电话渠道"]) == (
            online + phone,
            online,
            phone,
        )
        # No other day of the month has a booking.
        others = [r for r in table(sheet, DAILY_TABLE).rows if r[0] != day.isoformat()]
        assert all(r[1] == 0 for r in others)


def test_the_workorder_report_counts_the_raw_orders(scenario: Scenario) -> None:
    db = scenario.db
    with db.factory() as session:
        doc = build_workorder_report(session, Edition.WEEKLY, WORKING_DAY, db.settings.timezone)
    first = WORKING_DAY - timedelta(days=WORKING_DAY.weekday())
    raw = raw_orders(db, scenario, first, first + timedelta(days=6))
    assert sum(raw.values()) == len(scenario.messages) + ORDERS_FILED
    rates = table(doc, "三率")
    assert row_of(rates, "工单总数")["数值"] == sum(raw.values())
    assert (
        {r[0]: r[1] for r in table(doc, "按问题类别").rows}
        == raw
        == {"未分类": len(scenario.messages), "医疗保障": 6, "医药服务": 3}
    )
    # The orders of the messages are those of the daily report's voicemails.
    voicemails = sum(raw_calls(db, scenario, day, "hotline")["voicemail"] for day in DAYS)
    assert raw.get("未分类", 0) == voicemails == len(scenario.messages)

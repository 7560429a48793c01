"""An out-of-hours hotline message becomes a work order with a callback task (PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.flows.loader import load_flows
from backend.models.calls import CallRecord, Disposition
from backend.models.workorders import CallbackTask, WorkOrder
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.message_adapter import WorkOrderMessageSink
from ivr.journal import SqlCallJournal
from tests.ivr_scripted_call import (
    LabelRenderer,
    RecordingQueue,
    Say,
    ScriptedChannel,
    SteppingClock,
)

SATURDAY_NIGHT = datetime(2026, 11, 28, 13, 30, tzinfo=UTC)  # 21:30 in Beijing


async def test_out_of_hours_message_is_stored_and_becomes_a_ticket_with_a_callback(
    settings: Settings, session_factory: sessionmaker[Session], db: Session, tmp_path: Path
) -> None:
    local = settings.model_copy(
        update={"asterisk_builtin": False, "asterisk_recordings_dir": str(tmp_path / "rec")}
    )
    sink = WorkOrderMessageSink(session_factory, local, clock=lambda: SATURDAY_NIGHT)
    flow = load_flows(names=("hotline",))["hotline"]
    engine = FlowEngine(
        flow,
        FlowPorts(
            renderer=LabelRenderer(),
            queue=RecordingQueue(),
            journal=SqlCallJournal(session_factory),
            calendar=WorkCalendar.load(),
            clock=SteppingClock(SATURDAY_NIGHT),
            messages=sink,
        ),
    )
    call_id = f"{uuid.uuid4().int % 10**10}.5"
    channel = ScriptedChannel(
        [Say("我想咨询异地就医备案，请回电")],
        env={"uniqueid": call_id, "linkedid": call_id, "callerid": "13811112222"},
        variables={"CC_DID": "12393"},
    )
    await engine.run(channel, await call_info(channel, "hotline"))

    # The recording went where Asterisk writes messages, and the order points at it.
    recorded = Path(channel.recordings[0] + ".wav")
    assert recorded.is_file()
    assert recorded.parent == tmp_path / "rec" / "messages" / "2026" / "11" / "28"
    order = db.scalars(select(WorkOrder).where(WorkOrder.call_id == call_id)).one()
    assert order.source == "hotline_message" and order.line == "hotline"
    assert order.recording_path == f"messages/2026/11/28/{call_id}.wav"
    task = db.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id)).one()
    assert task.status == "pending" and "13811112222" not in task.phone_enc
    record = db.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()
    assert record.disposition is Disposition.VOICEMAIL
    assert channel.played[-2:] == ["hotline/message_saved", "hotline/goodbye"]

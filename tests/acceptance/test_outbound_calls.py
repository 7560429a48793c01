"""Outbound calls on the real Asterisk, through the controller as ``callcenter controller``
builds it and the desk as ``callcenter desk`` serves it, with real SIP parts: the agent's desk
phone is baresip registered with the secret the provisioning service gave it, the PSTN is
the SIPp carrier behind the trunk, callers are SIPp calls into the DIDs.

The agent dials a mobile number from his phone: it reaches the carrier with the line's caller
ID, is recorded with both voices and gets a call record; an international number is refused
with a clear message (on the phone, on the desk) and never reaches the carrier; a message
left out of hours is called back by the system once an agent is ready; a work order's 回访
call is recorded, its recording linked on the order and played from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import events
from backend.acd.skills import skill_configs
from backend.acd.states import AgentState
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.flows.schema import PromptText
from backend.lines import line_spec
from backend.models.calls import CallRecord, Direction, Disposition, Recording
from backend.models.users import Role
from backend.models.workorders import CallbackTask, WorkOrder
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import TtsRenderer
from backend.workcalendar import WorkCalendar
from backend.workorders.composition import workorder_service
from backend.workorders.demo_data import DESK, TO_ACCEPTED
from backend.workorders.service import OrderDraft
from backend.workorders.workflow import State
from ivr.acd.service import AcdService, build_acd
from ivr.agi.server import AgiServer
from ivr.agi.session import AgiSession
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.message_adapter import WorkOrderMessageSink
from ivr.flows.ports import CallInfo
from ivr.journal import SqlCallJournal
from ivr.main import Controller, build_controller
from ivr.outbound.callback_tasks import CallbackTaskFeeder, SqlCallbackTasks
from ivr.outbound.route import OUTBOUND_SCRIPT
from ivr.outbound.service import OutboundService, build_outbound
from recordings.index import RecordingIndex
from recordings.pause import DISK_FULL, pause_recordings, resume_recordings
from tests.asterisk_fixtures import DID_HOTLINE, AgiRoutes, wait_for_recording
from tests.desk_browser import AGENT_TONE_HZ, DeskServer, serve_desk
from tests.desk_support import DeskUser, desk_settings, ensure_skill, make_user
from tests.outbound_support import MORNING, NIGHT, MovableClock, TheseOrdersTasks
from tests.recording_support import recorded_once
from tests.sip.baresip import BaresipPhone
from tests.sip.carrier import SipCarrier
from tests.sip.tones import holds_tone
from tests.sip_fixtures import DeskPhones, SipCallers
from tests.softphone_support import Softphones, agent_is, inbound_packets, phone_is

pytestmark = pytest.mark.asterisk

T = TypeVar("T")
PHONE_TONE, CARRIER_TONE, CALLER_TONE = 1500, 1100, 700  # the SIPp carrier plays 1100 Hz


@pytest.fixture()
def stack_settings(settings: Settings, redis_namespace: str) -> Settings:
    # Its own ACD namespace: agents other tests left ready cannot take this test's calls.
    return desk_settings(
        settings,
        f"{redis_namespace}-out-{uuid.uuid4().hex[:6]}",
        recordings_dir=settings.effective_recordings_dir,
        outbound_wrapup_seconds=10,
    )


@dataclass
class Stack:
    settings: Settings
    acd: AcdService
    controller: Controller
    outbound: OutboundService
    desk: DeskServer


@pytest.fixture()
async def stack(
    stack_settings: Settings,
    session_factory: sessionmaker[Session],
    agi_server: tuple[AgiServer, AgiRoutes],
    agi_routes: AgiRoutes,
    asterisk: Any,
) -> AsyncIterator[Stack]:
    """The controller's ACD and outbound route on the session's AGI port, and the desk."""
    for skill, line in (("booking", "114"), ("general", "114"), ("policy", "hotline")):
        ensure_skill(session_factory, skill, line)
    ami = AmiClient(stack_settings, AmiUser.CONTROLLER)
    await ami.connect()
    redis = aioredis.Redis.from_url(stack_settings.redis_url, decode_responses=True)
    renderer = TtsRenderer(stack_settings)
    tasks = SqlCallbackTasks(
        session_factory, stack_settings, RecordingIndex(session_factory, stack_settings)
    )
    acd = build_acd(
        stack_settings,
        redis,
        session_factory,
        ami,
        renderer,
        skill_configs(session_factory),
        controller_id=f"out-{uuid.uuid4().hex[:6]}",
        caller_ids=stack_settings.caller_id,
        callback_observer=tasks,
    )
    controller = build_controller(stack_settings, session_factory, acd.queue, renderer=renderer)
    outbound = build_outbound(
        stack_settings, session_factory, redis, acd, tasks, controller.lifecycle, renderer
    )
    server, _ = agi_server
    for script, handler in ((OUTBOUND_SCRIPT, outbound.route), *acd.agi_routes().items()):
        with contextlib.suppress(ValueError):  # the session's server keeps it across tests
            server.add_route(script, _routed(agi_routes, script))
        agi_routes.set(script, handler)
    stop = asyncio.Event()
    routing = asyncio.create_task(acd.run(stop))
    await asyncio.wait_for(acd.dispatcher.ready.wait(), 10)
    desk = serve_desk(stack_settings, session_factory)
    yield Stack(stack_settings, acd, controller, outbound, desk)
    desk.stop()
    stop.set()
    await routing
    await controller.lifecycle.drain()
    ami.close()
    await redis.aclose()  # type: ignore[attr-defined]


def _routed(routes: AgiRoutes, script: str) -> Callable[[AgiSession], Awaitable[None]]:
    async def dispatch(session: AgiSession) -> None:
        await routes.handlers[script](session)

    return dispatch


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float, what: str) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.2)


@dataclass
class Seat:
    user: DeskUser
    phone: BaresipPhone
    client: httpx.AsyncClient
    agent_id: int


async def seat(
    stack: Stack,
    session_factory: sessionmaker[Session],
    desk_phones: DeskPhones,
    skills: dict[str, int],
) -> Seat:
    """An agent created through the provisioning service, his baresip desk phone registered
    with the secret it returned (answering by itself), signed in and ready at the desk."""
    user = make_user(session_factory, Role.AGENT, with_agent=False)
    desk_agent = await desk_phones.new_agent(
        tone_hz=PHONE_TONE, auto_answer=True, skills=skills, username=user.username
    )
    client = httpx.AsyncClient(base_url=stack.desk.url, timeout=30)
    login = await client.post(
        "/api/auth/login", json={"username": user.username, "password": user.password}
    )
    assert login.status_code == 200, login.text
    for path in ("/api/agent/sign-in", "/api/agent/ready"):
        reply = await client.post(path)
        assert reply.status_code == 200, reply.text
    assert reply.json()["agent_id"] == desk_agent.agent_id
    return Seat(user, desk_agent.phone, client, desk_agent.agent_id)


def latest_outbound(
    session_factory: sessionmaker[Session], agent_id: int, *, ended: bool = True
) -> CallRecord | None:
    with session_factory() as db:
        query = select(CallRecord).where(
            CallRecord.agent_id == agent_id, CallRecord.direction == Direction.OUTBOUND
        )
        if ended:
            query = query.where(CallRecord.ended_at.is_not(None))
        return db.scalar(query.order_by(CallRecord.id.desc()).limit(1))


def holds_both(path: Path, first: float, second: float) -> bool:
    return holds_tone(path, first) and holds_tone(path, second)


async def talk_then_hang_up(
    stack: Stack,
    seat: Seat,
    carrier: SipCarrier,
    number: str,
    *,
    while_talking: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """The carrier answered: the agent is on the call in the ACD, talks, hangs up his phone."""

    async def answered() -> bool:
        return any(c.number == number and c.answered for c in carrier.calls())

    await carrier.wait_for_call(number, timeout=45)
    await eventually(answered, 15, "the carrier answered")

    async def on_call() -> bool:
        view = await stack.acd.store.agent(seat.agent_id)
        return view is not None and view.status.state == AgentState.ON_CALL

    await eventually(on_call, 15, "the agent is on the call in the ACD")
    if while_talking is not None:
        await while_talking()
    await asyncio.sleep(3)  # both sides talk: tone each way
    await seat.phone.hangup()
    await carrier.wait_for_call(number, ended=True)


async def test_the_agent_dials_a_mobile_number_from_his_desk_phone(
    stack: Stack,
    session_factory: sessionmaker[Session],
    desk_phones: DeskPhones,
    sip_carrier: SipCarrier,
) -> None:
    cipher = PersonalDataCipher(stack.settings.data_key.get_secret_value())
    agent = await seat(stack, session_factory, desk_phones, {"booking": 5})
    number = f"139{uuid.uuid4().int % 10**8:08d}"
    await agent.phone.dial(number)

    async def a_caller_queues() -> None:
        await stack.acd.store.enqueue("waiting-caller", "booking")
        stack.acd.dispatcher.kick()

    await talk_then_hang_up(stack, agent, sip_carrier, number, while_talking=a_caller_queues)

    (call,) = [c for c in sip_carrier.calls() if c.number == number]
    assert call.caller_id == stack.settings.caller_id["114"]  # his line's number (skill booking)
    assert call.caller_name == ""  # not the agent's name

    async def wrapping_up() -> bool:
        view = await stack.acd.store.agent(agent.agent_id)
        return view is not None and view.status.state == AgentState.WRAP_UP

    await eventually(wrapping_up, 15, "the agent in wrap-up after his call")
    waiting = await stack.acd.store.call("waiting-caller")
    assert waiting is not None and waiting.agent_id is None  # not offered to him meanwhile
    record = await eventually(
        lambda: asyncio.to_thread(latest_outbound, session_factory, agent.agent_id),
        30,
        "the outbound call record",
    )
    assert record.disposition is Disposition.ANSWERED and record.talk_seconds > 2
    assert record.line.value == "114" and record.did == stack.settings.caller_id["114"]
    assert record.caller_number == number[:3] + "****" + number[-4:]
    assert cipher.decrypt(record.caller_enc) == number
    with session_factory() as db:
        recording = db.scalar(select(Recording).where(Recording.call_id == record.call_id))
        calls = db.scalar(select(func.count()).where(CallRecord.caller_hash == record.caller_hash))
    assert recording is not None and calls == 1
    # One closed record, its one recording indexed, linked and complete: not "lacking".
    assert (await recorded_once(session_factory, record.call_id)).id == recording.id
    path = await wait_for_recording(stack.settings.effective_recordings_dir / recording.path, 30)
    assert holds_both(path, PHONE_TONE, CARRIER_TONE)
    await stack.acd.store.abandon("waiting-caller")
    await agent.client.aclose()


async def test_with_recordings_paused_the_outbound_call_goes_through_flagged_unrecorded(
    stack: Stack,
    session_factory: sessionmaker[Session],
    desk_phones: DeskPhones,
    sip_carrier: SipCarrier,
) -> None:
    agent = await seat(stack, session_factory, desk_phones, {"booking": 5})
    number = f"139{uuid.uuid4().int % 10**8:08d}"
    root = stack.settings.effective_recordings_dir
    pause_recordings(root)  # as the disk watch does below CC_DISK_REFUSE_FREE_MB
    try:
        await agent.phone.dial(number)
        await talk_then_hang_up(stack, agent, sip_carrier, number)
    finally:
        resume_recordings(root)
    record = await eventually(
        lambda: asyncio.to_thread(latest_outbound, session_factory, agent.agent_id),
        30,
        "the outbound call record",
    )
    assert record.disposition is Disposition.ANSWERED
    assert (record.recording_id, record.unrecorded) == (None, DISK_FULL)
    with session_factory() as db:
        assert db.scalar(select(Recording).where(Recording.call_id == record.call_id)) is None
    await agent.client.aclose()


async def test_an_international_number_is_refused_with_a_clear_message(
    stack: Stack,
    session_factory: sessionmaker[Session],
    desk_phones: DeskPhones,
    sip_carrier: SipCarrier,
) -> None:
    agent = await seat(stack, session_factory, desk_phones, {"booking": 5})
    # From the desk's dial box: refused before anything rings.
    reply = await agent.client.post("/api/agent/calls", json={"number": "+1 650 253 0000"})
    assert reply.status_code == 422, reply.text
    assert reply.json() == {
        "error": "number-international",
        "message": "不允许拨打国际及港澳台号码",
    }

    # From the phone itself: the desk is told why, the phone hears it and gets 403.
    redis = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    pubsub = redis.pubsub()
    await pubsub.subscribe(events.channel_name(stack.settings.desk_redis_prefix))
    closed_before = len(agent.phone.events)
    await agent.phone.dial("0016502530000")
    closed = await agent.phone.wait_event("CALL_CLOSED", 60, after=closed_before)
    assert "403" in json.dumps(closed, ensure_ascii=False)

    async def refusal() -> events.OutboundRefused | None:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        if message is None:
            return None
        event = events.decode(message["data"])
        ours = isinstance(event, events.OutboundRefused) and event.agent_id == agent.agent_id
        return event if ours else None

    told = await eventually(refusal, 30, "the desk is told why")
    assert (told.code, told.message) == ("number-international", "不允许拨打国际及港澳台号码")
    await pubsub.aclose()  # type: ignore[attr-defined]
    await redis.aclose()  # type: ignore[attr-defined]
    assert sip_carrier.calls() == []  # nothing reached the carrier
    record = latest_outbound(session_factory, agent.agent_id)
    assert record is not None and record.disposition is Disposition.REFUSED
    # The attempt is on file from its first second: the agent hearing why, indexed and
    # complete, so it is not among the calls lacking a recording.
    recording = await recorded_once(session_factory, record.call_id)
    heard = await wait_for_recording(stack.settings.effective_recordings_dir / recording.path)
    assert recording.duration_seconds > 1 and heard.stat().st_size > 8000
    status = (await agent.client.get("/api/agent/status")).json()
    assert status["state"] == "ready"  # he never left the queue
    await agent.client.aclose()


def prompt_seconds(renderer: TtsRenderer, flow: Any, prompt: str) -> float:
    sound = renderer.render(PromptText(f"{flow.name}/{prompt}", flow.prompts[prompt], flow.voice))
    with wave.open(str(renderer.host_file(sound))) as audio:
        return audio.getnframes() / audio.getframerate()


async def test_an_out_of_hours_message_is_called_back_once_an_agent_is_ready(
    stack: Stack,
    session_factory: sessionmaker[Session],
    desk_phones: DeskPhones,
    sip_callers: SipCallers,
    sip_carrier: SipCarrier,
    agi_routes: AgiRoutes,
) -> None:
    settings = stack.settings
    flow = stack.controller.engines["hotline"].flow
    renderer = TtsRenderer(settings)
    clock = MovableClock(NIGHT)
    engine = FlowEngine(
        flow,
        FlowPorts(
            renderer=renderer,
            queue=stack.acd.queue,
            journal=SqlCallJournal(session_factory),
            calendar=WorkCalendar.load(),
            clock=clock,
            messages=WorkOrderMessageSink(
                session_factory, settings, stack.acd.callback_gate, clock=clock.now
            ),
        ),
    )
    left: asyncio.Future[CallInfo] = asyncio.get_running_loop().create_future()

    async def hotline(session: AgiSession) -> None:
        call = await call_info(session, "hotline")
        await stack.controller.lifecycle.started(session, call)
        try:
            await engine.run(session, call)
        finally:
            await stack.controller.lifecycle.ended(call)
            left.set_result(call)

    agi_routes.set("hotline", hotline)
    # A citizen rings the hotline at night over SIP and leaves a message after the beep.
    citizen = f"136{uuid.uuid4().int % 10**8:08d}"
    to_beep = prompt_seconds(renderer, flow, "closed") + prompt_seconds(
        renderer, flow, "leave_message"
    )
    caller = sip_callers.call(DID_HOTLINE, caller_id=citizen, tone_hz=CALLER_TONE, stay=to_beep + 6)
    message = await asyncio.wait_for(left, 90)
    assert (await caller.finished()).answered
    with session_factory() as db:
        order = db.scalars(select(WorkOrder).where(WorkOrder.call_id == message.call_id)).one()
        task = db.scalars(select(CallbackTask).where(CallbackTask.order_id == order.id)).one()
    assert task.status == "pending"

    feeder = CallbackTaskFeeder(
        stack.acd.store,
        TheseOrdersTasks(stack.outbound.feeder._tasks, {order.id}, session_factory),
        hours={"hotline": line_spec("hotline").hours},
        skills=settings.callback_skill_of_line,
        calendar=WorkCalendar.load(),
        clock=clock,
        kick=stack.acd.dispatcher.kick,
    )
    assert await feeder.feed_once() == []  # out of hours: nobody is called at night
    clock.at = MORNING
    assert await feeder.feed_once() == [f"task-{task.id}"]
    waiting = await stack.acd.store.waiting_calls("policy")
    assert [(c.call_id, c.callback, c.parent) for c in waiting] == [
        (f"task-{task.id}", True, message.call_id)
    ]
    assert sip_carrier.calls() == []  # no agent is free yet: nothing is dialled

    # An agent of the hotline becomes ready: his phone rings first, then the citizen's.
    agent = await seat(stack, session_factory, desk_phones, {"policy": 8})
    await talk_then_hang_up(stack, agent, sip_carrier, citizen)
    (call,) = [c for c in sip_carrier.calls() if c.number == citizen]
    assert call.caller_id == settings.caller_id["hotline"]

    async def called_back() -> CallbackTask | None:
        with session_factory() as db:
            row = db.get(CallbackTask, task.id)
            return row if row is not None and row.status != "pending" else None

    done = await eventually(called_back, 60, "the callback task's attempt is written")
    assert (done.status, done.attempts) == ("done", 1)
    with session_factory() as db:
        service = workorder_service(db, settings)
        notes = [e.note for e in service.timeline(order.id) if e.action == "call"]
        (link,) = [c for c in service.linked_calls(order.id) if c.relation == "return_call"]
        record = db.scalars(
            select(CallRecord).where(CallRecord.parent_call_id == message.call_id)
        ).one()
    assert notes == ["回电第1次：已接通"]
    assert record.direction is Direction.OUTBOUND and record.agent_id == agent.agent_id
    assert record.disposition is Disposition.ANSWERED
    # The callback's one recording (made by the dialplan from the agent's answer) is indexed,
    # linked to its record and complete: the callback is not among calls lacking a recording.
    recording = await recorded_once(session_factory, record.call_id)
    assert recording.category == "callback" and link.recording_path == recording.path
    path = await wait_for_recording(settings.effective_recordings_dir / link.recording_path, 30)
    assert holds_both(path, PHONE_TONE, CARRIER_TONE)
    await agent.client.aclose()


def accepted_order(factory: sessionmaker[Session], settings: Settings, phone: str) -> int:
    """A work order walked to 待回访 through the service, as the departments would."""
    now = datetime.now(UTC) - timedelta(hours=2)
    with factory() as db:
        service = workorder_service(db, settings)
        order = service.create(
            OrderDraft(title="门诊费用未直接结算", caller_phone=phone, line="hotline"), DESK, now
        )
        for action, payload, actor in TO_ACCEPTED:
            now += timedelta(minutes=5)
            service.act(order.id, action, payload, actor, now)
        db.commit()
        return order.id


async def test_a_revisit_call_is_recorded_linked_on_the_order_and_plays_from_there(
    stack: Stack,
    session_factory: sessionmaker[Session],
    desk_phones: DeskPhones,
    sip_carrier: SipCarrier,
    tmp_path: Path,
) -> None:
    agent = await seat(stack, session_factory, desk_phones, {"policy": 8})
    citizen = f"137{uuid.uuid4().int % 10**8:08d}"
    order_id = accepted_order(session_factory, stack.settings, citizen)
    # Without a call the 回访 step takes no recording, and none may be typed in.
    early = await agent.client.post(
        f"/api/workorders/{order_id}/actions/callback",
        json={"resolved": True, "satisfied": True, "recording": "typed/in.wav"},
    )
    assert early.status_code == 422 and early.json()["error"] == "callback-recording-required"

    reply = await agent.client.post(f"/api/workorders/{order_id}/revisit-call")
    assert reply.status_code == 202, reply.text
    assert reply.json()["number"] == citizen[:3] + "****" + citizen[-4:]
    await talk_then_hang_up(stack, agent, sip_carrier, citizen)
    (call,) = [c for c in sip_carrier.calls() if c.number == citizen]
    assert call.caller_id == stack.settings.caller_id["hotline"]  # the order's line

    async def linked() -> dict[str, Any] | None:
        detail = (await agent.client.get(f"/api/workorders/{order_id}")).json()
        calls = [c for c in detail["calls"] if c["relation"] == "callback"]
        return calls[0] if calls else None

    link = await eventually(linked, 60, "the 回访 call linked on the order")

    async def played() -> httpx.Response | None:
        got = await agent.client.get(link["recording_url"])
        return got if got.status_code == 200 else None

    audio = await eventually(played, 30, "the recording plays through the desk")
    assert audio.headers["content-type"] == "audio/wav"
    heard = tmp_path / "revisit.wav"
    heard.write_bytes(audio.content)
    assert holds_both(heard, PHONE_TONE, CARRIER_TONE)

    done = await agent.client.post(
        f"/api/workorders/{order_id}/actions/callback",
        json={"resolved": True, "satisfied": True, "call_id": link["call_id"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == State.CALLED_BACK.value
    with session_factory() as db:
        order = workorder_service(db, stack.settings).get(order_id)
    assert order.callback_recording == link["recording_path"]
    await agent.client.aclose()


@pytest.mark.browser
async def test_the_dial_box_calls_out_through_the_browser_softphone(
    stack: Stack,
    session_factory: sessionmaker[Session],
    softphone_page: Any,
    sip_callers: SipCallers,
    sip_carrier: SipCarrier,
) -> None:
    """The agent of a browser softphone (Chromium's WebRTC, microphone saying f1) types a
    number in the desk's dial box: his softphone answers by itself, the number is dialled."""
    phones = Softphones(stack.desk, softphone_page, sip_callers, stack.settings, session_factory)
    agent = phones.agent()
    page = await phones.ready(agent)
    number = f"135{uuid.uuid4().int % 10**8:08d}"
    await page.fill("#dial-number", number)
    await page.click("#btn-dial")
    await page.locator("#dial-result", has_text="正在呼叫您的话机").wait_for()
    await phone_is(page, "talking", timeout=30_000)

    async def answered() -> bool:
        return any(c.number == number and c.answered for c in sip_carrier.calls())

    await eventually(answered, 30, "the carrier answered")
    await agent_is(page, "on_call")
    assert await inbound_packets(page, at_least=50) >= 50  # the carrier's audio arrives
    (call,) = [c for c in sip_carrier.calls() if c.number == number]
    assert call.caller_id == stack.settings.caller_id["114"]
    await page.click("#btn-phone-hangup")
    await agent_is(page, "wrap_up")
    assert agent.agent_id is not None
    record = await eventually(
        lambda: asyncio.to_thread(latest_outbound, session_factory, agent.agent_id or 0),
        30,
        "the outbound call record",
    )
    assert record.disposition is Disposition.ANSWERED
    with session_factory() as db:
        recording = db.scalar(select(Recording).where(Recording.call_id == record.call_id))
    assert recording is not None
    path = await wait_for_recording(stack.settings.effective_recordings_dir / recording.path, 30)
    assert holds_both(path, AGENT_TONE_HZ, CARRIER_TONE)

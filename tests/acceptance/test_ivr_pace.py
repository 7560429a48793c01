"""The IVR's pace and 敬老 mode on the real Asterisk, through the wired controller (its call
lifecycle, caller directory with real-name registration, TTS prompts) and the real ACD with
simulated agents.

The targets (menu <= 5 s after answer for a first-time caller, queued <= 3 s after answer
for a caller who presses 1 at once) are shown from the audio the caller actually heard: the
prompt files' lengths and the point where his key cut the welcome (STREAM FILE's endpos),
with 1 s, resp. 0.5 s left for the controller's own work. The wall time measured on the
same calls is printed (``-s``) and written down in docs/ivr-pace.md, never asserted: the
machine is shared and loaded.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.context import BookingContext
from backend.booking.service import BookingService
from backend.flows.loader import load_line_flows
from backend.flows.schema import Flow, PromptText
from backend.idcard import make_valid
from backend.localtime import zone
from backend.models.calls import CallRecord
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import TtsRenderer, build_all_prompts
from ivr.acd.queue import QueueReport
from ivr.journal import ivr_path
from ivr.main import build_controller
from ivr.pbx.instance import AsteriskInstance
from tests.acceptance.test_acd_calls import Acd, acd, add_agent  # noqa: F401 (fixture)
from tests.acceptance.test_controller_calls import wait_for_record
from tests.acceptance.test_ivr_calls import seconds
from tests.asterisk_fixtures import DID_114, AgiRoutes, SimulatedAgents, SimulatedCaller

pytestmark = pytest.mark.asterisk

# Left for the controller between the audio: AGI round trips, the caller look-up, the queue.
MENU_TARGET, MENU_MARGIN = 5.0, 1.0
QUEUED_TARGET, QUEUED_MARGIN = 3.0, 0.5


@pytest.fixture(scope="module")
def flow_114() -> Flow:
    return load_line_flows()["114"]


@pytest.fixture(scope="module")
def renderer(settings: Settings, asterisk: AsteriskInstance) -> TtsRenderer:
    # Rendered before the calls, as `callcenter prompts build` does at installation.
    renderer = TtsRenderer(settings)
    build_all_prompts(load_line_flows().values(), settings, renderer=renderer)
    return renderer


@pytest.fixture()
def controller_114(
    acd: Acd,  # noqa: F811
    agi_routes: AgiRoutes,
    renderer: TtsRenderer,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> Acd:
    # Without a speech model, as the lines run until one is installed.
    plain = settings.model_copy(update={"asr_model_path": None})
    controller = build_controller(plain, session_factory, acd.queue, renderer=renderer)
    agi_routes.set("114", controller.handler("114"))
    return acd


def new_number() -> str:
    return "135" + str(uuid.uuid4().int)[:8]


async def report_for(centre: Acd, index: int = 0, timeout: float = 90) -> QueueReport:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(centre.recorder.reports) <= index:
        assert loop.time() < deadline, "the call did not leave the queue"
        await asyncio.sleep(0.2)
    return centre.recorder.reports[index]


async def test_first_time_caller_hears_the_menu_within_5_seconds(
    controller_114: Acd,
    flow_114: Flow,
    renderer: TtsRenderer,
    simulated_caller: SimulatedCaller,
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    welcome = seconds(renderer, flow_114, "welcome")
    number = new_number()
    await simulated_caller.call(DID_114, caller_id=number, hold=welcome + 4)
    record = await finished_record(settings, session_factory, number)
    path = ivr_path(db, record.call_id)
    nodes = [(s.node, s.outcome) for s in path]
    # No speech prompt, no listening silence: welcome, then the key menu.
    assert nodes[:4] == [
        ("caller_check", "ordinary"),
        ("welcome", "played"),
        ("speech_intent", "no_asr"),
        ("main_menu", "caller_hangup"),
    ]
    assert welcome <= MENU_TARGET - MENU_MARGIN
    menu = path[3]
    print(f"\nmenu started {(menu.at - record.started_at).total_seconds():.2f} s after answer")


async def finished_record(
    settings: Settings, session_factory: sessionmaker[Session], number: str
) -> CallRecord:
    """The record of the caller's last call, once the call is over."""
    caller_hash = PersonalDataCipher.of(settings).lookup_hash(number)
    return await wait_for_record(
        session_factory, caller_hash, lambda record: record.ended_at is not None, timeout=90
    )


async def test_1_pressed_during_the_welcome_is_queued_within_3_seconds(
    controller_114: Acd,
    flow_114: Flow,
    renderer: TtsRenderer,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    settings: Settings,
    session_factory: sessionmaker[Session],
    db: Session,
) -> None:
    centre = controller_114
    await add_agent(centre, simulated_agents, 41, {"booking": 5}, talk=2)
    number = new_number()
    # The regular caller presses 1 as soon as the line answers, into the welcome.
    await simulated_caller.call(DID_114, caller_id=number, dtmf="1", delay=0.2, hold=12)
    report = await report_for(centre)
    assert (report.status, report.skill, report.priority) == ("answered", "booking", 0)
    assert report.agent_id == 41
    record = await finished_record(settings, session_factory, number)
    path = {s.node: s for s in ivr_path(db, record.call_id)}
    welcome, menu = path["welcome"], path["main_menu"]
    # The key cut the welcome, the menu took it without being played.
    assert welcome.outcome == "interrupted"
    assert (menu.input, menu.outcome, menu.details["typed_ahead"]) == ("1", "key:1", True)
    heard = welcome.details["heard_seconds"]
    assert heard < seconds(renderer, flow_114, "welcome")
    before_queue = heard + seconds(renderer, flow_114, "to_booking_agent")
    assert before_queue <= QUEUED_TARGET - QUEUED_MARGIN
    queued = report.queued_at - record.started_at.timestamp()
    print(f"\naudio before the queue {before_queue:.2f} s; queued {queued:.2f} s after answer")


async def test_9_from_the_welcome_reaches_an_agent_with_elderly_priority(
    controller_114: Acd,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    settings: Settings,
    session_factory: sessionmaker[Session],
    db: Session,
) -> None:
    centre = controller_114
    await add_agent(centre, simulated_agents, 42, {"general": 5}, talk=2)
    number = new_number()
    await simulated_caller.call(DID_114, caller_id=number, dtmf="9", delay=0.5, hold=20)
    report = await report_for(centre)
    # One key: a person, at the elderly priority, with no second menu on the way.
    assert (report.status, report.skill, report.priority) == ("answered", "general", 10)
    assert report.agent_id == 42
    record = await finished_record(settings, session_factory, number)
    assert record.elderly
    nodes = [(s.node, s.input) for s in ivr_path(db, record.call_id)]
    menu = nodes.index(("main_menu", "9"))
    assert nodes[menu + 1 : menu + 3] == [("elderly_mode", ""), ("elderly_queue", "")]


async def test_a_registered_caller_aged_65_goes_straight_to_a_person_in_elderly_mode(
    controller_114: Acd,
    flow_114: Flow,
    renderer: TtsRenderer,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    settings: Settings,
    session_factory: sessionmaker[Session],
    db: Session,
    asterisk: AsteriskInstance,
) -> None:
    centre = controller_114
    await add_agent(centre, simulated_agents, 43, {"general": 5}, talk=2)
    number = new_number()
    today = datetime.now(zone(settings.timezone)).date()
    born = date(today.year - 70, 3, 1)
    service = BookingService(session_factory, BookingContext.from_settings(settings))
    serial = str(uuid.uuid4().int)[:3]
    service.register_patient(
        id_number=make_valid(f"110101{born:%Y%m%d}{serial}"),
        name="张老",
        phone=number,
        actor="test",
    )
    await simulated_caller.call(DID_114, caller_id=number, hold=20)
    report = await report_for(centre)
    assert (report.status, report.skill, report.priority) == ("answered", "general", 10)
    record = await finished_record(settings, session_factory, number)
    assert record.elderly
    # No welcome, no menu: the caller check, the elderly greeting and the queue.
    nodes = [(s.node, s.outcome) for s in ivr_path(db, record.call_id)]
    assert nodes[:3] == [
        ("caller_check", "elderly"),
        ("elderly_mode", "elderly_mode"),
        ("elderly_queue", "handed_to_queue"),
    ]
    # What Asterisk played was the slower, louder rendering.
    slow = renderer.render(
        PromptText("114/elderly_on", flow_114.prompts["elderly_on"]), elderly=True
    )
    assert slow in asterisk.messages_log.read_text()
    assert seconds(renderer, flow_114, "elderly_on", elderly=True) > seconds(
        renderer, flow_114, "elderly_on"
    )


async def test_a_repeat_caller_skips_the_welcome_and_waits_at_the_repeat_priority(
    controller_114: Acd,
    simulated_caller: SimulatedCaller,
    simulated_agents: SimulatedAgents,
    settings: Settings,
    session_factory: sessionmaker[Session],
    db: Session,
) -> None:
    centre = controller_114
    number = new_number()
    await simulated_caller.call(DID_114, caller_id=number, hold=2)
    first = await finished_record(settings, session_factory, number)
    await add_agent(centre, simulated_agents, 44, {"booking": 5}, talk=2)
    await simulated_caller.call(DID_114, caller_id=number, dtmf="1", delay=0.5, hold=12)
    report = await report_for(centre)
    assert (report.status, report.skill, report.priority) == ("answered", "booking", 2)
    second = await finished_record(settings, session_factory, number)
    assert second.call_id != first.call_id and not second.elderly
    nodes = [(s.node, s.outcome) for s in ivr_path(db, second.call_id)]
    assert nodes[0] == ("caller_check", "repeat_caller")
    assert "welcome" not in [node for node, _ in nodes]

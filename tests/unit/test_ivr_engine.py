"""The 114 and hotline flows driven by a scripted caller through the real flow engine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend.flows.loader import load_flows, parse_flow
from backend.flows.schema import Flow, SurveyOutcome
from backend.idcard import make_valid
from backend.workcalendar import WorkCalendar
from ivr.agi.errors import AgiCommandTimeout, CallHungUp
from ivr.agi.session import Played
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts, MissingPort
from ivr.flows.ports import (
    BookingSummary,
    CallerProfile,
    IvrExit,
    QueueOutcome,
    QueueStatus,
)
from tests.ivr_scripted_call import (
    HANGUP,
    SILENCE,
    STALL,
    LabelRenderer,
    MemoryBookings,
    MemoryJournal,
    MemoryMessages,
    RecordingQueue,
    Say,
    ScriptedChannel,
    StaticDirectory,
    SteppingClock,
    TranscriptRecognizer,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ID_NUMBER = make_valid("11010519491231002")  # ends in X
CODE = "2026123456"
SPOKEN = "您预约的是北京协和医院心内科，2026年12月1日上午08:30，第5号，预约状态：已预约。"


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    return load_flows()


class Line:
    """One flow wired to in-memory collaborators, ready to take scripted calls."""

    def __init__(
        self,
        flow: Flow,
        tmp_path: Path,
        *,
        now: datetime | None = None,
        outcome: QueueOutcome | None = None,
        profiles: dict[str, CallerProfile] | None = None,
        timezone: str = "Asia/Shanghai",
        calendar: WorkCalendar | None = None,
        speech: bool = True,
    ) -> None:
        self.queue = RecordingQueue(outcome) if outcome else RecordingQueue()
        self.journal = MemoryJournal()
        self.messages = MemoryMessages(tmp_path)
        booking = BookingSummary("B20261234", SPOKEN, cancellable=True)
        self.bookings = MemoryBookings({(ID_NUMBER, CODE): booking})
        self.engine = FlowEngine(
            flow,
            FlowPorts(
                renderer=LabelRenderer(),
                queue=self.queue,
                journal=self.journal,
                calendar=calendar or WorkCalendar.load(),
                clock=SteppingClock(now or datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)),
                callers=StaticDirectory(profiles or {}),
                messages=self.messages,
                bookings=self.bookings,
                speech=TranscriptRecognizer(tmp_path) if speech else None,
            ),
            timezone=timezone,
        )

    async def call(self, *actions: object, caller: str = "13800138000") -> ScriptedChannel:
        channel = ScriptedChannel(
            list(actions),
            env={  # type: ignore[arg-type]
                "uniqueid": "1700000000.7",
                "linkedid": "1700000000.7",
                "callerid": caller,
            },
        )
        await self.engine.run(channel, await call_info(channel, self.engine.flow.line))
        return channel

    @property
    def summary(self):  # type: ignore[no-untyped-def]
        assert len(self.journal.left) == 1, "the IVR path is journaled exactly once"
        return self.journal.left[0]


async def test_press_1_reaches_the_booking_queue(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    channel = await line.call("1")
    assert line.queue.handoffs == [("booking", 0)]
    assert line.summary.exit is IvrExit.QUEUE
    assert line.summary.intent == "booking"
    assert line.journal.started[0].did == "114"
    # Type-ahead: the key cut the welcome and went to the menu, which was not played.
    assert channel.played == ["114/welcome", "114/to_booking_agent"]
    welcome, menu = (
        next(s for s in line.summary.steps if s.node == n) for n in ("welcome", "speech_intent")
    )
    assert (welcome.outcome, welcome.details) == ("interrupted", {"heard_seconds": 0.5})
    assert (menu.input, menu.outcome) == ("1", "key:1")


async def test_9_during_the_welcome_reaches_an_agent_with_elderly_priority(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    channel = await line.call("9")
    assert line.queue.handoffs == [("general", 10)]
    assert line.queue.elderly == [True]
    assert line.summary.elderly and line.summary.intent == "elderly"
    # One key: no second menu; from the key on, prompts are the slower, louder renderings.
    assert channel.played == ["114/welcome", "elderly:114/elderly_on"]


async def test_elderly_caller_known_by_number_goes_straight_to_a_person(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path, profiles={"13900000000": CallerProfile(elderly=True)})
    channel = await line.call(caller="13900000000")
    assert line.queue.handoffs == [("general", 10)]
    assert line.queue.elderly == [True]
    assert channel.played == ["elderly:114/elderly_on"]
    assert [s.node for s in line.summary.steps] == [
        "caller_check",
        "elderly_mode",
        "elderly_queue",
    ]


async def test_repeat_caller_skips_the_welcome_and_waits_ahead_but_not_as_elderly(
    flows, tmp_path
) -> None:
    line = Line(flows["114"], tmp_path, profiles={"13700000000": CallerProfile(repeat_caller=True)})
    channel = await line.call("1", caller="13700000000")
    assert line.queue.handoffs == [("booking", 2)]
    # Priority 2 is the repeat caller's place in line, not 敬老 mode.
    assert line.queue.elderly == [False]
    assert "114/welcome" not in channel.played


async def test_without_a_speech_model_the_caller_is_never_asked_to_speak(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path, speech=False)
    channel = await line.call(SILENCE, "1")
    assert channel.played[:2] == ["114/welcome", "114/main_menu"]
    assert "114/say_business" not in channel.played
    assert channel.recordings == []  # no listening silence
    speech = next(s for s in line.summary.steps if s.node == "speech_intent")
    assert speech.outcome == "no_asr"
    assert line.queue.handoffs == [("booking", 0)]


async def test_a_key_during_an_announcement_is_kept_and_the_announcement_goes_on(
    flows, tmp_path
) -> None:
    line = Line(flows["114"], tmp_path)
    # 7 in the menu; 1 while "您的输入有误" plays: the prompt is resumed, the 1 is the choice.
    channel = await line.call(SILENCE, "7", "1")
    assert channel.resumed == [("114/invalid_key", 4000)]
    assert line.queue.handoffs == [("booking", 0)]
    assert channel.played.count("114/main_menu") == 1


async def test_an_id_number_keyed_ahead_is_taken_whole(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    bad = ID_NUMBER[:17] + "5"
    # The second entry is keyed during "身份证号码有误", '*' for the X, '#' to end it.
    channel = await line.call("2", bad, *ID_NUMBER[:17], "*", "#", CODE, "3")
    assert channel.played.count("114/enter_id") == 1
    assert f"tts:{SPOKEN}" in channel.played
    assert line.summary.exit is IvrExit.SELF_SERVICE


async def test_three_invalid_keys_send_the_caller_to_an_agent(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    channel = await line.call(SILENCE, "7", "8", "6")
    assert line.queue.handoffs == [("general", 0)]
    assert channel.played.count("114/invalid_key") == 3
    menu_step = next(s for s in line.summary.steps if s.node == "main_menu")
    assert (menu_step.input, menu_step.outcome) == ("786", "retries_exhausted")


async def test_hangup_in_the_menu_is_an_abandon_in_the_ivr(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    await line.call(SILENCE, HANGUP)
    assert line.queue.handoffs == []
    assert line.summary.exit is IvrExit.ABANDONED
    last = line.summary.steps[-1]
    assert (last.node, last.outcome) == ("main_menu", "caller_hangup")
    assert line.summary.ivr_seconds > 0


async def test_spoken_intent_selects_the_same_option_as_its_key(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    await line.call(Say("人工"))
    assert line.queue.handoffs == [("general", 0)]
    step = line.summary.steps[2]
    assert (step.node, step.input, step.outcome, step.intent) == (
        "speech_intent",
        "人工",
        "speech:0",
        "agent",
    )


async def test_unsure_speech_falls_back_to_the_key_menu(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    channel = await line.call(Say("人工", confidence=0.3), "1")
    assert "114/main_menu" in channel.played
    assert line.queue.handoffs == [("booking", 0)]


async def test_id_number_with_a_bad_check_digit_is_asked_again(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    bad = ID_NUMBER[:17] + "5"
    channel = await line.call("2", bad, ID_NUMBER[:17] + "*", CODE, "3")
    assert channel.played.count("114/enter_id") == 2
    assert "114/bad_id" in channel.played
    read_out = [s for s in channel.played if s.startswith("tts:")]
    assert read_out == [f"tts:{SPOKEN}"]
    assert line.summary.exit is IvrExit.SELF_SERVICE
    id_step = next(s for s in line.summary.steps if s.node == "collect_id")
    # The path keeps what happened without the ID number in clear.
    assert ID_NUMBER not in id_step.input and bad not in id_step.input
    assert id_step.details["rejected"] == ["身份证号校验位不正确"]


async def test_self_service_cancels_a_booking(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    channel = await line.call("2", ID_NUMBER, CODE, "1")
    assert line.bookings.cancelled == ["B20261234"]
    assert channel.played[-2:] == ["114/booking_cancelled", "114/goodbye"]
    assert channel.hung_up_by_flow


async def test_unknown_booking_is_said_and_the_menu_comes_back(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    channel = await line.call("2", ID_NUMBER, "9999999999", "0")
    assert "114/booking_not_found" in channel.played
    assert line.queue.handoffs == [("general", 0)]


async def test_report_information_counts_as_self_service_even_if_caller_hangs_up(
    flows, tmp_path
) -> None:
    line = Line(flows["114"], tmp_path)
    await line.call("3")
    assert line.summary.exit is IvrExit.SELF_SERVICE
    assert line.summary.intent == "report_query"


async def test_blacklisted_caller_hears_the_refusal_and_is_hung_up(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path, profiles={"13811112222": CallerProfile(blacklisted=True)})
    channel = await line.call("1", caller="13811112222")
    assert line.queue.handoffs == []
    # The number is checked before a word is said: no welcome for a blocked caller.
    assert channel.played == ["114/blocked"]
    assert channel.hung_up_by_flow


async def test_survey_after_the_agent_hangs_up_records_the_score(flows, tmp_path) -> None:
    outcome = QueueOutcome(QueueStatus.ANSWERED, caller_on_line=True, agent_id=7)
    line = Line(flows["114"], tmp_path, outcome=outcome)
    channel = await line.call("1", "5")
    survey = line.journal.after[0][1]
    assert survey is not None
    assert (survey.outcome, survey.score, survey.key) == (SurveyOutcome.SCORED, 5, "5")
    assert survey.seconds > 0
    after_nodes = [s.node for s in line.journal.after[0][0]]
    assert after_nodes == ["booking_queue", "survey", "goodbye"]
    assert channel.played[-2:] == ["114/survey_thanks", "114/goodbye"]


@pytest.mark.parametrize(
    ("answer", "outcome", "key"),
    [
        (SILENCE, SurveyOutcome.NO_ANSWER, ""),
        ("9", SurveyOutcome.INVALID, "9"),
        ("#", SurveyOutcome.INVALID, "#"),
        (HANGUP, SurveyOutcome.HUNG_UP, ""),
    ],
)
async def test_a_survey_without_a_score_says_why_and_keeps_no_score(
    flows, tmp_path, answer: object, outcome: SurveyOutcome, key: str
) -> None:
    queued = QueueOutcome(QueueStatus.ANSWERED, caller_on_line=True, agent_id=7)
    line = Line(flows["114"], tmp_path, outcome=queued)
    channel = await line.call("1", answer)
    survey = line.journal.after[0][1]
    assert survey is not None
    assert (survey.outcome, survey.score, survey.key) == (outcome, None, key)
    assert "114/survey_thanks" not in channel.played  # thanks only for a score
    survey_step = [s for s in line.journal.after[0][0] if s.node == "survey"]
    expected = "caller_hangup" if outcome is SurveyOutcome.HUNG_UP else outcome.value
    assert [s.outcome for s in survey_step] == [expected]


class GoneDuringThanks(ScriptedChannel):
    """A caller who hangs up as soon as the survey's thanks begins."""

    async def play(self, sound: str, escape_digits: str = "", offset: int = 0) -> Played:
        if sound.endswith("/survey_thanks"):
            self.gone = True
            raise CallHungUp("hung up during the thanks")
        return await super().play(sound, escape_digits, offset)


async def test_a_score_stands_when_the_caller_hangs_up_during_the_thanks(flows, tmp_path) -> None:
    queued = QueueOutcome(QueueStatus.ANSWERED, caller_on_line=True, agent_id=7)
    line = Line(flows["114"], tmp_path, outcome=queued)
    channel = GoneDuringThanks(["1", "2"])
    await line.engine.run(channel, await call_info(channel, "114"))
    survey = line.journal.after[0][1]
    assert survey is not None and (survey.outcome, survey.score) == (SurveyOutcome.SCORED, 2)
    assert "114/goodbye" not in channel.played


async def test_no_survey_when_the_caller_hung_up_on_the_agent(flows, tmp_path) -> None:
    queued = QueueOutcome(QueueStatus.ANSWERED, caller_on_line=False, agent_id=7)
    line = Line(flows["114"], tmp_path, outcome=queued)
    await line.call("1")
    assert [survey for _, survey in line.journal.after] == [None]


async def test_no_agent_is_announced(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path, outcome=QueueOutcome(QueueStatus.NO_AGENT))
    channel = await line.call("0")
    assert channel.played[-1] == "114/no_agent"


# -- the hotline's hours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (datetime(2026, 2, 14, 10, 0), True),  # Saturday worked before the Spring Festival
        (datetime(2026, 2, 16, 10, 0), False),  # Monday inside the Spring Festival holiday
        (datetime(2026, 3, 7, 10, 0), False),  # ordinary Saturday
        (datetime(2026, 3, 9, 8, 59), False),  # Monday before opening
        (datetime(2026, 3, 9, 9, 0), True),
        (datetime(2026, 3, 9, 17, 59), True),
        (datetime(2026, 3, 9, 18, 0), False),
    ],
)
async def test_hotline_hours_follow_the_chinese_working_day_calendar(
    flows, tmp_path, moment, is_open
) -> None:
    line = Line(flows["hotline"], tmp_path, now=moment.replace(tzinfo=SHANGHAI))
    channel = await line.call("2", Say("请回电"))
    if is_open:
        assert line.queue.handoffs == [("reimbursement", 0)]
        assert line.summary.intent == "reimbursement"
    else:
        assert line.queue.handoffs == []
        assert channel.played[0] == "hotline/closed"


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (datetime(2027, 1, 1, 10, 0), True),  # a Friday of a year not entered
        (datetime(2027, 1, 2, 10, 0), False),  # its Saturday
    ],
)
async def test_a_year_not_entered_opens_by_weekday_hours_and_says_so(
    flows, tmp_path, moment, is_open
) -> None:
    strict = WorkCalendar.of_days([2026], [], [])  # as the entered calendar reads, no 2027
    line = Line(flows["hotline"], tmp_path, now=moment.replace(tzinfo=SHANGHAI), calendar=strict)
    await line.call("2", Say("请回电"))
    [branch] = [step for step in line.summary.steps if step.kind == "time_branch"]
    assert (branch.outcome, branch.details["calendar_missing"]) == (
        "open" if is_open else "closed",
        2027,
    )


async def test_hours_are_kept_in_the_centres_time_zone(flows, tmp_path) -> None:
    # 10:00 in Beijing is 08:00 in Ürümqi: before the hotline opens there (CC_TIMEZONE).
    moment = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)
    beijing = Line(flows["hotline"], tmp_path, now=moment)
    urumqi = Line(flows["hotline"], tmp_path, now=moment, timezone="Asia/Urumqi")
    assert (await beijing.call("2", Say("请回电"))).played[0] == "hotline/welcome"
    assert (await urumqi.call("2", Say("请回电"))).played[0] == "hotline/closed"


async def test_out_of_hours_message_becomes_a_ticket(flows, tmp_path) -> None:
    line = Line(flows["hotline"], tmp_path, now=datetime(2026, 3, 7, 20, 0, tzinfo=SHANGHAI))
    channel = await line.call(Say("我想咨询异地就医备案"))
    assert [m.topic for m in line.messages.messages] == ["out_of_hours"]
    assert line.messages.messages[0].recording_path.endswith(".wav")
    assert channel.played == [
        "hotline/closed",
        "hotline/leave_message",
        "hotline/message_saved",
        "hotline/goodbye",
    ]
    assert line.summary.exit is IvrExit.MESSAGE
    step = next(s for s in line.summary.steps if s.node == "leave_message")
    assert step.details["reference"] == "T0001"


async def test_message_is_kept_when_the_caller_hangs_up_while_recording(flows, tmp_path) -> None:
    line = Line(flows["hotline"], tmp_path, now=datetime(2026, 3, 7, 20, 0, tzinfo=SHANGHAI))
    await line.call(HANGUP)
    assert len(line.messages.messages) == 1
    assert line.summary.exit is IvrExit.MESSAGE


def test_a_flow_with_messages_needs_a_message_sink(flows) -> None:
    with pytest.raises(MissingPort, match="'message' nodes but was given no messages port"):
        FlowEngine(
            flows["hotline"],
            FlowPorts(
                renderer=LabelRenderer(),
                queue=RecordingQueue(),
                journal=MemoryJournal(),
                calendar=WorkCalendar.load(),
            ),
        )


async def test_too_many_digits_are_refused_not_cut(flows, tmp_path) -> None:
    line = Line(flows["114"], tmp_path)
    channel = await line.call("2", ID_NUMBER + "1", ID_NUMBER, CODE, "3")
    id_step = next(s for s in line.summary.steps if s.node == "collect_id")
    assert id_step.details["rejected"] == ["输入位数过多"]
    assert channel.played.count("114/bad_id") == 1


async def test_a_failing_asterisk_leaves_the_path_marked_for_the_dialplan_fallback(
    flows, tmp_path
) -> None:
    line = Line(flows["114"], tmp_path)
    with pytest.raises(AgiCommandTimeout):
        await line.call(SILENCE, STALL)
    assert line.summary.exit is IvrExit.ERROR
    last = line.summary.steps[-1]
    assert (last.node, last.outcome) == ("main_menu", "error:AgiCommandTimeout")


async def test_a_second_hand_off_does_not_journal_the_ivr_path_twice() -> None:
    class NobodyThenAnswered(RecordingQueue):
        async def enter_queue(self, session, call, skill, priority, *, elderly=False):  # type: ignore[no-untyped-def]
            await super().enter_queue(session, call, skill, priority, elderly=elderly)
            status = QueueStatus.NO_AGENT if len(self.handoffs) == 1 else QueueStatus.ANSWERED
            return QueueOutcome(status)

    flow = parse_flow(
        {
            "name": "retry",
            "line": "retry",
            "start": "menu",
            "prompts": {"menu": "人工服务请按0"},
            "nodes": {
                "menu": {
                    "kind": "menu",
                    "prompt": "menu",
                    "fallback": "bye",
                    "options": {"0": {"next": "agents"}},
                },
                "agents": {"kind": "queue", "skill": "general", "fallback": "menu"},
                "bye": {"kind": "hangup"},
            },
        },
        "retry.yaml",
    )
    queue, journal = NobodyThenAnswered(), MemoryJournal()
    ports = FlowPorts(LabelRenderer(), queue, journal, WorkCalendar.load())
    channel = ScriptedChannel(["0", "0"])
    await FlowEngine(flow, ports).run(channel, await call_info(channel, "retry"))
    assert queue.handoffs == [("general", 0), ("general", 0)]
    assert len(journal.left) == 1
    assert [s.node for s in journal.left[0].steps] == ["menu", "agents"]
    assert [(s.node, s.outcome) for s in journal.after[0][0]] == [
        ("agents", "no_agent"),
        ("menu", "key:0"),
        ("agents", "handed_to_queue"),
        ("agents", "answered"),
    ]


# -- 敬老 mode and speech on the hotline -------------------------------------------------------


async def test_the_hotline_has_the_same_elderly_key_and_registration_branch(
    flows, tmp_path
) -> None:
    line = Line(flows["hotline"], tmp_path)
    channel = await line.call("9")
    assert line.queue.handoffs == [("policy", 10)] and line.queue.elderly == [True]
    assert channel.played == ["hotline/welcome", "elderly:hotline/elderly_on"]
    known = Line(flows["hotline"], tmp_path, profiles={"13900000001": CallerProfile(elderly=True)})
    channel = await known.call(caller="13900000001")
    assert known.queue.handoffs == [("policy", 10)]
    assert channel.played == ["elderly:hotline/elderly_on"]


@pytest.mark.parametrize(
    ("said", "skill"),
    [("社保卡", "insurance_card"), ("住院报销", "reimbursement"), ("异地就医", "policy"),
     ("我要投诉", "complaint")],
)  # fmt: skip
async def test_hotline_callers_say_why_they_call(flows, tmp_path, said, skill) -> None:
    line = Line(flows["hotline"], tmp_path)
    await line.call(Say(said))
    assert line.queue.handoffs == [(skill, 0)]

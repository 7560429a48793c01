"""What the flow engine needs from the world, as protocols the composition root fills in.

The engine never imports an adapter: the AGI session, the ACD, tickets, bookings, caller
data, the call journal, TTS and ASR all arrive through these.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from backend.flows.schema import PromptText, SurveyOutcome
from backend.workcalendar import Calendar

# ---------------------------------------------------------------------------------------------
# The channel: the subset of ivr.agi.session.AgiSession the engine drives.


class DigitsLike(Protocol):
    @property
    def digits(self) -> str: ...
    @property
    def timed_out(self) -> bool: ...


class RecordLike(Protocol):
    @property
    def ended_by(self) -> str: ...  # "dtmf" | "timeout" | "hangup" | "silence"
    @property
    def digit(self) -> str | None: ...


class PlayedLike(Protocol):
    @property
    def digit(self) -> str | None: ...  # the key that stopped the prompt, if one did
    @property
    def endpos(self) -> int: ...  # the sample (8 kHz) it stopped at


class Channel(Protocol):
    env: dict[str, str]

    async def answer(self) -> Any: ...
    async def hangup(self) -> Any: ...
    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None: ...
    async def play(self, sound: str, escape_digits: str = "", offset: int = 0) -> PlayedLike: ...
    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> DigitsLike: ...
    async def wait_for_digit(self, timeout_ms: int) -> str | None: ...
    async def record_file(
        self,
        path: str,
        fmt: str = "wav",
        escape_digits: str = "#",
        timeout_ms: int = 10000,
        silence_seconds: int | None = 2,
        beep: bool = False,
    ) -> RecordLike: ...
    async def set_variable(self, name: str, value: str) -> Any: ...
    async def get_variable(self, name: str) -> str | None: ...


# ---------------------------------------------------------------------------------------------
# The call


@dataclass(frozen=True)
class CallInfo:
    call_id: str  # Asterisk linkedid: one id for the whole call across channels
    unique_id: str
    line: str
    caller_number: str
    did: str
    channel: str = ""


@dataclass
class CallState:
    """What the flow learned about the caller so far; the ACD may read it (priority, intent)."""

    elderly: bool = False
    repeat_caller: bool = False
    intent: str = ""
    variables: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# The ACD


class QueueStatus(enum.StrEnum):
    ANSWERED = "answered"  # an agent talked to the caller
    ABANDONED = "abandoned"  # the caller hung up while waiting
    NO_AGENT = "no_agent"  # nobody serves the skill, or the wait limit passed
    CALLBACK = "callback"  # the caller chose a callback and was released


@dataclass(frozen=True)
class QueueOutcome:
    status: QueueStatus
    # True when the agent hung up first and the caller is still on the line (survey time).
    caller_on_line: bool = False
    agent_id: int | None = None


class QueueHandoff(Protocol):
    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int, *, elderly: bool = False
    ) -> QueueOutcome:
        """``elderly``: the call is in elderly mode (敬老), so the queue's announcements are
        the slower, louder ones, whatever the priority."""
        ...


# ---------------------------------------------------------------------------------------------
# Messages, bookings, caller data


@dataclass(frozen=True)
class LeftMessage:
    topic: str  # from the flow, e.g. "out_of_hours"
    recording_path: str  # as Asterisk wrote it, with extension
    seconds: float
    ended_by: str
    intent: str = ""


@dataclass(frozen=True)
class KeptMessage:
    reference: str  # the work order's number, safe to keep in the IVR path
    # Why nobody will call back (a number the callback gate refuses), said to the caller
    # instead of the saved prompt; empty when a callback is arranged.
    no_callback: str = ""


class MessageSink(Protocol):
    def message_path(self, call: CallInfo) -> str:
        """Where RECORD FILE writes the message, as Asterisk sees it, without extension."""
        ...

    async def message_left(self, call: CallInfo, message: LeftMessage) -> KeptMessage:
        """Create the work order (with its callback task when the number may be called back)."""
        ...


@dataclass(frozen=True)
class BookingSummary:
    reference: str  # the booking code, safe to keep in the IVR path
    speech: str  # the Chinese sentence read to the caller (hospital, department, day, status)
    cancellable: bool
    hospital: str = ""  # the hospital's code: its emergency message plays after the speech


@dataclass(frozen=True)
class EmergencyNotice:
    """An emergency message running now (``backend/emergency.py``)."""

    id: int
    text: str  # spoken by the TTS when there is no recording
    recording: str  # an Asterisk sound name, or ""
    mode: str  # continue | end | divert
    divert_skill: str = ""


class EmergencyBoard(Protocol):
    async def active(self, scope: str, target: str) -> EmergencyNotice | None:
        """The message running now for this line, hospital or queue (skill), if any."""
        ...


@dataclass(frozen=True)
class CancelResult:
    cancelled: bool
    reason: str = ""  # Chinese, read to the caller when refused


@dataclass(frozen=True)
class ResendResult:
    queued: bool
    reason: str = ""  # Chinese, read to the caller when refused (too often, cancelled)


class BookingLookup(Protocol):
    async def find_booking(
        self, call: CallInfo, id_number: str, code: str
    ) -> BookingSummary | None: ...

    async def cancel_booking(self, call: CallInfo, id_number: str, code: str) -> CancelResult: ...

    async def resend_sms(self, call: CallInfo, id_number: str, code: str) -> ResendResult:
        """Queue the booking's text message again."""
        ...

    async def opt_out_reminders(self, call: CallInfo, id_number: str, code: str) -> ResendResult:
        """No more reminders to the number the booking's patient registered."""
        ...


@dataclass(frozen=True)
class CallerProfile:
    blacklisted: bool = False
    repeat_caller: bool = False
    # e.g. a real-name registered number of someone aged 65+: elderly mode from the start.
    elderly: bool = False


class CallerDirectory(Protocol):
    async def profile(self, call: CallInfo) -> CallerProfile:
        """What is known about the caller's number (the call's own record excluded)."""
        ...


# ---------------------------------------------------------------------------------------------
# The record of the IVR path


class IvrExit(enum.StrEnum):
    QUEUE = "queue"  # handed to the ACD; the ACD owns the disposition from here
    SELF_SERVICE = "self_service"  # the flow ended the call after serving the caller
    ABANDONED = "abandoned"  # the caller hung up in the IVR
    MESSAGE = "message"  # the caller left a message (a ticket exists)
    ERROR = "error"  # the controller failed; the dialplan fallback takes over


@dataclass(frozen=True)
class StepRecord:
    seq: int
    node: str
    kind: str
    at: datetime  # UTC
    seconds: float
    input: str = ""  # keys pressed (masked when sensitive) or recognised text
    outcome: str = ""
    intent: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IvrSummary:
    exit: IvrExit
    intent: str
    elderly: bool
    ivr_seconds: float
    steps: Sequence[StepRecord]
    skill: str = ""
    priority: int = 0


@dataclass(frozen=True)
class SurveyResult:
    """The post-call survey as the caller answered it (or did not): kept with the call."""

    started_at: datetime  # the survey prompt began (the clock's time, like a step's)
    seconds: float  # prompt, key wait and thanks; up to the hang-up when the caller left
    outcome: SurveyOutcome
    score: int | None = None  # only for SCORED
    key: str = ""  # what was pressed (a bad key, for the record)


class CallJournal(Protocol):
    async def call_started(self, call: CallInfo) -> None: ...

    async def ivr_left(self, call: CallInfo, summary: IvrSummary) -> None:
        """The caller left the IVR (queue, hang-up, message, self-service): path and outcome."""
        ...

    async def after_queue(
        self, call: CallInfo, steps: Sequence[StepRecord], survey: SurveyResult | None
    ) -> None:
        """Steps after the ACD gave the call back (queue result, survey) and the survey's
        result, written together."""
        ...


# ---------------------------------------------------------------------------------------------
# Speech


class PromptRenderer(Protocol):
    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        """The Asterisk sound name (no extension) that plays this prompt."""
        ...


@dataclass(frozen=True)
class Recognition:
    text: str
    confidence: float


class SpeechRecognizer(Protocol):
    def utterance_path(self, call: CallInfo, node: str) -> str:
        """Where RECORD FILE writes the utterance, as Asterisk sees it, without extension."""
        ...

    async def recognize(self, utterance_path: str, phrases: Sequence[str]) -> Recognition | None:
        """Decode ``utterance_path`` + ".wav" against the phrases; None when nothing was heard."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...  # timezone-aware
    def monotonic(self) -> float: ...


class SystemClock:
    """The clock of a real call (tests give the engine one they step by hand)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


# ---------------------------------------------------------------------------------------------
# All of them, as the composition root gives them to the engine.


@dataclass(frozen=True)
class FlowPorts:
    """The engine's collaborators; optional ones are needed only by flows that use them."""

    renderer: PromptRenderer
    queue: QueueHandoff
    journal: CallJournal
    calendar: Calendar
    clock: Clock = field(default_factory=SystemClock)
    callers: CallerDirectory | None = None
    messages: MessageSink | None = None
    bookings: BookingLookup | None = None
    speech: SpeechRecognizer | None = None
    emergency: EmergencyBoard | None = None  # None: no emergency messages are played

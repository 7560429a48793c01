"""A scripted caller and in-memory collaborators for driving the IVR flow engine in tests.

``ScriptedChannel`` implements the channel the engine drives (the AgiSession methods): every
command that waits for the caller takes the next scripted action, and everything played is
kept in ``played``. When the script runs out, the caller hangs up, as a real one would.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.flows.schema import PromptText
from ivr.agi.errors import AgiCommandTimeout, CallHungUp
from ivr.agi.session import DigitsResult, Played, RecordResult
from ivr.flows.ports import (
    BookingSummary,
    CallerProfile,
    CallInfo,
    CancelResult,
    IvrSummary,
    KeptMessage,
    LeftMessage,
    QueueOutcome,
    QueueStatus,
    Recognition,
    ResendResult,
    StepRecord,
    SurveyResult,
)


@dataclass(frozen=True)
class Silence:
    """The caller does nothing until the command times out."""


@dataclass(frozen=True)
class HangUp:
    """The caller hangs up during this command."""


@dataclass(frozen=True)
class Stall:
    """Asterisk does not answer this command in time."""


@dataclass(frozen=True)
class Say:
    """The caller speaks: ``text`` for the transcript recogniser, or a real WAV to copy."""

    text: str = ""
    wav: Path | None = None
    confidence: float = 0.9


Action = str | Silence | HangUp | Stall | Say
SILENCE = Silence()
HANGUP = HangUp()
STALL = Stall()


class ScriptedChannel:
    def __init__(
        self,
        actions: Sequence[Action],
        *,
        env: dict[str, str] | None = None,
        variables: dict[str, str] | None = None,
    ) -> None:
        self.actions = list(actions)
        self.env = env or {
            "uniqueid": "1700000000.1",
            "linkedid": "1700000000.1",
            "callerid": "13800138000",
            "channel": "Local/s@caller-00000001;2",
        }
        self.variables = dict(variables or {"CC_DID": "114", "CC_LINE": "114"})
        self.played: list[str] = []
        self.resumed: list[tuple[str, int]] = []
        self.recordings: list[str] = []
        self.hung_up_by_flow = False
        self.gone = False

    def _next(self) -> Action:
        if self.gone or not self.actions:
            self.gone = True
            raise CallHungUp("the scripted caller is done")
        action = self.actions.pop(0)
        if isinstance(action, HangUp):
            self.gone = True
            raise CallHungUp("the scripted caller hung up")
        if isinstance(action, Stall):
            raise AgiCommandTimeout("no reply in time")
        return action

    async def answer(self) -> None:
        return None

    async def hangup(self) -> None:
        self.hung_up_by_flow = True

    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None:
        return (await self.play(sound, escape_digits)).digit

    async def play(self, sound: str, escape_digits: str = "", offset: int = 0) -> Played:
        """A one-key action next in the script is pressed during the prompt, if the prompt
        takes keys; it stops the prompt at ``offset`` + half a second. ``resumed`` keeps the
        offsets a prompt was played again from after a key."""
        if self.gone:
            raise CallHungUp("gone")
        if offset:
            self.resumed.append((sound, offset))
        else:
            self.played.append(sound)
        upcoming = self.actions[0] if self.actions else None
        if (
            escape_digits
            and isinstance(upcoming, str)
            and len(upcoming) == 1
            and upcoming in escape_digits
        ):
            self.actions.pop(0)
            return Played(upcoming, offset + 4000)
        return Played(None, offset + 16000)

    async def get_data(self, sound: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        self.played.append(sound)
        action = self._next()
        if isinstance(action, str):
            return DigitsResult(action[:max_digits], timed_out=False)
        return DigitsResult("", timed_out=True)

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        action = self._next()
        if isinstance(action, str):
            return action[0]
        return None

    async def record_file(
        self,
        path: str,
        fmt: str = "wav",
        escape_digits: str = "#",
        timeout_ms: int = 10000,
        silence_seconds: int | None = 2,
        beep: bool = False,
    ) -> RecordResult:
        self.recordings.append(path)
        target = Path(f"{path}.{fmt}")
        action = self._next()
        if isinstance(action, str):
            return RecordResult("dtmf", action[0], 0)
        if isinstance(action, Say):
            target.parent.mkdir(parents=True, exist_ok=True)
            if action.wav is not None:
                shutil.copyfile(action.wav, target)
            else:
                target.write_text(f"{action.confidence}|{action.text}", encoding="utf-8")
            return RecordResult("silence", None, 8000)
        return RecordResult("timeout", None, 0)

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        return self.variables.get(name)


# ---------------------------------------------------------------------------------------------


class LabelRenderer:
    """Sounds named after the prompt id (``114/welcome``), so tests read what was played."""

    async def sound(self, prompt: PromptText, *, elderly: bool) -> str:
        name = prompt.id or f"tts:{prompt.text}"
        return f"elderly:{name}" if elderly else name


class TranscriptRecognizer:
    """Recognises what a ``Say(text=...)`` action wrote into the utterance file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def utterance_path(self, call: CallInfo, node: str) -> str:
        return str(self.folder / f"{call.unique_id}-{node}")

    async def recognize(self, utterance_path: str, phrases: Sequence[str]) -> Recognition | None:
        path = Path(utterance_path + ".wav")
        if not path.exists():
            return None
        confidence, text = path.read_text(encoding="utf-8").split("|", 1)
        if text not in phrases:
            return None
        return Recognition(text, float(confidence))


@dataclass
class RecordingQueue:
    """An ACD stand-in that records each hand-off and answers with a fixed outcome."""

    outcome: QueueOutcome = field(
        default_factory=lambda: QueueOutcome(QueueStatus.ANSWERED, caller_on_line=False)
    )
    handoffs: list[tuple[str, int]] = field(default_factory=list)
    # Whether each hand-off came in elderly mode (the queue's announcements follow it).
    elderly: list[bool] = field(default_factory=list)

    async def enter_queue(
        self, session: object, call: CallInfo, skill: str, priority: int, *, elderly: bool = False
    ) -> QueueOutcome:
        self.handoffs.append((skill, priority))
        self.elderly.append(elderly)
        return self.outcome


@dataclass
class MemoryJournal:
    started: list[CallInfo] = field(default_factory=list)
    left: list[IvrSummary] = field(default_factory=list)
    after: list[tuple[list[StepRecord], SurveyResult | None]] = field(default_factory=list)

    async def call_started(self, call: CallInfo) -> None:
        self.started.append(call)

    async def ivr_left(self, call: CallInfo, summary: IvrSummary) -> None:
        self.left.append(summary)

    async def after_queue(
        self, call: CallInfo, steps: Sequence[StepRecord], survey: SurveyResult | None
    ) -> None:
        self.after.append((list(steps), survey))


@dataclass
class StaticDirectory:
    profiles: dict[str, CallerProfile] = field(default_factory=dict)

    async def profile(self, call: CallInfo) -> CallerProfile:
        return self.profiles.get(call.caller_number, CallerProfile())


@dataclass
class MemoryMessages:
    folder: Path
    messages: list[LeftMessage] = field(default_factory=list)

    def message_path(self, call: CallInfo) -> str:
        return str(self.folder / f"message-{call.unique_id}")

    async def message_left(self, call: CallInfo, message: LeftMessage) -> KeptMessage:
        self.messages.append(message)
        return KeptMessage(f"T{len(self.messages):04d}")


@dataclass
class MemoryBookings:
    bookings: dict[tuple[str, str], BookingSummary] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    opted_out: list[str] = field(default_factory=list)

    async def find_booking(
        self, call: CallInfo, id_number: str, code: str
    ) -> BookingSummary | None:
        return self.bookings.get((id_number, code))

    async def cancel_booking(self, call: CallInfo, id_number: str, code: str) -> CancelResult:
        booking = self.bookings.get((id_number, code))
        if booking is None or not booking.cancellable:
            return CancelResult(False, "就诊前一个工作日之后不能取消")
        self.cancelled.append(booking.reference)
        return CancelResult(True)

    async def resend_sms(self, call: CallInfo, id_number: str, code: str) -> ResendResult:
        booking = self.bookings.get((id_number, code))
        if booking is None:
            return ResendResult(False, "没有找到该预约")
        self.resent.append(booking.reference)
        return ResendResult(True)

    async def opt_out_reminders(self, call: CallInfo, id_number: str, code: str) -> ResendResult:
        booking = self.bookings.get((id_number, code))
        if booking is None:
            return ResendResult(False, "没有找到该预约")
        self.opted_out.append(booking.reference)
        return ResendResult(True)


class SteppingClock:
    """A clock set to a fixed moment that advances one second on every reading."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._ticks = 0.0

    def now(self) -> datetime:
        return self._now.astimezone(UTC)

    def monotonic(self) -> float:
        self._ticks += 1.0
        return self._ticks

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

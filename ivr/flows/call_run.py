"""One call's walk through a flow: what it carries (the caller's state, the steps visited,
how it left the IVR), how it records a step, leaves the IVR and writes the journal, and how
it speaks to the caller.

The node kinds build on it (ivr/flows/input_nodes.py, ivr/flows/service_nodes.py) and the
engine (ivr/flows/engine.py) walks it from node to node.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.flows.schema import DIGITS, Flow, MenuNode, Node, PromptText
from ivr.flows.ports import (
    CallInfo,
    CallState,
    Channel,
    FlowPorts,
    IvrExit,
    IvrSummary,
    StepRecord,
    SurveyResult,
)

# The engine's log, as before the walk had a module of its own.
log = logging.getLogger("ivr.flows.engine")
# Asterisk plays telephone prompts at 8 kHz; STREAM FILE's endpos counts samples.
SAMPLE_RATE = 8000
# A prompt resumed after more keys than any caller presses during one prompt is let go.
MAX_RESUMES = 32


class CallerGone(Exception):
    """The caller hung up (however the channel told us)."""


@dataclass
class Step:
    """What visiting one node gave: the node to go to next, what the caller entered, the
    outcome and anything else the journal keeps of it."""

    next: str | None
    input: str = ""
    outcome: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class CallRunBase:
    def __init__(
        self, flow: Flow, ports: FlowPorts, tz: ZoneInfo, channel: Channel, call: CallInfo
    ) -> None:
        self.flow = flow
        self.ports = ports
        self.tz = tz
        self.channel = channel
        self.call = call
        self.state = CallState()
        self.steps: list[StepRecord] = []
        self.after_steps: list[StepRecord] = []
        self.started = self.ports.clock.monotonic()
        self.ivr_seconds = 0.0
        self.served = False
        self.message_left = False
        self.left_ivr: IvrSummary | None = None
        self.survey: SurveyResult | None = None
        # Keys pressed during prompts, not yet taken by an input node (type-ahead).
        self.typed = ""

    # -- the record -------------------------------------------------------------------------

    def _record(self, name: str, node: Node, at: datetime, began: float, step: Step) -> None:
        target = self.after_steps if self.left_ivr is not None else self.steps
        record = StepRecord(
            seq=len(self.steps) + len(self.after_steps) + 1,
            node=name,
            kind=node.kind,
            at=at,
            seconds=round(self.ports.clock.monotonic() - began, 3),
            input=step.input,
            outcome=step.outcome,
            intent=self.state.intent,
            details=step.details,
        )
        target.append(record)

    async def _leave(self, exit_: IvrExit, skill: str = "", priority: int = 0) -> None:
        self.ivr_seconds = round(self.ports.clock.monotonic() - self.started, 3)
        self.left_ivr = IvrSummary(
            exit=exit_,
            intent=self.state.intent,
            elderly=self.state.elderly,
            ivr_seconds=self.ivr_seconds,
            steps=tuple(self.steps),
            skill=skill,
            priority=priority,
        )
        await self._journal(self.ports.journal.ivr_left(self.call, self.left_ivr))

    async def _journal(self, work: Awaitable[None]) -> None:
        # A journal outage must not cost the caller the call: log (without personal data).
        try:
            await work
        except Exception as exc:
            log.error("call %s: journal failed: %s", self.call.unique_id, type(exc).__name__)

    # -- speaking ---------------------------------------------------------------------------

    async def _sound(self, prompt_id: str) -> str:
        text = PromptText(
            f"{self.flow.name}/{prompt_id}", self.flow.prompts[prompt_id], self.flow.voice
        )
        return await self.ports.renderer.sound(text, elderly=self.state.elderly)

    async def _say(
        self, prompt_id: str | None, *, barge_in: bool = False, keys: bool = True
    ) -> float | None:
        """Play a flow prompt; keys pressed meanwhile are kept (type-ahead) unless ``keys``
        is False (the hand-off to an agent: no input node of the IVR follows it)."""
        if prompt_id is None:
            return None
        sound = await self._sound(prompt_id)
        if not keys:
            await self.channel.stream_file(sound, "")
            return None
        return await self._play_sound(sound, barge_in=barge_in)

    async def _say_text(self, text: str) -> None:
        prompt = PromptText(None, text, self.flow.voice)
        sound = await self.ports.renderer.sound(prompt, elderly=self.state.elderly)
        await self._play_sound(sound, barge_in=False)

    async def _play_sound(self, sound: str, *, barge_in: bool) -> float | None:
        """Play ``sound``, keeping every key pressed during it for the next input node.

        ``barge_in``: the first key stops the prompt (welcome, menus); otherwise the prompt
        goes on from where the key stopped it, so the caller still hears all of it. Returns
        the second at which a key stopped a barge-in prompt, None when it played to the end.
        """
        offset = 0
        for _ in range(MAX_RESUMES):
            played = await self.channel.play(sound, DIGITS, offset)
            if not played.digit:
                return None
            self.typed += played.digit
            if barge_in:
                return round(played.endpos / SAMPLE_RATE, 3)
            # An endpos that does not move on would replay the same part forever.
            if played.endpos <= offset:
                return None
            offset = played.endpos
        return None

    def _typed_key(self) -> str | None:
        """The oldest key the caller pressed ahead, taken off the type-ahead buffer."""
        if not self.typed:
            return None
        key, self.typed = self.typed[0], self.typed[1:]
        return key

    def _choose(self, menu: MenuNode, key: str, how: str, text: str = "") -> Step:
        option = menu.options[key]
        if option.intent:
            self.state.intent = option.intent
        return Step(option.next, input=text or key, outcome=f"{how}:{key}")

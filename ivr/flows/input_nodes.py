"""The node kinds that ask the caller for something: a key (menu), digits (collect), a key
or a spoken choice (speech), a satisfaction score (survey)."""

from __future__ import annotations

from backend.flows.schema import (
    DIGITS,
    CollectNode,
    MenuNode,
    SpeechNode,
    SurveyNode,
    SurveyOutcome,
)
from backend.flows.validators import InputRejected, validate_input
from backend.personal_data import mask_id_number
from ivr.agi.errors import CallHungUp
from ivr.flows.call_run import CallerGone, CallRunBase, Step
from ivr.flows.intents import grammar, option_key_for
from ivr.flows.ports import SurveyResult


class CallerInputNodes(CallRunBase):
    async def _menu(self, name: str, node: MenuNode) -> Step:
        pressed: list[str] = []
        ahead = False
        for attempt in range(1, node.retries + 1):
            # A key pressed ahead (during the welcome, an announcement, the "invalid" prompt)
            # is the caller's choice: the menu is not played to him again.
            digit = self._typed_key()
            ahead = ahead or digit is not None
            if not digit:
                await self._say(node.prompt, barge_in=True)
                digit = self._typed_key() or await self.channel.wait_for_digit(node.timeout_ms)
            if not digit:
                pressed.append("-")
                if attempt < node.retries:
                    await self._say(node.timeout_prompt)
                continue
            pressed.append(digit)
            if digit in node.options:
                step = self._choose(node, digit, "key")
                step.input = "".join(pressed)
                if ahead:
                    step.details["typed_ahead"] = True
                return step
            await self._say(node.invalid_prompt)
        return Step(node.fallback, input="".join(pressed), outcome="retries_exhausted")

    async def _collect(self, name: str, node: CollectNode) -> Step:
        entered: list[str] = []
        reasons: list[str] = []
        for _ in range(node.retries):
            raw = await self._entry(node)
            entered.append(self._mask(node, raw) if raw else "-")
            try:
                if len(raw) < node.min_digits:
                    raise InputRejected("输入位数不足" if raw else "未输入")
                if len(raw) > node.max_digits:
                    raise InputRejected("输入位数过多")
                value = validate_input(node.validator, raw)
            except InputRejected as exc:
                reasons.append(str(exc))
                await self._say(node.invalid_prompt)
                continue
            self.state.variables[node.store_as] = value
            return Step(
                node.next,
                input=",".join(entered),
                outcome="accepted",
                details={"rejected": reasons},
            )
        return Step(
            node.fallback,
            input=",".join(entered),
            outcome="retries_exhausted",
            details={"rejected": reasons},
        )

    async def _entry(self, node: CollectNode) -> str:
        """The digits of one attempt: keyed after the prompt, or begun ahead of it."""
        if self.typed:
            return await self._rest_of_entry(node)
        # One digit more than needed: GET DATA stops at max_digits, so the '#' callers are
        # told to press after the last digit would otherwise end the *next* GET DATA with
        # nothing. With room for it, '#' ends this one and no digit is left over.
        reply = await self.channel.get_data(
            await self._sound(node.prompt), node.timeout_ms, node.max_digits + 1
        )
        return reply.digits

    async def _rest_of_entry(self, node: CollectNode) -> str:
        """An entry the caller began during an earlier prompt: what he typed ahead, then
        keys one by one until '#', one more than max_digits, or the timeout."""
        raw = ""
        while len(raw) <= node.max_digits:
            key = self._typed_key() or await self.channel.wait_for_digit(node.timeout_ms)
            if not key or key == "#":
                break
            raw += key
        return raw

    @staticmethod
    def _mask(node: CollectNode, raw: str) -> str:
        return mask_id_number(raw) if node.sensitive else raw

    async def _speech(self, name: str, node: SpeechNode) -> Step:
        menu = self.flow.nodes[node.menu]
        assert isinstance(menu, MenuNode)
        recognizer = self.ports.speech
        if recognizer is None:
            # Without a speech model the caller is never asked to speak: straight to the
            # menu, which takes any key pressed ahead.
            return Step(node.menu, outcome="no_asr")
        digit = self._typed_key()
        if digit is None:
            await self._say(node.prompt, barge_in=True)
            digit = self._typed_key()
        if digit is None:
            path = recognizer.utterance_path(self.call, name)
            result = await self.channel.record_file(
                path,
                "wav",
                escape_digits=DIGITS,
                timeout_ms=node.max_seconds * 1000,
                silence_seconds=node.silence_seconds,
            )
            if result.ended_by == "hangup":
                raise CallerGone()
            if result.ended_by == "dtmf" and result.digit:
                digit = result.digit
            else:
                return await self._heard(name, node, menu, path)
        if digit and digit in menu.options:
            return self._choose(menu, digit, "key")
        return Step(
            node.fallback, input=digit or "", outcome="no_speech" if not digit else "invalid_key"
        )

    async def _heard(self, name: str, node: SpeechNode, menu: MenuNode, path: str) -> Step:
        recognizer = self.ports.speech
        assert recognizer is not None
        heard = await recognizer.recognize(path, grammar(menu, node.decoys))
        key = option_key_for(heard, menu, node.min_confidence)
        details = {"confidence": heard.confidence if heard else 0.0}
        text = heard.text if heard else ""
        if key is None:
            return Step(node.fallback, input=text, outcome="not_understood", details=details)
        step = self._choose(menu, key, "speech", text)
        step.details = details
        return step

    async def _survey(self, name: str, node: SurveyNode) -> Step:
        """The score after the agent hung up. Any key ends the prompt (a key typed ahead
        skips it), so that a bad key is told from no key; the result is kept whole, also when
        the caller hangs up in it (a score given stands if he hangs up during the thanks)."""
        started_at, began = self.ports.clock.now(), self.ports.clock.monotonic()
        scores = "".join(str(score) for score in range(1, node.scale + 1))
        try:
            digit = self._typed_key()
            if not digit:
                await self._say(node.prompt, barge_in=True)
                digit = self._typed_key()
            if not digit:
                digit = await self.channel.wait_for_digit(node.timeout_ms)
        except (CallHungUp, CallerGone):
            seconds = round(self.ports.clock.monotonic() - began, 3)
            self.survey = SurveyResult(started_at, seconds, SurveyOutcome.HUNG_UP)
            raise
        outcome = survey_outcome(digit, scores)
        score = int(digit) if outcome is SurveyOutcome.SCORED and digit else None
        try:
            if score is not None:
                await self._say(node.thanks_prompt)
        finally:
            seconds = round(self.ports.clock.monotonic() - began, 3)
            self.survey = SurveyResult(started_at, seconds, outcome, score, digit or "")
        return Step(node.next, input=digit or "", outcome=outcome.value)


def survey_outcome(digit: str | None, scores: str) -> SurveyOutcome:
    if not digit:
        return SurveyOutcome.NO_ANSWER
    return SurveyOutcome.SCORED if digit in scores else SurveyOutcome.INVALID

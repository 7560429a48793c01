"""The node kinds that hand the caller to a service: the queue (an agent), a recorded
message, the booking look-up and cancellation."""

from __future__ import annotations

from backend.flows.schema import (
    BookingCancelNode,
    BookingLookupNode,
    BookingSmsNode,
    MessageNode,
    QueueNode,
)
from ivr.flows.call_run import CallerGone, Step
from ivr.flows.emergency_nodes import EmergencyNodes
from ivr.flows.ports import EmergencyNotice, IvrExit, LeftMessage, QueueStatus


class ServiceNodes(EmergencyNodes):
    async def _divert(self, notice: EmergencyNotice) -> str | None:
        """An emergency message's diversion: straight to its skill's queue."""
        node = self._diversion(notice)
        at, began = self.ports.clock.now(), self.ports.clock.monotonic()
        step = await self._queue("emergency_divert", node, emergency_checked=True)
        self._record("emergency_divert", node, at, began, step)
        return step.next

    async def _after_emergency(
        self, notice: EmergencyNotice | None, otherwise: str | None
    ) -> str | None:
        """Where the call goes after a message: on, ended (served), or diverted."""
        if notice is None or notice.mode == "continue":
            return otherwise
        if notice.mode == "end":
            self.served = True
            return None
        return await self._divert(notice)

    async def _queue(self, name: str, node: QueueNode, *, emergency_checked: bool = False) -> Step:
        if not emergency_checked:
            notice = await self._emergency("queue", node.skill)
            if notice is not None and notice.mode == "end":
                self.served = True
                return Step(None, outcome="emergency_end")
            if notice is not None and notice.mode == "divert":
                node = self._diversion(notice)
        priority = node.priority
        if self.state.elderly and node.elderly_priority is not None:
            priority = max(priority, node.elderly_priority)
        if self.state.repeat_caller and node.repeat_priority is not None:
            priority = max(priority, node.repeat_priority)
        if node.intent and not self.state.intent:
            self.state.intent = node.intent
        # Keys pressed before the hand-off belong to the IVR: the agent's call and the
        # survey after it start with none pending.
        self.typed = ""
        await self._say(node.prompt, keys=False)
        details = {"skill": node.skill, "priority": priority, "elderly": self.state.elderly}
        self._record(
            name,
            node,
            self.ports.clock.now(),
            self.ports.clock.monotonic(),
            Step(None, outcome="handed_to_queue", details=details),
        )
        if self.left_ivr is None:
            # A second hand-off (after "no agent", back through a menu) is part of the
            # after-queue path; the IVR was left at the first.
            await self._leave(IvrExit.QUEUE, node.skill, priority)
        outcome = await self.ports.queue.enter_queue(
            self.channel, self.call, node.skill, priority, elderly=self.state.elderly
        )
        after = {"agent_id": outcome.agent_id, "caller_on_line": outcome.caller_on_line}
        following: str | None = None
        if outcome.status is QueueStatus.ANSWERED and outcome.caller_on_line:
            following = node.after_agent
        elif outcome.status is QueueStatus.NO_AGENT:
            following = node.fallback
        return Step(following, outcome=outcome.status.value, details=after)

    async def _message(self, name: str, node: MessageNode) -> Step:
        sink = self.ports.messages
        assert sink is not None
        path = sink.message_path(self.call)
        await self._say(node.prompt, keys=False)
        began = self.ports.clock.monotonic()
        ended_by = "hangup"
        try:
            result = await self.channel.record_file(
                path,
                "wav",
                escape_digits="#",
                timeout_ms=node.max_seconds * 1000,
                silence_seconds=node.silence_seconds,
                beep=True,
            )
            ended_by = result.ended_by
        finally:
            # Keep what the caller said even when they hung up while recording.
            seconds = round(self.ports.clock.monotonic() - began, 3)
            message = LeftMessage(node.topic, path + ".wav", seconds, ended_by, self.state.intent)
            kept = await sink.message_left(self.call, message)
            self.message_left = True
        if ended_by == "hangup":
            raise CallerGone()
        if kept.no_callback:
            await self._say_text(kept.no_callback)
        else:
            await self._say(node.saved_prompt)
        details = {"reference": kept.reference, "seconds": seconds}
        return Step(node.next, outcome="message_left", details=details)

    async def _booking_lookup(self, name: str, node: BookingLookupNode) -> Step:
        bookings = self.ports.bookings
        assert bookings is not None
        id_number = self.state.variables[node.id_from]
        code = self.state.variables[node.code_from]
        booking = await bookings.find_booking(self.call, id_number, code)
        if booking is None:
            await self._say(node.not_found_prompt)
            return Step(node.not_found, outcome="not_found")
        await self._say_text(booking.speech)
        self.served = True
        details = {"reference": booking.reference, "cancellable": booking.cancellable}
        notice = await self._emergency("hospital", booking.hospital)
        following = await self._after_emergency(notice, node.found)
        return Step(following, outcome="found", details=details)

    async def _booking_cancel(self, name: str, node: BookingCancelNode) -> Step:
        bookings = self.ports.bookings
        assert bookings is not None
        id_number = self.state.variables[node.id_from]
        code = self.state.variables[node.code_from]
        result = await bookings.cancel_booking(self.call, id_number, code)
        if result.cancelled:
            await self._say(node.done_prompt)
            self.served = True
            return Step(node.next, outcome="cancelled")
        await self._say(node.refused_prompt)
        if result.reason:
            await self._say_text(result.reason)
        return Step(node.next, outcome="refused", details={"reason": result.reason})

    async def _booking_sms(self, name: str, node: BookingSmsNode) -> Step:
        bookings = self.ports.bookings
        assert bookings is not None
        id_number = self.state.variables[node.id_from]
        code = self.state.variables[node.code_from]
        if node.action == "opt_out":
            result = await bookings.opt_out_reminders(self.call, id_number, code)
        else:
            result = await bookings.resend_sms(self.call, id_number, code)
        if result.queued:
            await self._say(node.done_prompt)
            self.served = True
            return Step(node.next, outcome="sms_queued")
        await self._say(node.refused_prompt)
        if result.reason:
            await self._say_text(result.reason)
        return Step(node.next, outcome="sms_refused", details={"reason": result.reason})

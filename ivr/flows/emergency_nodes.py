"""Emergency messages in a call's walk (``backend/emergency.py``): where one is running the
caller hears it — at the call's start (the line's), at the hand-off to a queue (the
skill's), after his booking is found (the hospital's) — and it is on the IVR path as an
``emergency`` step whose outcome is its mode. What follows (go on, end, divert) is up to
the node that asked. A board that cannot be read costs the caller nothing: logged, no
message."""

from __future__ import annotations

from backend.flows.schema import QueueNode
from ivr.flows.call_run import CallRunBase, log
from ivr.flows.ports import EmergencyNotice, StepRecord


class EmergencyNodes(CallRunBase):
    async def _emergency(self, scope: str, target: str) -> EmergencyNotice | None:
        """Play the message running for this line, hospital or skill; the one played."""
        board = self.ports.emergency
        if board is None or not target:
            return None
        try:
            notice = await board.active(scope, target)
        except Exception as exc:
            log.error("call %s: emergency board unread: %s", self.call.unique_id, exc)
            return None
        if notice is None:
            return None
        at, began = self.ports.clock.now(), self.ports.clock.monotonic()
        if notice.recording:
            await self._play_sound(notice.recording, barge_in=False)
        else:
            await self._say_text(notice.text)
        target_steps = self.after_steps if self.left_ivr is not None else self.steps
        target_steps.append(
            StepRecord(
                seq=len(self.steps) + len(self.after_steps) + 1,
                node=f"emergency:{scope}",
                kind="emergency",
                at=at,
                seconds=round(self.ports.clock.monotonic() - began, 3),
                input="",
                outcome=notice.mode,
                intent=self.state.intent,
                details={"message_id": notice.id, "target": target, "skill": notice.divert_skill},
            )
        )
        return notice

    @staticmethod
    def _diversion(notice: EmergencyNotice) -> QueueNode:
        """The queue a ``divert`` message sends the caller to."""
        return QueueNode(kind="queue", skill=notice.divert_skill)

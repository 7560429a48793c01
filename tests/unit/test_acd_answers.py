"""The answer moment of a dialled agent comes from AMI DialEnd events of the caller's channel."""

from __future__ import annotations

import asyncio

from ivr.acd.answers import Answered, AnswerWatch

CHANNEL = "Local/114@from-carrier-00000001;2"


async def test_answer_time_is_taken_when_dial_end_reports_answer() -> None:
    now = [100.0]
    watch = AnswerWatch(clock=lambda: now[0])
    answered = watch.expect(CHANNEL)
    watch.on_dial_end({"Event": "DialEnd", "Channel": CHANNEL, "DialStatus": "NOANSWER"})
    assert not answered.done()
    now[0] = 104.5
    watch.on_dial_end({"Event": "DialEnd", "Channel": "Local/other;2", "DialStatus": "ANSWER"})
    assert not answered.done()
    watch.on_dial_end(
        {
            "Event": "DialEnd",
            "Channel": CHANNEL,
            "DialStatus": "ANSWER",
            "DestChannel": "PJSIP/8001-1",
        }
    )
    assert await asyncio.wait_for(answered, 1) == Answered(104.5, "PJSIP/8001-1")


async def test_a_forgotten_dial_is_cancelled_and_ignores_late_events() -> None:
    watch = AnswerWatch(clock=lambda: 1.0)
    answered = watch.expect(CHANNEL)
    watch.forget(CHANNEL)
    assert answered.cancelled()
    watch.on_dial_end({"Channel": CHANNEL, "DialStatus": "ANSWER"})  # no error, no effect

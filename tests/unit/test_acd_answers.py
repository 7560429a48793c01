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


class Told:
    def __init__(self) -> None:
        self.transfers: list[tuple[str, tuple[str, ...]]] = []

    async def __call__(self, event: str, where: tuple[str, ...]) -> None:
        self.transfers.append((event, where))


async def test_a_blind_transfer_of_the_agent_leg_is_told_once() -> None:
    watch, told = AnswerWatch(clock=lambda: 1.0), Told()
    watch.track((CHANNEL, "PJSIP/8001-1"), "c1", 1, told)
    event = {"Result": "Success", "TransfererChannel": "PJSIP/8001-1", "Extension": "policy",
             "Context": "desk-transfer"}  # fmt: skip
    await watch.on_blind_transfer({**event, "TransfererChannel": "PJSIP/8002-7"})  # not ours
    await watch.on_blind_transfer({**event, "Result": "Fail"})
    assert told.transfers == []
    await watch.on_blind_transfer(event)
    await watch.on_blind_transfer(event)
    assert told.transfers == [("BLINDTRANSFER", ("policy", "desk-transfer"))]
    await asyncio.wait_for(watch.transfer_settled((CHANNEL,), timeout=5), 1)  # already told


async def test_an_attended_transfer_is_told_with_where_it_went() -> None:
    watch, told = AnswerWatch(clock=lambda: 1.0), Told()
    watch.track((CHANNEL, "PJSIP/8001-1"), "c1", 1, told)
    await watch.on_attended_transfer(
        {"Result": "Success", "OrigTransfererChannel": "PJSIP/8001-1", "DestType": "Bridge",
         "DestBridgeUniqueid": "b-1", "TransferTargetChannel": "PJSIP/8002-3"}
    )  # fmt: skip
    assert told.transfers == [("ATTENDEDTRANSFER", ("BRIDGE", "b-1"))]


async def test_without_a_transfer_the_settling_wait_ends_at_its_timeout() -> None:
    watch, told = AnswerWatch(clock=lambda: 1.0), Told()
    watch.track((CHANNEL, "PJSIP/8001-1"), "c1", 1, told)
    await watch.transfer_settled((CHANNEL,), timeout=0.05)
    assert told.transfers == []

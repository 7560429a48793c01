"""The ACD store on the real Redis: routing order, ring-no-answer, callbacks, restart."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backend.acd.model import AgentProfile, CallStatus
from backend.acd.policy import CandidateAgent, SkillConfig, WaitingCall, decide
from backend.acd.states import AgentState, CannotDialOut
from backend.acd.store import AcdStore
from backend.settings import Settings
from ivr.acd.answers import AnswerWatch
from ivr.acd.recovery import recover

T0 = 1_764_000_000.0  # a fixed epoch second so orders and waits are exact


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


SKILLS = [
    SkillConfig(
        "booking", wrapup_seconds=10, overflow_skill="complaints", overflow_after_seconds=60
    ),
    SkillConfig("complaints", wrapup_seconds=0),
    SkillConfig("policy", wrapup_seconds=5),
]


@pytest.fixture()
async def aredis(settings: Settings, redis_namespace: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    async for key in client.scan_iter(f"{redis_namespace}*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(aredis: Redis, redis_namespace: str, clock: Clock) -> AcdStore:
    return AcdStore(aredis, redis_namespace, SKILLS, controller_id="c1", clock=clock)


async def ready_agent(store: AcdStore, clock: Clock, agent_id: int, skills: dict[str, int],
                      idle_at: float) -> None:  # fmt: skip
    await store.register_agent(
        AgentProfile(agent_id, str(1000 + agent_id), f"Local/{agent_id}@sim-agent", skills)
    )
    saved = clock.now
    clock.now = idle_at
    await store.change_state(agent_id, AgentState.READY)
    clock.now = saved


async def test_best_level_then_longest_idle_gets_the_call(store: AcdStore, clock: Clock) -> None:
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 300)  # idle longest, lower level
    await ready_agent(store, clock, 2, {"booking": 8}, T0 - 30)
    await ready_agent(store, clock, 3, {"booking": 8}, T0 - 42)
    await store.enqueue("call-a", "booking")
    assignment = await store.pick()
    assert assignment is not None
    assert (assignment.call_id, assignment.agent_id) == ("call-a", 3)
    assert assignment.interface == "Local/3@sim-agent"
    reason = assignment.decision.reason
    assert "agent 1003 got call call-a" in reason
    assert "level 8" in reason and "idle 42 s" in reason
    assert "longest idle of 2 at that level (3 ready)" in reason
    view = await store.agent(3)
    assert view is not None and view.status.state == AgentState.RESERVED
    assert await store.pick() is None  # nothing else waits


async def test_priority_then_entry_time_across_calls(store: AcdStore, clock: Clock) -> None:
    await store.enqueue("early", "booking", 0, entered_at=T0 - 100)
    await store.enqueue("elderly", "booking", 2, entered_at=T0 - 5)
    await store.enqueue("later", "booking", 0, entered_at=T0 - 50)
    assert [c.call_id for c in await store.waiting_calls()] == ["elderly", "early", "later"]
    assert await store.position("later") == 3
    served = []
    for agent_id in (1, 2, 3):
        await ready_agent(store, clock, agent_id, {"booking": 5}, T0 - agent_id)
        assignment = await store.pick()
        assert assignment is not None
        served.append(assignment.call_id)
    assert served == ["elderly", "early", "later"]


async def test_an_agent_never_gets_a_call_outside_his_skills(store: AcdStore, clock: Clock) -> None:
    await ready_agent(store, clock, 1, {"policy": 9}, T0 - 500)
    await store.enqueue("c", "booking", entered_at=T0 - 1000)  # long past overflow, to complaints
    assert await store.pick() is None
    await ready_agent(store, clock, 2, {"complaints": 3}, T0 - 1)
    assignment = await store.pick()
    assert assignment is not None and assignment.agent_id == 2
    assert assignment.decision.overflow and "overflow from booking" in assignment.decision.reason


async def test_overflow_only_after_the_configured_wait(store: AcdStore, clock: Clock) -> None:
    await ready_agent(store, clock, 1, {"complaints": 5}, T0 - 10)
    await store.enqueue("c", "booking", entered_at=T0 - 59)
    assert await store.pick() is None
    clock.now += 1
    assignment = await store.pick()
    assert assignment is not None and assignment.call_id == "c"
    assert assignment.decision.skill == "complaints"


async def test_ring_no_answer_requeues_at_the_head_and_marks_agent_unanswered(
    store: AcdStore, clock: Clock
) -> None:
    await ready_agent(store, clock, 1, {"booking": 9}, T0 - 100)
    await store.enqueue("first", "booking", entered_at=T0 - 40)
    assignment = await store.pick()
    assert assignment is not None and assignment.agent_id == 1
    assert await store.wait_for_agent("first", timeout=1) == 1
    await store.enqueue("second", "booking", entered_at=T0 - 20)
    assert await store.ringing("first", 1)
    clock.now += 15
    assert await store.ring_no_answer("first", 1)

    agent = await store.agent(1)
    assert agent is not None
    assert (agent.status.state, agent.status.reason) == (AgentState.NOT_READY, "no_answer")
    back = await store.call("first")
    assert back is not None and back.status == CallStatus.WAITING
    assert back.entered_at == T0 - 40  # kept its place
    assert await store.position("first") == 1

    await ready_agent(store, clock, 2, {"booking": 5}, clock.now - 1)
    assignment = await store.pick()
    assert assignment is not None and (assignment.call_id, assignment.agent_id) == ("first", 2)


async def test_callback_keeps_its_place_and_is_dialled_once(store: AcdStore, clock: Clock) -> None:
    await store.enqueue("a", "booking", entered_at=T0 - 30)
    await store.enqueue("b", "booking", entered_at=T0 - 20)
    await store.enqueue("c", "booking", entered_at=T0 - 10)
    assert await store.request_callback("a", "13800000000")
    clock.now += 120  # b and c kept waiting meanwhile; a's caller is gone
    await store.enqueue("d", "booking", entered_at=clock.now)
    assert await store.position("a") == 1

    await ready_agent(store, clock, 1, {"booking": 5}, clock.now - 5)
    assignment = await store.pick()
    assert assignment is not None and assignment.call_id == "a" and assignment.decision.callback
    # One free agent: one callback dialling, however many wait.
    assert await store.pick() is None
    key = await store.begin_dial("a", 1)
    assert key == "a#1"
    assert await store.begin_dial("a", 1) == key  # a retry reuses the open attempt
    assert await store.claim_dial(key)
    assert not await store.claim_dial(key)  # a retried originate does not ring twice

    # The citizen does not answer: the callback goes back in its own place, the agent is free.
    assert await store.callback_unreached("a", 1) == CallStatus.CALLBACK
    agent = await store.agent(1)
    assert agent is not None and agent.status.state == AgentState.READY
    again = await store.pick()
    assert again is not None and again.call_id == "a"
    assert await store.begin_dial("a", 1) == "a#2"


async def test_callback_refused_once_an_agent_is_reserved(store: AcdStore, clock: Clock) -> None:
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 5)
    await store.enqueue("a", "booking")
    assert await store.pick() is not None
    assert not await store.request_callback("a", "13800000000")


async def test_abandon_frees_a_reserved_agent_keeping_his_idle_place(
    store: AcdStore, clock: Clock
) -> None:
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 50)
    await ready_agent(store, clock, 2, {"booking": 5}, T0 - 40)
    await store.enqueue("gone", "booking")
    assignment = await store.pick()
    assert assignment is not None and assignment.agent_id == 1
    assert await store.abandon("gone")
    await store.enqueue("next", "booking")
    assignment = await store.pick()
    assert assignment is not None and assignment.agent_id == 1  # still the longest idle


async def test_wrapup_ends_at_its_timer_then_agent_is_ready(store: AcdStore, clock: Clock) -> None:
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 50)
    await store.enqueue("c", "booking")
    assert await store.pick() is not None
    assert await store.ringing("c", 1)
    assert await store.connected("c", 1)
    clock.now += 100
    assert await store.call_ended("c", 1, handle_seconds=100)
    agent = await store.agent(1)
    assert agent is not None and agent.status.state == AgentState.WRAP_UP
    clock.now += 9
    assert await store.expire_wrapups() == []
    clock.now += 30  # noticed late; the interval still ends on the timer
    (done,) = await store.expire_wrapups()
    assert done.closed is not None and done.closed.seconds == 10
    agent = await store.agent(1)
    assert agent is not None and agent.status.state == AgentState.READY
    assert agent.status.idle_since == T0 + 110
    assert await store.recent_handle_seconds("booking") == [100.0]


async def test_wait_estimate_from_position_agents_and_handle_times(
    store: AcdStore, clock: Clock
) -> None:
    for agent_id in (1, 2):
        await store.register_agent(AgentProfile(agent_id, str(agent_id), "x", {"policy": 5}))
        await store.change_state(agent_id, AgentState.READY)
        await store.change_state(agent_id, AgentState.NOT_READY, reason="meal")
        await store.change_state(agent_id, AgentState.READY)
    await store.change_state(2, AgentState.NOT_READY, reason="break")  # not counted
    # Nobody is ready for policy only if we pick; keep them busy with other queue first.
    for i in range(3):
        await store.enqueue(f"p{i}", "policy", entered_at=T0 + i)
    await store.change_state(2, AgentState.LOGGED_OUT)
    estimate = await store.estimate("p2")
    assert estimate is not None
    position, seconds = estimate
    assert position == 3 and seconds == pytest.approx(2.5 * 180)
    assert await store.staffed_count("policy") == 1


async def test_restarted_controller_sees_agents_and_waiting_calls(
    aredis: Redis, redis_namespace: str, store: AcdStore, clock: Clock
) -> None:
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 5)
    await store.register_agent(AgentProfile(2, "1002", "Local/2@sim-agent", {"policy": 7}))
    await store.change_state(2, AgentState.NOT_READY, reason="training")
    await store.enqueue("x", "policy", 2, entered_at=T0 - 30)
    await store.enqueue("y", "policy", 0, entered_at=T0 - 60)
    await store.request_callback("y", "13900000000")

    restarted = AcdStore(aredis, redis_namespace, SKILLS, controller_id="c1", clock=clock)
    agents = {a.profile.agent_id: a for a in await restarted.agents()}
    assert agents[1].status.state == AgentState.READY
    assert (agents[2].status.state, agents[2].status.reason) == (AgentState.NOT_READY, "training")
    assert agents[2].profile.skills == {"policy": 7}
    calls = await restarted.waiting_calls()
    assert [(c.call_id, c.status) for c in calls] == [
        ("x", CallStatus.WAITING),
        ("y", CallStatus.CALLBACK),
    ]
    await restarted.change_state(2, AgentState.READY)
    assignment = await restarted.pick()
    assert assignment is not None and (assignment.call_id, assignment.agent_id) == ("x", 2)


async def test_redis_pick_agrees_with_the_pure_policy(store: AcdStore, clock: Clock) -> None:
    """The Lua script and policy.decide make the same decision on random queues."""
    rng = random.Random(4)
    codes = [s.code for s in SKILLS]
    config = {s.code: s for s in SKILLS}
    decisions = overflows = 0
    for round_no in range(15):
        agents = []
        for agent_id in range(1, 13):
            skills = {s: rng.randint(1, 10) for s in rng.sample(codes, rng.randint(1, 2))}
            idle = T0 - rng.randint(1, 900)
            await ready_agent(store, clock, agent_id + 100 * round_no, skills, idle)
            agents.append(CandidateAgent(agent_id + 100 * round_no, "", skills, idle))
        calls = []
        for n in range(20):
            call = WaitingCall(
                f"r{round_no}-{n}", rng.choice(codes), rng.choice([0, 0, 1, 2]),
                T0 - rng.randint(0, 120),
            )  # fmt: skip
            await store.enqueue(call.call_id, call.skill, call.priority, entered_at=call.entered_at)
            calls.append(call)
        while True:
            expected = decide(calls, agents, config, clock.now)
            got = await store.pick()
            if expected is None:
                assert got is None
                break
            assert got is not None
            assert (got.call_id, got.agent_id, got.decision.skill) == (
                expected.call_id, expected.agent_id, expected.skill,
            )  # fmt: skip
            assert got.decision.ready_count == expected.ready_count
            assert got.decision.same_level_count == expected.same_level_count
            decisions += 1
            overflows += got.decision.overflow
            calls = [c for c in calls if c.call_id != got.call_id]
            agents = [a for a in agents if a.agent_id != got.agent_id]
        for call in calls:
            await store.abandon(call.call_id)
        for agent in agents:
            await store.change_state(agent.agent_id, AgentState.LOGGED_OUT)
    assert decisions > 100 and overflows > 0


async def test_restart_releases_calls_whose_sessions_died_but_keeps_callbacks(
    aredis: Redis, redis_namespace: str, store: AcdStore, clock: Clock
) -> None:
    other = AcdStore(aredis, redis_namespace, SKILLS, controller_id="c2", clock=clock)
    await store.heartbeat()
    await other.heartbeat()
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 100)
    await ready_agent(store, clock, 2, {"policy": 5}, T0 - 100)
    await store.enqueue("held", "booking", entered_at=T0 - 50)  # gets agent 1
    assert await store.pick() is not None
    await store.enqueue("waiting", "booking", entered_at=T0 - 40)
    await store.enqueue("cb", "booking", entered_at=T0 - 30)
    assert await store.request_callback("cb", "13700000000")
    await other.enqueue("elsewhere", "booking", entered_at=T0 - 20)

    restarted = AcdStore(aredis, redis_namespace, SKILLS, controller_id="c1", clock=clock)
    released = await recover(restarted, restarted=True)
    assert sorted(released) == ["held", "waiting"]
    assert [c.call_id for c in await restarted.waiting_calls()] == ["cb", "elsewhere"]
    agent = await restarted.agent(1)
    assert agent is not None and agent.status.state == AgentState.READY
    assert agent.status.idle_since == T0 - 100  # kept his place in the idle order

    # A controller that stops beating is gone for the others too.
    clock.now += 60
    await restarted.heartbeat()
    assert await recover(restarted, stale_after=10) == ["elsewhere"]


async def test_a_released_caller_still_on_the_line_rejoins_at_his_place(
    store: AcdStore, clock: Clock
) -> None:
    await store.enqueue("stalled", "booking", entered_at=T0 - 90)
    await store.enqueue("later", "booking", entered_at=T0 - 10)
    assert await recover(store, restarted=True) == ["stalled", "later"]  # looked gone
    assert await store.rejoin("stalled")
    assert not await store.rejoin("stalled")  # only once
    assert [c.call_id for c in await store.waiting_calls()] == ["stalled"]
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 5)
    assignment = await store.pick()
    assert assignment is not None and assignment.call_id == "stalled"


async def test_hold_events_put_the_agent_on_hold_and_add_up_hold_time(
    store: AcdStore, clock: Clock
) -> None:
    watch = AnswerWatch(store, clock=clock)  # events fed directly instead of from AMI
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 5)
    await store.enqueue("h", "booking")
    assert await store.pick() is not None
    assert await store.ringing("h", 1)
    assert await store.connected("h", 1)
    legs = ("Local/114@from-carrier-1;2", "PJSIP/8001-00000001")
    watch.track(legs, "h", 1)
    clock.now += 10
    await watch.on_hold({"Event": "Hold", "Channel": legs[1]})
    agent = await store.agent(1)
    assert agent is not None and agent.status.state == AgentState.ON_HOLD
    clock.now += 25
    await watch.on_unhold({"Event": "Unhold", "Channel": legs[1]})
    agent = await store.agent(1)
    assert agent is not None and agent.status.state == AgentState.ON_CALL
    clock.now += 5
    await watch.on_hold({"Event": "Hold", "Channel": legs[0]})  # the caller's leg counts too
    clock.now += 3
    assert watch.untrack(legs) == 28  # a hold still open at the end is closed there


async def answered(store: AcdStore, call_id: str, agent_id: int) -> None:
    assert await store.pick() is not None
    assert await store.ringing(call_id, agent_id)
    assert await store.connected(call_id, agent_id)


async def test_a_transferred_call_starts_a_new_stay_with_the_colleague_reserved(
    store: AcdStore, clock: Clock
) -> None:
    await ready_agent(store, clock, 1, {"booking": 9}, T0 - 100)
    await store.enqueue("t", "booking", entered_at=T0 - 30)
    await answered(store, "t", 1)
    # Entering again while the first agent still holds the call changes nothing...
    assert await store.enqueue("t", "booking", 5) is not None
    held = await store.call("t")
    assert held is not None and held.status == CallStatus.CONNECTED
    # ...once he let it go (the transfer ended his Dial) it is a new stay.
    assert await store.call_ended("t", 1, handle_seconds=20)
    await ready_agent(store, clock, 2, {"booking": 3}, T0 - 500)  # idle longer than 3
    await ready_agent(store, clock, 3, {"booking": 3}, T0 - 10)
    again = await store.enqueue("t", "booking", 5)
    assert again.status == CallStatus.WAITING and again.entered_at == clock.now
    assert await store.offer_to("t", 3)
    assert await store.wait_for_agent("t", timeout=1) == 3  # the colleague, not the longest idle
    colleague = await store.agent(3)
    assert colleague is not None and colleague.status.state == AgentState.RESERVED
    assert await store.pick() is None  # nothing left waiting


async def test_a_transfer_to_a_colleague_who_is_not_ready_waits_for_anyone(
    store: AcdStore, clock: Clock
) -> None:
    await ready_agent(store, clock, 1, {"booking": 5}, T0 - 100)
    await store.register_agent(AgentProfile(2, "1002", "PJSIP/1002", {"booking": 5}))
    await store.change_state(2, AgentState.NOT_READY, reason="meal")
    await store.enqueue("w", "booking")
    assert not await store.offer_to("w", 2)  # on a meal break
    assert not await store.offer_to("w", 99)  # not signed in at all
    call = await store.call("w")
    assert call is not None and call.status == CallStatus.WAITING
    assignment = await store.pick()
    assert assignment is not None and assignment.agent_id == 1


async def test_an_attended_transfer_hands_the_call_to_the_colleague(
    store: AcdStore, clock: Clock
) -> None:
    watch = AnswerWatch(store, clock=clock)
    await ready_agent(store, clock, 1, {"booking": 9}, T0 - 100)
    await store.enqueue("a", "booking")
    await answered(store, "a", 1)
    await ready_agent(store, clock, 2, {"policy": 5}, T0 - 50)
    legs = ("PJSIP/carrier-00000001", "PJSIP/1001-00000002")
    watch.track(legs, "a", 1)
    clock.now += 30
    await watch.on_hold({"Event": "Hold", "Channel": legs[1]})  # the caller waits: consultation
    clock.now += 12
    await watch.on_attended_transfer(
        {
            "Event": "AttendedTransfer",
            "Result": "Success",
            "OrigTransfererChannel": legs[1],
            "SecondTransfererChannel": "PJSIP/1001-00000003",
            "TransferTargetChannel": "PJSIP/1002-00000004",
        }
    )
    first, colleague = await store.agent(1), await store.agent(2)
    assert first is not None and first.status.state == AgentState.WRAP_UP
    assert colleague is not None and colleague.status.state == AgentState.ON_CALL
    assert colleague.status.call_id == "a"
    call = await store.call("a")
    assert call is not None and call.agent_id == 2 and call.status == CallStatus.CONNECTED
    # The colleague's holds belong to the call now; the call ends as his.
    clock.now += 5
    await watch.on_hold({"Event": "Hold", "Channel": "PJSIP/1002-00000004"})
    colleague = await store.agent(2)
    assert colleague is not None and colleague.status.state == AgentState.ON_HOLD
    clock.now += 4
    assert watch.untrack(legs) == 16
    assert await store.call_ended("a", 2, handle_seconds=60)
    colleague = await store.agent(2)
    assert colleague is not None and colleague.status.state == AgentState.WRAP_UP


async def test_a_failed_attended_transfer_changes_nobody(store: AcdStore, clock: Clock) -> None:
    watch = AnswerWatch(store, clock=clock)
    await ready_agent(store, clock, 1, {"booking": 9}, T0 - 100)
    await store.enqueue("f", "booking")
    await answered(store, "f", 1)
    await ready_agent(store, clock, 2, {"booking": 5}, T0 - 50)
    watch.track(("PJSIP/carrier-1", "PJSIP/1001-2"), "f", 1)
    event = {
        "Event": "AttendedTransfer",
        "Result": "Fail",
        "OrigTransfererChannel": "PJSIP/1001-2",
        "TransferTargetChannel": "PJSIP/1002-3",
    }
    await watch.on_attended_transfer(event)
    await watch.on_attended_transfer({**event, "Result": "Success", "OrigTransfererChannel": "x"})
    first, colleague = await store.agent(1), await store.agent(2)
    assert first is not None and first.status.state == AgentState.ON_CALL
    assert colleague is not None and colleague.status.state == AgentState.READY


# Outbound calls: an agent dialling out, callbacks that wait as such from the start ---------


async def signed_in(store: AcdStore, agent_id: int, state: AgentState) -> None:
    await store.register_agent(
        AgentProfile(agent_id, str(1000 + agent_id), f"PJSIP/{1000 + agent_id}", {"booking": 5})
    )
    await store.change_state(agent_id, AgentState.NOT_READY, reason="login")
    if state != AgentState.NOT_READY:
        await store.change_state(agent_id, state)


@pytest.mark.parametrize("before", [AgentState.READY, AgentState.NOT_READY])
async def test_an_agent_dialling_out_is_offered_no_call_and_wraps_up_after(
    store: AcdStore, clock: Clock, before: AgentState
) -> None:
    await signed_in(store, 1, before)
    await store.enqueue("in-1", "booking")
    t = await store.dial_out(1, "out-1")
    assert (t.after.state, t.after.call_id) == (AgentState.ON_CALL, "out-1")
    assert await store.pick() is None  # the waiting caller is not given to him
    assert await store.ready_count("booking") == 0

    clock.now += 60
    assert await store.outbound_ended(1, "out-1", wrapup_seconds=15)
    view = await store.agent(1)
    assert view is not None
    assert (view.status.state, view.status.wrapup_until) == (AgentState.WRAP_UP, T0 + 75)
    clock.now += 20
    await store.expire_wrapups()
    assignment = await store.pick()
    assert assignment is not None and assignment.call_id == "in-1"  # now he is free again


async def test_an_agent_who_holds_a_call_or_is_signed_out_cannot_dial_out(
    store: AcdStore,
) -> None:
    await signed_in(store, 2, AgentState.READY)
    await store.enqueue("in-2", "booking")
    assert await store.pick() is not None  # reserved for the caller
    with pytest.raises(CannotDialOut) as busy:
        await store.dial_out(2, "out-2")
    assert busy.value.code == "agent-busy" and "预占" in busy.value.message
    await signed_in(store, 3, AgentState.NOT_READY)
    await store.change_state(3, AgentState.LOGGED_OUT)
    with pytest.raises(CannotDialOut) as out:
        await store.dial_out(3, "out-3")
    assert out.value.code == "agent-signed-out" and "签入" in out.value.message


async def test_the_end_of_an_outbound_call_leaves_an_agent_who_moved_on_alone(
    store: AcdStore,
) -> None:
    await signed_in(store, 4, AgentState.READY)
    await store.dial_out(4, "out-4")
    await store.change_state(4, AgentState.READY)  # made himself ready during the call
    assert not await store.outbound_ended(4, "out-4", wrapup_seconds=15)
    view = await store.agent(4)
    assert view is not None and view.status.state == AgentState.READY


async def test_a_reservation_and_a_dial_out_at_the_same_moment_never_both_win(
    store: AcdStore,
) -> None:
    for agent_id in range(10, 20):
        await signed_in(store, agent_id, AgentState.READY)
        await store.enqueue(f"in-{agent_id}", "booking")

    async def dial(agent_id: int) -> bool:
        try:
            await store.dial_out(agent_id, f"out-{agent_id}")
        except CannotDialOut:
            return False
        return True

    results = await asyncio.gather(
        *(dial(a) for a in range(10, 20)), *(store.pick() for _ in range(10))
    )
    dialled = {a for a, ok in zip(range(10, 20), results[:10], strict=True) if ok}
    picked = {p.agent_id for p in results[10:] if p is not None}
    assert dialled.isdisjoint(picked) and dialled | picked == set(range(10, 20))
    for agent_id in range(10, 20):
        view = await store.agent(agent_id)
        assert view is not None
        expected = AgentState.ON_CALL if agent_id in dialled else AgentState.RESERVED
        assert view.status.state == expected


async def test_a_callback_task_waits_as_a_callback_and_leaves_when_withdrawn(
    store: AcdStore,
) -> None:
    await store.enqueue("in-5", "policy")
    call = await store.enqueue_callback(
        "task-7", "policy", "13800000001", line="hotline", entered_at=T0 - 3600,
        parent="msg-7", attempts=1,
    )  # fmt: skip
    assert (call.status, call.callback, call.parent, call.attempts) == (
        CallStatus.CALLBACK, True, "msg-7", 1,
    )  # fmt: skip
    # Its place is the moment the message was left: ahead of the caller who came later.
    assert [c.call_id for c in await store.waiting_calls("policy")] == ["task-7", "in-5"]
    again = await store.enqueue_callback(
        "task-7", "policy", "13800000001", line="hotline", entered_at=T0
    )
    assert again.entered_at == T0 - 3600  # entering twice keeps the first entry
    assert await store.withdraw_callback("task-7")
    assert await store.call("task-7") is None
    assert [c.call_id for c in await store.waiting_calls("policy")] == ["in-5"]
    assert not await store.withdraw_callback("in-5")  # a waiting caller is not a callback


async def test_a_callback_being_dialled_is_not_withdrawn(store: AcdStore) -> None:
    await store.enqueue_callback("task-8", "policy", "13800000002", line="hotline", entered_at=T0)
    await signed_in(store, 6, AgentState.NOT_READY)
    await store.register_agent(AgentProfile(6, "1006", "PJSIP/1006", {"policy": 5}))
    await store.change_state(6, AgentState.READY)
    assignment = await store.pick()
    assert assignment is not None and assignment.decision.callback
    assert not await store.withdraw_callback("task-8")
    assert (await store.call("task-8")) is not None


async def test_restore_puts_back_a_lost_agent_once_and_never_over_a_new_sign_in(
    store: AcdStore,
) -> None:
    lost = AgentProfile(41, "1041", "Local/41@sim-agent", {"booking": 5})
    again = AgentProfile(42, "1042", "Local/42@sim-agent", {"booking": 5})
    # Two controllers restoring the same agent at once: one of them does it.
    done = await asyncio.gather(
        *(store.restore_agent(lost, AgentState.READY, at=100.0) for _ in range(2))
    )
    assert sorted(done) == [False, True]
    view = await store.agent(41)
    assert view and (view.status.state, view.status.idle_since) == (AgentState.READY, 100.0)
    assert await store.ready_count("booking") == 1
    # An agent who signed in again before the restore keeps what he chose.
    await store.register_agent(again)
    await store.change_state(42, AgentState.NOT_READY, reason="meal")
    assert not await store.restore_agent(again, AgentState.ON_CALL, at=100.0, call_id="x")
    kept = await store.agent(42)
    assert kept and (kept.status.state, kept.status.reason) == (AgentState.NOT_READY, "meal")

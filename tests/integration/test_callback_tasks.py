"""Callback tasks of messages on real PostgreSQL and Redis: they join the ACD's queue only in
their line's opening hours, leave it when the line closes, come back with the tries they had,
and every try's result is written on the task and its work order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import CallStatus
from backend.acd.policy import SkillConfig
from backend.acd.store import AcdStore
from backend.db import transaction
from backend.lines import line_spec
from backend.models.workorders import CallbackTask
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from backend.workorders.composition import workorder_service
from ivr.acd.callbacks import CallbackReport
from ivr.outbound.callback_tasks import CallbackTaskFeeder, SqlCallbackTasks
from recordings.index import RecordingIndex
from tests.outbound_support import EVENING, MORNING, NIGHT, MovableClock, TheseOrdersTasks
from tests.redis_support import holding, values_under


@pytest.fixture()
def prefix(redis_namespace: str) -> str:
    return f"{redis_namespace}-tasks-{uuid.uuid4().hex[:6]}"


@pytest.fixture()
async def aredis(settings: Settings, prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    async for key in client.scan_iter(f"{prefix}*"):
        await client.delete(key)
    await client.aclose()


@pytest.fixture()
def store(aredis: Redis, prefix: str) -> AcdStore:
    return AcdStore(aredis, prefix, [SkillConfig("policy")], controller_id="c1")


def message(factory: sessionmaker[Session], settings: Settings, phone: str) -> tuple[int, int, str]:
    """A message left at night, as the IVR's message sink files it: (order, task, call)."""
    call_id = f"msg-{uuid.uuid4().hex[:10]}"
    with transaction(factory) as db:
        order, task = workorder_service(db, settings).create_from_message(
            call_id, "hotline", phone, "messages/2026/11/28/m.wav", received_at=NIGHT
        )
        return order.id, task.id, call_id


async def test_tasks_are_queued_only_while_their_line_is_open(
    store: AcdStore,
    settings: Settings,
    session_factory: sessionmaker[Session],
    aredis: Redis,
    prefix: str,
) -> None:
    order_id, task_id, call_id = message(session_factory, settings, "13800138123")
    tasks = SqlCallbackTasks(session_factory, settings, RecordingIndex(session_factory, settings))
    clock = MovableClock(NIGHT)
    feeder = CallbackTaskFeeder(
        store,
        TheseOrdersTasks(tasks, {order_id}, session_factory),
        hours={"hotline": line_spec("hotline").hours},
        skills={"hotline": "policy"},
        calendar=WorkCalendar.load(),
        clock=clock,
    )
    queue_id = f"task-{task_id}"
    assert await feeder.feed_once() == [] and await store.call(queue_id) is None
    clock.at = MORNING
    assert await feeder.feed_once() == [queue_id]
    queued = await store.call(queue_id)
    assert queued is not None
    assert (queued.status, queued.parent) == (CallStatus.CALLBACK, call_id)
    # The number joins the queue encrypted, as the task keeps it: never in Redis in clear.
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    assert cipher.decrypt(queued.callback_number_enc) == "13800138123"
    assert holding(await values_under(aredis, prefix), "13800138123") == []
    assert queued.entered_at == NIGHT.timestamp()  # its place: when the message was left
    assert await feeder.feed_once() == []  # queued once

    # A first try does not reach the citizen: the task waits for the next, the order says so.
    await tasks.callback_done(report(queue_id, "unreached"))
    clock.at = EVENING
    assert await feeder.feed_once() == [] and await store.call(queue_id) is None  # closed
    with session_factory() as db:
        task = db.get(CallbackTask, task_id)
        assert task is not None and (task.status, task.attempts) == ("pending", 1)
    clock.at = MORNING
    assert await feeder.feed_once() == [queue_id]
    again = await store.call(queue_id)
    assert again is not None and again.attempts == 1  # the tries made count against the limit

    await tasks.callback_done(report(queue_id, "failed"))
    assert await feeder.feed_once() == []  # given up: never queued again
    with session_factory() as db:
        task = db.get(CallbackTask, task_id)
        assert task is not None and (task.status, task.attempts) == ("failed", 2)
        notes = [
            e.note for e in workorder_service(db, settings).timeline(order_id) if e.action == "call"
        ]
    assert notes == ["回电第1次：未接通，稍后重拨", "回电第2次：未接通，已停止重拨"]


def report(queue_id: str, status: str) -> CallbackReport:
    return CallbackReport(
        parent_call_id="msg",
        unique_id=f"cb-{uuid.uuid4().hex[:8]}",
        attempt_key=f"{queue_id}#1",
        agent_id=1,
        status=status,
        started_at=MORNING.timestamp(),
        answered_at=None,
        talk_seconds=0.0,
        recording="",
        ended_at=MORNING.timestamp() + 30,
        queue_call_id=queue_id,
    )

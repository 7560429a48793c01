"""The ACD's live view as gauges: waiting calls and the oldest wait per skill, agents by
state, ready agents per skill. The controller refreshes them every few seconds; the desk at
each scrape of its /metrics (both read the same Redis store)."""

from __future__ import annotations

import time

from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.metrics.definitions import AGENTS, AGENTS_READY, QUEUE_OLDEST_WAIT, QUEUE_WAITING


async def refresh_live_gauges(store: AcdStore) -> None:
    now = time.time()
    waiting = await store.waiting_calls()
    for skill in store.skills:
        mine = [call for call in waiting if call.skill == skill]
        QUEUE_WAITING.labels(skill).set(len(mine))
        QUEUE_OLDEST_WAIT.labels(skill).set(max((now - c.entered_at for c in mine), default=0.0))
        AGENTS_READY.labels(skill).set(await store.ready_count(skill))
    counts = dict.fromkeys(AgentState, 0)
    for view in await store.agents():
        counts[view.status.state] += 1
    for state, count in counts.items():
        AGENTS.labels(state.value).set(count)

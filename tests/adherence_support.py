"""Adherence tests' shared setup: a published roster of day shifts on a fixed date, and the
controller's history writer run once over the desk's state stream."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.store import AcdStore
from backend.audit.records import Actor
from backend.settings import Settings
from backend.workforce import rosters
from backend.workforce.rosters import Assignment, RosterDraft
from backend.workforce.rules import RestRules
from backend.workforce.shift_templates import save_template
from backend.workforce.templates import Template
from ivr.acd.history import AgentHistoryWriter

BJ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 9)  # a Tuesday; shifts run 08:00-17:00 Beijing time


def at(hh: int, mm: int) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hh, mm, tzinfo=BJ)


def publish_day_shifts(factory: sessionmaker[Session], agent_ids: list[int]) -> None:
    """A day shift, 08:00-17:00, for each agent on DAY, in a roster of its own; the template
    is this roster's own too, so an edit of the shared "day" template changes nothing here."""
    boss = Actor("排班班长")
    code = f"adh_{uuid.uuid4().hex[:8]}"
    draft = RosterDraft(
        line="114",
        skill=f"adh{uuid.uuid4().hex[:8]}",  # no other test's roster clashes with this one
        first_day=DAY,
        last_day=DAY,
        rules=RestRules(),
        forecast=[],
        assignments=[Assignment(a, code, DAY) for a in agent_ids],
    )
    with factory() as db:
        template = Template(code, "白班", "day", time(8), 540)
        save_template(db, template, True, boss, at(7, 0))
        roster = rosters.save_roster(db, draft, boss, at(7, 0), BJ)
        rosters.publish(db, roster.id, boss, at(7, 0))
        db.commit()


def write_history(settings: Settings, factory: sessionmaker[Session]) -> None:
    """What the controller's history writer does with the ACD's state stream."""

    async def drain() -> None:
        client = Redis.from_url(settings.redis_url, decode_responses=True)
        key = AcdStore(client, settings.desk_redis_prefix, []).events_key
        await AgentHistoryWriter(client, key, factory, consumer="adherence-test").drain()
        await client.aclose()

    # In a thread of its own: a browser test's thread already runs Playwright's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, drain()).result()

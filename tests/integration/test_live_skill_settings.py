"""Skill (queue) settings edited through the admin API reach two running controllers' ACD
configuration at once, over Redis, without a restart; ``overflow_skill`` is editable and
checked. The watchers here re-read on their own only once an hour, so only the desk's notice
can have brought the change."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.policy import SkillConfig
from backend.acd.skills import skill_configs
from backend.models.users import Role
from backend.settings import Settings
from ivr.acd.skill_watch import SkillWatch, WrapupSeconds
from tests.desk_support import ensure_skill, login, make_user

HOUR = 3600.0


async def until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def test_two_controllers_apply_an_admin_change_at_once(
    desk_client: TestClient,
    session_factory: sessionmaker[Session],
    settings: Settings,
    redis_namespace: str,
) -> None:
    code, target = "lv" + uuid.uuid4().hex[:6], "lt" + uuid.uuid4().hex[:6]
    for skill in (code, target):
        ensure_skill(session_factory, skill)
    login(desk_client, make_user(session_factory, Role.ADMIN))
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    controllers: list[dict[str, SkillConfig]] = []
    stop = asyncio.Event()
    tasks = []
    for _ in range(2):
        skills = {s.code: s for s in skill_configs(session_factory)}
        watch = SkillWatch(redis, redis_namespace, skills, lambda: skill_configs(session_factory),
                           poll_seconds=HOUR)  # fmt: skip
        controllers.append(skills)
        tasks.append(asyncio.create_task(watch.run(stop)))
    try:
        assert all(c[code].overflow_skill is None for c in controllers)
        change = {"overflow_skill": target, "overflow_after_seconds": 5, "wrapup_seconds": 7}
        reply = await asyncio.to_thread(desk_client.patch, f"/api/admin/skills/{code}", json=change)
        assert reply.status_code == 200, reply.text
        assert reply.json()["overflow_skill"] == target
        await until(lambda: all(c[code].overflow_skill == target for c in controllers))
        for c in controllers:
            assert (c[code].overflow_after_seconds, c[code].wrapup_seconds) == (5, 7)
            assert WrapupSeconds(c)[code] == 7.0

        reply = await asyncio.to_thread(
            desk_client.patch, f"/api/admin/skills/{code}", json={"overflow_skill": ""}
        )
        assert reply.status_code == 200 and reply.json()["overflow_skill"] is None
        await until(lambda: all(c[code].overflow_skill is None for c in controllers))
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await redis.aclose()  # type: ignore[attr-defined]


def test_an_overflow_to_itself_or_to_no_skill_is_refused_and_changes_nothing(
    desk_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    code = "lr" + uuid.uuid4().hex[:6]
    ensure_skill(session_factory, code)
    login(desk_client, make_user(session_factory, Role.ADMIN))
    for target, error in ((code, "overflow-to-itself"), ("nosuch", "no-such-overflow-skill")):
        reply = desk_client.patch(
            f"/api/admin/skills/{code}", json={"overflow_skill": target, "wrapup_seconds": 99}
        )
        assert reply.status_code == 422 and reply.json()["error"] == error, reply.text
    # Not a skill's code at all (a NUL byte PostgreSQL could not even compare): refused first.
    reply = desk_client.patch(f"/api/admin/skills/{code}", json={"overflow_skill": "a\x00b"})
    assert reply.status_code == 422, reply.text
    (skill,) = [s for s in desk_client.get("/api/admin/skills").json() if s["code"] == code]
    assert skill["overflow_skill"] is None and skill["wrapup_seconds"] != 99

"""Skill (queue) settings changed on the admin page reach every running controller at once.

The desk publishes a bare notice on ``<prefix>:acd:skills-changed`` after the change is
committed; each controller's ``SkillWatch`` (``ivr/acd/skill_watch.py``) then reads the skills
table again and swaps its routing configuration in place. The notice carries no settings:
PostgreSQL stays the one source, so a notice lost (a controller reconnecting to Redis) is
repaired by the controllers' periodic re-read, and two notices at once read the same rows.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)


def skills_channel(prefix: str) -> str:
    return f"{prefix}:acd:skills-changed"


def announce_skills_changed(client: redis.Redis, prefix: str, code: str) -> None:
    """Tell the running controllers; a Redis failure is logged, not raised: the change is
    saved already and the controllers' periodic re-read picks it up."""
    try:
        client.publish(skills_channel(prefix), code)
    except redis.RedisError as exc:
        log.warning("skill %s changed; controllers not told at once (%s)", code, exc)

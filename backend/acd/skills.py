"""The skills table as the ACD's routing configuration."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.policy import SkillConfig
from backend.models.agents import Skill


def skill_configs(session_factory: sessionmaker[Session]) -> list[SkillConfig]:
    with session_factory() as db:
        return [
            SkillConfig(
                code=s.code,
                wrapup_seconds=s.wrapup_seconds,
                overflow_skill=s.overflow_skill,
                overflow_after_seconds=s.overflow_after_seconds,
                max_wait_seconds=s.max_wait_seconds,
            )
            for s in db.scalars(select(Skill).order_by(Skill.code))
        ]


def sl_thresholds(session_factory: sessionmaker[Session]) -> list[float]:
    """Each skill's service-level threshold (seconds): the answer-wait histogram's buckets."""
    with session_factory() as db:
        return [float(t) for t in db.scalars(select(Skill.sl_threshold_seconds).distinct())]

"""Skills (the ACD's queues) as the administrator tunes them: name, wrap-up time, service
level threshold, overflow and the longest wait. The ACD reads them with
``backend.acd.skills.skill_configs``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.errors import NotFound
from backend.models.agents import Skill
from backend.models.base import utcnow

# What an administrator may change; the code and the line are fixed by the flows.
EDITABLE = frozenset(
    {"name", "wrapup_seconds", "sl_threshold_seconds", "overflow_after_seconds", "max_wait_seconds"}
)


def list_skills(db: Session) -> list[Skill]:
    return list(db.scalars(select(Skill).order_by(Skill.code)))


def update_skill(db: Session, code: str, changes: dict[str, Any], actor: Actor) -> Skill:
    skill = db.scalar(select(Skill).where(Skill.code == code))
    if skill is None:
        raise NotFound("没有这个技能组")
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")  # a programming error, not input
    for name, value in changes.items():
        setattr(skill, name, value)
    record_audit(db, actor, "admin.skill_update", f"skill:{code}", utcnow(), changes)
    return skill

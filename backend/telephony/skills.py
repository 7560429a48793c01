"""Skills (the ACD's queues) as the administrator tunes them: name, wrap-up time, service
level threshold, overflow (where to and after how long) and the longest wait. The ACD reads
them with ``backend.acd.skills.skill_configs``; the desk announces each change
(``backend.acd.skill_changes``) so running controllers apply it at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.errors import NotFound, Refused
from backend.models.agents import Skill
from backend.models.base import utcnow

# What an administrator may change; the code and the line are fixed by the flows.
EDITABLE = frozenset(
    {
        "name",
        "wrapup_seconds",
        "sl_threshold_seconds",
        "overflow_skill",
        "overflow_after_seconds",
        "max_wait_seconds",
    }
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
    if "overflow_skill" in changes:
        changes = {
            **changes,
            "overflow_skill": _overflow_target(db, code, changes["overflow_skill"]),
        }
    for name, value in changes.items():
        setattr(skill, name, value)
    record_audit(db, actor, "admin.skill_update", f"skill:{code}", utcnow(), changes)
    return skill


def _overflow_target(db: Session, code: str, target: str | None) -> str | None:
    """The skill a queue overflows to: another existing skill, or none ("" or None)."""
    if not target:
        return None
    if target == code:
        raise Refused("技能组不能溢出到自己", code="overflow-to-itself")
    if db.scalar(select(Skill.code).where(Skill.code == target)) is None:
        raise Refused(f"没有技能组 {target}，不能溢出到它", code="no-such-overflow-skill")
    return target

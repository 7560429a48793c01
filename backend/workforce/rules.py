"""Rest rules of a roster, and the breaches of them in a set of shifts (pure).

Weeks for the hours-per-week rule are the 7-day blocks from the roster's first day (a week's
roster is one block; a month's are four and a part). Days in a row count the local dates on
which an agent's shifts start.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from backend.errors import InvalidValue


@dataclass(frozen=True)
class RestRules:
    min_rest_hours: float = 11.0  # between the end of one shift and the start of the next
    max_days_in_row: int = 6
    max_week_hours: float = 44.0

    def __post_init__(self) -> None:
        if not 0 <= self.min_rest_hours <= 48:
            raise InvalidValue("min_rest_hours", "须在0至48小时之间")
        if not 1 <= self.max_days_in_row <= 31:
            raise InvalidValue("max_days_in_row", "须在1至31天之间")
        if not 0 < self.max_week_hours <= 84:
            raise InvalidValue("max_week_hours", "须大于0且不超过84小时")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RestRules:
        names = {"min_rest_hours", "max_days_in_row", "max_week_hours"}
        return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass(frozen=True)
class PlannedShift:
    agent_id: int
    day: date  # local date the shift starts on
    starts_at: datetime
    ends_at: datetime

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


def week_index(day: date, first_day: date) -> int:
    return (day - first_day).days // 7


def breaches(shifts: Iterable[PlannedShift], rules: RestRules, first_day: date) -> list[str]:
    """Every breach of ``rules`` in ``shifts``, one sentence each (empty: all rules kept)."""
    by_agent: dict[int, list[PlannedShift]] = defaultdict(list)
    for shift in shifts:
        by_agent[shift.agent_id].append(shift)
    found: list[str] = []
    for agent_id, own in sorted(by_agent.items()):
        own.sort(key=lambda s: s.starts_at)
        found += _rest_breaches(agent_id, own, rules)
        found += _streak_breaches(agent_id, own, rules)
        found += _week_breaches(agent_id, own, rules, first_day)
    return found


def _rest_breaches(agent_id: int, own: list[PlannedShift], rules: RestRules) -> list[str]:
    found = []
    for before, after in pairwise(own):
        rest = (after.starts_at - before.ends_at).total_seconds() / 3600
        if rest < rules.min_rest_hours:
            found.append(
                f"坐席#{agent_id} {before.day}与{after.day}两班之间休息{rest:g}小时，"
                f"少于{rules.min_rest_hours:g}小时"
            )
    return found


def _streak_breaches(agent_id: int, own: list[PlannedShift], rules: RestRules) -> list[str]:
    days = sorted({s.day for s in own})
    found, streak = [], 1
    for before, after in pairwise(days):
        streak = streak + 1 if after - before == timedelta(days=1) else 1
        if streak == rules.max_days_in_row + 1:
            found.append(f"坐席#{agent_id} 截至{after}连续上班超过{rules.max_days_in_row}天")
    return found


def _week_breaches(
    agent_id: int, own: list[PlannedShift], rules: RestRules, first_day: date
) -> list[str]:
    hours: dict[int, float] = defaultdict(float)
    for shift in own:
        hours[week_index(shift.day, first_day)] += shift.hours
    return [
        f"坐席#{agent_id} 第{week + 1}周排班{total:g}小时，超过{rules.max_week_hours:g}小时"
        for week, total in sorted(hours.items())
        if total > rules.max_week_hours + 1e-9
    ]

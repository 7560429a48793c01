"""The report pages' forms: which fields a report asks for, with the choices read from the
database (skills, teams, agents) and the values the page was asked with.

A form is plain data the ``report.html`` template draws; it is submitted with GET, so a
report's address can still be bookmarked or sent, but nobody has to type it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.lines import LINES
from backend.models.agents import Agent, Skill
from reports.periods import GRAIN_LABELS, ReportFilter
from reports.presets import PRESET_LABELS

Choices = list[tuple[str, str]]  # value, label
ALL = ("", "全部")


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: Literal["select", "date", "number"]
    value: str = ""
    choices: Choices = field(default_factory=list)
    minimum: str = ""
    maximum: str = ""


def line_choices(with_all: bool = True) -> Choices:
    lines = [(spec.code, spec.short_label) for spec in LINES]
    return [ALL, *lines] if with_all else lines


def skill_choices(session: Session) -> Choices:
    skills = session.execute(select(Skill.code, Skill.name).order_by(Skill.line, Skill.code))
    return [ALL, *((code, f"{name}（{code}）") for code, name in skills)]


def team_choices(session: Session) -> Choices:
    teams = session.scalars(
        select(Agent.team).where(Agent.team != "").distinct().order_by(Agent.team)
    )
    return [ALL, *((team, team) for team in teams)]


def agent_choices(session: Session) -> Choices:
    agents = session.execute(select(Agent.id, Agent.number, Agent.name).order_by(Agent.number))
    return [ALL, *((str(id_), f"{number} {name}") for id_, number, name in agents)]


def date_fields(preset: str, first: str, last: str) -> list[FormField]:
    presets = [("", "自定义"), *((p.value, label) for p, label in PRESET_LABELS.items())]
    return [
        FormField("preset", "日期范围", "select", preset, presets),
        FormField("first", "开始日期", "date", first),
        FormField("last", "结束日期", "date", last),
    ]


def filter_form(session: Session, f: ReportFilter, preset: str) -> list[FormField]:
    """The common filter: dates (with presets), line, skill, team, agent and grain."""
    grains = [(g.value, f"按{label}") for g, label in GRAIN_LABELS.items()]
    return [
        *date_fields(preset, f.first.isoformat(), f.last.isoformat()),
        FormField("line", "线路", "select", f.line or "", line_choices()),
        FormField("skill", "技能组", "select", f.skill or "", skill_choices(session)),
        FormField("team", "班组", "select", f.team or "", team_choices(session)),
        FormField(
            "agent_id",
            "坐席",
            "select",
            "" if f.agent_id is None else str(f.agent_id),
            agent_choices(session),
        ),
        FormField("grain", "粒度", "select", f.grain.value, grains),
    ]

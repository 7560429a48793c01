"""Who is scheduled when: shifts saved through the roster service, read back by
``backend.workforce.schedule`` only once their roster is published, and the supervisor's
edits refused where they are impossible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from backend.audit.records import Actor
from backend.models.agents import Agent
from backend.workcalendar import WorkCalendar
from backend.workforce import rosters
from backend.workforce.rosters import Assignment, DayEdit, RosterDraft, RosterRefused
from backend.workforce.rules import RestRules
from backend.workforce.schedule import on_shift_at, scheduled_shifts

BJ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 3, 2)
ACTOR = Actor("班长甲")
NOW = datetime(2026, 2, 27, 9, 0, tzinfo=UTC)


def _agents(db: Session) -> list[int]:
    made = [Agent(number=f"rs{i}", name=f"排班{i}", interface=f"Local/rs{i}@sim") for i in (1, 2)]
    db.add_all(made)
    db.flush()
    return [a.id for a in made]


def test_published_shifts_are_scheduled_and_drafts_are_not(db: Session) -> None:
    first, second = _agents(db)
    draft = RosterDraft(
        line="114",
        skill="",
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=6),
        rules=RestRules(),
        forecast=[],
        assignments=[
            Assignment(first, "day", MONDAY),
            Assignment(second, "night", MONDAY),
            Assignment(first, "day", MONDAY + timedelta(days=1)),
        ],
    )
    roster = rosters.save_roster(db, draft, ACTOR, NOW, BJ)
    since = datetime(2026, 3, 2, tzinfo=BJ)
    until = since + timedelta(days=7)
    assert scheduled_shifts(db, since, until) == []

    rosters.publish(db, roster.id, ACTOR, NOW)
    shifts = scheduled_shifts(db, since, until)
    assert [(s.agent_id, s.template_code, s.starts_at.astimezone(BJ)) for s in shifts] == [
        (first, "day", datetime(2026, 3, 2, 8, 0, tzinfo=BJ)),
        (second, "night", datetime(2026, 3, 2, 20, 0, tzinfo=BJ)),
        (first, "day", datetime(2026, 3, 3, 8, 0, tzinfo=BJ)),
    ]
    assert shifts[1].ends_at.astimezone(BJ) == datetime(2026, 3, 3, 8, 0, tzinfo=BJ)
    assert roster.agent_hours == 9 + 12 + 9
    at_night = on_shift_at(db, datetime(2026, 3, 3, 7, 59, tzinfo=BJ))
    assert [s.agent_id for s in at_night] == [second]
    assert scheduled_shifts(db, since, until, agent_ids=[first], line="hotline") == []

    # The same line's next roster may not be published over these dates.
    again = rosters.save_roster(db, draft, ACTOR, NOW, BJ)
    with pytest.raises(RosterRefused, match="已发布"):
        rosters.publish(db, again.id, ACTOR, NOW)
    db.rollback()


def test_impossible_edits_are_refused_and_rest_breaches_reported(db: Session) -> None:
    first, _ = _agents(db)
    calendar = WorkCalendar.load()
    draft = RosterDraft("hotline", "", MONDAY, MONDAY + timedelta(days=6), RestRules(), [], [])
    roster = rosters.save_roster(db, draft, ACTOR, NOW, BJ)

    def edit(day: date, code: str) -> None:
        rosters.set_day(
            db, roster.id, DayEdit(first, day, code), ACTOR, NOW, tz=BJ, calendar=calendar
        )

    edit(MONDAY, "night")
    edit(MONDAY, "night")  # the same shift again replaces it
    with pytest.raises(RosterRefused, match="周末班"):
        edit(MONDAY, "weekend")
    with pytest.raises(RosterRefused, match="不在排班表"):
        edit(MONDAY + timedelta(days=7), "day")
    edit(MONDAY + timedelta(days=1), "day")  # 08:00 after a night ending 08:00: no rest
    assert any("休息0小时" in b for b in rosters.rule_breaches(db, roster, BJ))
    edit(MONDAY + timedelta(days=1), "")
    assert rosters.rule_breaches(db, roster, BJ) == []
    assert roster.agent_hours == 12
    db.rollback()

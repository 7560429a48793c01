"""Bench: the roster solver on a week of the hotline and a month of the 114 line.

Pure (no database): a requirement per half hour shaped like a working day's traffic (a
morning peak on working days, less at weekends and holidays, a few agents at night), the
seeded shift templates and the default rest rules. Prints, for each case, the seconds to the
solver's answer, the agent-hours it uses against the hours the requirement needs at least
(the sum of required agents over the half hours, ÷ 2: what a roster with no idle half hour
would use), and whether CP-SAT proved the roster the cheapest. Usage:

    .venv/bin/python -m bench.rosters.run [--agents-114 150] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from backend.workcalendar import WorkCalendar
from backend.workforce.rules import RestRules
from backend.workforce.templates import Template
from reports.workforce.solver import RosterProblem, solve_roster

BJ = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar.load()
TEMPLATES = [  # as seeded by migration 0700_rosters
    Template("day", "白班", "day", clock(8), 540),
    Template("mid", "中班", "day", clock(12), 540),
    Template("night", "夜班", "night", clock(20), 720),
    Template("weekend", "周末班", "weekend", clock(9), 480),
    Template("holiday", "节假日值班", "holiday", clock(9), 480),
]


def requirement(first: date, days: int, peak: int) -> list[int]:
    need = []
    for d in range(days):
        day = first + timedelta(days=d)
        working = CALENDAR.is_working_day(day)
        for half in range(48):
            hour = half / 2
            if d == 0 and hour < 8:
                n = 0  # the previous roster's night
            elif hour < 8 or hour >= 21:
                n = max(1, peak // 10)
            elif working and 9 <= hour < 12:
                n = peak
            else:
                n = peak * 2 // 3 if working else peak // 3
            need.append(n)
    return need


def case(label: str, first: date, days: int, agents: int, peak: int, limit: float) -> None:
    need = requirement(first, days, peak)
    problem = RosterProblem(
        first, first + timedelta(days=days - 1), need, list(range(1, agents + 1)),
        TEMPLATES, RestRules(), CALENDAR, BJ, time_limit=limit,
    )  # fmt: skip
    started = time.perf_counter()
    solution = solve_roster(problem)
    seconds = time.perf_counter() - started
    floor = sum(need) / 2
    print(
        f"{label}: {seconds:.1f} s, {solution.agent_hours:g} agent-hours = "
        f"{solution.agent_hours / floor:.2f} × the requirement's {floor:g}, "
        f"{'optimal' if solution.optimal else 'best found'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents-114", type=int, default=150)
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    case("hotline, a week, 14 agents", date(2026, 9, 7), 7, 14, 4, args.time_limit)
    peak = args.agents_114 * 3 // 10
    label = f"114, a month (National Day inside), {args.agents_114} agents"
    case(label, date(2026, 9, 14), 30, args.agents_114, peak, args.time_limit)


if __name__ == "__main__":
    main()

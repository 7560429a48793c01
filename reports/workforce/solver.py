"""The roster as a small integer programme, solved by OR-Tools CP-SAT.

One boolean per agent, date and shift template that may be worked that date (the agent not
off, the template's kind allowed on it). Constraints: at most one shift an agent a day;
between two of an agent's shifts at least ``min_rest_hours``; at most ``max_days_in_row``
working days in any run of that many plus one; at most ``max_week_hours`` in each 7-day block
from the first day; in every half hour of the period at least the required agents on shift.
Objective: the fewest agent-minutes. A night shift of the last day running past the period
counts for its hours but covers no requirement beyond it.

The solver stops at ``time_limit`` seconds and keeps the best roster found (``optimal`` says
whether it proved it the cheapest). Before solving, two quick checks name the obvious
reasons a requirement cannot be met (a half hour with more agents required than can work
then, more hours required than the agents may work); when the solver proves there is no
roster, each rule is relaxed in turn to say which one stands in the way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

from backend.errors import CallCenterError
from backend.workcalendar import WorkCalendar
from backend.workforce.rosters import Assignment
from backend.workforce.rules import RestRules, week_index
from backend.workforce.templates import Template, applies_on, span

SLOT = timedelta(minutes=30)


class NoRoster(CallCenterError):
    """No roster meets the requirement under the rules; the message says why."""

    code = "no-roster"
    http_status = 422


@dataclass(frozen=True)
class RosterProblem:
    first_day: date
    last_day: date
    requirement: list[int]  # agents needed per half hour from local midnight of first_day
    agents: list[int]
    templates: list[Template]
    rules: RestRules
    calendar: WorkCalendar
    tz: ZoneInfo
    days_off: frozenset[tuple[int, date]] = field(default_factory=frozenset)
    time_limit: float = 10.0

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=self.tz).astimezone(UTC)

    def slot_at(self, index: int) -> datetime:
        return (self.start + index * SLOT).astimezone(self.tz)


@dataclass(frozen=True)
class Option:
    """A template worked from a date: which half hours of the period it covers."""

    day: date
    template: Template
    first_slot: int
    end_slot: int  # exclusive, may lie past the period
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class RosterSolution:
    assignments: list[Assignment]
    agent_hours: float
    optimal: bool
    lower_bound_hours: float  # the solver's proven bound: no roster uses fewer


def options(problem: RosterProblem) -> list[Option]:
    found = []
    for day in problem.days:
        for template in problem.templates:
            if not applies_on(template.kind, day, problem.calendar):
                continue
            starts, ends = span(template, day, problem.tz)
            first = int((starts - problem.start) / SLOT)
            found.append(Option(day, template, first, first + template.minutes // 30, starts, ends))
    return found


def solve_roster(problem: RosterProblem) -> RosterSolution:
    """The cheapest roster found within the time limit, or ``NoRoster`` saying why."""
    if len(problem.requirement) != 48 * len(problem.days):
        raise NoRoster("需求须按半小时给出，覆盖排班的每一天")
    opts = options(problem)
    _precheck(problem, opts)
    model, chosen = _build(problem, opts)
    solver = _solver(problem.time_limit)
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        picked = [(a, o) for (a, o), var in chosen.items() if solver.boolean_value(var)]
        picked.sort(key=lambda p: (opts[p[1]].starts_at, p[0]))
        return RosterSolution(
            [Assignment(a, opts[o].template.code, opts[o].day) for a, o in picked],
            sum(opts[o].template.minutes for _, o in picked) / 60,
            status == cp_model.OPTIMAL,
            solver.best_objective_bound / 60,
        )
    if status == cp_model.INFEASIBLE:
        raise NoRoster(_infeasible_reason(problem))
    raise NoRoster(
        f"{problem.time_limit:g}秒内未找到满足需求与规则的排班；可缩短排班周期、增加坐席或放宽规则后重试"
    )


def _solver(time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    # With fewer than eight workers CP-SAT leaves out the LP-based ones, and a week for a dozen
    # agents then runs to the time limit without proving its bound; with eight (time-shared on
    # two cores) the same week is proved optimal in a fraction of a second.
    solver.parameters.num_workers = 8
    return solver


def _build(
    problem: RosterProblem, opts: list[Option]
) -> tuple[cp_model.CpModel, dict[tuple[int, int], cp_model.IntVar]]:
    model = cp_model.CpModel()
    chosen = {
        (a, o): model.new_bool_var(f"a{a}_o{o}")
        for a in problem.agents
        for o, opt in enumerate(opts)
        if (a, opt.day) not in problem.days_off
    }
    by_agent: dict[int, list[int]] = defaultdict(list)
    for a, o in chosen:
        by_agent[a].append(o)
    for a, own in by_agent.items():
        _agent_rules(model, problem, opts, {o: chosen[a, o] for o in own})
    covering: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for (_, o), var in chosen.items():
        for slot in range(opts[o].first_slot, min(opts[o].end_slot, len(problem.requirement))):
            covering[slot].append(var)
    for slot, need in enumerate(problem.requirement):
        if need > 0:
            model.add(sum(covering[slot]) >= need)
    model.minimize(sum(opts[o].template.minutes * var for (_, o), var in chosen.items()))
    return model, chosen


def _agent_rules(
    model: cp_model.CpModel,
    problem: RosterProblem,
    opts: list[Option],
    own: dict[int, cp_model.IntVar],
) -> None:
    rules = problem.rules
    worked: dict[date, list[cp_model.IntVar]] = defaultdict(list)
    week_minutes: dict[int, list[cp_model.LinearExpr]] = defaultdict(list)
    for o, var in own.items():
        worked[opts[o].day].append(var)
        week_minutes[week_index(opts[o].day, problem.first_day)].append(
            opts[o].template.minutes * var
        )
    for vars_of_day in worked.values():
        model.add_at_most_one(vars_of_day)
    rest = timedelta(hours=rules.min_rest_hours)
    for o1, v1 in own.items():
        for o2, v2 in own.items():
            first, then = opts[o1], opts[o2]
            if o1 < o2 and first.day != then.day and _too_close(first, then, rest):
                model.add_bool_or([v1.Not(), v2.Not()])
    window = rules.max_days_in_row + 1
    days = problem.days
    for i in range(len(days) - window + 1):
        model.add(sum(v for d in days[i : i + window] for v in worked[d]) <= rules.max_days_in_row)
    for minutes in week_minutes.values():
        model.add(sum(minutes) <= round(rules.max_week_hours * 60))


def _too_close(one: Option, other: Option, rest: timedelta) -> bool:
    early, late = (one, other) if one.starts_at <= other.starts_at else (other, one)
    return late.starts_at - early.ends_at < rest


def _precheck(problem: RosterProblem, opts: list[Option]) -> None:
    covering: dict[int, list[Option]] = defaultdict(list)
    for opt in opts:
        for slot in range(opt.first_slot, min(opt.end_slot, len(problem.requirement))):
            covering[slot].append(opt)
    for slot, need in enumerate(problem.requirement):
        if need <= 0:
            continue
        able = [
            a
            for a in problem.agents
            if any((a, o.day) not in problem.days_off for o in covering[slot])
        ]
        if need > len(able):
            at = problem.slot_at(slot)
            raise NoRoster(
                f"{at:%m-%d %H:%M}起的半小时需要{need}名坐席，但只有{len(able)}名能在这时上班"
                "（坐席人数、请假或班次时间不够）"
            )
    needed_hours = sum(problem.requirement) / 2
    weeks = (len(problem.days) + 6) // 7
    most = len(problem.agents) * problem.rules.max_week_hours * weeks
    if needed_hours > most:
        raise NoRoster(
            f"需求至少{needed_hours:g}坐席小时，而{len(problem.agents)}名坐席按每周不超过"
            f"{problem.rules.max_week_hours:g}小时最多只能排{most:g}小时"
        )


RELAXATIONS = {
    "min_rest_hours": ("两班之间的最少休息时间", 0.0),
    "max_days_in_row": ("最多连续上班天数", 31),
    "max_week_hours": ("每周工时上限", 84.0),
}


def _infeasible_reason(problem: RosterProblem) -> str:
    rules = problem.rules
    stated = (
        f"两班之间休息≥{rules.min_rest_hours:g}小时、连续上班≤{rules.max_days_in_row}天、"
        f"每周≤{rules.max_week_hours:g}小时"
    )
    culprits = []
    for name, (label, loose) in RELAXATIONS.items():
        loose_rules = RestRules.from_json({**rules.as_json(), name: loose})
        relaxed = replace(problem, rules=loose_rules, time_limit=2.0)
        model, _ = _build(relaxed, options(relaxed))
        if _solver(relaxed.time_limit).solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            culprits.append(label)
    hint = f"放宽{'或'.join(culprits)}即可排出" if culprits else "需增加坐席或班次类型"
    return f"在现有规则（{stated}）下，{len(problem.agents)}名坐席无法满足每半小时的需求：{hint}"
